#!/bin/bash
# SPDX-License-Identifier: MIT
#
# awe-bench's command line, without measuring anything: every option of the
# man page in --help and taken in both forms (--sizes 4M, --sizes=4M); bad
# values, unknown and ambiguous options, a missing value and a stray
# argument each exit 2 with a message on stderr that names the option;
# --version prints the version of the library (which must be the project's);
# --help and -h exit 0.
#
# An option is taken, not merely listed, when awe-bench gets as far as a
# --help after it: options are read in order, each checked as it is read.
#
# Usage: test_options.sh AWE_BENCH VERSION MAN_PAGE
set -euo pipefail

bench=$1 version=$2 man=$3
fails=0 out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# run STATUS ARGS...: awe-bench ARGS must exit with STATUS.
run() {
	local want=$1 rc=0
	shift
	# A bound, should an option be taken for a run after all.
	timeout 20 "$bench" "$@" >"$out" 2>"$err" || rc=$?
	if [[ $rc != "$want" ]]; then
		fail "awe-bench $* exited $rc, not $want: $(cat "$err")"
		return 1
	fi
}

# rejects NAME ARGS...: awe-bench ARGS exits 2, printing only on stderr a
# message naming NAME. A --help follows ARGS, so that ARGS taken by mistake
# end in its exit 0 rather than in a benchmark run; rejects_last: without it
# (ARGS end in an option that needs a value).
rejects() {
	rejects_last "$@" --help
}
rejects_last() {
	local name=$1
	shift
	run 2 "$@" || return 0
	[[ -s $out ]] && fail "awe-bench $*: printed on stdout: $(cat "$out")"
	grep -qF -- "$name" "$err" || fail "awe-bench $*: the message does not name $name: $(cat "$err")"
	echo "ok: awe-bench $* -> 2: $(head -1 "$err")"
}

echo "== --version, --help"
if run 0 --version; then
	[[ $(cat "$out") == "awe-bench (libawe) $version" ]] ||
		fail "--version printed '$(cat "$out")', not 'awe-bench (libawe) $version'"
	[[ -s $err ]] && fail "--version printed on stderr: $(cat "$err")"
	echo "ok: $(cat "$out")"
fi
for o in -h --help; do
	if run 0 "$o"; then
		grep -q '^usage: awe-bench' "$out" || fail "$o: no usage on stdout"
	fi
done
help=$(cat "$out")

# The options of the man page: the tags of its OPTIONS section's paragraphs
# (the line after .TP or .TQ).
mapfile -t documented < <(sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man" |
	awk 'tag && /^\.BI? \\-\\-/ { gsub(/\\/, "", $2); print $2 }
	     { tag = /^\.T[PQ]$/ }')
[[ ${#documented[@]} -ge 20 ]] || fail "only ${#documented[@]} options found in $man"
for o in "${documented[@]}"; do
	grep -qE -- "(^|[ ,(])$o([ ,)=]|$)" <<<"$help" || fail "--help does not list $o"
done
# ...and --help lists no other.
for o in $(grep -oE -- '--[a-z][a-z-]*' <<<"$help" | sort -u); do
	[[ " ${documented[*]} " == *" $o "* ]] || fail "--help lists $o, which $man does not"
done
echo "ok: --help and $man list the same ${#documented[@]} options"

echo "== taken in both forms"
declare -A value=(
	[--sizes]=4M,64MiB,1G [--threads]=2,4 [--workload]=scatter,pager
	[--workloads]=sweep [--contender]=awe,raw [--contenders]=memfd [--rounds]=3
	[--reps]=2 [--rep-ms]=2.5 [--churn-ops]=1000 [--maxmap]=5000 [--plot]=x.png
	[--plot-script]=x.gp [--json-out]=x.json [--markdown-out]=x.md
)
for o in "${documented[@]}"; do
	if [[ -v value[$o] ]]; then
		run 0 "$o" "${value[$o]}" --help && run 0 "$o=${value[$o]}" --help &&
			echo "ok: $o ${value[$o]}, $o=${value[$o]}"
	elif [[ $o != --help && $o != --version ]]; then
		# A flag: taken, and refusing a value.
		run 0 "$o" --help && echo "ok: $o"
		rejects "$o" "$o=1"
	fi
done
for o in "${!value[@]}"; do
	[[ " ${documented[*]} " == *" $o "* ]] || fail "$o is not in $man"
done

echo "== refused"
rejects_last --sizes --sizes
rejects_last --json-out --quick --json-out
rejects --sizes --sizes=
rejects --sizes --sizes 4X
rejects --sizes --sizes=0
rejects --sizes --sizes 4M,,64M
rejects --sizes --sizes 99999999999G
rejects --threads --threads 2,0
rejects --threads --threads=-2
rejects --threads --threads 300
rejects --workload --workload foo
rejects --workload --workloads=scatter,
rejects --contender --contender awe,bogus
rejects --rounds --rounds 0
rejects --rounds --rounds=17
rejects --rounds --rounds -1
rejects --reps --reps 65
rejects --reps --reps 2x
rejects --rep-ms --rep-ms abc
rejects --rep-ms --rep-ms=0
rejects --rep-ms --rep-ms=inf
rejects --churn-ops --churn-ops -1
rejects --maxmap --maxmap 1
rejects --bogus --bogus
rejects --bogus --bogus=1
rejects -x -x
rejects --rep --rep 3
rejects --version --version=1
rejects stray --quick stray
rejects_last --help --help=1

if ((fails)); then
	echo "$fails failed"
	exit 1
fi
echo "all passed"

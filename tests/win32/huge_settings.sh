#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Runs a test program with huge pages for libawe's memfd engine (the one AWE
# sections always use), then puts the machine's settings back, whatever the
# program did:
#
#   huge_settings.sh hugetlb N PROGRAM [ARG...]   vm.nr_hugepages = N
#   huge_settings.sh shmem PROGRAM [ARG...]       shmem_enabled = advise
#
# The settings are the whole machine's: meson runs it alone. Exits 77
# (skipped) without root, or when a setting cannot be changed or the kernel
# reserves fewer huge pages than asked for.
set -u
nr=/proc/sys/vm/nr_hugepages
shmem=/sys/kernel/mm/transparent_hugepage/shmem_enabled

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip "needs root to set $nr and $shmem"
old_nr=$(cat "$nr" 2>/dev/null) || skip "cannot read $nr"
# The mode in force is the bracketed word.
old_shmem=$(sed 's/.*\[\(.*\)\].*/\1/' "$shmem" 2>/dev/null) || skip "cannot read $shmem"
restore() {
	echo "$old_nr" >"$nr"
	echo "$old_shmem" >"$shmem"
}
trap 'restore; exit 130' INT TERM HUP

case "${1-}" in
hugetlb)
	want=$2
	shift 2
	echo "$want" >"$nr" 2>/dev/null || skip "cannot set $nr (a container?)"
	got=$(cat "$nr")
	if [ "$got" != "$want" ]; then
		restore
		skip "the kernel could reserve only $got of $want huge pages"
	fi
	echo "vm.nr_hugepages = $want (was $old_nr) while the program runs"
	;;
shmem)
	shift
	echo advise >"$shmem" 2>/dev/null || skip "cannot set $shmem (a container?)"
	echo "shmem_enabled = advise (was $old_shmem) while the program runs"
	;;
*)
	echo "usage: $0 hugetlb N | shmem  PROGRAM [ARG...]" >&2
	exit 2
	;;
esac
"$@"
st=$?
restore
exit $st

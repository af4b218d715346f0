#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Consumer check of the Python package libawe against the installed libawe
# (AWE_STAGE): the package as `meson install` put it there, then as
# `pip install` builds it from bindings/python into a fresh venv, offline.
# The package's test suite runs against each, with both engines, loading
# the C libraries by soname (LD_LIBRARY_PATH=$AWE_STAGE/lib), and, as root,
# once more as user nobody with 8 MiB of RLIMIT_MEMLOCK (the Win32 layer's
# 1300/1314 path). Needs python3 >= 3.9, python3-venv, python3-pip,
# python3-setuptools and python3-wheel; uses pytest when installed.
set -euo pipefail

: "${AWE_STAGE:?}" "${AWE_SRC:?}" "${AWE_WORK:?}"
say() { printf 'python: %s\n' "$*"; }
skip() { say "SKIP: $*"; exit 77; }
fail() { say "FAIL: $*"; exit 1; }

PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3) || skip "no python3"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 9))' || skip "$PY is older than 3.9"

# Loading goes by soname only: no LIBAWE_*LIBRARY override, no build tree.
unset LIBAWE_LIBRARY LIBAWE_WIN32_LIBRARY LIBAWE_UNLOCKED LIBAWE_WIN32_LOCK_PRIVILEGE \
	PYTHONPATH AWE_ENGINE
export AWE_SRC PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
chmod 755 "$AWE_WORK" # for user nobody
cp -r "$AWE_SRC/bindings/python/tests" "$AWE_WORK/tests"

# Where meson installed the package: found, since the directory depends on
# the python3 Meson found (Debian's: lib/python3/dist-packages).
lib_py=$(find "$AWE_STAGE" -path '*/libawe/_lib.py' -print -quit)
[[ -n $lib_py ]] || fail "no libawe package under $AWE_STAGE (was python3 found by meson setup?)"
site=$(dirname "$(dirname "$lib_py")")
say "meson-installed package: $site/libawe"

# $1: python, $2: the directory the package must come from; the rest: a
# command prefix (setpriv) or nothing.
where() {
	local py=$1 want=$2
	shift 2
	"$@" "$py" -c '
import os, sys, libawe, libawe.win32
maps = open("/proc/self/maps").read()
stage = os.path.realpath(sys.argv[2]) + "/lib/"
pkg = os.path.dirname(os.path.realpath(libawe.__file__))
assert pkg == os.path.realpath(sys.argv[1]) + "/libawe", f"package from {pkg}"
for so in ("libawe.so.0", "libawe-win32.so.0"):
    assert any(l.split()[-1].startswith(stage + so) for l in maps.splitlines()), \
        f"{so} not loaded from {stage}"
' "$want" "$AWE_STAGE"
}

# $1: label, $2: python; the rest: a command prefix. Both engines.
suite() {
	local label=$1 py=$2 engine
	shift 2
	for engine in "" memfd; do
		say "--- tests, $label, engine ${engine:-default}"
		"$@" env ${engine:+AWE_ENGINE=$engine} "$py" "$AWE_WORK/tests/run.py" -q ||
			fail "the tests failed: $label, engine ${engine:-default}"
	done
}

# 1. The meson-installed package.
where "$PY" "$site" env PYTHONPATH="$site" ||
	fail "the meson-installed package does not load as it should"
suite "meson install" "$PY" env PYTHONPATH="$site"

# 2. pip, offline, into a fresh venv that sees Debian's setuptools and wheel.
say "pip install --no-build-isolation --no-index bindings/python into $AWE_WORK/venv"
"$PY" -m venv --system-site-packages "$AWE_WORK/venv" ||
	fail "python3 -m venv failed (python3-venv)"
venv=$AWE_WORK/venv/bin/python
# From a copy, since pip builds in the tree it is given.
cp -r "$AWE_SRC/bindings/python" "$AWE_WORK/src"
rm -rf "$AWE_WORK/src/build" "$AWE_WORK/src/"*.egg-info
"$venv" -m pip install --quiet --no-build-isolation --no-index --root-user-action=ignore \
	"$AWE_WORK/src" || fail "pip install failed (python3-pip, python3-setuptools, python3-wheel)"
venv_site=$("$venv" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
"$venv" -m pip show libawe | sed -n 's/^\(Name\|Version\|Location\): /python:   \1: /p'
where "$venv" "$venv_site" || fail "the pip-installed package does not load as it should"
suite "pip install" "$venv"

# 3. User nobody, with the meson-installed package.
if ((EUID != 0)); then
	say "not root: no run as user nobody"
elif ! command -v setpriv >/dev/null; then
	fail "setpriv (util-linux) is missing"
else
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	ulimit -l 8192 2>/dev/null || say "cannot set RLIMIT_MEMLOCK to 8 MiB; keeping $(ulimit -l) KiB"
	if ! out=$(where "$PY" "$site" "${nobody[@]}" env PYTHONPATH="$site" 2>&1); then
		fail "user nobody cannot load the installed package: $out"
	fi
	suite "meson install, user nobody, RLIMIT_MEMLOCK $(ulimit -l) KiB" "$PY" \
		"${nobody[@]}" env PYTHONPATH="$site"
fi
say "all passed"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run.sh STAGE SCRATCH - build and run every consumer of the libawe installed
# under STAGE (meson install --prefix=STAGE --libdir=lib) the way a user's
# project would: tests/consumers/NAME/check.sh, each in a fresh directory
# SCRATCH/NAME, through pkg-config, CMake, Meson, Mono or Python and the
# installed files only.
#
# A check exits 0 when it passed, 77 when something it needs is missing (it
# says what), anything else when it failed. The environment it gets:
#   AWE_STAGE, AWE_SRC (the source tree), AWE_WORK (its scratch directory),
#   PKG_CONFIG_PATH, LD_LIBRARY_PATH, CMAKE_PREFIX_PATH pointing into STAGE.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
stage=${1:?usage: run.sh STAGE SCRATCH}
scratch=${2:?usage: run.sh STAGE SCRATCH}

rm -rf "$scratch"
mkdir -p "$scratch"
# Some checks run a program again as user nobody, who must reach it.
chmod 755 "$scratch"

results=() failed=0
for check in "$here"/*/check.sh; do
	name=$(basename "$(dirname "$check")")
	work=$scratch/$name
	mkdir -p "$work"
	chmod 755 "$work"
	printf '\n--> consumer %s\n' "$name"
	start=$SECONDS
	AWE_STAGE=$stage AWE_SRC=$src AWE_WORK=$work \
		PKG_CONFIG_PATH=$stage/lib/pkgconfig LD_LIBRARY_PATH=$stage/lib \
		CMAKE_PREFIX_PATH=$stage \
		bash "$check" </dev/null
	rc=$?
	case $rc in
	0) results+=("  pass  $name ($((SECONDS - start)) s)") ;;
	77) results+=("  skip  $name (see its output above)") ;;
	*)
		results+=("  FAIL  $name (exit $rc)")
		failed=$((failed + 1))
		;;
	esac
done
printf '\n--> consumers\n'
printf '%s\n' "${results[@]}"
((failed == 0))

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An out-of-tree CMake project against the installed libawe (../run.sh):
# find_package(awe CONFIG) through CMAKE_PREFIX_PATH, awe::awe and
# awe::win32_compat; and a version libawe is not, refused.
set -euo pipefail
cd "$AWE_WORK"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v cmake >/dev/null || { echo "no cmake: skipped"; exit 77; }

cp "$here/CMakeLists.txt" "$here/../c/native.c" "$here/../c/win32.c" .
(set -x; cmake -S . -B build >cmake.log 2>&1) || { cat cmake.log; exit 1; }
grep -- "-- awe " cmake.log
cmake --build build >build.log 2>&1 || { cat build.log; exit 1; }
# The imported locations are the staged files.
[[ $(ldd build/native) == *"$AWE_STAGE/lib/libawe.so.0"* ]] || { ldd build/native; exit 1; }
[[ $(ldd build/win32) == *"$AWE_STAGE/lib/libawe-win32.so.0"* ]] || { ldd build/win32; exit 1; }
build/native
build/win32

# A major version libawe is not: find_package must refuse it.
mkdir v9 && sed 's/find_package(awe 0.6 /find_package(awe 9.0 /' CMakeLists.txt >v9/CMakeLists.txt
cp native.c win32.c v9/
if cmake -S v9 -B v9/build >v9.log 2>&1; then
	echo "find_package(awe 9.0) succeeded against libawe $(pkg-config --modversion awe)"
	exit 1
fi
echo "find_package(awe 9.0) refused, as it should"

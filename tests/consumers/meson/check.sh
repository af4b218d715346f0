#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# An out-of-tree Meson project (project/) against libawe, twice (../run.sh):
# with the installed libawe found through pkg-config, and with libawe as a
# subproject, dependency('awe', fallback : 'libawe'), built from the source
# tree.
set -euo pipefail
cd "$AWE_WORK"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v meson >/dev/null || { echo "no meson: skipped"; exit 77; }

cp -r "$here/project" installed
cp "$here/../c/native.c" installed/
(set -x; meson setup -Dwrap_mode=nofallback installed/build installed >setup-installed.log) ||
	{ cat setup-installed.log; exit 1; }
grep -q "Run-time dependency awe found: YES 0" setup-installed.log ||
	{ cat setup-installed.log; echo "pkg-config did not find the installed awe"; exit 1; }
ninja -C installed/build >/dev/null
meson test -C installed/build --print-errorlogs

# The subproject: libawe's tree as subprojects/libawe (a symbolic link, as a
# wrap-less checkout would be), and pkg-config's installed copy out of reach.
cp -r "$here/project" sub
cp "$here/../c/native.c" sub/
mkdir -p sub/subprojects
ln -s "$AWE_SRC" sub/subprojects/libawe
(set -x; env -u PKG_CONFIG_PATH meson setup --force-fallback-for=awe,awe-win32 \
	sub/build sub >setup-sub.log) || { cat setup-sub.log; exit 1; }
grep -q "Dependency awe found: YES .* (overridden)" setup-sub.log ||
	{ cat setup-sub.log; echo "awe did not come from the subproject"; exit 1; }
ninja -C sub/build >/dev/null
# The programs load the subproject's libraries, not the staged ones.
env -u LD_LIBRARY_PATH meson test -C sub/build --print-errorlogs
env -u LD_LIBRARY_PATH ldd sub/build/native | grep -q "sub/build/subprojects/libawe" ||
	{ ldd sub/build/native; echo "native does not load the subproject's libawe"; exit 1; }

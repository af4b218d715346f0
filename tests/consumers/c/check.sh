#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# C consumers of the installed libawe (see ../run.sh): the native API through
# pkg-config, shared and static; a Windows program through awe-win32's
# pkg-config and compat headers, linked to libawe-win32 only; and the
# installed examples, built with their Makefile from share/doc.
set -euo pipefail
cd "$AWE_WORK"
here=$(dirname "${BASH_SOURCE[0]}")
cc=${CC:-cc}

run() { printf '$ %s\n' "$*"; "$@"; }

# shellcheck disable=SC2046 # pkg-config prints a list of flags
run "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/native.c" -o native \
	$(pkg-config --cflags --libs awe)
[[ $(ldd ./native) == *"$AWE_STAGE/lib/libawe.so.0"* ]] ||
	{ echo "native does not load the staged libawe.so.0"; exit 1; }
./native

# shellcheck disable=SC2046
run "$cc" -std=c11 -Wall -Wextra -Wpedantic -Werror "$here/native.c" -o native-static \
	$(pkg-config --cflags awe) $(pkg-config --static --libs awe | sed 's/-lawe\b/-l:libawe.a/')
ldd ./native-static | grep -q 'libawe\.so' && { echo "native-static loads libawe.so"; exit 1; }
./native-static

compat=$(pkg-config --variable=compatincludedir awe-win32)
# shellcheck disable=SC2046
run "$cc" -std=c11 -Wall -Wextra -Werror -I"$compat" "$here/win32.c" -o win32 \
	$(pkg-config --cflags --libs awe-win32)
# Requires.private: a Win32 program needs libawe-win32 only.
readelf -d win32 | grep -q 'NEEDED.*\[libawe\.so' &&
	{ echo "win32 links libawe.so.0 directly: awe-win32.pc overlinks"; exit 1; }
./win32

examples=$AWE_STAGE/share/doc/libawe/examples
[[ -f $examples/Makefile ]] || { echo "no examples installed in $examples"; exit 1; }
cp -r "$examples" ex
run make -s -C ex
for p in awe-demo awe-pager awe-win32-example; do
	[[ ! -e $AWE_STAGE/bin/$p ]] || { echo "$p is installed as a command"; exit 1; }
done
run ./ex/awe-demo >demo.log || { cat demo.log; exit 1; }
tail -n 1 demo.log

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A C++17 consumer of both installed headers, through pkg-config (../run.sh).
set -euo pipefail
cd "$AWE_WORK"
here=$(dirname "${BASH_SOURCE[0]}")
cxx=${CXX:-c++}
command -v "$cxx" >/dev/null || { echo "no C++ compiler ($cxx): skipped"; exit 77; }
# shellcheck disable=SC2046 # pkg-config prints a list of flags
(set -x; "$cxx" -std=c++17 -Wall -Wextra -Wpedantic -Werror "$here/consumer.cpp" -o consumer \
	$(pkg-config --cflags --libs awe-win32 awe))
./consumer

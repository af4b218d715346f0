#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# C# consumer of the installed libawe-win32 (see ../run.sh), compiled by mcs
# and run by Mono with the installed .NET files only:
#  - Program.cs, the Windows P/Invokes unchanged, through the installed dllmap
#    used as Program.exe.config (the documented one-line way) and as
#    ~/.mono/config; as root, again as user nobody with an 8 MiB memlock
#    limit, where SeLockMemoryPrivilege is not held;
#  - the installed aliases directory on LD_LIBRARY_PATH, without a dllmap,
#    for every spelling it holds that Mono does not keep for itself;
#  - the installed AweWin32Resolver.cs (CoreCLR's NativeLibrary stubbed, as
#    Mono has none): compiled as a .NET Framework/Mono project, as a .NET 5
#    one, and run on every spelling of the aliases directory.
# CoreCLR itself is not in Debian: what needs it is checked as far as Mono
# and the file names allow.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$AWE_WORK"

for tool in mcs mono; do
	command -v "$tool" >/dev/null ||
		{ echo "SKIP: $tool is missing (Debian: mono-mcs, mono-runtime)"; exit 77; }
done

config=$AWE_STAGE/share/libawe/mono/awe-win32.config
resolver=$AWE_STAGE/share/libawe/dotnet/AweWin32Resolver.cs
aliases=$AWE_STAGE/lib/libawe/dotnet
library=$(realpath "$AWE_STAGE/lib/libawe-win32.so.0")
for f in "$config" "$resolver" "$aliases"; do
	[[ -e $f ]] || { echo "FAIL: $f is not installed"; exit 1; }
done

run() { printf '$ %s\n' "$*"; "$@"; }
# A Mono run whose output is shown only when it fails (its last line
# otherwise). Nothing of the caller's Mono setup or libawe settings counts.
mono_run() {
	local log=$AWE_WORK/mono.log
	printf '$ %s\n' "$*"
	if env -u MONO_CONFIG -u MONO_CFG_DIR -u LIBAWE_UNLOCKED \
		-u LIBAWE_WIN32_LOCK_PRIVILEGE -u LIBAWE_WIN32_ERRORS "$@" >"$log" 2>&1; then
		tail -n 1 "$log"
	else
		cat "$log"
		echo "FAIL: $*"
		exit 1
	fi
}

# ---- The aliases: every spelling .NET probes, links to the library, in
# their own directory only.
for name in kernel32 kernel32.dll Kernel32.dll KERNEL32.DLL KERNEL32.dll Kernel32 \
	advapi32 advapi32.dll Advapi32.dll ADVAPI32.dll ADVAPI32.DLL \
	kernelbase.dll KernelBase.dll api-ms-win-core-memory-l1-1-6.dll; do
	for file in "$name.so" "lib$name.so"; do
		[[ -L $aliases/$file ]] || { echo "FAIL: no alias $aliases/$file"; exit 1; }
	done
done
n=0
for link in "$aliases"/*; do
	[[ -L $link && $(realpath "$link") == "$library" ]] ||
		{ echo "FAIL: $link does not lead to $library"; exit 1; }
	[[ $(readlink "$link") != /* ]] || { echo "FAIL: $link is an absolute link"; exit 1; }
	n=$((n + 1))
done
shopt -s nocaseglob nullglob
stray=("$AWE_STAGE"/lib/*kernel32* "$AWE_STAGE"/lib/*advapi32* "$AWE_STAGE"/lib/*kernelbase*)
shopt -u nocaseglob nullglob
((${#stray[@]} == 0)) || { echo "FAIL: Windows library names in libdir itself: ${stray[*]}"; exit 1; }
echo "aliases: $n relative links to libawe-win32.so.0 in $aliases"
# Their library names: libX.so -> X.
names=()
for link in "$aliases"/lib*.so; do
	link=${link##*/lib}
	names+=("${link%.so}")
done

# ---- Program.cs through the dllmap.
run mcs -nologo -warnaserror -out:Program.exe "$here/Program.cs"
run ln -s "$config" Program.exe.config
# Who holds SeLockMemoryPrivilege (awe-win32(7), PRIVILEGE MODEL): CAP_IPC_LOCK
# or an RLIMIT_MEMLOCK of at least 64 MiB.
capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)
memlock=$(ulimit -l)
if (((0x$capeff >> 14) & 1)) || [[ $memlock == unlimited ]] || ((memlock >= 65536)); then
	expect=held
else
	expect=denied
fi
mkdir -p home
mono_run HOME="$AWE_WORK/home" mono Program.exe "$expect"

# The same through ~/.mono/config, read after /etc/mono/config.
mkdir -p user/.mono
cp Program.exe user/
ln -s "$config" user/.mono/config
mono_run HOME="$AWE_WORK/user" mono user/Program.exe "$expect"

# As nobody, from a copy nobody can read: the stage may be out of its reach.
if ((EUID == 0)); then
	nb=$AWE_WORK/nobody
	mkdir -p "$nb/lib"
	cp Program.exe "$nb/"
	cp -L Program.exe.config "$nb/"
	cp -L "$AWE_STAGE/lib/libawe.so.0" "$AWE_STAGE/lib/libawe-win32.so.0" "$nb/lib/"
	chmod -R go+rX "$nb"
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	if ! "${nobody[@]}" test -r "$nb/Program.exe"; then
		# $AWE_WORK lies under a directory nobody cannot enter.
		tmp=$(mktemp -d "${TMPDIR:-/tmp}/awe-csharp.XXXXXX")
		trap 'rm -rf "$tmp"' EXIT
		chmod 755 "$tmp"
		cp -r "$nb/." "$tmp/"
		nb=$tmp
	fi
	mono_run prlimit --memlock=$((8 << 20)):$((8 << 20)) "${nobody[@]}" \
		env HOME="$nb" LD_LIBRARY_PATH="$nb/lib" mono "$nb/Program.exe" denied
else
	echo "not root: the run as user nobody is left out"
fi

# ---- The aliases directory under Mono, without a dllmap. Mono's
# /etc/mono/config keeps kernel32.dll, in any case, for itself (__Internal):
# those spellings need the dllmap (above), not the aliases.
{
	echo 'using System; using System.Diagnostics; using System.Runtime.InteropServices;'
	echo 'static class Aliases {'
	i=0
	for name in "${names[@]}"; do
		[[ ${name,,} == kernel32.dll ]] && continue
		echo "  static class L$i { [DllImport(\"$name\")] public static extern uint GetCurrentProcessId(); }"
		i=$((i + 1))
	done
	echo '  static int Main() {'
	echo '    uint pid = (uint)Process.GetCurrentProcess().Id; int bad = 0;'
	i=0
	for name in "${names[@]}"; do
		[[ ${name,,} == kernel32.dll ]] && continue
		echo "    try { if (L$i.GetCurrentProcessId() != pid) throw new Exception(\"wrong PID\"); }"
		echo "    catch (Exception e) { Console.WriteLine(\"FAIL: [DllImport(\\\"$name\\\")]: \" + e.Message); bad++; }"
		i=$((i + 1))
	done
	echo "    Console.WriteLine(\"aliases: $i spellings reach libawe-win32\" + (bad > 0 ? \", \" + bad + \" do not\" : \"\"));"
	echo '    return bad == 0 ? 0 : 1; } }'
} >Aliases.cs
run mcs -nologo -warnaserror -out:Aliases.exe Aliases.cs
mono_run HOME="$AWE_WORK/home" LD_LIBRARY_PATH="$aliases:$LD_LIBRARY_PATH" mono Aliases.exe

# ---- The resolver: as in a project for .NET Framework or Mono (it compiles
# to nothing), for .NET 5 (its module initializer), and run as for .NET
# Core 3.x with NativeLibrary stubbed.
run mcs -nologo -warnaserror -target:library -out:plain.dll "$resolver"
run mcs -nologo -warnaserror -target:library -define:NET5_0_OR_GREATER -out:net5.dll \
	"$resolver" "$here/NativeLibraryStub.cs"
run mcs -nologo -warnaserror -define:AWE_WIN32_RESOLVER -out:ResolverCheck.exe \
	"$resolver" "$here/NativeLibraryStub.cs" "$here/ResolverCheck.cs"
mono_run HOME="$AWE_WORK/home" mono ResolverCheck.exe "${names[@]}"

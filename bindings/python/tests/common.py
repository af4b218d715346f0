# SPDX-License-Identifier: MIT
"""Helpers of the libawe package's tests: what this process may do, child
processes (as user nobody too), and the C compiler for layout checks."""
import ctypes
import functools
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import unittest

import libawe

MiB = 1 << 20
NOBODY = 65534
PAGE = libawe.page_size()
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(libawe.__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))


def capability(bit):
    """Whether capability bit is in this process's effective set."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> bit & 1)
    return False


def cap_ipc_lock():
    return capability(14)


def memlock_limit():
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    return None if soft == resource.RLIM_INFINITY else soft


def holds_lock_privilege():
    """SeLockMemoryPrivilege as awe-win32(7) defines it: CAP_IPC_LOCK, an
    RLIMIT_MEMLOCK of 64 MiB or more (or none), or LIBAWE_UNLOCKED=1."""
    limit = memlock_limit()
    return (cap_ipc_lock() or limit is None or limit >= 64 * MiB or
            os.environ.get("LIBAWE_UNLOCKED") == "1")


def expected_engine():
    """The engine name AWE_ENGINE asks for, or None when it is not set."""
    return {"uffd": "uffd-move", "memfd": "memfd"}.get(os.environ.get("AWE_ENGINE") or "")


def child_env(**extra):
    """The environment for a child python3: ours without the LIBAWE_UNLOCKED
    and LIBAWE_WIN32_LOCK_PRIVILEGE choices, and with the package imported
    here first on its path."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBAWE_UNLOCKED", "LIBAWE_WIN32_LOCK_PRIVILEGE")}
    env["PYTHONPATH"] = os.pathsep.join(
        [PACKAGE_DIR] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def run_python(code, *, nobody=False, memlock=None, env=None, timeout=60):
    """Run code in a child python3 (as user nobody with nobody=True, through
    setpriv(1)), with RLIMIT_MEMLOCK set to memlock bytes when given."""
    cmd = [sys.executable, "-c", code]
    if nobody:
        setpriv = shutil.which("setpriv")
        if os.geteuid() != 0 or setpriv is None:
            raise unittest.SkipTest("running a child as user nobody needs root and setpriv(1) "
                                    "(util-linux)")
        cmd = [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"] + cmd

    _, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if memlock is not None and hard != resource.RLIM_INFINITY and memlock > hard and \
            not capability(24):
        raise unittest.SkipTest(f"cannot raise RLIMIT_MEMLOCK to {memlock} bytes: the hard "
                                f"limit is {hard} and CAP_SYS_RESOURCE is not held")

    def limit():
        if memlock is not None:
            resource.setrlimit(resource.RLIMIT_MEMLOCK, (memlock, memlock))

    return subprocess.run(cmd, env=child_env(**(env or {})), preexec_fn=limit,
                          capture_output=True, text=True, timeout=timeout, cwd="/")


@functools.lru_cache(maxsize=None)
def nobody_can_import():
    """None when user nobody can import this package and load its libraries,
    else why not."""
    p = run_python("import libawe, libawe.win32", nobody=True)
    if p.returncode != 0:
        return f"user nobody cannot import libawe from {PACKAGE_DIR}: {p.stderr.strip()[-300:]}"
    return None


def skip_unless_nobody_works(test):
    why = nobody_can_import()
    if why:
        test.skipTest(why)


def check_child(test, p, what):
    test.assertEqual(p.returncode, 0, f"{what}: exit {p.returncode}\n{p.stdout}{p.stderr}")


# ---- The C compiler ---------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def c_flags():
    """(cc command, cflags) to compile against <awe.h> and <awe/win32.h>, or
    a string saying why that is not possible. $LIBAWE_CFLAGS, else
    pkg-config awe-win32 (the build tree's meson-uninstalled directory, or
    an installed prefix, on PKG_CONFIG_PATH)."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return "no C compiler (cc)"
    flags = os.environ.get("LIBAWE_CFLAGS")
    if flags is None:
        pkgconf = shutil.which("pkg-config") or shutil.which("pkgconf")
        if not pkgconf:
            return "neither LIBAWE_CFLAGS nor pkg-config"
        p = subprocess.run([pkgconf, "--cflags", "awe-win32"], capture_output=True, text=True)
        if p.returncode != 0:
            return f"pkg-config finds no awe-win32 (set PKG_CONFIG_PATH): {p.stderr.strip()}"
        flags = p.stdout
    return shlex.split(cc), shlex.split(flags)


def compile_and_run(test, source):
    """Compile a C program against libawe's headers and return its output;
    skips the test when that is not possible."""
    got = c_flags()
    if isinstance(got, str):
        test.skipTest(f"cannot compile C: {got}")
    cc, flags = got
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "layout.c")
        exe = os.path.join(tmp, "layout")
        with open(src, "w") as f:
            f.write(source)
        p = subprocess.run(cc + ["-std=gnu11", "-D_GNU_SOURCE"] + flags + [src, "-o", exe],
                           capture_output=True, text=True)
        test.assertEqual(p.returncode, 0, f"compiling failed:\n{p.stderr}\n{source}")
        p = subprocess.run([exe], capture_output=True, text=True)
        test.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout


def header(name):
    """The text of an installed or source header found through the cflags'
    -I directories, or None."""
    got = c_flags()
    if isinstance(got, str):
        return None
    for flag in got[1]:
        if flag.startswith("-I"):
            path = os.path.join(flag[2:], name)
            if os.path.exists(path):
                with open(path) as f:
                    return f.read()
    return None


def addr_bytes(address, n):
    """n bytes at address, read through ctypes (no memoryview)."""
    return ctypes.string_at(address, n)

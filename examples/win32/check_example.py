#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs awe-win32-example and checks its output and exit status.

With SeLockMemoryPrivilege held (root, a large RLIMIT_MEMLOCK or
LIBAWE_UNLOCKED=1) every step must be reported and the status be 0. Without
it the program must stop at AdjustTokenPrivileges' ERROR_NOT_ALL_ASSIGNED with
the "check the local policy" line and status 1. As root both cases are run,
the second as user nobody with an 8 MiB RLIMIT_MEMLOCK.

usage: check_example.py EXAMPLE
"""
import os
import resource
import subprocess
import sys

NOBODY = 65534
POLICY = ("Cannot enable the SE_LOCK_MEMORY_NAME privilege; "
          "please check the local policy.")
PAGE = os.sysconf("SC_PAGE_SIZE")
PAGES = (1 << 20) // PAGE

SUCCESS_LINES = [
    f"This computer has page size {PAGE}.",
    f"Requesting {PAGES} pages of memory.",
    f"Requesting a PFN array of {PAGES * 8} bytes.",
    "Enabled SeLockMemoryPrivilege.",
    f"Allocated {PAGES} physical pages.",
    f"Allocated a second set of {PAGES} physical pages.",
    "Reserved the AWE window at ",
    "Mapped the first set and wrote its pattern.",
    "Mapped the second set over the first and wrote its pattern.",
    "Mapped the first set back: its data persisted.",
    "Scattered the second set in reverse order: its data persisted.",
    "Unmapped the window.",
    f"Freed {PAGES} + {PAGES} physical pages.",
    "Released the AWE window.",
    "All steps succeeded.",
]

DENIED_LINES = SUCCESS_LINES[:3] + [POLICY]

failures = 0


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBAWE_")}
    env.update(extra)
    return env


def as_nobody():
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (8 << 20, 8 << 20))
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def run(exe, what, want_rc, want_lines, env, preexec=None):
    global failures
    try:
        p = subprocess.run([exe], env=env, preexec_fn=preexec, capture_output=True,
                           text=True, timeout=50)
    except PermissionError:
        print(f"{what}: skipped, {exe} cannot be executed as nobody")
        return
    lines = p.stdout.splitlines()
    ok = p.returncode == want_rc and len(lines) == len(want_lines) and all(
        got.startswith(want) for got, want in zip(lines, want_lines))
    print(f"--- {what}: exit {p.returncode} (want {want_rc})")
    sys.stdout.write(p.stdout)
    sys.stdout.write(p.stderr)
    if not ok:
        failures += 1
        print(f"FAIL {what}: expected exit {want_rc} and these lines:")
        for line in want_lines:
            print(f"    {line}")


def privilege_held():
    if os.environ.get("LIBAWE_UNLOCKED") == "1":
        return True
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    if soft == resource.RLIM_INFINITY or soft >= 64 << 20:
        return True
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 14))  # CAP_IPC_LOCK
    return False


def main():
    exe = os.path.abspath(sys.argv[1])
    if os.geteuid() == 0:
        run(exe, "root", 0, SUCCESS_LINES, clean_env())
        run(exe, "nobody", 1, DENIED_LINES, clean_env(), as_nobody)
        run(exe, "nobody, LIBAWE_UNLOCKED=1", 0, SUCCESS_LINES,
            clean_env(LIBAWE_UNLOCKED="1"), as_nobody)
    elif privilege_held():
        run(exe, "privileged user", 0, SUCCESS_LINES, dict(os.environ))
    else:
        run(exe, "unprivileged user", 1, DENIED_LINES, clean_env())
        run(exe, "unprivileged user, LIBAWE_UNLOCKED=1", 0, SUCCESS_LINES,
            clean_env(LIBAWE_UNLOCKED="1"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

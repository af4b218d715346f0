#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Check awe-info's report against what the system and libawe really give.

    check_awe_info.py info VERSION AWE_INFO AWE_INFO_FILL
    check_awe_info.py version VERSION TOOL...

info: parse awe-info's --json and check every field's type, then its values
against getrlimit(2), the capabilities, the environment, and what
awe-info-fill really gets from libawe under the same limits: as this user,
then under an 8 MiB RLIMIT_MEMLOCK (as user nobody when run as root), with
the capacity, the verdict and the Win32 layer's refusal; the Win32
threshold; a bogus AWE_ENGINE. The engine is the one AWE_ENGINE selects in
the environment the test runs in (meson runs it once as is, once with
AWE_ENGINE=memfd).

version: every TOOL's --version prints "TOOL (libawe) VERSION" and exits 0,
--help exits 0, a bad option exits 2.

Exit status 0 pass, 1 fail, 77 skip (libawe cannot run here at all).
"""
import json
import os
import resource
import subprocess
import sys

MiB = 1 << 20
EINVAL = 22
NOBODY = 65534
# The Win32 layer's threshold (src/win32/token.h), as awe-semantics says it.
W32_HELD = 64 * MiB

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("FAIL: " + what)
    return ok


def note(what):
    print("note: " + what)


# --- running awe-info ----------------------------------------------------------

def clean_env(**extra):
    """The environment without the variables that change libawe's answers,
    and with @extra."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LIBAWE_UNLOCKED", "LIBAWE_WIN32_LOCK_PRIVILEGE")}
    env.update(extra)
    return env


def limited(memlock):
    """A preexec function: RLIMIT_MEMLOCK soft and hard @memlock (None:
    unlimited), then user nobody when root (capabilities go with uid 0)."""
    def run():
        lim = resource.RLIM_INFINITY if memlock is None else memlock
        resource.setrlimit(resource.RLIMIT_MEMLOCK, (lim, lim))
        if os.geteuid() == 0:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
    return run


def can_limit(memlock):
    """Whether this process may set RLIMIT_MEMLOCK to @memlock for a child:
    raising the hard limit takes CAP_SYS_RESOURCE, which root may lack (in
    a container)."""
    if cap_eff(24):
        return True
    hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)[1]
    return hard == resource.RLIM_INFINITY or (memlock is not None and memlock <= hard)


def run(cmd, env=None, memlock=False):
    """Run @cmd; @memlock False leaves the limits and the user alone."""
    pre = None if memlock is False else limited(memlock)
    return subprocess.run(cmd, env=env if env is not None else clean_env(),
                          preexec_fn=pre, capture_output=True, timeout=120)


def info_json(awe_info, env=None, memlock=False, expect_rc=0):
    r = run([awe_info, "--json"], env, memlock)
    try:
        d = json.loads(r.stdout)
    except ValueError as e:
        check(False, "awe-info --json does not parse: %s\n%s" % (e, r.stdout.decode("utf-8", "replace")))
        return None, r
    check_types(d)
    if expect_rc is not None:
        check(r.returncode == expect_rc, "awe-info --json exit %d, not %d; verdict: %s; stderr: %s"
              % (r.returncode, expect_rc, d.get("verdict"), r.stderr.decode("utf-8", "replace")))
    return d, r


# --- field types ---------------------------------------------------------------

N, S, B, Z = "number", "string", "bool", "null"
TYPES = {
    "libawe_version": [S], "libawe_headers_version": [S], "libawe_path": [S, Z],
    "kernel_release": [S], "machine": [S],
    "awe_engine_env": [S, Z], "awe_engine_env_error": [S, Z],
    "userfaultfd": [B], "userfaultfd_error": [S, Z], "uffd_user_mode_only": [B],
    "uffdio_api_error": [S, Z], "uffd_features": [N],
    "UFFD_FEATURE_MOVE": [B, Z], "UFFD_FEATURE_SIGBUS": [B, Z],
    "UFFD_FEATURE_PAGEFAULT_FLAG_WP": [B, Z],
    "uffd_ioctls": [B, Z], "uffd_ioctl_failed": [S, Z], "uffd_ioctl_error": [S, Z],
    "unprivileged_userfaultfd": [N, Z], "max_map_count": [N, Z], "map_count": [N, Z],
    "cap_ipc_lock": [B, Z], "rlimit_memlock_soft": [N, Z], "rlimit_memlock_hard": [N, Z],
    "libawe_unlocked_env": [S, Z], "membarrier_private_expedited": [B, Z],
    "process_madvise_dontneed": [B],
    "memory_cgroup_v1": [S, Z], "cgroup_v2": [S, Z], "allocatable_error": [S, Z],
    "allocatable_bytes": [N, Z], "allocatable_limited_by": [S, Z],
    "host_memory_source": [S, Z], "host_mem_available": [N, Z], "host_mem_total": [N, Z],
    "limiting_cgroup": [S, Z], "limiting_cgroup_version": [N, Z],
    "limiting_cgroup_limit": [N, Z], "limiting_cgroup_usage": [N, Z],
    "limiting_cgroup_reclaimable": [N, Z],
    "awe_probe": [N], "engine": [S, Z], "engine_reason": [S, Z], "engine_error": [N, Z],
    "locked": [B, Z], "memlock_limit": [N, Z], "memlock_room": [N, Z],
    "mem_available": [N, Z], "page_size": [N, Z],
    "capacity_frames": [N, Z], "capacity_frames_shown": [N, Z],
    "capacity_limited_by": [S, Z], "capacity_windows_locked": [B, Z],
    "capacity_window_bytes": [N, Z], "capacity_scattered_slots": [N, Z],
    "win32_lock_privilege": [B, Z], "win32_lock_privilege_enabled": [B, Z],
    "win32_lock_privilege_reason": [S, Z], "win32_lock_privilege_memlock_min": [N],
    "win32_failed_call": [S, Z], "win32_error": [N, Z],
    "large_page_size": [N, Z], "large_frames": [N, Z], "large_reason": [S, Z],
    "thp_enabled": [S, Z], "thp_enabled_size": [S, Z], "thp_defrag": [S, Z],
    "thp_shmem_enabled": [S, Z], "thp_shmem_enabled_size": [S, Z],
    "nr_hugepages": [N, Z], "free_hugepages": [N, Z], "resv_hugepages": [N, Z],
    "free_huge_blocks": [N, Z],
    "awe_init": [N], "awe_init_error": [S, Z], "works": [B], "failed_call": [S, Z],
    "failed_error": [S, Z], "verdict": [S],
}


def kind(v):
    if v is None:
        return Z
    if isinstance(v, bool):
        return B
    if isinstance(v, int):
        return N
    if isinstance(v, str):
        return S
    return type(v).__name__


def check_types(d):
    for k, v in d.items():
        check(k in TYPES, "awe-info --json has a field the test does not know: %s" % k)
        if k in TYPES:
            check(kind(v) in TYPES[k], "%s is a %s (%r), not %s" % (k, kind(v), v, " or ".join(TYPES[k])))
    for k in TYPES:
        check(k in d, "awe-info --json lacks %s" % k)
    for k, v in d.items():
        check(not (kind(v) == N and v < 0 and k not in ("awe_probe", "engine_error", "awe_init")),
              "%s is negative: %r" % (k, v))


# --- facts the test reads itself ------------------------------------------------

def cap_eff(bit):
    """Whether capability @bit is in this process's effective set."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> bit & 1)
    return False


def cap_ipc_lock():
    return cap_eff(14)


def inf_none(v):
    return None if v == resource.RLIM_INFINITY else v


# --- the checks ----------------------------------------------------------------

def check_as_is(awe_info, version, d):
    """The report of this process's own limits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    cap = cap_ipc_lock()
    check(d["libawe_version"] == version, "libawe_version %r, not %r" % (d["libawe_version"], version))
    check(d["libawe_headers_version"] == version, "libawe_headers_version %r" % d["libawe_headers_version"])
    check(d["rlimit_memlock_soft"] == inf_none(soft), "rlimit_memlock_soft %r, getrlimit %r" % (d["rlimit_memlock_soft"], soft))
    check(d["rlimit_memlock_hard"] == inf_none(hard), "rlimit_memlock_hard %r, getrlimit %r" % (d["rlimit_memlock_hard"], hard))
    check(d["cap_ipc_lock"] == cap, "cap_ipc_lock %r, CapEff says %r" % (d["cap_ipc_lock"], cap))
    want = None if cap else inf_none(soft)
    check(d["memlock_limit"] == want, "memlock_limit %r, expected %r (null: unlimited)" % (d["memlock_limit"], want))
    check(d["awe_engine_env"] == (os.environ.get("AWE_ENGINE") or None), "awe_engine_env %r" % d["awe_engine_env"])
    check(d["awe_engine_env_error"] is None, "awe_engine_env_error %r" % d["awe_engine_env_error"])
    check(d["works"], "libawe does not work here: " + d["verdict"])
    check(d["verdict"].startswith("libawe works here"), "verdict: " + d["verdict"])
    check(d["verdict"].startswith("libawe works here, but only ") == (d["capacity_limited_by"] == "memlock"),
          "verdict for a capacity limited by %s: %s" % (d["capacity_limited_by"], d["verdict"]))
    check_capacity(d)
    check_w32(d, cap, inf_none(soft), os.environ.get("LIBAWE_UNLOCKED") == "1")
    r = run([awe_info], env=dict(os.environ))
    text = r.stdout.decode("utf-8", "replace")
    check(r.returncode == 0, "awe-info exit %d" % r.returncode)
    check(text.startswith("%-34s%s (" % ("libawe:", version)), "the text does not start with the version:\n" + text[:200])
    check(("%-34s%s\n" % ("verdict:", d["verdict"])) in text, "the text's verdict differs from the JSON's")


def check_capacity(d):
    """Sanity of the capacity from the report's own numbers."""
    page, frames, shown = d["page_size"], d["capacity_frames"], d["capacity_frames_shown"]
    check(frames is not None and shown is not None, "capacity unknown")
    if frames is None or shown is None:
        return
    check(frames % page == 0 and shown % page == 0, "capacity not in whole pages: %d %d" % (frames, shown))
    check(0 < frames <= d["mem_available"], "capacity_frames %d, mem_available %d" % (frames, d["mem_available"]))
    check(shown <= frames, "capacity_frames_shown %d > capacity_frames %d" % (shown, frames))
    by = d["capacity_limited_by"]
    if d["locked"] and d["memlock_room"] is not None and d["memlock_room"] < d["mem_available"]:
        check(by == "memlock" and frames == d["memlock_room"] // page * page,
              "capacity %d by %s, memlock_room %d" % (frames, by, d["memlock_room"]))
    else:
        check(by in ("host", "cgroup") and frames == d["mem_available"] // page * page,
              "capacity %d by %s, mem_available %d" % (frames, by, d["mem_available"]))
        check(shown == frames, "frames shown %d of %d without a lock limit" % (shown, frames))
    uffd_locked = d["engine"] == "uffd-move" and d["locked"]
    check(d["capacity_windows_locked"] == uffd_locked, "capacity_windows_locked %r" % d["capacity_windows_locked"])
    if uffd_locked and d["memlock_room"] is not None:
        room = d["memlock_room"] // page
        check(d["capacity_window_bytes"] == d["memlock_room"], "capacity_window_bytes %r" % d["capacity_window_bytes"])
        check(shown == min(frames, room // 2 * page), "uffd-move: frames shown %d, room %d pages" % (shown, room))
    else:
        check(d["capacity_window_bytes"] is None, "capacity_window_bytes %r" % d["capacity_window_bytes"])
    if d["engine"] == "memfd":
        slots = d["capacity_scattered_slots"]
        check(slots is not None and 0 < slots < d["max_map_count"], "capacity_scattered_slots %r" % slots)
    else:
        check(d["capacity_scattered_slots"] is None, "capacity_scattered_slots %r" % d["capacity_scattered_slots"])


def check_w32(d, cap, memlock, unlocked):
    """libawe-win32's answer, and the reason, against its rule."""
    if cap:
        want, why = True, "cap_ipc_lock"
    elif memlock is None:
        want, why = True, "memlock_unlimited"
    elif memlock >= W32_HELD:
        want, why = True, "memlock_limit"
    elif unlocked:
        want, why = True, "libawe_unlocked"
    else:
        want, why = False, "none"
    check(d["win32_lock_privilege"] == want and d["win32_lock_privilege_reason"] == why,
          "win32_lock_privilege %r (%r), expected %r (%r)" % (d["win32_lock_privilege"], d["win32_lock_privilege_reason"], want, why))
    check(d["win32_lock_privilege_memlock_min"] == W32_HELD, "win32_lock_privilege_memlock_min %r" % d["win32_lock_privilege_memlock_min"])
    refuses = "the Win32 layer refuses SeLockMemoryPrivilege" in d["verdict"]
    check(refuses == (not want), "the verdict on the Win32 layer: " + d["verdict"])


def fmt(b):
    """awe-info's exact sizes."""
    if b % MiB == 0:
        return "%d MiB" % (b // MiB)
    if b % 1024 == 0:
        return "%d KiB" % (b // 1024)
    return "%d bytes" % b


def tolerance(capacity, page):
    """What awe-info-fill may get beyond or short of awe-info's figure. Both
    are fresh processes with nothing locked (VmLck 0) reading the same limit,
    so the figure should be exact; allow one page per MiB (at least one),
    for a start-up difference of the two (a library that locks a page of its
    own). A wrong rule is off by far more: a window counted or not is the
    whole figure again, the engines' 2 MiB growth steps are 512 pages."""
    return max(1, capacity // MiB) * page


def check_small_limit(awe_info, fill, memlock):
    """The report under a small RLIMIT_MEMLOCK against what libawe gives."""
    env = clean_env()
    d, _ = info_json(awe_info, env, memlock)
    if not d:
        return
    page = d["page_size"]
    what = "RLIMIT_MEMLOCK %d: " % memlock
    check(not d["cap_ipc_lock"], what + "CAP_IPC_LOCK held")
    check(d["rlimit_memlock_soft"] == memlock and d["rlimit_memlock_hard"] == memlock and d["memlock_limit"] == memlock,
          what + "rlimit_memlock_soft %r hard %r memlock_limit %r" % (d["rlimit_memlock_soft"], d["rlimit_memlock_hard"], d["memlock_limit"]))
    check(d["works"] and d["capacity_limited_by"] == "memlock", what + d["verdict"])
    frames, shown = d["capacity_frames"], d["capacity_frames_shown"]
    check(frames == memlock // page * page, what + "capacity_frames %r" % frames)
    check_capacity(d)
    check_w32(d, False, memlock, False)
    # The "but" comes first: a reader who stops after "works" must see it.
    want = "libawe works here, but only %s of frames can be locked (RLIMIT_MEMLOCK %s)" % (fmt(frames), fmt(memlock))
    check(d["verdict"].startswith(want), what + "the verdict does not start with %r: %s" % (want, d["verdict"]))
    if shown < frames:
        want = "%s if windows show them all at once" % fmt(shown)
        check(want in d["verdict"], what + "the verdict lacks %r: %s" % (want, d["verdict"]))
    for mode, figure in (("frames", frames), ("shown", shown)):
        args = [fill, mode] + ([str(frames // page + 64)] if mode == "shown" else [])
        r = run(args, env, memlock)
        if not check(r.returncode == 0, what + "awe-info-fill %s: exit %d: %s" % (mode, r.returncode, r.stderr.decode())):
            continue
        got, tol = int(r.stdout), tolerance(figure, page)
        print("%s%s: awe-info says %d, libawe gave %d (tolerance %d)" % (what, mode, figure, got, tol))
        check(abs(got - figure) <= tol, what + "%s: awe-info says %d bytes, libawe gave %d" % (mode, figure, got))


def check_w32_limits(awe_info):
    """The Win32 layer's threshold, unlimited, and LIBAWE_UNLOCKED=1."""
    page = os.sysconf("SC_PAGE_SIZE")
    cases = [(W32_HELD - page, {}), (W32_HELD, {}), (8 * MiB, {"LIBAWE_UNLOCKED": "1"}), (None, {})]
    for memlock, extra in cases:
        if not can_limit(memlock):
            note("RLIMIT_MEMLOCK %r not checked: this user cannot raise the hard limit to it" % memlock)
            continue
        d, _ = info_json(awe_info, clean_env(**extra), memlock)
        if not d:
            continue
        unlocked = extra.get("LIBAWE_UNLOCKED") == "1"
        check(d["memlock_limit"] == memlock and d["rlimit_memlock_soft"] == memlock,
              "RLIMIT_MEMLOCK %r: memlock_limit %r, rlimit_memlock_soft %r" % (memlock, d["memlock_limit"], d["rlimit_memlock_soft"]))
        check(d["locked"] == (not unlocked), "LIBAWE_UNLOCKED=%r: locked %r" % (unlocked, d["locked"]))
        check_w32(d, False, memlock, unlocked)
        check_capacity(d)


def check_engine_env(awe_info):
    """A bogus AWE_ENGINE is named, with the values libawe takes, and fails;
    those values, and none, are taken."""
    # The second is not UTF-8 (a lone 0xff byte): the JSON must still parse.
    for bogus in ("uffd-move", "bogus\udcff\"\\x"):
        env = clean_env(AWE_ENGINE=bogus)
        d, r = info_json(awe_info, env, expect_rc=1)
        err = r.stderr.decode("utf-8", "replace")
        check("AWE_ENGINE=" in err and "uffd or memfd" in err, "stderr on AWE_ENGINE=%r: %r" % (bogus, err))
        if d:
            check(d["awe_engine_env"] is not None and d["awe_engine_env"].startswith("bogus" if bogus != "uffd-move" else "uffd-move"),
                  "awe_engine_env %r" % d["awe_engine_env"])
            check(d["awe_engine_env_error"] is not None and "uffd or memfd" in d["awe_engine_env_error"],
                  "awe_engine_env_error %r" % d["awe_engine_env_error"])
            check(not d["works"] and d["engine_error"] == -EINVAL, "AWE_ENGINE=%r: works %r, engine_error %r" % (bogus, d["works"], d["engine_error"]))
            check(d["verdict"].startswith("libawe cannot work: AWE_ENGINE="), "verdict: " + d["verdict"])
        r = run([awe_info], env=env)
        out = r.stdout.decode("utf-8", "replace")
        check(r.returncode == 1 and "ERROR: names no engine" in out, "text on AWE_ENGINE=%r: exit %d" % (bogus, r.returncode))
    for good in ("uffd", "memfd", ""):
        d, r = info_json(awe_info, clean_env(AWE_ENGINE=good), expect_rc=None)
        if d:
            check(d["engine_error"] != -EINVAL and d["awe_engine_env_error"] is None,
                  "AWE_ENGINE=%r refused: %s" % (good, d["verdict"]))
            check(d["awe_engine_env"] == (good or None), "awe_engine_env %r" % d["awe_engine_env"])


def check_scatter(awe_info, fill):
    """The memfd engine: the slots awe-info says can be in use at once,
    against a window filled slot by slot with frames in reverse order."""
    env = clean_env(LIBAWE_UNLOCKED="1")
    d, _ = info_json(awe_info, env)
    if not d or d["engine"] != "memfd":
        return
    slots, page = d["capacity_scattered_slots"], d["page_size"]
    if slots * page > 512 * MiB or slots * page * 4 > d["mem_available"]:
        note("memfd budget not filled: %d slots is more memory than this check takes" % slots)
        return
    # A window longer than the budget, filled from its start: the empty rest
    # is one mapping more, so libawe stops one slot short of the budget.
    # The two processes differ in mappings of their own (awe-info also
    # loads libawe-win32), which libawe counts against the same limit.
    r = run([fill, "scatter", str(slots + 64)], env)
    if check(r.returncode == 0, "awe-info-fill scatter: exit %d: %s" % (r.returncode, r.stderr.decode())):
        got = int(r.stdout)
        print("memfd: awe-info says %d slots, libawe mapped %d (tolerance 64)" % (slots, got))
        check(abs(got - (slots - 1)) <= 64, "memfd: awe-info says %d slots, libawe mapped %d" % (slots, got))


def info(version, awe_info, fill):
    d, r = info_json(awe_info, dict(os.environ), expect_rc=None)
    if d is None:
        return 1
    if not d["works"]:
        print("SKIP: libawe does not work here: " + d["verdict"])
        return 77
    check(r.returncode == 0, "awe-info exit %d though it works" % r.returncode)
    print("engine %s; verdict: %s" % (d["engine"], d["verdict"]))
    check_as_is(awe_info, version, d)
    page = d["page_size"]
    # The user of the issue: 8 MiB, what every user gets; then an odd
    # number of pages, where half of the room is not whole.
    for memlock in (8 * MiB, 8 * MiB - 3 * page):
        if can_limit(memlock):
            check_small_limit(awe_info, fill, memlock)
        else:
            check(False, "cannot set RLIMIT_MEMLOCK to %d (hard limit below it)" % memlock)
    check_w32_limits(awe_info)
    check_engine_env(awe_info)
    check_scatter(awe_info, fill)
    return 1 if failures else 0


def version(ver, tools):
    for tool in tools:
        name = os.path.basename(tool)
        r = subprocess.run([tool, "--version"], capture_output=True, timeout=60)
        first = r.stdout.decode("utf-8", "replace").split("\n")[0]
        check(r.returncode == 0 and first == "%s (libawe) %s" % (name, ver),
              "%s --version: exit %d, %r" % (name, r.returncode, first))
        r = subprocess.run([tool, "--help"], capture_output=True, timeout=60)
        check(r.returncode == 0 and r.stdout.startswith(b"usage: " + name.encode()),
              "%s --help: exit %d, %r" % (name, r.returncode, r.stdout[:60]))
        r = subprocess.run([tool, "--no-such-option"], capture_output=True, timeout=60)
        check(r.returncode == 2 and b"usage: " in r.stderr, "%s --no-such-option: exit %d" % (name, r.returncode))
    return 1 if failures else 0


def main(argv):
    if len(argv) == 5 and argv[1] == "info":
        rc = info(*argv[2:])
    elif len(argv) >= 4 and argv[1] == "version":
        rc = version(argv[2], argv[3:])
    else:
        print(__doc__)
        return 2
    if failures:
        print("%d checks failed" % len(failures))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))

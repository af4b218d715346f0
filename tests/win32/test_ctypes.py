#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""libawe-win32 from Python through ctypes, as a Windows-minded caller would.

Loads the built libawe-win32.so.0 by path with use_errno=True, checks that a
failure leaves the Win32 code where ctypes.get_errno() sees it, and (as root,
who holds SeLockMemoryPrivilege through CAP_IPC_LOCK) runs the AWE flow:
enable the privilege, allocate, reserve, map, write and read through the
window, unmap, free, release; then the same with large pages
(MEM_LARGE_PAGES, NONPAGED_LARGE) where the engine can have huge pages.

usage: test_ctypes.py PATH/TO/libawe-win32.so[.0[.x.y]]
Exits 0 on success, 1 on failure, 77 (skipped) when not run as root.
"""
import ctypes
import os
import sys
from ctypes import POINTER, Structure, byref, c_int, c_uint16, c_uint32, c_void_p, c_size_t

BOOL = c_int
DWORD = c_uint32
LONG = ctypes.c_int32
ULONG_PTR = c_size_t
SIZE_T = c_size_t
HANDLE = c_void_p

MEM_COMMIT, MEM_RESERVE, MEM_RELEASE, MEM_PHYSICAL = 0x1000, 0x2000, 0x8000, 0x400000
MEM_LARGE_PAGES = 0x20000000
MemExtendedParameterAttributeFlags, MEM_EXTENDED_PARAMETER_NONPAGED_LARGE = 5, 0x08
AWE_FRAME_LARGE = 1 << 62
PAGE_READWRITE = 0x04
TOKEN_ADJUST_PRIVILEGES, TOKEN_QUERY = 0x20, 0x08
SE_PRIVILEGE_ENABLED = 0x2
ERROR_SUCCESS, ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER = 0, 6, 87
ERROR_INVALID_ADDRESS, ERROR_NOACCESS, ERROR_PRIVILEGE_NOT_HELD = 487, 998, 1314
ERROR_NO_SYSTEM_RESOURCES = 1450


class LUID(Structure):
    _fields_ = [("LowPart", DWORD), ("HighPart", LONG)]


class LUID_AND_ATTRIBUTES(Structure):
    _fields_ = [("Luid", LUID), ("Attributes", DWORD)]


class TOKEN_PRIVILEGES(Structure):
    _fields_ = [("PrivilegeCount", DWORD), ("Privileges", LUID_AND_ATTRIBUTES * 1)]


class SYSTEM_INFO(Structure):
    _fields_ = [("wProcessorArchitecture", c_uint16), ("wReserved", c_uint16),
                ("dwPageSize", DWORD), ("lpMinimumApplicationAddress", c_void_p),
                ("lpMaximumApplicationAddress", c_void_p), ("dwActiveProcessorMask", ULONG_PTR),
                ("dwNumberOfProcessors", DWORD), ("dwProcessorType", DWORD),
                ("dwAllocationGranularity", DWORD), ("wProcessorLevel", c_uint16),
                ("wProcessorRevision", c_uint16)]


class MEMORY_BASIC_INFORMATION(Structure):
    _fields_ = [("BaseAddress", c_void_p), ("AllocationBase", c_void_p),
                ("AllocationProtect", DWORD), ("PartitionId", c_uint16),
                ("RegionSize", SIZE_T), ("State", DWORD), ("Protect", DWORD), ("Type", DWORD)]


class MEM_EXTENDED_PARAMETER(Structure):
    # Type in the low 8 bits of the first word, then the value.
    _fields_ = [("Type", ctypes.c_uint64), ("ULong64", ctypes.c_uint64)]


PULONG_PTR = POINTER(ULONG_PTR)

SIGNATURES = {
    "GetCurrentProcess": (HANDLE, []),
    "GetLastError": (DWORD, []),
    "SetLastError": (None, [DWORD]),
    "GetSystemInfo": (None, [POINTER(SYSTEM_INFO)]),
    "OpenProcessToken": (BOOL, [HANDLE, DWORD, POINTER(HANDLE)]),
    "LookupPrivilegeValueA": (BOOL, [ctypes.c_char_p, ctypes.c_char_p, POINTER(LUID)]),
    "LookupPrivilegeValueW": (BOOL, [POINTER(c_uint16), POINTER(c_uint16), POINTER(LUID)]),
    "AdjustTokenPrivileges": (BOOL, [HANDLE, BOOL, POINTER(TOKEN_PRIVILEGES), DWORD,
                                     POINTER(TOKEN_PRIVILEGES), POINTER(DWORD)]),
    "CloseHandle": (BOOL, [HANDLE]),
    "GetLargePageMinimum": (SIZE_T, []),
    "AllocateUserPhysicalPages": (BOOL, [HANDLE, PULONG_PTR, PULONG_PTR]),
    "AllocateUserPhysicalPages2": (BOOL, [HANDLE, PULONG_PTR, PULONG_PTR,
                                          POINTER(MEM_EXTENDED_PARAMETER), ctypes.c_uint32]),
    "FreeUserPhysicalPages": (BOOL, [HANDLE, PULONG_PTR, PULONG_PTR]),
    "MapUserPhysicalPages": (BOOL, [c_void_p, ULONG_PTR, PULONG_PTR]),
    "MapUserPhysicalPagesScatter": (BOOL, [POINTER(c_void_p), ULONG_PTR, PULONG_PTR]),
    "VirtualAlloc": (c_void_p, [c_void_p, SIZE_T, DWORD, DWORD]),
    "VirtualFree": (BOOL, [c_void_p, SIZE_T, DWORD]),
    "VirtualQuery": (SIZE_T, [c_void_p, POINTER(MEMORY_BASIC_INFORMATION), SIZE_T]),
}

failures = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        failures.append(what)


def load(path):
    so0 = os.path.join(os.path.dirname(os.path.abspath(path)), "libawe-win32.so.0")
    lib = ctypes.CDLL(so0, use_errno=True)
    for name, (restype, argtypes) in SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def expect_failure(lib, what, ok, code):
    """A failed call: FALSE/NULL, GetLastError() and errno both the Win32 code."""
    err = ctypes.get_errno()
    last = lib.GetLastError()
    check(not ok and err == code and last == code,
          f"{what}: returned {ok!r}, errno {err}, GetLastError {last}; want failure {code}")


def expect_success(lib, what, ok):
    """A successful call leaves errno alone (ctypes had set it to 0 before the call)."""
    err = ctypes.get_errno()
    check(bool(ok) and err == 0, f"{what}: returned {ok!r}, errno {err}")


def errno_checks(lib):
    n = ULONG_PTR(4)
    pfns = (ULONG_PTR * 4)()
    ctypes.set_errno(0)
    expect_failure(lib, "AllocateUserPhysicalPages(NULL handle)",
                   lib.AllocateUserPhysicalPages(None, byref(n), pfns), ERROR_INVALID_HANDLE)
    check(n.value == 4, "*NumberOfPages untouched on failure")
    ctypes.set_errno(0)
    expect_failure(lib, "AllocateUserPhysicalPages(NULL PageArray)",
                   lib.AllocateUserPhysicalPages(lib.GetCurrentProcess(), byref(n), None),
                   ERROR_NOACCESS)
    ctypes.set_errno(0)
    expect_failure(lib, "AllocateUserPhysicalPages(privilege disabled)",
                   lib.AllocateUserPhysicalPages(lib.GetCurrentProcess(), byref(n), pfns),
                   ERROR_PRIVILEGE_NOT_HELD)
    ctypes.set_errno(0)
    expect_failure(lib, "VirtualAlloc(MEM_PHYSICAL, size 0)",
                   lib.VirtualAlloc(None, 0, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE),
                   ERROR_INVALID_PARAMETER)
    ctypes.set_errno(0)
    expect_failure(lib, "VirtualAlloc(MEM_LARGE_PAGES, privilege disabled)",
                   lib.VirtualAlloc(None, lib.GetLargePageMinimum(),
                                    MEM_RESERVE | MEM_PHYSICAL | MEM_LARGE_PAGES, PAGE_READWRITE),
                   ERROR_PRIVILEGE_NOT_HELD)
    ctypes.set_errno(0)
    expect_failure(lib, "MapUserPhysicalPages(outside any region)",
                   lib.MapUserPhysicalPages(None, 1, None), ERROR_INVALID_PARAMETER)
    ctypes.set_errno(0)
    expect_failure(lib, "CloseHandle(NULL)", lib.CloseHandle(None), ERROR_INVALID_HANDLE)


def enable_lock_privilege(lib):
    tok = HANDLE()
    ctypes.set_errno(0)
    expect_success(lib, "OpenProcessToken", lib.OpenProcessToken(
        lib.GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, byref(tok)))
    luid = LUID()
    ctypes.set_errno(0)
    expect_success(lib, "LookupPrivilegeValueA",
                   lib.LookupPrivilegeValueA(None, b"SeLockMemoryPrivilege", byref(luid)))
    check((luid.LowPart, luid.HighPart) == (4, 0), f"LUID {luid.LowPart},{luid.HighPart}")
    name = "SeLockMemoryPrivilege\0".encode("utf-16-le")
    wname = (c_uint16 * (len(name) // 2)).from_buffer_copy(name)
    wluid = LUID()
    ok = lib.LookupPrivilegeValueW(None, wname, byref(wluid))
    check(ok and wluid.LowPart == 4, "LookupPrivilegeValueW with a UTF-16 name")

    tp = TOKEN_PRIVILEGES(1)
    tp.Privileges[0].Luid = luid
    tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED
    ok = lib.AdjustTokenPrivileges(tok, False, byref(tp), 0, None, None)
    err, last = ctypes.get_errno(), lib.GetLastError()
    check(ok and err == ERROR_SUCCESS and last == ERROR_SUCCESS,
          f"AdjustTokenPrivileges: {ok}, errno {err}, GetLastError {last}")
    ctypes.set_errno(0)
    expect_success(lib, "CloseHandle(token)", lib.CloseHandle(tok))


def awe_flow(lib):
    si = SYSTEM_INFO()
    lib.GetSystemInfo(byref(si))
    page = si.dwPageSize
    check(page == os.sysconf("SC_PAGE_SIZE") and si.dwAllocationGranularity == 65536,
          f"GetSystemInfo: page {page}, granularity {si.dwAllocationGranularity}")
    count = 16
    enable_lock_privilege(lib)

    n = ULONG_PTR(count)
    pfns = (ULONG_PTR * count)()
    ctypes.set_errno(0)
    expect_success(lib, "AllocateUserPhysicalPages",
                   lib.AllocateUserPhysicalPages(lib.GetCurrentProcess(), byref(n), pfns))
    check(n.value == count and all(pfns) and len(set(pfns)) == count,
          f"{n.value} distinct non-zero PFNs")

    ctypes.set_errno(0)
    win = lib.VirtualAlloc(None, count * page, MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE)
    expect_success(lib, "VirtualAlloc(MEM_RESERVE | MEM_PHYSICAL)", win)
    check(win is not None and win % 65536 == 0, f"window at {win:#x}" if win else "no window")
    if not win:
        return

    ctypes.set_errno(0)
    expect_success(lib, "MapUserPhysicalPages",
                   lib.MapUserPhysicalPages(win, count, pfns))
    mbi = MEMORY_BASIC_INFORMATION()
    got = lib.VirtualQuery(win, byref(mbi), ctypes.sizeof(mbi))
    check(got == ctypes.sizeof(mbi) and mbi.State == MEM_COMMIT and
          mbi.RegionSize == count * page, f"VirtualQuery: state {mbi.State:#x}, "
          f"size {mbi.RegionSize:#x}")

    window = (ctypes.c_ubyte * (count * page)).from_address(win)
    check(not any(window), "frames are zero-filled")
    for i in range(count):
        window[i * page:i * page + 8] = list(int(pfns[i]).to_bytes(8, "little"))
    ctypes.set_errno(0)
    expect_success(lib, "MapUserPhysicalPages(NULL): unmap",
                   lib.MapUserPhysicalPages(win, count, None))

    # Back in reverse order with the scatter call: each frame keeps its stamp.
    vas = (c_void_p * count)(*[win + (count - 1 - i) * page for i in range(count)])
    ctypes.set_errno(0)
    expect_success(lib, "MapUserPhysicalPagesScatter",
                   lib.MapUserPhysicalPagesScatter(vas, count, pfns))
    stamps = [int.from_bytes(bytes(window[(count - 1 - i) * page:(count - 1 - i) * page + 8]),
                             "little") for i in range(count)]
    check(stamps == list(pfns), "data followed the frames")

    # Mapping a mapped frame again fails with ERROR_INVALID_ADDRESS.
    ctypes.set_errno(0)
    expect_failure(lib, "MapUserPhysicalPages(frame in use)",
                   lib.MapUserPhysicalPages(win, 1, pfns), ERROR_INVALID_ADDRESS)

    ctypes.set_errno(0)
    expect_success(lib, "MapUserPhysicalPages(NULL)", lib.MapUserPhysicalPages(win, count, None))
    ctypes.set_errno(0)
    expect_success(lib, "FreeUserPhysicalPages",
                   lib.FreeUserPhysicalPages(lib.GetCurrentProcess(), byref(n), pfns))
    check(n.value == count, f"freed {n.value}")
    ctypes.set_errno(0)
    expect_success(lib, "VirtualFree(MEM_RELEASE)", lib.VirtualFree(win, 0, MEM_RELEASE))


def large_flow(lib):
    """Two large pages: PFNs and counts in 2 MiB units, one region of large slots."""
    lp = lib.GetLargePageMinimum()
    check(lp > 0 and lp & (lp - 1) == 0 and lp % 65536 == 0, f"GetLargePageMinimum: {lp:#x}")
    large = MEM_RESERVE | MEM_PHYSICAL | MEM_LARGE_PAGES
    ctypes.set_errno(0)
    expect_failure(lib, "VirtualAlloc(MEM_LARGE_PAGES, not whole large pages)",
                   lib.VirtualAlloc(None, lp + 4096, large, PAGE_READWRITE),
                   ERROR_INVALID_PARAMETER)
    n = ULONG_PTR(2)
    pfns = (ULONG_PTR * 2)()
    attr = MEM_EXTENDED_PARAMETER(MemExtendedParameterAttributeFlags,
                                  MEM_EXTENDED_PARAMETER_NONPAGED_LARGE)
    ctypes.set_errno(0)
    ok = lib.AllocateUserPhysicalPages2(lib.GetCurrentProcess(), byref(n), pfns, byref(attr), 1)
    if not ok:
        err = ctypes.get_errno()
        check(err == ERROR_NO_SYSTEM_RESOURCES, f"NONPAGED_LARGE: errno {err}, want 1450")
        print("SKIP  large pages: this engine has no huge page here (1450; see awe-info)")
        return
    expect_success(lib, "AllocateUserPhysicalPages2(NONPAGED_LARGE)", ok)
    check(n.value == 2 and all(p & AWE_FRAME_LARGE for p in pfns),
          f"{n.value} large PFNs: {[hex(p) for p in pfns]}")
    ctypes.set_errno(0)
    win = lib.VirtualAlloc(None, 2 * lp, large, PAGE_READWRITE)
    expect_success(lib, "VirtualAlloc(MEM_RESERVE | MEM_PHYSICAL | MEM_LARGE_PAGES)", win)
    if not win:
        return
    check(win % lp == 0, f"large region at {win:#x}")
    ctypes.set_errno(0)
    expect_success(lib, "MapUserPhysicalPages(2 large pages)",
                   lib.MapUserPhysicalPages(win, 2, pfns))
    for i in range(2):
        ctypes.c_uint64.from_address(win + i * lp + lp - 8).value = pfns[i]
    ctypes.set_errno(0)
    expect_failure(lib, "MapUserPhysicalPages(not aligned to a large page)",
                   lib.MapUserPhysicalPages(win + 4096, 1, None), ERROR_INVALID_PARAMETER)
    vas = (c_void_p * 2)(win + lp, win)
    ctypes.set_errno(0)
    expect_success(lib, "MapUserPhysicalPages(NULL)", lib.MapUserPhysicalPages(win, 2, None))
    ctypes.set_errno(0)
    expect_success(lib, "MapUserPhysicalPagesScatter(swapped)",
                   lib.MapUserPhysicalPagesScatter(vas, 2, pfns))
    ends = [ctypes.c_uint64.from_address(win + (1 - i) * lp + lp - 8).value for i in range(2)]
    check(ends == list(pfns), "a large page's data followed its PFN")
    ctypes.set_errno(0)
    expect_success(lib, "FreeUserPhysicalPages(2 large pages)",
                   lib.FreeUserPhysicalPages(lib.GetCurrentProcess(), byref(n), pfns))
    check(n.value == 2, f"freed {n.value} large pages")
    ctypes.set_errno(0)
    expect_success(lib, "VirtualFree(large region)", lib.VirtualFree(win, 0, MEM_RELEASE))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    lib = load(sys.argv[1])
    errno_checks(lib)
    if os.geteuid() != 0:
        print("SKIP  the AWE flow needs root (SeLockMemoryPrivilege through CAP_IPC_LOCK)")
        return 1 if failures else 77
    awe_flow(lib)
    large_flow(lib)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

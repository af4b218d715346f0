# SPDX-License-Identifier: MIT
"""libawe.win32: the Win32 AWE functions as Windows code calls them, with
GetLastError() from errno. The AWE flow when this process holds
SeLockMemoryPrivilege, the 1300/1314 path when it does not, and (as root) the
same for user nobody in a child."""
import ctypes
import unittest
from ctypes import byref, c_void_p

import libawe
from libawe import win32 as w

from common import (PAGE, MiB, check_child, holds_lock_privilege, run_python,
                    skip_unless_nobody_works)


class Win32Case(unittest.TestCase):
    def assertFails(self, ok, code, what):
        """A failed call: FALSE/NULL, and the code in GetLastError(), in the
        layer's own last error and in errno."""
        err = w.GetLastError()
        self.assertFalse(ok, f"{what} succeeded")
        self.assertEqual(err, code, f"{what}: GetLastError {err}, want {code}")
        self.assertEqual(w.GetLastError_native(), code, f"{what}: the layer's own last error")

    def assertSucceeds(self, ok, what):
        self.assertTrue(ok, f"{what} failed: {w.GetLastError()} {w.FormatError()}")

    def pfns(self, n):
        return w.ULONG_PTR(n), (w.ULONG_PTR * n)()


class ErrorCodeTest(Win32Case):
    def test_last_error_round_trip(self):
        w.SetLastError(1234)
        self.assertEqual((w.GetLastError(), w.GetLastError_native()), (1234, 1234))
        self.assertEqual(ctypes.get_errno(), 1234)
        w.SetLastError(0)

    def test_success_leaves_the_last_error(self):
        w.SetLastError(4321)
        r = w.VirtualAlloc(None, 4 * PAGE, w.MEM_RESERVE | w.MEM_PHYSICAL, w.PAGE_READWRITE)
        self.assertTrue(r)
        self.assertTrue(w.MapUserPhysicalPages(r, 4, None))
        self.assertTrue(w.VirtualFree(r, 0, w.MEM_RELEASE))
        self.assertEqual(w.GetLastError(), 4321)

    def test_invalid_parameter_87(self):
        self.assertFails(w.VirtualAlloc(None, 0, w.MEM_RESERVE | w.MEM_PHYSICAL,
                                        w.PAGE_READWRITE), w.ERROR_INVALID_PARAMETER,
                         "VirtualAlloc(MEM_PHYSICAL, size 0)")
        self.assertFails(w.MapUserPhysicalPages(None, 1, None), w.ERROR_INVALID_PARAMETER,
                         "MapUserPhysicalPages outside any region")
        self.assertFails(w.VirtualFree(None, 0, w.MEM_DECOMMIT | w.MEM_RELEASE),
                         w.ERROR_INVALID_PARAMETER, "VirtualFree(MEM_DECOMMIT | MEM_RELEASE)")
        self.assertFails(w.VirtualFree(None, 0, w.MEM_RELEASE), w.ERROR_INVALID_ADDRESS,
                         "VirtualFree(NULL)")

    def test_handles(self):
        n, a = self.pfns(4)
        self.assertFails(w.AllocateUserPhysicalPages(None, byref(n), a), w.ERROR_INVALID_HANDLE,
                         "AllocateUserPhysicalPages(NULL handle)")
        self.assertEqual(n.value, 4, "*NumberOfPages untouched on failure")
        self.assertFails(w.AllocateUserPhysicalPages(w.GetCurrentProcess(), byref(n), None),
                         w.ERROR_NOACCESS, "AllocateUserPhysicalPages(NULL PageArray)")
        self.assertFails(w.CloseHandle(None), w.ERROR_INVALID_HANDLE, "CloseHandle(NULL)")

    def test_win_error(self):
        self.assertFalse(w.CloseHandle(None))
        e = w.WinError()
        self.assertIsInstance(e, OSError)
        self.assertEqual(e.winerror, w.ERROR_INVALID_HANDLE)
        self.assertEqual(str(e), "[WinError 6] The handle is invalid.")

    def test_system_info(self):
        si = w.SYSTEM_INFO()
        w.GetSystemInfo(byref(si))
        self.assertEqual(si.dwPageSize, PAGE)
        self.assertEqual(si.dwAllocationGranularity, 65536)
        self.assertEqual(si.dwOemId & 0xFFFF, si.wProcessorArchitecture)
        self.assertEqual(w.GetLargePageMinimum(), libawe.large_page_size())

    def test_wide_names(self):
        luid = w.LUID()
        self.assertTrue(w.LookupPrivilegeValueW(None, w.wide(w.SE_LOCK_MEMORY_NAME), byref(luid)))
        self.assertEqual((luid.LowPart, luid.HighPart), (w.SE_LOCK_MEMORY_PRIVILEGE, 0))


class PrivilegeTest(Win32Case):
    """SeLockMemoryPrivilege: enabled when held (1300 otherwise), and needed
    by AllocateUserPhysicalPages (1314 without it)."""

    def tearDown(self):
        if holds_lock_privilege():
            w.enable_lock_privilege()

    def test_enable(self):
        want = w.ERROR_SUCCESS if holds_lock_privilege() else w.ERROR_NOT_ALL_ASSIGNED
        self.assertEqual(w.enable_lock_privilege(), want)

    def test_disabled_is_1314(self):
        w.enable_lock_privilege(False)
        n, a = self.pfns(4)
        self.assertFails(w.AllocateUserPhysicalPages(w.GetCurrentProcess(), byref(n), a),
                         w.ERROR_PRIVILEGE_NOT_HELD, "AllocateUserPhysicalPages, not enabled")
        self.assertEqual((n.value, list(a)), (4, [0] * 4), "arguments untouched on failure")

    def test_nobody(self):
        # User nobody with 8 MiB of RLIMIT_MEMLOCK does not hold it: the
        # AWE example's 1300, then 1314; regions need no privilege.
        skip_unless_nobody_works(self)
        p = run_python(f"""
from ctypes import byref
from libawe import win32 as w
assert w.enable_lock_privilege() == w.ERROR_NOT_ALL_ASSIGNED, w.GetLastError()
n = w.ULONG_PTR(4)
a = (w.ULONG_PTR * 4)(12345, 12346, 12347, 12348)
assert not w.AllocateUserPhysicalPages(w.GetCurrentProcess(), byref(n), a)
assert w.GetLastError() == w.ERROR_PRIVILEGE_NOT_HELD == 1314, w.GetLastError()
assert n.value == 4 and a[0] == 12345
r = w.VirtualAlloc(None, 16 * {PAGE}, w.MEM_RESERVE | w.MEM_PHYSICAL, w.PAGE_READWRITE)
assert r, w.GetLastError()
assert w.MapUserPhysicalPages(r, 16, None)
assert not w.MapUserPhysicalPages(r, 1, a)
assert w.GetLastError() == w.ERROR_INVALID_ADDRESS, w.GetLastError()
assert w.VirtualFree(r, 0, w.MEM_RELEASE)
print("ok")
""", nobody=True, memlock=8 * MiB)
        check_child(self, p, "nobody with 8 MiB of memlock")
        self.assertEqual(p.stdout, "ok\n")

    def test_nobody_with_64_mib_holds_it(self):
        skip_unless_nobody_works(self)
        p = run_python("""
from ctypes import byref
from libawe import win32 as w
assert w.enable_lock_privilege() == w.ERROR_SUCCESS, w.GetLastError()
n = w.ULONG_PTR(16)
a = (w.ULONG_PTR * 16)()
assert w.AllocateUserPhysicalPages(w.GetCurrentProcess(), byref(n), a), w.GetLastError()
assert n.value == 16
assert w.FreeUserPhysicalPages(w.GetCurrentProcess(), byref(n), a), w.GetLastError()
""", nobody=True, memlock=64 * MiB)
        check_child(self, p, "nobody with 64 MiB of memlock")


class AweFlowTest(Win32Case):
    """The AWE example's flow, when this process holds the privilege."""

    def setUp(self):
        if not holds_lock_privilege():
            self.skipTest("this process does not hold SeLockMemoryPrivilege "
                          "(PrivilegeTest checks the 1300/1314 path)")
        self.assertEqual(w.enable_lock_privilege(), w.ERROR_SUCCESS)

    def test_flow(self):
        count = 16
        process = w.GetCurrentProcess()
        n, pfns = self.pfns(count)
        before = libawe.stats().frames_allocated
        self.assertSucceeds(w.AllocateUserPhysicalPages(process, byref(n), pfns), "allocate")
        self.assertEqual(n.value, count)
        self.assertEqual(len(set(pfns)), count)
        self.assertEqual(libawe.stats().frames_allocated, before + count)

        region = w.VirtualAlloc(None, count * PAGE, w.MEM_RESERVE | w.MEM_PHYSICAL,
                                w.PAGE_READWRITE)
        self.assertSucceeds(region, "VirtualAlloc(MEM_RESERVE | MEM_PHYSICAL)")
        self.assertEqual(region % 65536, 0)
        self.assertSucceeds(w.MapUserPhysicalPages(region, count, pfns), "map")
        mbi = w.MEMORY_BASIC_INFORMATION()
        self.assertEqual(w.VirtualQuery(region, byref(mbi), ctypes.sizeof(mbi)),
                         ctypes.sizeof(mbi))
        self.assertEqual((mbi.State, mbi.RegionSize), (w.MEM_COMMIT, count * PAGE))
        # The PFNs are libawe frames, the region a libawe window.
        self.assertEqual(libawe.frame_address(pfns[3]), region + 3 * PAGE)
        self.assertEqual(libawe.query(region).window_size, count * PAGE)

        data = (ctypes.c_uint64 * (count * PAGE // 8)).from_address(region)
        for i in range(count):
            data[i * PAGE // 8] = pfns[i]
        self.assertSucceeds(w.MapUserPhysicalPages(region, count, None), "unmap")
        scattered = (c_void_p * count)(*[region + (count - 1 - i) * PAGE for i in range(count)])
        self.assertSucceeds(w.MapUserPhysicalPagesScatter(scattered, count, pfns), "scatter")
        self.assertEqual([data[(count - 1 - i) * PAGE // 8] for i in range(count)], list(pfns),
                         "the data followed the frames")
        self.assertFails(w.MapUserPhysicalPages(region, 1, pfns), w.ERROR_INVALID_ADDRESS,
                         "mapping a mapped frame again")
        self.assertSucceeds(w.MapUserPhysicalPagesScatter(scattered, count, None), "unmap all")

        self.assertSucceeds(w.FreeUserPhysicalPages(process, byref(n), pfns), "free")
        self.assertEqual(n.value, count)
        self.assertEqual(libawe.stats().frames_allocated, before)
        self.assertSucceeds(w.VirtualFree(region, 0, w.MEM_RELEASE), "release")
        # Freed PFNs are no longer the process's: 487, none freed.
        self.assertFails(w.FreeUserPhysicalPages(process, byref(n), pfns),
                         w.ERROR_INVALID_ADDRESS, "freeing freed PFNs")
        self.assertEqual(n.value, 0)

    def test_native_frames_in_a_win32_region(self):
        with libawe.Frames(2) as frames:
            region = w.VirtualAlloc(None, 2 * PAGE, w.MEM_RESERVE | w.MEM_PHYSICAL,
                                    w.PAGE_READWRITE)
            self.assertSucceeds(region, "VirtualAlloc")
            try:
                self.assertSucceeds(w.MapUserPhysicalPages(region, 2, frames.array), "map")
                self.assertEqual(libawe.query(region + PAGE).frame, frames[1])
            finally:
                self.assertSucceeds(w.VirtualFree(region, 0, w.MEM_RELEASE), "release")

    def test_large_pages(self):
        lp = w.GetLargePageMinimum()
        if not lp:
            self.skipTest("no large pages on this kernel")
        large = w.MEM_RESERVE | w.MEM_PHYSICAL | w.MEM_LARGE_PAGES
        self.assertFails(w.VirtualAlloc(None, lp + PAGE, large, w.PAGE_READWRITE),
                         w.ERROR_INVALID_PARAMETER, "MEM_LARGE_PAGES, not whole large pages")
        n, pfns = self.pfns(2)
        attr = w.MEM_EXTENDED_PARAMETER(Type=w.MemExtendedParameterAttributeFlags,
                                        ULong64=w.MEM_EXTENDED_PARAMETER_NONPAGED_LARGE)
        if not w.AllocateUserPhysicalPages2(w.GetCurrentProcess(), byref(n), pfns, byref(attr),
                                            1):
            self.assertEqual(w.GetLastError(), w.ERROR_NO_SYSTEM_RESOURCES)
            self.skipTest("no huge page for this engine here (1450; see awe-info)")
        self.assertTrue(all(p & w.AWE_FRAME_LARGE for p in pfns))
        region = w.VirtualAlloc(None, 2 * lp, large, w.PAGE_READWRITE)
        self.assertSucceeds(region, "VirtualAlloc(MEM_LARGE_PAGES)")
        self.assertEqual(region % lp, 0)
        self.assertSucceeds(w.MapUserPhysicalPages(region, 2, pfns), "map large")
        for i in range(2):
            ctypes.c_uint64.from_address(region + i * lp + lp - 8).value = pfns[i]
        self.assertFails(w.MapUserPhysicalPages(region + PAGE, 1, None), w.ERROR_INVALID_PARAMETER,
                         "an address not on a large page")
        self.assertSucceeds(w.MapUserPhysicalPages(region, 2, None), "unmap large")
        self.assertSucceeds(w.MapUserPhysicalPagesScatter((c_void_p * 2)(region + lp, region), 2,
                                                          pfns), "scatter large, swapped")
        ends = [ctypes.c_uint64.from_address(region + (1 - i) * lp + lp - 8).value
                for i in range(2)]
        self.assertEqual(ends, list(pfns), "a large page's data followed its PFN")
        self.assertSucceeds(w.FreeUserPhysicalPages(w.GetCurrentProcess(), byref(n), pfns),
                            "free large")
        self.assertSucceeds(w.VirtualFree(region, 0, w.MEM_RELEASE), "release large")


if __name__ == "__main__":
    unittest.main()

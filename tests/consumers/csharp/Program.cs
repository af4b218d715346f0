// SPDX-License-Identifier: MIT
//
// A C# program of the AWE API with the P/Invoke declarations Windows
// programs use, unchanged ([DllImport("kernel32.dll", SetLastError = true)],
// advapi32 for the token), run by Mono with the installed dllmap
// (share/libawe/mono/awe-win32.config as Program.exe.config): allocate,
// reserve, map, write and read through the window, scatter, unmap, free,
// with the Win32 codes read by Marshal.GetLastWin32Error().
//
// usage: mono Program.exe held|denied
//   held:   SeLockMemoryPrivilege is held (root, a large RLIMIT_MEMLOCK or
//           LIBAWE_UNLOCKED=1): everything must work once it is enabled;
//   denied: it is not: enabling it gives ERROR_NOT_ALL_ASSIGNED and
//           allocating ERROR_PRIVILEGE_NOT_HELD.
// Exits 0 when every call did what Windows does, else 1 with FAIL lines.
using System;
using System.Diagnostics;
using System.Runtime.InteropServices;

static class Program
{
    const uint MEM_RESERVE = 0x2000, MEM_RELEASE = 0x8000, MEM_PHYSICAL = 0x400000;
    const uint PAGE_READWRITE = 0x04;
    const uint TOKEN_QUERY = 0x0008, TOKEN_ADJUST_PRIVILEGES = 0x0020;
    const uint SE_PRIVILEGE_ENABLED = 0x00000002;
    const int ERROR_SUCCESS = 0, ERROR_INVALID_HANDLE = 6, ERROR_INVALID_PARAMETER = 87;
    const int ERROR_NOT_ALL_ASSIGNED = 1300, ERROR_PRIVILEGE_NOT_HELD = 1314;
    const int PAGES = 16;

    [StructLayout(LayoutKind.Sequential)]
    struct SYSTEM_INFO
    {
        public ushort wProcessorArchitecture;
        public ushort wReserved;
        public uint dwPageSize;
        public IntPtr lpMinimumApplicationAddress;
        public IntPtr lpMaximumApplicationAddress;
        public UIntPtr dwActiveProcessorMask;
        public uint dwNumberOfProcessors;
        public uint dwProcessorType;
        public uint dwAllocationGranularity;
        public ushort wProcessorLevel;
        public ushort wProcessorRevision;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct LUID
    {
        public uint LowPart;
        public int HighPart;
    }

    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    struct TOKEN_PRIVILEGES
    {
        public uint PrivilegeCount;
        public LUID Luid;
        public uint Attributes;
    }

    // The spellings vary as they do from one Windows program to the next.
    [DllImport("kernel32.dll")]
    static extern IntPtr GetCurrentProcess();

    [DllImport("Kernel32.dll")]
    static extern void GetSystemInfo(out SYSTEM_INFO lpSystemInfo);

    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool AllocateUserPhysicalPages(IntPtr hProcess, ref UIntPtr NumberOfPages,
                                                 UIntPtr[] PageArray);

    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool FreeUserPhysicalPages(IntPtr hProcess, ref UIntPtr NumberOfPages,
                                             UIntPtr[] PageArray);

    [DllImport("KERNEL32.DLL", SetLastError = true)]
    static extern IntPtr VirtualAlloc(IntPtr lpAddress, UIntPtr dwSize, uint flAllocationType,
                                      uint flProtect);

    [DllImport("kernel32", SetLastError = true)]
    static extern bool VirtualFree(IntPtr lpAddress, UIntPtr dwSize, uint dwFreeType);

    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool MapUserPhysicalPages(IntPtr VirtualAddress, UIntPtr NumberOfPages,
                                            UIntPtr[] PageArray);

    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool MapUserPhysicalPagesScatter(IntPtr[] VirtualAddresses,
                                                   UIntPtr NumberOfPages, UIntPtr[] PageArray);

    [DllImport("kernel32.dll", SetLastError = true)]
    static extern bool CloseHandle(IntPtr hObject);

    [DllImport("advapi32.dll", SetLastError = true)]
    static extern bool OpenProcessToken(IntPtr ProcessHandle, uint DesiredAccess,
                                        out IntPtr TokenHandle);

    [DllImport("advapi32.dll", SetLastError = true, CharSet = CharSet.Auto)]
    static extern bool LookupPrivilegeValue(string lpSystemName, string lpName, out LUID lpLuid);

    [DllImport("Advapi32", SetLastError = true)]
    static extern bool AdjustTokenPrivileges(IntPtr TokenHandle, bool DisableAllPrivileges,
                                             ref TOKEN_PRIVILEGES NewState, uint BufferLength,
                                             IntPtr PreviousState, IntPtr ReturnLength);

    static int failures;

    // A call returned @ok and left @error (Marshal.GetLastWin32Error(), read
    // right after it); Windows returns @wantOk and, on failure, @wantError.
    static bool Check(string what, bool ok, int error, bool wantOk, int wantError)
    {
        bool right = ok == wantOk && (wantOk || error == wantError);
        if (right)
            Console.WriteLine("ok   {0}: {1}", what, ok ? "TRUE" : "FALSE, error " + error);
        else {
            Console.WriteLine("FAIL {0}: {1}, expected {2}", what,
                              ok ? "TRUE" : "FALSE with error " + error,
                              wantOk ? "TRUE" : "FALSE with error " + wantError);
            failures++;
        }
        return right;
    }

    static void Expect(string what, bool cond)
    {
        Console.WriteLine("{0} {1}", cond ? "ok  " : "FAIL", what);
        if (!cond)
            failures++;
    }

    static long Pattern(int frame, int at)
    {
        return 0x5AFE0000000000L + frame * 0x10000L + at;
    }

    static int Main(string[] args)
    {
        if (args.Length != 1 || (args[0] != "held" && args[0] != "denied")) {
            Console.Error.WriteLine("usage: Program.exe held|denied");
            return 2;
        }
        bool held = args[0] == "held";
        Process me = Process.GetCurrentProcess();
        // On Linux, .NET Core 2.x's Process.Handle is the process ID, which
        // libawe-win32 takes as a handle to the calling process. .NET Core
        // 3.0 and later and Mono hold something else there: the PID itself
        // takes that path then.
        IntPtr pid = (IntPtr)me.Id;
        bool handleIsPid = me.Handle == pid;
        IntPtr self = GetCurrentProcess();
        SYSTEM_INFO si;
        UIntPtr n;
        var pfns = new UIntPtr[PAGES];

        Console.WriteLine("expecting SeLockMemoryPrivilege {0}; Process.Handle {1}",
                          held ? "held" : "not held",
                          handleIsPid ? "is the PID" : "is not the PID here, the PID is passed");
        Expect("GetCurrentProcess() is the pseudo-handle -1", self == (IntPtr)(-1));
        GetSystemInfo(out si);
        int page = (int)si.dwPageSize;
        Expect("GetSystemInfo: page size " + page, page == Environment.SystemPageSize);

        // The privilege starts disabled, held or not.
        n = (UIntPtr)PAGES;
        Check("AllocateUserPhysicalPages before enabling the privilege",
              AllocateUserPhysicalPages(self, ref n, pfns), Marshal.GetLastWin32Error(), false,
              ERROR_PRIVILEGE_NOT_HELD);

        IntPtr token;
        Check("OpenProcessToken", OpenProcessToken(self, TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY,
                                                   out token),
              Marshal.GetLastWin32Error(), true, 0);
        var tp = new TOKEN_PRIVILEGES { PrivilegeCount = 1, Attributes = SE_PRIVILEGE_ENABLED };
        Check("LookupPrivilegeValue(SeLockMemoryPrivilege)",
              LookupPrivilegeValue(null, "SeLockMemoryPrivilege", out tp.Luid),
              Marshal.GetLastWin32Error(), true, 0);
        Expect("its LUID is 4", tp.Luid.LowPart == 4 && tp.Luid.HighPart == 0);
        // TRUE either way; the last error tells whether it was held.
        bool adjusted = AdjustTokenPrivileges(token, false, ref tp, 0, IntPtr.Zero, IntPtr.Zero);
        int error = Marshal.GetLastWin32Error();
        Expect("AdjustTokenPrivileges returns TRUE", adjusted);
        Expect("AdjustTokenPrivileges leaves " + error + ", expected " +
                   (held ? "ERROR_SUCCESS (0)" : "ERROR_NOT_ALL_ASSIGNED (1300)"),
               error == (held ? ERROR_SUCCESS : ERROR_NOT_ALL_ASSIGNED));

        // The PID path: this process's PID is a handle to it.
        n = (UIntPtr)PAGES;
        if (!Check("AllocateUserPhysicalPages(" + PAGES + " pages) with the PID as handle",
                   AllocateUserPhysicalPages(pid, ref n, pfns), Marshal.GetLastWin32Error(),
                   held, ERROR_PRIVILEGE_NOT_HELD) || !held) {
            if (held)
                return Done();
            // Reserving and the parameter checks need no privilege.
            n = (UIntPtr)1;
            pfns[0] = UIntPtr.Zero;
        } else
            Expect("all " + PAGES + " allocated", n.ToUInt64() == PAGES);
        if (held && !handleIsPid) {
            // Not a handle of libawe-win32's: as any unknown value.
            var one = new UIntPtr[1];
            n = (UIntPtr)1;
            Check("AllocateUserPhysicalPages with this runtime's Process.Handle",
                  AllocateUserPhysicalPages(me.Handle, ref n, one), Marshal.GetLastWin32Error(),
                  false, ERROR_INVALID_HANDLE);
        }

        IntPtr window = VirtualAlloc(IntPtr.Zero, (UIntPtr)(ulong)(PAGES * page),
                                     MEM_RESERVE | MEM_PHYSICAL, PAGE_READWRITE);
        if (!Check("VirtualAlloc(MEM_RESERVE | MEM_PHYSICAL)", window != IntPtr.Zero,
                   Marshal.GetLastWin32Error(), true, 0))
            return Done();

        // ERROR_INVALID_PARAMETER: no pages, or an address outside every AWE region.
        Check("MapUserPhysicalPages of 0 pages", MapUserPhysicalPages(window, UIntPtr.Zero, pfns),
              Marshal.GetLastWin32Error(), false, ERROR_INVALID_PARAMETER);
        IntPtr heap = Marshal.AllocHGlobal(page);
        Check("MapUserPhysicalPages outside the AWE region",
              MapUserPhysicalPages(heap, (UIntPtr)1, pfns), Marshal.GetLastWin32Error(), false,
              ERROR_INVALID_PARAMETER);
        Marshal.FreeHGlobal(heap);

        if (held) {
            Check("MapUserPhysicalPages(window, all)",
                  MapUserPhysicalPages(window, (UIntPtr)PAGES, pfns), Marshal.GetLastWin32Error(),
                  true, 0);
            // Through the window: frame i at page i.
            for (int i = 0; i < PAGES; i++) {
                Marshal.WriteInt64(window, i * page, Pattern(i, 0));
                Marshal.WriteInt64(window, (i + 1) * page - 8, Pattern(i, 1));
            }
            bool same = true;
            for (int i = 0; i < PAGES; i++)
                same &= Marshal.ReadInt64(window, i * page) == Pattern(i, 0) &&
                        Marshal.ReadInt64(window, (i + 1) * page - 8) == Pattern(i, 1);
            Expect("wrote and read " + PAGES + " pages through the window", same);

            // Unmap, then scatter the frames in reverse order: page i shows
            // frame PAGES-1-i, whose data it kept.
            Check("MapUserPhysicalPages(window, all, NULL): unmap",
                  MapUserPhysicalPages(window, (UIntPtr)PAGES, null), Marshal.GetLastWin32Error(),
                  true, 0);
            var addrs = new IntPtr[PAGES];
            var reversed = new UIntPtr[PAGES];
            for (int i = 0; i < PAGES; i++) {
                addrs[i] = window + i * page;
                reversed[i] = pfns[PAGES - 1 - i];
            }
            Check("MapUserPhysicalPagesScatter(reversed)",
                  MapUserPhysicalPagesScatter(addrs, (UIntPtr)PAGES, reversed),
                  Marshal.GetLastWin32Error(), true, 0);
            same = true;
            for (int i = 0; i < PAGES; i++)
                same &= Marshal.ReadInt64(window, i * page) == Pattern(PAGES - 1 - i, 0) &&
                        Marshal.ReadInt64(window, (i + 1) * page - 8) == Pattern(PAGES - 1 - i, 1);
            Expect("the scattered frames kept their data", same);
            Check("MapUserPhysicalPagesScatter(all, NULL): unmap",
                  MapUserPhysicalPagesScatter(addrs, (UIntPtr)PAGES, null),
                  Marshal.GetLastWin32Error(), true, 0);

            n = (UIntPtr)PAGES;
            Check("FreeUserPhysicalPages(all)", FreeUserPhysicalPages(self, ref n, pfns),
                  Marshal.GetLastWin32Error(), true, 0);
            Expect("all " + PAGES + " freed", n.ToUInt64() == PAGES);
            // Freed frames are no frames.
            Check("MapUserPhysicalPages of a freed frame",
                  MapUserPhysicalPages(window, (UIntPtr)1, pfns), Marshal.GetLastWin32Error(),
                  false, 487);
        }
        Check("VirtualFree(MEM_RELEASE)", VirtualFree(window, UIntPtr.Zero, MEM_RELEASE),
              Marshal.GetLastWin32Error(), true, 0);
        Check("CloseHandle(token)", CloseHandle(token), Marshal.GetLastWin32Error(), true, 0);
        return Done();
    }

    static int Done()
    {
        Console.WriteLine(failures == 0 ? "all checks passed" : failures + " checks FAILED");
        return failures == 0 ? 0 : 1;
    }
}

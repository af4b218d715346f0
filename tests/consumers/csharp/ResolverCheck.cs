// SPDX-License-Identifier: MIT
//
// Runs the installed AweWin32Resolver.cs under Mono, with NativeLibraryStub.cs
// for the NativeLibrary Mono lacks: every library name given on the command
// line (the spellings of the installed aliases directory) must resolve to
// libawe-win32, whose AllocateUserPhysicalPages must then be found; names
// of other libraries must be left to the runtime (IntPtr.Zero).
using System;
using System.Reflection;
using System.Runtime.InteropServices;
using LibAwe;

static class ResolverCheck
{
    [DllImport("libc.so.6")]
    private static extern IntPtr dlsym(IntPtr handle, string symbol);

    static int Main(string[] names)
    {
        Assembly me = typeof(ResolverCheck).Assembly;
        int bad = 0;

        AweWin32Resolver.Register(me);
        DllImportResolver resolve = NativeLibrary.Resolvers[me];
        foreach (string name in names) {
            IntPtr h = resolve(name, me, null);
            if (h == IntPtr.Zero || dlsym(h, "AllocateUserPhysicalPages") == IntPtr.Zero) {
                Console.WriteLine("FAIL: [DllImport(\"{0}\")] is not resolved to {1}", name,
                                  AweWin32Resolver.Library);
                bad++;
            }
        }
        string[] others = { "user32.dll", "kernel33", "kernel32.dll.so", "libkernel32.so",
                            "ntdll.dll", "advapi", "api-ms-win-core-memory-l1-1-0.dll",
                            "libc", "", "kernel32.dllx" };
        foreach (string name in others)
            if (resolve(name, me, null) != IntPtr.Zero) {
                Console.WriteLine("FAIL: the resolver took [DllImport(\"{0}\")]", name);
                bad++;
            }
        if (resolve(null, me, null) != IntPtr.Zero) {
            Console.WriteLine("FAIL: the resolver took a null name");
            bad++;
        }
        Console.WriteLine("resolver: {0} names resolved, {1} others left alone{2}", names.Length,
                          others.Length + 1, bad == 0 ? "" : "; " + bad + " failures");
        return bad == 0 ? 0 : 1;
    }
}

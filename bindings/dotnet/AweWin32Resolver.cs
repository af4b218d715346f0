// SPDX-License-Identifier: MIT
//
// AweWin32Resolver.cs: a DllImport resolver that sends the Windows libraries
// of the AWE functions to libawe-win32 on Linux, for .NET (CoreCLR) 3.0 and
// later. Add this file to the project that declares the P/Invokes, as they
// are written for Windows:
//
//     [DllImport("kernel32.dll", SetLastError = true)]
//     static extern bool AllocateUserPhysicalPages(IntPtr hProcess,
//         ref UIntPtr NumberOfPages, UIntPtr[] PageArray);
//
// On .NET 5 and later nothing else is needed: a module initializer
// registers the resolver for the assembly this file is compiled into. On
// .NET Core 3.x call LibAwe.AweWin32Resolver.Register(typeof(Program).Assembly)
// once, before the first P/Invoke. An assembly takes one resolver only: if
// the program sets its own, define AWE_WIN32_RESOLVER_MANUAL (no module
// initializer) and return AweWin32Resolver.Resolve(...) from it when it
// is not IntPtr.Zero.
//
// The names are those of awe-win32(7), .NET: kernel32, kernelbase,
// advapi32 and the api-ms-win-core-memory-l1-1-6/7/8 API sets (VirtualAlloc2,
// CreateFileMapping2, AllocateUserPhysicalPages2 in Microsoft's metadata),
// in any case, with or without ".dll". Any other name, and every name on
// Windows, is left to the runtime.
//
// Mono has no NativeLibrary; use the dllmap of share/libawe/mono there. The
// file compiles to nothing unless the target is .NET Core 3.0 or later (or
// AWE_WIN32_RESOLVER is defined), and keeps to C# 7.2, so it may sit in a
// project that also builds for .NET Framework or Mono.
//
// Installed by libawe as <datadir>/libawe/dotnet/AweWin32Resolver.cs.

#if NETCOREAPP3_0_OR_GREATER || NETCOREAPP3_0 || NETCOREAPP3_1 || NET5_0_OR_GREATER || AWE_WIN32_RESOLVER
using System;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace LibAwe
{
    internal static class AweWin32Resolver
    {
        // The library, by soname: the dynamic loader finds it in the system
        // library directories or on LD_LIBRARY_PATH.
        public const string Library = "libawe-win32.so.0";

        // Lowercase, without ".dll".
        private static readonly string[] WindowsNames = {
            "kernel32",
            "kernelbase",
            "advapi32",
            "api-ms-win-core-memory-l1-1-6",
            "api-ms-win-core-memory-l1-1-7",
            "api-ms-win-core-memory-l1-1-8",
        };

        private static IntPtr handle;

        // Whether [DllImport(name)] names a library whose AWE functions
        // libawe-win32 provides ("Kernel32.dll", "KERNEL32", "advapi32.dll"...).
        public static bool IsWin32Name(string name)
        {
            if (name == null)
                return false;
            if (name.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
                name = name.Substring(0, name.Length - 4);
            foreach (string known in WindowsNames)
                if (string.Equals(name, known, StringComparison.OrdinalIgnoreCase))
                    return true;
            return false;
        }

        // Sends @assembly's P/Invokes of those libraries to libawe-win32.
        public static void Register(Assembly assembly)
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
        }

        // The DllImportResolver: libawe-win32's handle for a Windows name on
        // Linux, else IntPtr.Zero (the runtime then looks as usual).
        public static IntPtr Resolve(string libraryName, Assembly assembly,
                                     DllImportSearchPath? searchPath)
        {
            if (!IsWin32Name(libraryName) || !RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                return IntPtr.Zero;
            IntPtr h = Volatile.Read(ref handle);
            if (h != IntPtr.Zero)
                return h;
            // The loader's search first, then the application's directory.
            if (!NativeLibrary.TryLoad(Library, out h) &&
                !NativeLibrary.TryLoad(Library, assembly, searchPath, out h))
                return IntPtr.Zero;
            // Another thread may have loaded it too: the loader counts
            // references, and one extra is harmless.
            Interlocked.CompareExchange(ref handle, h, IntPtr.Zero);
            return h;
        }

#if NET5_0_OR_GREATER && !AWE_WIN32_RESOLVER_MANUAL
        // CA2255 warns against module initializers in libraries; this one
        // only sets the resolver of the assembly it is compiled into.
#pragma warning disable CA2255
        [System.Runtime.CompilerServices.ModuleInitializer]
        internal static void RegisterThisAssembly()
        {
            Register(typeof(AweWin32Resolver).Assembly);
        }
#pragma warning restore CA2255
#endif
    }
}
#endif

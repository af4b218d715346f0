// SPDX-License-Identifier: MIT
//
// Mono's class library has no NativeLibrary (.NET Core 3.0 and later): this
// stand-in of the part AweWin32Resolver.cs uses lets mcs compile the
// installed resolver and ResolverCheck.cs run it. TryLoad is dlopen(), as
// CoreCLR's is on Linux (without its search of name variations).
using System;
using System.Collections.Generic;
using System.Reflection;

namespace System.Runtime.InteropServices
{
    public delegate IntPtr DllImportResolver(string libraryName, Assembly assembly,
                                             DllImportSearchPath? searchPath);

    public static class NativeLibrary
    {
        // What SetDllImportResolver was given, for the check to look at.
        public static readonly Dictionary<Assembly, DllImportResolver> Resolvers =
            new Dictionary<Assembly, DllImportResolver>();

        [DllImport("libc.so.6")]
        private static extern IntPtr dlopen(string file, int mode);

        public static void SetDllImportResolver(Assembly assembly, DllImportResolver resolver)
        {
            if (Resolvers.ContainsKey(assembly))
                throw new InvalidOperationException("a resolver is already set");
            Resolvers[assembly] = resolver;
        }

        public static bool TryLoad(string libraryPath, out IntPtr handle)
        {
            handle = dlopen(libraryPath, 2 /* RTLD_NOW */);
            return handle != IntPtr.Zero;
        }

        public static bool TryLoad(string libraryName, Assembly assembly,
                                   DllImportSearchPath? searchPath, out IntPtr handle)
        {
            return TryLoad(libraryName, out handle);
        }
    }
}

namespace System.Runtime.CompilerServices
{
    // .NET 5's, so that mcs can compile the resolver's module initializer
    // (-define:NET5_0_OR_GREATER); Mono never runs it.
    [AttributeUsage(AttributeTargets.Method, Inherited = false)]
    public sealed class ModuleInitializerAttribute : Attribute
    {
    }
}

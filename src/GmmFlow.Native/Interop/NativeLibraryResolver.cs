using System.Reflection;
using System.Runtime.InteropServices;
using GmmFlow.Native.Highs;

namespace GmmFlow.Native;

/// <summary>
/// The single DllImport resolver of this assembly. <see cref="NativeLibrary.SetDllImportResolver"/> may be
/// called only once per assembly (a second call throws), so every native library of GmmFlow.Native is
/// dispatched from here by its logical name in <see cref="Interop.Libraries"/>; add a case per library.
/// </summary>
/// <remarks>
/// The resolver only hands out handles that were already loaded: probing, error messages and load-time
/// checks live in each library's loader (e.g. <see cref="HighsLibrary.EnsureLoaded"/>), which the
/// wrappers call before their first P/Invoke. That keeps exceptions out of the resolver callback and
/// keeps the whole path reflection-free for Native AOT.
/// </remarks>
internal static class NativeLibraryResolver
{
    private static readonly Lock s_lock = new();
    private static bool s_registered;

    internal static void EnsureRegistered()
    {
        if (Volatile.Read(ref s_registered))
        {
            return;
        }

        lock (s_lock)
        {
            if (!s_registered)
            {
                NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
                Volatile.Write(ref s_registered, true);
            }
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        // Zero lets the runtime fall back to its default probing, which fails with DllNotFoundException;
        // the wrappers never get there because they call HighsLibrary.EnsureLoaded first.
        Interop.Libraries.Highs => HighsLibrary.LoadedHandle,
        _ => IntPtr.Zero,
    };
}

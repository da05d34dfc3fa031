using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow.Native.Highs;

/// <summary>
/// Finds, loads and checks libhighs once per process. The wrappers call <see cref="EnsureLoaded"/> before their
/// first P/Invoke; <see cref="NativeLibraryResolver"/> then hands the loaded handle to the runtime.
/// </summary>
/// <remarks>
/// Probe order (first that loads wins):
/// <list type="number">
/// <item><c>GMMFLOW_HIGHS_PATH</c>: a file, or a directory holding the library. It comes first because an explicit
/// override must be able to replace the copy shipped next to the application.</item>
/// <item><see cref="AppContext.BaseDirectory"/> (Native AOT publish, or a flattened deployment).</item>
/// <item><c>AppContext.BaseDirectory/runtimes/&lt;rid&gt;/native</c>, where the build copies the library from the NuGet
/// package Google.OrTools.runtime.&lt;rid&gt;.</item>
/// <item>The bare file name through the OS loader (LD_LIBRARY_PATH, system directories).</item>
/// </list>
/// </remarks>
internal static class HighsLibrary
{
    internal const string PathVariable = "GMMFLOW_HIGHS_PATH";

    private const string HowToInstall =
        "HiGHS ships as libhighs.so.1 inside the NuGet package Google.OrTools.runtime.linux-x64 " +
        "(osx-*: libhighs.1.dylib, win-x64: highs.dll), which GmmFlow.Native copies to runtimes/<rid>/native " +
        "in the build output: restore and rebuild (dotnet restore && dotnet build), or point the environment " +
        "variable " + PathVariable + " at the library file or its directory.";

    private static readonly Lock s_lock = new();
    private static IntPtr s_handle;
    private static string? s_path;
    private static bool s_ready;

    /// <summary>The loaded library's handle, or zero before <see cref="EnsureLoaded"/> succeeded.</summary>
    internal static IntPtr LoadedHandle => Volatile.Read(ref s_handle);

    /// <summary>The file that was loaded (or the bare name if the OS loader found it), null before loading.</summary>
    internal static string? LoadedPath => Volatile.Read(ref s_ready) ? s_path : null;

    /// <summary>Loads libhighs and checks that its HighsInt is 32-bit; throws <see cref="NativeLibraryNotFoundException"/> otherwise.</summary>
    internal static void EnsureLoaded()
    {
        if (!Volatile.Read(ref s_ready))
        {
            LoadSlow();
        }
    }

    private static void LoadSlow()
    {
        lock (s_lock)
        {
            if (s_ready)
            {
                return;
            }

            NativeLibraryResolver.EnsureRegistered();
            var tried = new StringBuilder();
            if (s_handle == IntPtr.Zero)
            {
                (IntPtr handle, string? path) = Probe(tried);
                if (handle == IntPtr.Zero)
                {
                    // Not cached: a later call (after the user fixed the path) probes again.
                    throw new NativeLibraryNotFoundException("HiGHS", HowToInstall, "tried " + tried.ToString().TrimEnd(';', ' '));
                }

                Volatile.Write(ref s_handle, handle);
                s_path = path;
            }

            CheckAbi();
            Volatile.Write(ref s_ready, true);
        }
    }

    // The interop declares HighsInt as int. A HiGHS built with HIGHSINT64 would read our int arrays as longs
    // and corrupt memory, so refuse it outright. The handle stays loaded (it cannot be swapped for another
    // library with the same logical name in this process); s_ready stays false so every call keeps failing.
    private static void CheckAbi()
    {
        int size;
        using (SafeHighsHandle probe = Interop.Highs.Highs_create())
        {
            if (probe.IsInvalid)
            {
                throw new OutOfMemoryException("Highs_create returned null while checking libhighs.");
            }

            size = Interop.Highs.Highs_getSizeofHighsInt(probe);
        }

        if (size != sizeof(int))
        {
            throw new NativeLibraryNotFoundException(
                "HiGHS with 32-bit HighsInt",
                "Use the libhighs from Google.OrTools.runtime.<rid> (32-bit HighsInt), or build HiGHS without HIGHSINT64 and set " + PathVariable + ".",
                $"{s_path} reports sizeof(HighsInt) = {size}");
        }
    }

    private static (IntPtr Handle, string? Path) Probe(StringBuilder tried)
    {
        string[] names = FileNames();

        string? overridePath = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(overridePath))
        {
            if (Directory.Exists(overridePath))
            {
                foreach (string name in names)
                {
                    if (TryLoadFile(Path.Combine(overridePath, name), tried, out IntPtr h))
                    {
                        return (h, Path.Combine(overridePath, name));
                    }
                }
            }
            else if (TryLoadFile(overridePath, tried, out IntPtr h))
            {
                return (h, overridePath);
            }
        }

        string baseDir = AppContext.BaseDirectory;
        string ridDir = Path.Combine(baseDir, "runtimes", RuntimeIdentifier(), "native");
        foreach (string dir in (ReadOnlySpan<string>)[baseDir, ridDir])
        {
            foreach (string name in names)
            {
                string path = Path.Combine(dir, name);
                if (TryLoadFile(path, tried, out IntPtr h))
                {
                    return (h, path);
                }
            }
        }

        foreach (string name in names)
        {
            // A bare name goes through dlopen's own search (LD_LIBRARY_PATH, ld.so.cache).
            if (NativeLibrary.TryLoad(name, out IntPtr h))
            {
                return (h, name);
            }

            tried.Append(name).Append(" (OS search path); ");
        }

        return (IntPtr.Zero, null);
    }

    private static bool TryLoadFile(string path, StringBuilder tried, out IntPtr handle)
    {
        handle = IntPtr.Zero;
        if (!File.Exists(path))
        {
            tried.Append(path).Append(" (absent); ");
            return false;
        }

        if (NativeLibrary.TryLoad(path, out handle))
        {
            return true;
        }

        // Present but not loadable: wrong architecture or a missing dependency (libstdc++).
        tried.Append(path).Append(" (present but failed to load); ");
        return false;
    }

    private static string[] FileNames()
    {
        if (OperatingSystem.IsWindows())
        {
            return ["highs.dll", "libhighs.dll"];
        }

        if (OperatingSystem.IsMacOS())
        {
            return ["libhighs.1.dylib", "libhighs.dylib"];
        }

        return ["libhighs.so.1", "libhighs.so"];
    }

    // Portable RID as NuGet lays out runtimes/<rid>/native (RuntimeInformation.RuntimeIdentifier can be a
    // distro-specific RID on source-built runtimes, which would miss the folder).
    private static string RuntimeIdentifier()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            Architecture.Arm => "arm",
            var other => other.ToString().ToLowerInvariant(),
        };
        return os + "-" + arch;
    }
}

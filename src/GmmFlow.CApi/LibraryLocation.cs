using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.CApi;

/// <summary>
/// In a Native-AOT shared library, <see cref="AppContext.BaseDirectory"/> is the host executable's folder (python3's,
/// say), not libgmmflow.so's, so HiGHS would not be found beside the library. At load, the folder of this library is
/// located with dladdr and handed to the HiGHS loader through GMMFLOW_HIGHS_PATH (unless the caller set it).
/// </summary>
internal static unsafe partial class LibraryLocation
{
    private const string HighsPathVariable = "GMMFLOW_HIGHS_PATH";

#pragma warning disable CA2255 // A native library has no Main: its module initializer is the only start-up hook.
    [ModuleInitializer]
    internal static void PointHighsAtThisLibrary()
#pragma warning restore CA2255
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable(HighsPathVariable)) || !OperatingSystem.IsLinux())
        {
            return;
        }
        string? folder = ThisLibraryFolder();
        if (folder is null)
        {
            return;
        }
        foreach (string candidate in (ReadOnlySpan<string>)[folder, Path.Combine(folder, "runtimes", "linux-x64", "native")])
        {
            if (File.Exists(Path.Combine(candidate, "libhighs.so.1")))
            {
                Environment.SetEnvironmentVariable(HighsPathVariable, candidate);
                return;
            }
        }
    }

    private static string? ThisLibraryFolder()
    {
        try
        {
            DlInfo info;
            delegate* unmanaged<int*, int*, int*, int> export = &Exports.Version;
            if (DlAddr((nint)export, &info) == 0 || info.FileName == 0)
            {
                return null;
            }
            string? file = Marshal.PtrToStringUTF8(info.FileName);
            return file is null ? null : Path.GetDirectoryName(Path.GetFullPath(file));
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct DlInfo
    {
        public nint FileName;
        public nint FileBase;
        public nint SymbolName;
        public nint SymbolAddress;
    }

    [LibraryImport("libc", EntryPoint = "dladdr")]
    private static partial int DlAddr(nint address, DlInfo* info);
}

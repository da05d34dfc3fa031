using GmmFlow.Native;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>What GmmFlow loaded and will use on this machine (for `gmmflow info`, bug reports and logs).</summary>
public sealed record RuntimeInfo(
    LapackProviderKind LapackProvider,
    string LapackVersion,
    IReadOnlyList<string> LapackProvidersAvailable,
    string HighsVersion,
    int SimdWidthBits,
    int Cores)
{
    /// <summary>
    /// Loads the native libraries (LAPACK per GMMFLOW_LAPACK, HiGHS) and reports them. Throws
    /// <see cref="NativeLibraryNotFoundException"/> with install instructions when one is missing.
    /// </summary>
    public static RuntimeInfo Load()
    {
        var lapack = Lapack.Default;
        var available = Lapack.Available().Select(l => l.ToString()).ToArray();
        return new RuntimeInfo(lapack.Kind, lapack.Version, available, HighsVersionString(),
            SimdCapabilities.WidthBits, Environment.ProcessorCount);
    }

    // Filled in by the HiGHS interop (see GmmFlow.Native/Highs).
    private static string HighsVersionString() => "not loaded";
}

using GmmFlow.Native;
using GmmFlow.Native.Highs;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>What GmmFlow loaded and will use on this machine (for `gmmflow info`, bug reports and logs).</summary>
public sealed record RuntimeInfo(
    LapackProviderKind LapackProvider,
    string LapackVersion,
    IReadOnlyList<string> LapackProvidersAvailable,
    string HighsVersion,
    string HighsPath,
    bool HighsSelfCheckPassed,
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
        // End-to-end check that HiGHS does not only load but solves: a 2×3 transport LP whose optimum (125)
        // is known by hand. Catches ABI or deployment problems that a version call cannot.
        Coupling check = Couplings.ExactLp([15, 25], [10, 20, 10], [2, 3, 1, 5, 4, 8]);
        bool ok = check.Status == LpStatus.Optimal && Math.Abs(check.Objective - 125) < 1e-9;
        return new RuntimeInfo(lapack.Kind, lapack.Version, available, HighsInfo.Version, HighsInfo.Path, ok,
            SimdCapabilities.WidthBits, Environment.ProcessorCount);
    }
}

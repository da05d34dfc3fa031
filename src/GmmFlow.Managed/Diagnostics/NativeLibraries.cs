using GmmFlow.Native.Highs;

namespace GmmFlow;

/// <summary>Which native libraries GmmFlow loaded, and their versions (for <c>gmmflow info</c> and bug reports).</summary>
public static class NativeLibraries
{
    /// <summary>HiGHS version as "major.minor.patch", e.g. "1.12.0". Loads HiGHS on first use.</summary>
    /// <exception cref="NativeLibraryNotFoundException">libhighs could not be found or is incompatible; the message says what to do.</exception>
    public static string HighsVersion => HighsInfo.Version;

    /// <summary>Path of the HiGHS library file that was loaded. Loads HiGHS on first use.</summary>
    /// <exception cref="NativeLibraryNotFoundException">libhighs could not be found or is incompatible; the message says what to do.</exception>
    public static string HighsPath => HighsInfo.Path;
}

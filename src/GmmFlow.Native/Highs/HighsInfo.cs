namespace GmmFlow.Native.Highs;

/// <summary>Version and location of the loaded HiGHS library, for diagnostics such as <c>gmmflow info</c>.</summary>
internal static class HighsInfo
{
    private static string? s_version;

    /// <summary>"major.minor.patch" of the loaded libhighs, e.g. "1.12.0". Loads the library on first use.</summary>
    internal static string Version => s_version ??= ReadVersion();

    /// <summary>Full path of the loaded library file (or its bare name when the OS loader found it).</summary>
    internal static string Path
    {
        get
        {
            HighsLibrary.EnsureLoaded();
            return HighsLibrary.LoadedPath ?? "";
        }
    }

    /// <summary>Git hash HiGHS was built from, as reported by <c>Highs_githash</c>.</summary>
    internal static unsafe string GitHash
    {
        get
        {
            HighsLibrary.EnsureLoaded();

            // Static string owned by HiGHS: copied, never freed.
            return new string((sbyte*)Interop.Highs.Highs_githash());
        }
    }

    private static string ReadVersion()
    {
        // The three integers rather than Highs_version's string, whose format ("1.12.0" vs "v1.12.0") varies by release.
        HighsLibrary.EnsureLoaded();
        return $"{Interop.Highs.Highs_versionMajor()}.{Interop.Highs.Highs_versionMinor()}.{Interop.Highs.Highs_versionPatch()}";
    }
}

internal static partial class Interop
{
    /// <summary>
    /// Native library file names, in probe order. LAPACK is chosen at run time (MKL preferred, the
    /// system's reference LAPACK as fallback, GMMFLOW_LAPACK forces one), so its names are probed by
    /// <see cref="GmmFlow.Native.Lapack"/> rather than bound statically.
    /// </summary>
    internal static class Libraries
    {
        /// <summary>Intel MKL's single dynamic library; exports both BLAS and LAPACK (Fortran ABI, LP64).</summary>
        internal static readonly string[] MklRuntime = ["libmkl_rt.so", "libmkl_rt.so.2", "libmkl_rt.so.1"];

        /// <summary>The system (netlib reference or an update-alternatives replacement) LAPACK and BLAS.</summary>
        internal static readonly string[] SystemLapack = ["liblapack.so.3", "liblapack.so"];
        internal static readonly string[] SystemBlas = ["libblas.so.3", "libblas.so"];

        /// <summary>
        /// Logical name of HiGHS in [LibraryImport] (not a file name): <see cref="GmmFlow.Native.Highs.HighsLibrary"/>
        /// maps it to the per-OS file it probes for (libhighs.so.1, libhighs.1.dylib, highs.dll).
        /// </summary>
        internal const string Highs = "libhighs";

        internal const string MklInstallHint =
            "Install Intel MKL: on Debian 12 add the 'non-free' component to the apt sources and run " +
            "'apt-get install libmkl-rt' (or run .ci/install-native.sh from the GmmFlow repository)";

        internal const string SystemLapackInstallHint =
            "Install a LAPACK: 'apt-get install liblapack3 libblas3' (reference) or libmkl-rt (Intel MKL, Debian non-free)";
    }
}

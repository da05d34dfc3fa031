// Logical names of the native libraries GmmFlow calls, in one place (like dotnet/runtime's
// Interop.Libraries.cs). They are not file names: NativeLibraryResolver maps each logical name to
// the per-OS file it probes for (libhighs.so.1, libhighs.1.dylib, highs.dll).
internal static partial class Interop
{
    internal static partial class Libraries
    {
        /// <summary>HiGHS linear-programming solver (C API), resolved by <see cref="GmmFlow.Native.Highs.HighsLibrary"/>.</summary>
        internal const string Highs = "libhighs";
    }
}

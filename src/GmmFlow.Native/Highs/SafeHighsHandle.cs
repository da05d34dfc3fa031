using System.Runtime.InteropServices;

namespace GmmFlow.Native.Highs;

/// <summary>
/// Owns one HiGHS instance (the <c>void*</c> returned by <c>Highs_create</c>); released with <c>Highs_destroy</c>.
/// A SafeHandle rather than a finalizer on a raw pointer, so that a P/Invoke in flight keeps the instance alive
/// and a handle cannot be destroyed twice (same pattern as dotnet/runtime's SafeZstdHandle).
/// </summary>
internal sealed class SafeHighsHandle : SafeHandle
{
    // Used by the LibraryImport generator when Highs_create returns; do not call directly.
    public SafeHighsHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>
    /// Creates a silent HiGHS instance with its thread count pinned (see <see cref="HighsThreads"/>). Loads and checks the library first, so a missing or incompatible
    /// libhighs surfaces as <see cref="NativeLibraryNotFoundException"/> rather than a bare DllNotFoundException.
    /// </summary>
    internal static SafeHighsHandle Create()
    {
        HighsLibrary.EnsureLoaded();
        SafeHighsHandle highs = Interop.Highs.Highs_create();
        if (highs.IsInvalid)
        {
            highs.Dispose();
            throw new OutOfMemoryException("Highs_create returned null (HiGHS could not allocate an instance).");
        }

        // HiGHS logs a banner and per-iteration lines to stdout by default; a library must not write there.
        try
        {
            HighsOptions.SetBool(highs, "output_flag\0"u8, false);
            int threads = HighsThreads.Value;
            if (threads > 0)
            {
                HighsOptions.SetInt(highs, "threads\0"u8, threads);
            }
        }
        catch
        {
            highs.Dispose();
            throw;
        }

        return highs;
    }

    protected override bool ReleaseHandle()
    {
        Interop.Highs.Highs_destroy(handle);
        return true;
    }
}

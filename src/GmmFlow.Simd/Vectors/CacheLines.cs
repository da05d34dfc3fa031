using System.Runtime.CompilerServices;

namespace GmmFlow.Simd;

/// <summary>Cache-line alignment of double buffers, for kernels that load and store whole 64-byte vectors.</summary>
internal static class CacheLines
{
    /// <summary>
    /// How many doubles from <paramref name="start"/> to the next 64-byte boundary (0–7). Only meaningful while the
    /// memory does not move: pinned or native memory, or a GC array where losing the alignment later costs only speed.
    /// </summary>
    public static unsafe int DoublesToBoundary(ref double start)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref start);
        return (int)((64 - (address & 63)) & 63) / sizeof(double);
    }

    /// <summary>
    /// <paramref name="length"/> doubles starting on a 64-byte boundary, in a pinned array (so the alignment lasts), for
    /// long-lived scratch that kernels load as whole vectors: a load straddling two cache lines costs double.
    /// </summary>
    public static ArraySegment<double> AlignedDoubles(int length)
    {
        var array = GC.AllocateArray<double>(length + 8, pinned: true);
        return new ArraySegment<double>(array, DoublesToBoundary(ref array[0]), length);
    }
}

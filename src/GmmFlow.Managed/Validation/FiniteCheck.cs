using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow;

/// <summary>The validating layer in front of the kernels: kernels never throw on bad numbers, this does.</summary>
internal static class FiniteCheck
{
    /// <summary>
    /// Throws <see cref="NonFiniteValueException"/> naming the first row (index) and coordinate (position) of
    /// <paramref name="values"/>, read as rows of <paramref name="rowLength"/>, that holds NaN or ±∞.
    /// </summary>
    /// <remarks>
    /// Vectorised, because it runs on the calling thread before a batch is split over the cores: the plain scan took
    /// 0.18 ms of the ~2.4 ms d = 16 field benchmark (320 000 coordinates), this 0.036 ms. x − x is +0 for finite x and NaN
    /// for NaN and ±∞, so a block of sixteen whose sum of x − x is NaN holds the first bad value; the scalar loop then
    /// rescans from that block's start, so the reported index is the same as a plain scan's.
    /// </remarks>
    public static void ThrowIfNonFinite(ReadOnlySpan<double> values, int rowLength, string what, string paramName)
    {
        int start = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double r = ref MemoryMarshal.GetReference(values);
            for (; start + 16 <= values.Length; start += 16)
            {
                Vector256<double> a = Vector256.LoadUnsafe(ref r, (nuint)start);
                Vector256<double> b = Vector256.LoadUnsafe(ref r, (nuint)(start + 4));
                Vector256<double> c = Vector256.LoadUnsafe(ref r, (nuint)(start + 8));
                Vector256<double> e = Vector256.LoadUnsafe(ref r, (nuint)(start + 12));
                Vector256<double> s = ((a - a) + (b - b)) + ((c - c) + (e - e));
                if (!Vector256.EqualsAll(s, s))
                {
                    break;
                }
            }
        }
        for (int i = start; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                ThrowHelper.ThrowNonFinite(what, i / rowLength, i % rowLength, values[i], paramName);
            }
        }
    }

    /// <summary>Throws <see cref="NonFiniteValueException"/> for a single non-finite scalar.</summary>
    public static void ThrowIfNonFinite(double value, string what, string paramName)
    {
        if (!double.IsFinite(value))
        {
            ThrowHelper.ThrowNonFinite(what, -1, 0, value, paramName);
        }
    }
}

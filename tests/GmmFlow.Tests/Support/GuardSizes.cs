using System.Runtime.InteropServices;

namespace GmmFlow.Tests.Support;

/// <summary>
/// Sizes for the guard-page tests: every tail a kernel can have at every width this machine runs. Lane counts are 1,
/// 2, 4, 8 and 16 (two AVX-512 vectors), blocks and chunks 32, 64, 128 and 256 points, so point counts 1..70 cover
/// every remainder modulo 2..64 and the counts around 128 and 256 the next tiles; dimensions 1..20 cover every
/// remainder modulo 4, 8 and 16 and the fixed-d kernels, and 32, 33, 40, 64 the larger panels and padded rows.
/// </summary>
internal static class GuardSizes
{
    public static readonly int[] Dimensions = [.. Enumerable.Range(1, 20), 32, 33, 40, 64];

    public static readonly int[] PointCounts = [.. Enumerable.Range(1, 70), 127, 128, 129, 255, 256, 257];

    /// <summary>Point counts for the other dimensions: every remainder modulo 2..16, and around 32, 64 and 128 points.</summary>
    public static readonly int[] FewPointCounts = [.. Enumerable.Range(1, 17), 31, 33, 63, 64, 65, 127, 129];

    /// <summary>Component (or pair) counts.</summary>
    public static readonly int[] Components = [.. Enumerable.Range(1, 12)];

    /// <summary>
    /// Point counts for a dimension: all of them where a kernel changes (the fixed d = 1, 2, 3 kernels, 8 and 16 where the
    /// 8×8 transposes and the point-by-point gain start, 17), fewer elsewhere: within a kernel only the point count's
    /// remainders matter, and the cost grows with d².
    /// </summary>
    public static int[] PointCountsFor(int d) => d is <= 3 or 8 or 16 or 17 ? PointCounts : FewPointCounts;

    /// <summary>Reproducible values in about [−2, 2].</summary>
    public static double[] Values(int length, int seed)
    {
        var rng = new Random(seed);
        var values = new double[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = 4 * rng.NextDouble() - 2;
        }
        return values;
    }

    /// <summary>Bit for bit (a fast comparison: the guard tests compare tens of thousands of results).</summary>
    public static void AssertBitIdentical(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string context)
    {
        if (!MemoryMarshal.Cast<double, long>(expected).SequenceEqual(MemoryMarshal.Cast<double, long>(actual)))
        {
            Assert.Equal(expected.ToArray(), actual.ToArray()); // names the first difference
            Assert.Fail($"{context}: results differ in sign or NaN payload only");
        }
    }
}

using GmmFlow.Simd;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Simd;

/// <summary>
/// The O(N²) metric kernels (<see cref="PairwiseRowSums"/>: whole vectors of pairs then a scalar tail;
/// <see cref="PermutationKernelSums"/>: 16-row × 128-column tiles read through the SoA copy's padding) and the public
/// <see cref="SampleMetrics"/> APIs read and write only inside their spans: every span lies flush against a guard page
/// (after its end, then before its start) with exactly the length the kernel's contract asks for, at every width.
/// </summary>
public class GuardPageMetricTests
{
    [Fact]
    public void Pairwise_row_sums_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        var gaussian = new GaussianKernelTerm([0.7, 1.9]);
        // The tails are over points only (every coordinate is a whole loop): all counts for small d, fewer for large.
        foreach (int d in new[] { 1, 2, 3, 8, 17, 33, 64 })
        {
            foreach (int n in d <= 3 ? GuardSizes.PointCounts : GuardSizes.FewPointCounts)
            {
                // y: n points, SoA rows exactly n long (no padding at all); x: a different count for the cross sums.
                int m = 1 + (n * 7 + d) % 40;
                double[] y = GuardSizes.Values(n * d, seed: n + d);
                double[] x = GuardSizes.Values(m * d, seed: m - d);
                double[] ySoa = PairwiseRowSums.ToSoa(y, d, n);
                foreach (SimdWidth width in SimdDispatch.Available())
                {
                    Check(y, ySoa, n, d, upperOnly: true, gaussian, width);
                    Check(x, ySoa, n, d, upperOnly: false, new DistanceTerm(), width);
                }
            }
        }
    }

    [Fact]
    public void Permutation_kernel_sums_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        var term = new GaussianKernelTerm([0.5, 1.0, 2.0]);
        // Row tiles of 16 and column tiles of 128: every remainder of both, one and two tiles, and just past them.
        int[] counts = [.. Enumerable.Range(1, 70), 111, 112, 113, 127, 128, 129, 143, 144, 240, 255, 256, 257];
        foreach (int n in counts)
        {
            // The tiles are over points only: d = 1, 2, 3 in turn for every count, larger d for a few.
            int[] dimensions = n is 9 or 17 or 33 or 65 or 129 ? [1 + n % 3, 5, 8, 17] : [1 + n % 3];
            foreach (int d in dimensions)
            {
                int columns = n % 2 == 0 ? 8 : 16;
                double[] z = GuardSizes.Values(n * d, seed: n + 10 * d);
                double[] zSoa = PairwiseRowSums.ToSoa(z, d, PermutationKernelSums.SoaStride(n));
                var labels = new double[n * columns];
                var rng = new Random(n);
                for (int e = 0; e < labels.Length; e++)
                {
                    labels[e] = e % columns == 1 ? 1.0 : rng.Next(2);
                }
                foreach (SimdWidth width in SimdDispatch.Available())
                {
                    var expected = new double[3 * columns];
                    PermutationKernelSums.Compute(z, zSoa, d, labels, columns, onesColumn: 1, term,
                        expected.AsSpan(0, columns), expected.AsSpan(columns, columns), expected.AsSpan(2 * columns), parallel: false, width);
                    foreach (GuardSide side in GuardedArena.Sides)
                    {
                        using var arena = new GuardedArena(side);
                        Span<double> p = arena.Allocate<double>(columns), q = arena.Allocate<double>(columns), v = arena.Allocate<double>(columns);
                        PermutationKernelSums.Compute(arena.Copy<double>(z), arena.Copy<double>(zSoa), d, arena.Copy<double>(labels), columns, 1, term,
                                                      p, q, v, parallel: true, width);
                        string context = $"n = {n}, d = {d}, {width}, guard {side}";
                        GuardSizes.AssertBitIdentical(expected.AsSpan(0, columns), p, context);
                        GuardSizes.AssertBitIdentical(expected.AsSpan(columns, columns), q, context);
                        GuardSizes.AssertBitIdentical(expected.AsSpan(2 * columns), v, context);
                    }
                }
            }
        }
    }

    [Fact]
    public void Sample_metrics_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach ((int d, int m, int n) in new[] { (1, 2, 3), (2, 17, 9), (3, 33, 40), (4, 8, 65), (5, 70, 2), (8, 31, 31), (16, 20, 19), (17, 9, 130), (33, 12, 7) })
        {
            double[] x = GuardSizes.Values(m * d, seed: m);
            double[] y = GuardSizes.Values(n * d, seed: n + 1);
            double[] h = [0.4, 1.3];
            double[] heuristic = SampleMetrics.MedianHeuristicBandwidths(x, y, d);
            double sliced = SampleMetrics.SlicedWasserstein2Squared(x, y, d, directions: 5, seed: 3);
            var test = SampleMetrics.MmdPermutationTest(x, y, d, permutations: 13, seed: 2, h);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                ReadOnlySpan<double> gx = arena.Copy<double>(x), gy = arena.Copy<double>(y), gh = arena.Copy<double>(h);
                string context = $"d = {d}, m = {m}, n = {n}, guard {side}";
                GuardSizes.AssertBitIdentical(heuristic, SampleMetrics.MedianHeuristicBandwidths(gx, gy, d), context);
                Assert.Equal(sliced, SampleMetrics.SlicedWasserstein2Squared(gx, gy, d, directions: 5, seed: 3));
                var guarded = SampleMetrics.MmdPermutationTest(gx, gy, d, permutations: 13, seed: 2, gh);
                Assert.Equal(test.MmdSquared, guarded.MmdSquared);
                Assert.Equal(test.PValue, guarded.PValue);
                foreach (SimdWidth width in SimdDispatch.Available())
                {
                    Assert.Equal(SampleMetrics.MmdSquared(x, y, d, h, parallel: false, width), SampleMetrics.MmdSquared(gx, gy, d, gh, parallel: true, width));
                    Assert.Equal(SampleMetrics.EnergyDistance(x, y, d, parallel: false, width), SampleMetrics.EnergyDistance(gx, gy, d, parallel: true, width));
                    GuardSizes.AssertBitIdentical(
                        SampleMetrics.PermutationStatistics(x, y, d, 9, seed: 4, h, parallel: false, width, out _),
                        SampleMetrics.PermutationStatistics(gx, gy, d, 9, seed: 4, gh, parallel: true, width, out _), context);
                }
            }
        }
    }

    private static void Check<TTerm>(double[] x, double[] ySoa, int n, int d, bool upperOnly, TTerm term, SimdWidth width)
        where TTerm : struct, IPairTerm
    {
        int m = x.Length / d;
        var expected = new double[m];
        PairwiseRowSums.Compute(x, ySoa, n, n, d, upperOnly, term, expected, parallel: false, width);
        foreach (GuardSide side in GuardedArena.Sides)
        {
            using var arena = new GuardedArena(side);
            Span<double> rows = arena.Allocate<double>(m);
            PairwiseRowSums.Compute(arena.Copy<double>(x), arena.Copy<double>(ySoa), n, n, d, upperOnly, term, rows, parallel: true, width);
            GuardSizes.AssertBitIdentical(expected, rows, $"d = {d}, n = {n}, m = {m}, upper only {upperOnly}, {width}, guard {side}");
        }
    }
}

using GmmFlow.Simd;
using GmmFlow.Native;
using GmmFlow.Tests.Support;
using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Costs;

/// <summary>Allocation measurements count every thread's bytes, so this collection runs alone.</summary>
[CollectionDefinition(nameof(AllocationCollection), DisableParallelization = true)]
public sealed class AllocationCollection;

public class CostMatrixTests
{
    private static readonly CostKind[] s_kinds = [CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport];

    internal static (GaussianFactors Source, GaussianFactors Target, double[][] Means0, double[][] Covs0, double[][] Means1, double[][] Covs1)
        RandomSets(Lapack lapack, int k0, int k1, int n, int seed)
    {
        var m0 = Enumerable.Range(0, k0).Select(k => RandomMean(n, seed + k, 2)).ToArray();
        var c0 = Enumerable.Range(0, k0).Select(k => RandomSpd(n, seed + 100 + k)).ToArray();
        var m1 = Enumerable.Range(0, k1).Select(k => RandomMean(n, seed + 200 + k, 2)).ToArray();
        var c1 = Enumerable.Range(0, k1).Select(k => RandomSpd(n, seed + 300 + k)).ToArray();
        var source = GaussianFactors.FromFull(lapack, m0.SelectMany(x => x).ToArray(), c0.SelectMany(x => x).ToArray(), k0, n, "source");
        var target = GaussianFactors.FromFull(lapack, m1.SelectMany(x => x).ToArray(), c1.SelectMany(x => x).ToArray(), k1, n, "target");
        return (source, target, m0, c0, m1, c1);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Matrix_entries_equal_single_pair_costs(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        // 37: past the two-vector limit (eight lanes); k1 = 13 makes lockstep groups span source rows.
        foreach (int n in new[] { 1, 2, 3, 7, 16, 37 })
        {
            int k0 = 9, k1 = 13;
            var (source, target, m0, c0, m1, c1) = RandomSets(lapack, k0, k1, n, 17 * n);
            var matrix = new double[k0 * k1 + 3];
            matrix.AsSpan().Fill(double.NaN);
            foreach (var kind in s_kinds)
            {
                GaussianCosts.Compute(kind, source, target, matrix, noise: 0.4);
                for (int i = 0; i < k0; i++)
                {
                    for (int j = 0; j < k1; j++)
                    {
                        double pair = GaussianCosts.Pair(lapack, kind, m0[i], c0[i], m1[j], c1[j], n, 0.4, SchrodingerCostVariant.KineticEnergy);
                        // The matrix solves d ≥ 3 eigenproblems in SIMD lockstep, the pair API with LAPACK: same
                        // numbers up to round-off.
                        Assert.True(Math.Abs(pair - matrix[i * k1 + j]) <= 1e-12 * Math.Max(1, Math.Abs(pair)),
                            $"{kind} d={n} ({i},{j}): matrix {matrix[i * k1 + j]:R}, pair {pair:R}");
                    }
                }
                Assert.True(double.IsNaN(matrix[k0 * k1]), "wrote past K0·K1");
                if (kind == CostKind.Wasserstein)
                {
                    Assert.Equal(Wasserstein(m0[2], c0[2], m1[5], c1[5], n), matrix[2 * k1 + 5], 1e-10 * (Trace(c0[2], n) + Trace(c1[5], n) + SquaredDistance(m0[2], m1[5])));
                }
            }
        }
    }

    [Fact]
    public void Non_finite_values_name_side_and_component()
    {
        double[] means = [0, 0, 1, 1, 2, 2];
        double[] covs = [1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1];
        var badMean = (double[])means.Clone();
        badMean[3] = double.NaN;
        var e1 = Assert.Throws<NonFiniteValueException>(() => GaussianFactors.FromFull(badMean, covs, 3, 2, "target"));
        Assert.Equal(1, e1.Index);
        Assert.Contains("target", e1.What);
        var badCov = (double[])covs.Clone();
        badCov[9] = double.PositiveInfinity;
        var e2 = Assert.Throws<NonFiniteValueException>(() => GaussianFactors.FromFull(means, badCov, 3, 2, "source"));
        Assert.Equal(2, e2.Index);
        Assert.Contains("covariance of source component", e2.What);
        var e3 = Assert.Throws<NonFiniteValueException>(() => GaussianFactors.FromDiagonal(means, [1, 1, double.NaN, 1, 1, 1], 3, 2, "target"));
        Assert.Equal(1, e3.Index);
    }

    [Fact]
    public void Non_spd_covariances_name_side_component_and_minor()
    {
        double[] means = [0, 0, 1, 1, 2, 2];
        double[] covs = [1, 0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 1]; // component 2: eigenvalues 3, −1
        var e = Assert.Throws<NotPositiveDefiniteException>(() => GaussianFactors.FromFull(means, covs, 3, 2, "target"));
        Assert.Equal(2, e.Index);
        Assert.Equal(2, e.MinorOrder);
        Assert.Equal("covariance of target component", e.MatrixName);
        Assert.Contains("target component #2", e.Message);
        var d = Assert.Throws<NotPositiveDefiniteException>(() => GaussianFactors.FromDiagonal(means, [1, 1, 1, 0, 1, 1], 3, 2, "source"));
        Assert.Equal(1, d.Index);
        Assert.Equal(2, d.MinorOrder);
        Assert.Throws<NotPositiveDefiniteException>(() => GaussianCosts.Pair(CostKind.Wasserstein, [0.0], [-1.0], [0.0], [1.0], 1));
    }

    [Fact]
    public void Shape_and_option_errors()
    {
        var two = GaussianFactors.FromFull([0.0, 0], [1.0, 0, 0, 1], 1, 2, "source");
        var three = GaussianFactors.FromFull([0.0, 0, 0], [1.0, 0, 0, 0, 1, 0, 0, 0, 1], 1, 3, "target");
        var diag = GaussianFactors.FromDiagonal([0.0, 0], [1.0, 1], 1, 2, "target");
        var mismatch = Assert.Throws<ArgumentException>(() => GaussianCosts.Compute(CostKind.Wasserstein, two, three, new double[1]));
        Assert.Contains("d = 2", mismatch.Message);
        Assert.Contains("d = 3", mismatch.Message);
        Assert.Throws<ArgumentException>(() => GaussianCosts.Compute(CostKind.Wasserstein, two, diag, new double[1]));
        Assert.Throws<ArgumentException>(() => GaussianCosts.Compute(CostKind.Wasserstein, two, two, Span<double>.Empty));
        Assert.Throws<ArgumentException>(() => GaussianCosts.Compute(CostKind.SchrodingerBridge, two, two, new double[1], noise: -1));
        Assert.Throws<ArgumentException>(() => GaussianCosts.Compute(CostKind.SchrodingerBridge, two, two, new double[1], noise: double.NaN));
        Assert.Throws<ArgumentException>(() => GaussianCosts.Compute((CostKind)42, two, two, new double[1]));
        Assert.Throws<ArgumentException>(() => GaussianFactors.FromFull([0.0, 0], [1.0, 0, 0], 1, 2));
        Assert.Throws<ArgumentException>(() => GaussianFactors.FromFull([0.0], [1.0, 0, 0, 1], 1, 2));
        var asymmetric = Assert.Throws<ArgumentException>(() => GaussianFactors.FromFull([0.0, 0], [1.0, 0.5, 0.4, 1], 1, 2, "target"));
        Assert.Contains("not symmetric", asymmetric.Message);
        Assert.Throws<ArgumentException>(() => GaussianBridge.Create(CostKind.Surrogate, two, 0, three, 0));
    }
}

public class LockstepWidthTests
{
    /// <summary>
    /// The production width is the widest this machine has (the JIT-compiled tests see AVX-512); a Native-AOT build for
    /// x86-64-v3 runs four lanes. Every width, and groups that span source rows (K1 = 5 &lt; lanes), must give the
    /// one-pair LAPACK costs.
    /// </summary>
    [Fact]
    public void Every_lane_width_gives_the_single_pair_costs()
    {
        var widths = SimdDispatch.Available().Select(w => (int)w).ToList();
        if (widths.Contains(8))
        {
            widths.Add(16);
        }
        foreach (int n in new[] { 3, 6, 17 })
        {
            int k0 = 7, k1 = 5;
            var (source, target, m0, c0, m1, c1) = CostMatrixTests.RandomSets(Lapack.Default, k0, k1, n, 3 * n);
            double[] targets = LockstepPairCosts.InterleaveTargets(target, out int stride);
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge })
            {
                foreach (int lanes in widths)
                {
                    var output = new double[k0 * k1];
                    // Two ranges, the second starting mid-row, as the parallel driver hands them out.
                    LockstepPairCosts.Run(kind, 0.09, SchrodingerCostVariant.KineticEnergy, source, target, targets, stride, output, 0, 13, lanes);
                    LockstepPairCosts.Run(kind, 0.09, SchrodingerCostVariant.KineticEnergy, source, target, targets, stride, output, 13, k0 * k1, lanes);
                    for (int i = 0; i < k0; i++)
                    {
                        for (int j = 0; j < k1; j++)
                        {
                            double pair = GaussianCosts.Pair(Lapack.Default, kind, m0[i], c0[i], m1[j], c1[j], n, 0.3, SchrodingerCostVariant.KineticEnergy);
                            Assert.True(Math.Abs(pair - output[i * k1 + j]) <= 1e-12 * Math.Max(1, Math.Abs(pair)),
                                $"{kind} d={n} lanes={lanes} ({i},{j}): {output[i * k1 + j]:R} vs {pair:R}");
                        }
                    }
                }
            }
        }
    }
}

[Collection(nameof(AllocationCollection))]
public class CostMatrixAllocationTests
{
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(6, false)]
    [InlineData(16, false)]
    [InlineData(40, false)]
    [InlineData(5, true)]
    public void Warm_batched_call_allocates_nothing(int n, bool diagonal)
    {
        int k0 = 40, k1 = 30;
        GaussianFactors source, target;
        if (diagonal)
        {
            var rng = new Random(n);
            source = GaussianFactors.FromDiagonal(RandomMean(k0 * n, 1), Enumerable.Range(0, k0 * n).Select(_ => 0.1 + rng.NextDouble()).ToArray(), k0, n);
            target = GaussianFactors.FromDiagonal(RandomMean(k1 * n, 2), Enumerable.Range(0, k1 * n).Select(_ => 0.1 + rng.NextDouble()).ToArray(), k1, n, "target");
        }
        else
        {
            (source, target, _, _, _, _) = CostMatrixTests.RandomSets(Lapack.Default, k0, k1, n, 5);
        }
        var destination = new double[k0 * k1];
        CostKind[] kinds = [CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport];
        // Past the tiering threshold (30 calls) and a pause, so tier-1 recompilation (which allocates on the JIT's
        // background thread) is finished before measuring.
        for (int warm = 0; warm < 40; warm++)
        {
            foreach (var kind in kinds)
            {
                GaussianCosts.Compute(kind, source, target, destination, 0.3);
            }
        }
        Thread.Sleep(300);
        long thread = GC.GetAllocatedBytesForCurrentThread();
        long total = GC.GetTotalAllocatedBytes(precise: true);
        for (int rep = 0; rep < 5; rep++)
        {
            foreach (var kind in kinds)
            {
                GaussianCosts.Compute(kind, source, target, destination, 0.3);
            }
        }
        long threadBytes = GC.GetAllocatedBytesForCurrentThread() - thread;
        long totalBytes = GC.GetTotalAllocatedBytes(precise: true) - total;
        Assert.True(threadBytes == 0, $"{threadBytes} bytes allocated on the calling thread in 20 warm calls");
        // Whole process (all cores' workers): 0 for this call; the runner's own background threads may add a few bytes.
        Assert.True(totalBytes < 1024, $"{totalBytes} bytes allocated across threads in 20 warm calls");
    }
}

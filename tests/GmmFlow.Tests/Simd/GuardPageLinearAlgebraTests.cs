using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GmmFlow.Simd;
using GmmFlow.Simd.LinearAlgebra;
using GmmFlow.Tests.Support;
using static GmmFlow.Tests.Costs.Reference;

namespace GmmFlow.Tests.Simd;

/// <summary>
/// The dense kernels (public <see cref="DenseKernels"/> and the AVX-512 <see cref="TiledProduct"/> tiles behind them,
/// whose rows round axpys up to whole vectors), the lockstep products and eigensolver at every lane count (1, 2, 4, 8
/// and 16 = two AVX-512 vectors), and the cost matrices built from them read and write only inside their spans: each
/// span is exactly as long as the contract asks and lies flush against a guard page, after its end and then before its
/// start. Results must be bit-identical to ordinary arrays.
/// </summary>
public class GuardPageLinearAlgebraTests
{
    private static readonly int[] s_orders = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 23, 24, 25, 32, 33, 40, 64];

    public static TheoryData<int> LaneCounts() => [.. Lanes()];

    /// <summary>Lane counts of the widths this machine runs, and 16 (two AVX-512 vectors) where AVX-512 runs.</summary>
    private static int[] Lanes()
        => [.. SimdDispatch.Available().Select(w => (int)w), .. SimdDispatch.Available().Contains(SimdWidth.V512) ? new[] { Simd512x2.Count } : []];

    [Fact]
    public void Dense_kernels_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        for (int length = 0; length <= 70; length++)
        {
            double[] x = GuardSizes.Values(length, seed: length), y = GuardSizes.Values(length, seed: -length);
            double dot = DenseKernels.Dot(x, y);
            var axpy = (double[])y.Clone();
            DenseKernels.Axpy(0.3, x, axpy);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                Span<double> gy = arena.Copy<double>(y);
                Assert.Equal(dot, DenseKernels.Dot(arena.Copy<double>(x), gy));
                DenseKernels.Axpy(0.3, arena.Copy<double>(x), gy);
                GuardSizes.AssertBitIdentical(axpy, gy, $"axpy of {length}, guard {side}");
            }
        }
        foreach (int n in s_orders.Prepend(0))
        {
            int nn = n * n;
            double[] l = LowerTriangular(n, seed: n), lt = Transpose(l, n), s = TestMatrices.RandomSpd(n, seed: n + 1);
            double[] f = GuardSizes.Values(n, seed: n + 2);
            var work = new double[nn];
            var congruenceT = new double[nn];
            var congruence = new double[nn];
            DenseKernels.CongruenceLowerTransposed(l, lt, s, work, congruenceT, n);
            DenseKernels.CongruenceLower(l, lt, s, work, congruence, n);
            double norms = DenseKernels.WeightedSquaredNorms(lt, s, f, work, n);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                ReadOnlySpan<double> gl = arena.Copy<double>(l), glt = arena.Copy<double>(lt), gs = arena.Copy<double>(s);
                Span<double> gwork = arena.Allocate<double>(nn), result = arena.Allocate<double>(nn);
                string context = $"n = {n}, guard {side}";
                DenseKernels.CongruenceLowerTransposed(gl, glt, gs, gwork, result, n);
                AssertLowerIdentical(congruenceT, result, n, context);
                result.Clear();
                DenseKernels.CongruenceLower(gl, glt, gs, gwork, result, n);
                AssertLowerIdentical(congruence, result, n, context);
                Assert.Equal(norms, DenseKernels.WeightedSquaredNorms(glt, gs, arena.Copy<double>(f), gwork, n));
            }
        }
    }

    [Theory]
    [MemberData(nameof(LaneCounts))]
    public void Lockstep_products_and_eigensolver_stay_inside_their_spans(int lanes)
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach (int d in s_orders)
        {
            if (d > 33 && lanes < 8)
            {
                continue; // the large orders exercise the same loops; the narrow widths only cost time there
            }
            int dd = d * d * lanes;
            double[] l = Interleave(lanes, q => LowerTriangular(d, seed: 10 * d + q), d);
            double[] s = Interleave(lanes, q => TestMatrices.RandomSpd(d, seed: 20 * d + q, shift: 0.5), d);
            // A middle matrix with a wider element stride, as the cost matrices' interleaved targets have; only as long
            // as the last element's lanes.
            int sStride = lanes + 3;
            var wide = new double[(d * d - 1) * sStride + lanes];
            for (int e = 0; e < d * d; e++)
            {
                s.AsSpan(e * lanes, lanes).CopyTo(wide.AsSpan(e * sStride));
            }
            // Lanes alternate generic SPD matrices and I + v vᵀ (eigenvalue 1 repeated d − 1 times: the twisted path
            // declines and the rotation-based QL runs with its rotation log); the scalar width gets each on every other d.
            double[] a = Interleave(lanes, q => (q + d) % 2 == 0 ? TestMatrices.RandomSpd(d, seed: 30 * d + q) : IdentityPlusRankOne(d, seed: q), d);
            double[] b = Interleave(lanes, q => Identity(d), d);
            // The solver overwrites A and B: the reference run gets copies.
            double[][] expected = RunLockstep(lanes, d, l, s, wide, sStride, (double[])a.Clone(), (double[])b.Clone(), new double[dd], new double[dd], new double[dd], new double[d * lanes],
                                              new double[LockstepSymmetricEigen.ScratchLength(d, lanes)]);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                double[][] actual = RunLockstep(lanes, d, arena.Copy<double>(l), arena.Copy<double>(s), arena.Copy<double>(wide), sStride,
                    arena.Copy<double>(a), arena.Copy<double>(b), arena.Allocate<double>(dd), arena.Allocate<double>(dd), arena.Allocate<double>(dd),
                    arena.Allocate<double>(d * lanes), arena.Allocate<double>(LockstepSymmetricEigen.ScratchLength(d, lanes)));
                for (int o = 0; o < expected.Length; o++)
                {
                    GuardSizes.AssertBitIdentical(expected[o], actual[o], $"output {o}, d = {d}, {lanes} lanes, guard {side}");
                }
            }
        }
    }

    [Fact]
    public void Cost_matrices_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        CostKind[] kinds = [CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport];
        // Lockstep groups of 16 (d ≤ 32) or 8 pairs that end mid-row and mid-matrix; one pair; d = 1, 2 (no lockstep).
        foreach ((int d, int k0, int k1) in new[] { (1, 3, 5), (2, 12, 11), (3, 1, 1), (3, 5, 7), (4, 12, 12), (8, 2, 9), (16, 3, 6), (17, 7, 3), (33, 2, 5) })
        {
            double[] m0 = GuardSizes.Values(k0 * d, seed: d), m1 = GuardSizes.Values(k1 * d, seed: -d);
            double[] c0 = [.. Enumerable.Range(0, k0).SelectMany(k => TestMatrices.RandomSpd(d, seed: k))];
            double[] c1 = [.. Enumerable.Range(0, k1).SelectMany(k => TestMatrices.RandomSpd(d, seed: 50 + k))];
            double[] v0 = [.. Enumerable.Range(0, k0 * d).Select(e => 0.5 + (e % 7) / 7.0)];
            double[] v1 = [.. Enumerable.Range(0, k1 * d).Select(e => 0.3 + (e % 5) / 5.0)];
            foreach (CostKind kind in kinds)
            {
                double noise = kind is CostKind.SchrodingerBridge or CostKind.EntropicTransport ? 0.7 : 0.0;
                var expected = new double[k0 * k1];
                GaussianCosts.Compute(kind, GaussianFactors.FromFull(m0, c0, k0, d), GaussianFactors.FromFull(m1, c1, k1, d, "target"), expected, noise);
                var expectedDiagonal = new double[k0 * k1];
                GaussianCosts.Compute(kind, GaussianFactors.FromDiagonal(m0, v0, k0, d), GaussianFactors.FromDiagonal(m1, v1, k1, d, "target"), expectedDiagonal, noise);
                double pair = GaussianCosts.Pair(kind, m0.AsSpan(0, d), c0.AsSpan(0, d * d), m1.AsSpan(0, d), c1.AsSpan(0, d * d), d, noise);
                double pairDiagonal = GaussianCosts.PairDiagonal(kind, m0.AsSpan(0, d), v0.AsSpan(0, d), m1.AsSpan(0, d), v1.AsSpan(0, d), d, noise);
                foreach (GuardSide side in GuardedArena.Sides)
                {
                    using var arena = new GuardedArena(side);
                    string context = $"{kind}, d = {d}, {k0}×{k1}, guard {side}";
                    var source = GaussianFactors.FromFull(arena.Copy<double>(m0), arena.Copy<double>(c0), k0, d);
                    var target = GaussianFactors.FromFull(arena.Copy<double>(m1), arena.Copy<double>(c1), k1, d, "target");
                    Span<double> matrix = arena.Allocate<double>(k0 * k1);
                    GaussianCosts.Compute(kind, source, target, matrix, noise);
                    GuardSizes.AssertBitIdentical(expected, matrix, context);
                    matrix = arena.Allocate<double>(k0 * k1);
                    GaussianCosts.Compute(kind, GaussianFactors.FromDiagonal(arena.Copy<double>(m0), arena.Copy<double>(v0), k0, d),
                        GaussianFactors.FromDiagonal(arena.Copy<double>(m1), arena.Copy<double>(v1), k1, d, "target"), matrix, noise);
                    GuardSizes.AssertBitIdentical(expectedDiagonal, matrix, context);
                    Assert.Equal(pair, GaussianCosts.Pair(kind, arena.Copy<double>(m0.AsSpan(0, d)), arena.Copy<double>(c0.AsSpan(0, d * d)),
                        arena.Copy<double>(m1.AsSpan(0, d)), arena.Copy<double>(c1.AsSpan(0, d * d)), d, noise));
                    Assert.Equal(pairDiagonal, GaussianCosts.PairDiagonal(kind, arena.Copy<double>(m0.AsSpan(0, d)), arena.Copy<double>(v0.AsSpan(0, d)),
                        arena.Copy<double>(m1.AsSpan(0, d)), arena.Copy<double>(v1.AsSpan(0, d)), d, noise));
                }
                if (d >= 3)
                {
                    CheckLockstepGroups(kind, noise * noise, GaussianFactors.FromFull(m0, c0, k0, d), GaussianFactors.FromFull(m1, c1, k1, d, "target"));
                }
            }
        }
    }

    /// <summary>The lockstep cost groups at every lane count this machine runs (not only the one it picks), over ranges that start and end mid-group.</summary>
    private static void CheckLockstepGroups(CostKind kind, double variance, GaussianFactors source, GaussianFactors target)
    {
        int pairs = source.Count * target.Count;
        foreach (int lanes in Lanes())
        {
            foreach ((int start, int end) in new[] { (0, pairs), (pairs / 3, pairs), (1, Math.Max(1, pairs - 1)) })
            {
                double[] targets = LockstepPairCosts.InterleaveTargets(target, out int stride);
                var expected = new double[pairs];
                LockstepPairCosts.Run(kind, variance, SchrodingerCostVariant.KineticEnergy, source, target, targets, stride, expected, start, end, lanes);
                foreach (GuardSide side in GuardedArena.Sides)
                {
                    using var arena = new GuardedArena(side);
                    Span<double> output = arena.Allocate<double>(pairs);
                    LockstepPairCosts.Run(kind, variance, SchrodingerCostVariant.KineticEnergy, source, target, targets, stride, output, start, end, lanes);
                    GuardSizes.AssertBitIdentical(expected, output, $"{kind}, d = {source.Dimension}, {lanes} lanes, pairs [{start}, {end}), guard {side}");
                }
            }
        }
    }

    /// <summary>Both congruences, then the eigensolver with and without B; returns every output.</summary>
    private static double[][] RunLockstep(int lanes, int d, Span<double> l, Span<double> s, Span<double> wide, int sStride, Span<double> a,
                                          Span<double> b, Span<double> work, Span<double> result, Span<double> aCopy, Span<double> values,
                                          Span<double> scratch)
        => lanes switch
        {
            1 => RunLockstep<SimdScalar, double>(d, l, s, wide, sStride, a, b, work, result, aCopy, values, scratch),
            2 => RunLockstep<Simd128, Vector128<double>>(d, l, s, wide, sStride, a, b, work, result, aCopy, values, scratch),
            4 => RunLockstep<Simd256, Vector256<double>>(d, l, s, wide, sStride, a, b, work, result, aCopy, values, scratch),
            8 => RunLockstep<Simd512, Vector512<double>>(d, l, s, wide, sStride, a, b, work, result, aCopy, values, scratch),
            _ => RunLockstep<Simd512x2, Vector512x2>(d, l, s, wide, sStride, a, b, work, result, aCopy, values, scratch),
        };

    private static double[][] RunLockstep<TOps, TV>(int d, Span<double> l, Span<double> s, Span<double> wide, int sStride, Span<double> a,
                                                    Span<double> b, Span<double> work, Span<double> result, Span<double> aCopy, Span<double> values,
                                                    Span<double> scratch)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        var outputs = new List<double[]>();
        LockstepProducts.CongruenceLowerTransposed<TOps, TV>(ref Ref(l), ref Ref(s), lanes, ref Ref(work), ref Ref(result), d);
        outputs.Add(LowerOnly(result, d, lanes));
        LockstepProducts.CongruenceLower<TOps, TV>(ref Ref(l), ref Ref(wide), sStride, ref Ref(work), ref Ref(result), d);
        outputs.Add(LowerOnly(result, d, lanes));
        a.CopyTo(aCopy);
        int failed = LockstepSymmetricEigen.Solve<TOps, TV>(aCopy, default, values, scratch, d);
        outputs.Add([failed, .. values]);
        failed = LockstepSymmetricEigen.Solve<TOps, TV>(a, b, values, scratch, d);
        outputs.Add([failed, .. values]);
        outputs.Add(b.ToArray());
        return [.. outputs];
    }

    private static ref double Ref(Span<double> span) => ref MemoryMarshal.GetReference(span);

    /// <summary>The lower triangle of each lane's result (the products leave the upper one unspecified), zeros above.</summary>
    private static double[] LowerOnly(ReadOnlySpan<double> interleaved, int d, int lanes)
    {
        var lower = new double[d * d * lanes];
        for (int r = 0; r < d; r++)
        {
            interleaved.Slice(r * d * lanes, (r + 1) * lanes).CopyTo(lower.AsSpan(r * d * lanes));
        }
        return lower;
    }

    private static void AssertLowerIdentical(double[] expected, ReadOnlySpan<double> actual, int n, string context)
    {
        for (int r = 0; r < n; r++)
        {
            GuardSizes.AssertBitIdentical(expected.AsSpan(r * n, r + 1), actual.Slice(r * n, r + 1), context);
        }
    }

    private static double[] Interleave(int lanes, Func<int, double[]> matrix, int d)
    {
        var interleaved = new double[d * d * lanes];
        for (int q = 0; q < lanes; q++)
        {
            double[] m = matrix(q);
            for (int e = 0; e < d * d; e++)
            {
                interleaved[e * lanes + q] = m[e];
            }
        }
        return interleaved;
    }

    /// <summary>Lower-triangular with explicit zeros above the diagonal and a positive diagonal.</summary>
    private static double[] LowerTriangular(int n, int seed)
    {
        double[] l = GuardSizes.Values(n * n, seed);
        for (int r = 0; r < n; r++)
        {
            l[r * n + r] = 1 + Math.Abs(l[r * n + r]);
            l.AsSpan(r * n + r + 1, n - r - 1).Clear();
        }
        return l;
    }

    private static double[] IdentityPlusRankOne(int n, int seed)
    {
        double[] v = GuardSizes.Values(n, seed), m = Identity(n);
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                m[r * n + c] += v[r] * v[c];
            }
        }
        return m;
    }
}

/// <summary>
/// The guard-page tests of the paths chosen by what the hardware accelerates (not by a width the tests can force):
/// DenseKernels' AVX-512 tiles or its vector axpys rounded up to 4 doubles, the cost matrices' lockstep width, the
/// single-point velocity. A child run of this test assembly (xunit's own runner) with AVX-512 switched off by the
/// runtime's configuration knob, so those paths meet the guard pages too. (Without any vector hardware the axpys are
/// not rounded up and the costs do not use lockstep groups; the kernels' scalar paths are forced in process.)
/// </summary>
public class GuardPageNarrowHardwareTests
{
    [Theory]
    [InlineData("DOTNET_EnableAVX512", 256)]
    public async Task Hardware_dispatched_paths_stay_inside_their_spans_on_narrower_hardware(string knob, int bits)
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        Assert.SkipUnless(SimdCapabilities.WidthBits > bits, $"This machine already runs at {SimdCapabilities.WidthBits} bits or less.");
        string[] methods = ["Dense_kernels_stay_inside_their_spans", "Cost_matrices_stay_inside_their_spans", "Single_point_velocities_stay_inside_their_spans"];
        var (exitCode, output, error) = await TestHostChild.RunAsync(
            new Dictionary<string, string> { [knob] = "0", [GuardProbe.Variable] = "width" },
            [.. methods.SelectMany(m => new[] { "-method", "*." + m })]);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}{error}");
        Assert.Contains($"simd width {bits}", output, StringComparison.Ordinal);
        Assert.Matches(@"Total: 3, Errors: 0, Failed: 0, Skipped: 0", output);
    }
}

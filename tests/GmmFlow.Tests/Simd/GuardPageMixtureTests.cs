using System.Runtime.Intrinsics;
using GmmFlow.Simd;
using GmmFlow.Simd.Mixtures;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Simd;

/// <summary>
/// The mixture kernels (triangular and diagonal Gaussian blocks, log-sum-exp, the three weighted-moment kernels) at every
/// width, and the public mixture APIs that feed them (evaluation, sampling, EM on spans), read and write only inside
/// the spans they are given: each span lies flush against a guard page, after its end and then before its start, and
/// holds exactly the length the kernel's contract asks for. Results must be bit-identical to ordinary arrays.
/// </summary>
public class GuardPageMixtureTests
{
    /// <summary>Whole blocks of <see cref="PointBlock.Multiple"/> points: one, two, three, and a full chunk.</summary>
    private static readonly int[] s_counts = [32, 64, 96, 256];

    public static TheoryData<int> Widths => new() { 1, 2, 4, 8 };

    [Theory]
    [MemberData(nameof(Widths))]
    public void Block_kernels_stay_inside_their_spans(int lanes)
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach (int d in GuardSizes.Dimensions)
        {
            foreach (int count in d <= 20 ? s_counts : s_counts[..2])
            {
                // A stride equal to the count (rows back to back) and one that is not a multiple of any width.
                foreach (int stride in new[] { count, count + 3 })
                {
                    int k = GuardSizes.Components[(d + count / 32 + stride) % GuardSizes.Components.Length];
                    var inputs = new BlockInputs(d, count, stride, k, seed: 100 * d + stride);
                    var expected = inputs.Run(lanes, inputs.Arrays());
                    foreach (GuardSide side in GuardedArena.Sides)
                    {
                        using var arena = new GuardedArena(side);
                        var actual = inputs.Run(lanes, inputs.Guarded(arena));
                        for (int o = 0; o < expected.Length; o++)
                        {
                            GuardSizes.AssertBitIdentical(expected[o], actual[o], $"output {o}, d = {d}, count = {count}, stride = {stride}, K = {k}, {lanes} lanes, guard {side}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Mixture_evaluation_and_sampling_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        // Chunks of 256 points, padded to 32: every remainder modulo 32, and around one and two chunks.
        int[] counts = [.. Enumerable.Range(1, 70), 255, 256, 257, 511, 513];
        foreach (CovarianceType type in new[] { CovarianceType.Full, CovarianceType.Diagonal, CovarianceType.Spherical })
        {
            foreach (int d in new[] { 1, 2, 3, 4, 5, 8, 16, 17, 33 })
            {
                foreach (int n in d <= 8 ? counts : GuardSizes.FewPointCounts)
                {
                    int k = GuardSizes.Components[(n + d) % GuardSizes.Components.Length];
                    var mixture = RandomMixture(type, d, k, seed: n + 100 * d);
                    CheckMixture(mixture, GuardSizes.Values(n * d, seed: n));
                }
            }
        }
    }

    [Fact]
    public void Em_fits_on_guarded_spans_stay_inside_them()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        // The point-major statistics kernel from d = 5, the coordinate-major one below; partial chunks of 256.
        foreach (CovarianceType type in new[] { CovarianceType.Full, CovarianceType.Diagonal })
        {
            foreach ((int d, int n, int k) in new[] { (1, 37, 3), (2, 300, 4), (3, 65, 2), (4, 257, 5), (5, 129, 3), (8, 70, 2), (9, 33, 4), (16, 100, 2), (17, 61, 3) })
            {
                double[] x = GuardSizes.Values(n * d, seed: d + n);
                double[] w = GuardSizes.Values(n, seed: n);
                for (int i = 0; i < n; i++)
                {
                    w[i] = 1.5 + w[i] / 2;
                }
                var options = new GaussianMixtureFitOptions { CovarianceType = type, MaxIterations = 5, Seed = 7 };
                var expected = GaussianMixtureFitter.Fit(x, d, k, options, w, TestContext.Current.CancellationToken).Mixture;
                foreach (GuardSide side in GuardedArena.Sides)
                {
                    using var arena = new GuardedArena(side);
                    var fit = GaussianMixtureFitter.Fit(arena.Copy<double>(x), d, k, options, arena.Copy<double>(w), TestContext.Current.CancellationToken).Mixture;
                    string context = $"{type}, d = {d}, n = {n}, K = {k}, guard {side}";
                    GuardSizes.AssertBitIdentical(expected.Means, fit.Means, context);
                    GuardSizes.AssertBitIdentical(expected.Covariances, fit.Covariances, context);
                }
            }
        }
    }

    private static GaussianMixture RandomMixture(CovarianceType type, int d, int k, int seed)
    {
        var rng = new Random(seed);
        double[] weights = [.. Enumerable.Range(0, k).Select(_ => 0.5 + rng.NextDouble())];
        double total = weights.Sum();
        for (int i = 0; i < k; i++)
        {
            weights[i] /= total;
        }
        double[] means = GuardSizes.Values(k * d, seed);
        double[] covariances = type switch
        {
            CovarianceType.Full => [.. Enumerable.Range(0, k).SelectMany(c => TestMatrices.RandomSpd(d, seed + c, shift: 0.5))],
            CovarianceType.Diagonal => [.. Enumerable.Range(0, k * d).Select(_ => 0.5 + rng.NextDouble())],
            _ => [.. Enumerable.Range(0, k).Select(_ => 0.5 + rng.NextDouble())],
        };
        // The constructor reads its spans once: guarded too.
        using var arena = new GuardedArena(GuardSide.After);
        return new GaussianMixture(arena.Copy<double>(weights), arena.Copy<double>(means), arena.Copy<double>(covariances), type, renormalizeWeights: true);
    }

    private static void CheckMixture(GaussianMixture mixture, double[] x)
    {
        int d = mixture.Dimension, n = x.Length / d, k = mixture.ComponentCount;
        var logDensity = new double[n];
        var components = new double[n * k];
        var responsibilities = new double[n * k];
        var labels = new int[n];
        var samples = new double[n * d];
        var sampleLabels = new int[n];
        mixture.LogDensity(x, logDensity);
        mixture.ComponentLogDensities(x, components);
        mixture.Responsibilities(x, responsibilities);
        mixture.Predict(x, labels);
        double mean = mixture.MeanLogLikelihood(x);
        mixture.Sample(5, samples, sampleLabels, firstIndex: 3);
        foreach (GuardSide side in GuardedArena.Sides)
        {
            using var arena = new GuardedArena(side);
            ReadOnlySpan<double> points = arena.Copy<double>(x);
            string context = $"{mixture.CovarianceType}, d = {d}, n = {n}, K = {k}, guard {side}";
            Span<double> values = arena.Allocate<double>(n);
            mixture.LogDensity(points, values);
            GuardSizes.AssertBitIdentical(logDensity, values, context);
            values = arena.Allocate<double>(n * k);
            mixture.ComponentLogDensities(points, values);
            GuardSizes.AssertBitIdentical(components, values, context);
            values = arena.Allocate<double>(n * k);
            mixture.Responsibilities(points, values);
            GuardSizes.AssertBitIdentical(responsibilities, values, context);
            Span<int> predicted = arena.Allocate<int>(n);
            mixture.Predict(points, predicted);
            Assert.Equal(labels, predicted.ToArray());
            Assert.Equal(mean, mixture.MeanLogLikelihood(points));
            values = arena.Allocate<double>(n * d);
            predicted = arena.Allocate<int>(n);
            mixture.Sample(5, values, predicted, firstIndex: 3);
            GuardSizes.AssertBitIdentical(samples, values, context);
            Assert.Equal(sampleLabels, predicted.ToArray());
        }
    }

    /// <summary>
    /// Inputs for one call of every block kernel, each exactly as long as the kernel's contract asks: a coordinate-major
    /// block of (d − 1)·stride + count doubles, d-vectors, a d×d factor, K rows of values, the moments' scratch.
    /// </summary>
    private sealed class BlockInputs(int d, int count, int stride, int k, int seed)
    {
        private readonly double[] _points = GuardSizes.Values((int)PointBlock.BlockLength(d, stride, count), seed);
        private readonly double[] _factor = GuardSizes.Values(d * d, seed + 1);
        private readonly double[] _shift = GuardSizes.Values(d, seed + 2);
        private readonly double[] _values = GuardSizes.Values((int)PointBlock.BlockLength(k, stride, count), seed + 3);
        private readonly double[] _weights = [.. GuardSizes.Values(count, seed + 4).Select(Math.Abs)];
        private readonly double[] _rows = GuardSizes.Values(count * WeightedMomentsKernel.PaddedDimension(d), seed + 5);
        private readonly double[] _paddedShift = GuardSizes.Values(WeightedMomentsKernel.PaddedDimension(d), seed + 6);

        public double[][] Arrays() => [
            .. new[] { _points, _factor, _shift, _values, _weights, _rows, _paddedShift }.Select(a => (double[])a.Clone()),
            .. Outputs().Select(length => new double[length])];

        public Buffers Guarded(GuardedArena arena) => new(arena, [.. Arrays()]);

        /// <summary>Lengths of the outputs, in the order <see cref="Run"/> writes them.</summary>
        private int[] Outputs()
        {
            int dp = WeightedMomentsKernel.PaddedDimension(d);
            return [count, count, count, WeightedMomentsKernel.FullScratchLength(d, count), d, d * d, d, d, dp, d * dp];
        }

        public double[][] Run(int lanes, Buffers buffers) => lanes switch
        {
            1 => Run<SimdScalar, double>(buffers),
            2 => Run<Simd128, Vector128<double>>(buffers),
            4 => Run<Simd256, Vector256<double>>(buffers),
            _ => Run<Simd512, Vector512<double>>(buffers),
        };

        public double[][] Run(int lanes, double[][] arrays) => Run(lanes, new Buffers(null, arrays));

        /// <summary>Every kernel once; returns the outputs (and the in-place values and scratch) as arrays.</summary>
        private double[][] Run<TOps, TV>(Buffers b)
            where TOps : struct, ISimdOps<TV>
            where TV : struct
        {
            TriangularGaussianKernel.Evaluate<TOps, TV>(b[0], stride, count, d, b[1], b[2], 0.25, b[7]);
            DiagonalGaussianKernel.Evaluate<TOps, TV>(b[0], stride, count, d, b[2], b[2], -0.5, b[8]);
            double total = LogSumExpKernel.Evaluate<TOps, TV>(b[3], stride, count, k, b[9], responsibilities: true, b[4])
                         + LogSumExpKernel.Evaluate<TOps, TV>(b[3], stride, count, k, b[9], responsibilities: false, default);
            double n = WeightedMomentsKernel.AccumulateFull<TOps, TV>(b[0], stride, count, d, b[4], b[2], b[10], b[11], b[12])
                     + WeightedMomentsKernel.AccumulateDiagonal<TOps, TV>(b[0], stride, count, d, b[4], b[2], b[13], b[14])
                     + WeightedMomentsKernel.AccumulateFullPointMajor<TOps, TV>(b[5], count, d, b[4], b[6], b[15], b[16]);
            return [[total, n], b[3].ToArray(), .. Enumerable.Range(7, 10).Select(i => b[i].ToArray())];
        }
    }

    /// <summary>The inputs and outputs of <see cref="BlockInputs"/>: ordinary arrays, or guarded copies of them.</summary>
    private sealed class Buffers
    {
        private readonly GuardedBuffer<double>[]? _guarded;
        private readonly double[][] _arrays;

        public Buffers(GuardedArena? arena, double[][] arrays)
        {
            _arrays = arrays;
            if (arena is not null)
            {
                _guarded = [.. arrays.Select(a => arena.AllocateBuffer<double>(a.Length))];
                for (int i = 0; i < arrays.Length; i++)
                {
                    arrays[i].CopyTo(_guarded[i].Span);
                }
            }
        }

        public Span<double> this[int index] => _guarded is null ? _arrays[index] : _guarded[index].Span;
    }
}

using System.Runtime.Intrinsics;
using CsCheck;
using GmmFlow.Simd;
using GmmFlow.Simd.Mixtures;

namespace GmmFlow.Tests.Mixtures;

/// <summary>
/// Every SIMD width of every mixture kernel against a naive loop. Vector512/256/128 code also runs (in
/// software) where the hardware lacks that width, so all paths are checked on any machine.
/// </summary>
public class KernelTests
{
    public static TheoryData<int> Widths => new() { 64, 128, 256, 512 };

    private static readonly Gen<(int D, int Blocks, int Extra, int Seed)> s_shapes = Gen.Select(Gen.Int[1, 21], Gen.Int[1, 9], Gen.Int[0, 40], Gen.Int);

    private static double[] Random(Random rng, int n, double scale)
    {
        var a = new double[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = scale * NaiveMixture.Normal(rng);
        }
        return a;
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Triangular_kernel_matches_naive(int width)
    {
        s_shapes.Sample((d, blocks, extra, seed) =>
        {
            var rng = new Random(seed);
            int count = blocks * PointBlock.Multiple, stride = count + extra;
            var x = Random(rng, d * stride, 2);
            var p = Random(rng, d * d, 1);
            var b = Random(rng, d, 1);
            var output = new double[count];
            switch (width)
            {
                case 64: TriangularGaussianKernel.Evaluate<SimdScalar, double>(x, stride, count, d, p, b, 0.7, output); break;
                case 128: TriangularGaussianKernel.Evaluate<Simd128, Vector128<double>>(x, stride, count, d, p, b, 0.7, output); break;
                case 256: TriangularGaussianKernel.Evaluate<Simd256, Vector256<double>>(x, stride, count, d, p, b, 0.7, output); break;
                default: TriangularGaussianKernel.Evaluate<Simd512, Vector512<double>>(x, stride, count, d, p, b, 0.7, output); break;
            }
            for (int i = 0; i < count; i++)
            {
                double s = 0;
                for (int j = 0; j < d; j++)
                {
                    double y = -b[j];
                    for (int l = 0; l <= j; l++)
                    {
                        y += p[j * d + l] * x[l * stride + i];
                    }
                    s += y * y;
                }
                Assert.Equal(0.7 - 0.5 * s, output[i], 1e-12 * (1 + s));
            }
        }, iter: 30);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Diagonal_kernel_matches_naive(int width)
    {
        s_shapes.Sample((d, blocks, extra, seed) =>
        {
            var rng = new Random(seed);
            int count = blocks * PointBlock.Multiple, stride = count + extra;
            var x = Random(rng, d * stride, 2);
            var p = Random(rng, d, 1);
            var b = Random(rng, d, 1);
            var output = new double[count];
            switch (width)
            {
                case 64: DiagonalGaussianKernel.Evaluate<SimdScalar, double>(x, stride, count, d, p, b, -1.5, output); break;
                case 128: DiagonalGaussianKernel.Evaluate<Simd128, Vector128<double>>(x, stride, count, d, p, b, -1.5, output); break;
                case 256: DiagonalGaussianKernel.Evaluate<Simd256, Vector256<double>>(x, stride, count, d, p, b, -1.5, output); break;
                default: DiagonalGaussianKernel.Evaluate<Simd512, Vector512<double>>(x, stride, count, d, p, b, -1.5, output); break;
            }
            for (int i = 0; i < count; i++)
            {
                double s = 0;
                for (int j = 0; j < d; j++)
                {
                    double y = p[j] * x[j * stride + i] - b[j];
                    s += y * y;
                }
                Assert.Equal(-1.5 - 0.5 * s, output[i], 1e-12 * (1 + s));
            }
        }, iter: 30);
    }

    /// <summary>
    /// The all-components kernels of the diagonal EM (coordinate tiles, interchanged loops) give the per-component
    /// kernels' bits at every width, d beyond one coordinate tile included; a component with zero responsibility is
    /// skipped by both.
    /// </summary>
    [Theory]
    [MemberData(nameof(Widths))]
    public void Diagonal_all_component_kernels_equal_the_per_component_kernels_bit_for_bit(int width)
    {
        Gen.Select(Gen.Int[1, 150], Gen.Int[1, 4], Gen.Int[1, 7], Gen.Int).Sample((d, blocks, k, seed) =>
        {
            var rng = new Random(seed);
            int count = blocks * PointBlock.Multiple, stride = count + 8, rowStride = count + 8;
            var x = Random(rng, d * stride, 2);
            var p = Random(rng, k * d, 1);
            var b = Random(rng, k * d, 1);
            var constants = Random(rng, k, 3);
            var r = Random(rng, k * rowStride, 1);
            r.AsSpan(0, rowStride).Clear(); // component 0 has no responsibility in this block
            var one = new double[k * rowStride];
            var all = new double[k * rowStride];
            var sums = new double[k * 32];
            var first1 = Random(rng, k * d, 1);
            var second1 = Random(rng, k * d, 1);
            var first2 = (double[])first1.Clone();
            var second2 = (double[])second1.Clone();
            var counts = new double[k];
            var n1 = new double[k];
            switch (width)
            {
                case 64: Run<SimdScalar, double>(); break;
                case 128: Run<Simd128, Vector128<double>>(); break;
                case 256: Run<Simd256, Vector256<double>>(); break;
                default: Run<Simd512, Vector512<double>>(); break;
            }
            Assert.Equal(one, all);
            Assert.Equal(first1, first2);
            Assert.Equal(second1, second2);
            Assert.Equal(n1, counts);
            Assert.Equal(0.0, counts[0]);

            void Run<TOps, TVec>() where TOps : struct, ISimdOps<TVec> where TVec : struct
            {
                for (int c = 0; c < k; c++)
                {
                    DiagonalGaussianKernel.Evaluate<TOps, TVec>(x, stride, count, d, p.AsSpan(c * d, d), b.AsSpan(c * d, d), constants[c],
                        one.AsSpan(c * rowStride, count));
                    n1[c] = WeightedMomentsKernel.AccumulateDiagonal<TOps, TVec>(x, stride, count, d, r.AsSpan(c * rowStride, count),
                        b.AsSpan(c * d, d), first1.AsSpan(c * d, d), second1.AsSpan(c * d, d));
                }
                DiagonalGaussianKernel.EvaluateComponents<TOps, TVec>(x, stride, count, d, k, p, b, constants, all, rowStride, sums);
                WeightedMomentsKernel.AccumulateDiagonalComponents<TOps, TVec>(x, stride, count, d, k, r, rowStride, b, first2, d, second2, d, counts);
            }
        }, iter: 20);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Log_sum_exp_kernel_matches_naive_without_overflow(int width)
    {
        s_shapes.Sample((rows, blocks, extra, seed) =>
        {
            var rng = new Random(seed);
            int count = blocks * PointBlock.Multiple, stride = count + extra;
            // Log terms down to −1e4: exponentiating them directly would underflow to 0 for every row.
            var values = Random(rng, rows * stride, 30);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] -= 5000 * rng.NextDouble() + 5000;
            }
            var weights = new double[count];
            for (int i = 0; i < count; i++)
            {
                weights[i] = rng.NextDouble();
            }
            var original = (double[])values.Clone();
            var lse = new double[count];
            double total = width switch
            {
                64 => LogSumExpKernel.Evaluate<SimdScalar, double>(values, stride, count, rows, lse, true, weights),
                128 => LogSumExpKernel.Evaluate<Simd128, Vector128<double>>(values, stride, count, rows, lse, true, weights),
                256 => LogSumExpKernel.Evaluate<Simd256, Vector256<double>>(values, stride, count, rows, lse, true, weights),
                _ => LogSumExpKernel.Evaluate<Simd512, Vector512<double>>(values, stride, count, rows, lse, true, weights),
            };
            double expectedTotal = 0;
            for (int i = 0; i < count; i++)
            {
                var column = new double[rows];
                for (int k = 0; k < rows; k++)
                {
                    column[k] = original[k * stride + i];
                }
                double reference = NaiveMixture.LogSumExp(column);
                Assert.Equal(reference, lse[i], 1e-12 * Math.Abs(reference));
                expectedTotal += weights[i] * reference;
                for (int k = 0; k < rows; k++)
                {
                    Assert.Equal(weights[i] * Math.Exp(column[k] - reference), values[k * stride + i], 1e-12);
                }
            }
            Assert.Equal(expectedTotal, total, 1e-11 * Math.Abs(expectedTotal));
        }, iter: 30);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Moment_kernels_match_naive_sums(int width)
    {
        s_shapes.Sample((d, blocks, extra, seed) =>
        {
            var rng = new Random(seed);
            int count = blocks * PointBlock.Multiple, stride = count + extra, dp = WeightedMomentsKernel.PaddedDimension(d);
            var x = Random(rng, d * stride, 3);
            var r = new double[count];
            for (int i = 0; i < count; i++)
            {
                r[i] = rng.NextDouble();
            }
            var m = Random(rng, dp, 1);
            m.AsSpan(d).Clear();
            var rowMajor = new double[count * dp];
            for (int i = 0; i < count; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    rowMajor[i * dp + j] = x[j * stride + i];
                }
            }
            // Naive references.
            double n = 0;
            var s1 = new double[d];
            var s2 = new double[d * d];
            for (int i = 0; i < count; i++)
            {
                n += r[i];
                for (int a = 0; a < d; a++)
                {
                    double ea = x[a * stride + i] - m[a];
                    s1[a] += r[i] * ea;
                    for (int b = 0; b < d; b++)
                    {
                        s2[a * d + b] += r[i] * ea * (x[b * stride + i] - m[b]);
                    }
                }
            }
            var full1 = new double[d];
            var full2 = new double[d * d];
            var diag1 = new double[d];
            var diag2 = new double[d];
            var pm1 = new double[dp];
            var pm2 = new double[d * dp];
            var scratch = new double[WeightedMomentsKernel.FullScratchLength(d, count)];
            var mm = m.AsSpan(0, d).ToArray();
            (double nFull, double nDiag, double nPoint) = width switch
            {
                64 => (WeightedMomentsKernel.AccumulateFull<SimdScalar, double>(x, stride, count, d, r, mm, scratch, full1, full2),
                       WeightedMomentsKernel.AccumulateDiagonal<SimdScalar, double>(x, stride, count, d, r, mm, diag1, diag2),
                       WeightedMomentsKernel.AccumulateFullPointMajor<SimdScalar, double>(rowMajor, count, d, r, m, pm1, pm2)),
                128 => (WeightedMomentsKernel.AccumulateFull<Simd128, Vector128<double>>(x, stride, count, d, r, mm, scratch, full1, full2),
                        WeightedMomentsKernel.AccumulateDiagonal<Simd128, Vector128<double>>(x, stride, count, d, r, mm, diag1, diag2),
                        WeightedMomentsKernel.AccumulateFullPointMajor<Simd128, Vector128<double>>(rowMajor, count, d, r, m, pm1, pm2)),
                256 => (WeightedMomentsKernel.AccumulateFull<Simd256, Vector256<double>>(x, stride, count, d, r, mm, scratch, full1, full2),
                        WeightedMomentsKernel.AccumulateDiagonal<Simd256, Vector256<double>>(x, stride, count, d, r, mm, diag1, diag2),
                        WeightedMomentsKernel.AccumulateFullPointMajor<Simd256, Vector256<double>>(rowMajor, count, d, r, m, pm1, pm2)),
                _ => (WeightedMomentsKernel.AccumulateFull<Simd512, Vector512<double>>(x, stride, count, d, r, mm, scratch, full1, full2),
                      WeightedMomentsKernel.AccumulateDiagonal<Simd512, Vector512<double>>(x, stride, count, d, r, mm, diag1, diag2),
                      WeightedMomentsKernel.AccumulateFullPointMajor<Simd512, Vector512<double>>(rowMajor, count, d, r, m, pm1, pm2)),
            };
            double tol = 1e-11 * count * 10;
            Assert.Equal(n, nFull, 1e-12 * count);
            Assert.Equal(n, nDiag, 1e-12 * count);
            Assert.Equal(n, nPoint, 1e-12 * count);
            for (int a = 0; a < d; a++)
            {
                Assert.Equal(s1[a], full1[a], tol);
                Assert.Equal(s1[a], diag1[a], tol);
                Assert.Equal(s1[a], pm1[a], tol);
                Assert.Equal(s2[a * d + a], diag2[a], tol);
                for (int b = 0; b <= a; b++)
                {
                    Assert.Equal(s2[a * d + b], full2[a * d + b], tol);
                    Assert.Equal(s2[a * d + b], pm2[a * dp + b], tol);
                }
            }
        }, iter: 30);
    }

    [Fact]
    public void Moment_kernels_touch_nothing_when_every_responsibility_is_zero()
    {
        int d = 3, count = PointBlock.Multiple;
        var x = new double[d * count];
        var r = new double[count];
        var s1 = new double[d];
        var s2 = new double[d * d];
        s2[4] = 7;
        Assert.Equal(0, WeightedMomentsKernel.AccumulateFull(x, count, count, d, r, new double[d], new double[WeightedMomentsKernel.FullScratchLength(d, count)], s1, s2));
        Assert.Equal(7, s2[4]);
    }

    [Fact]
    public void Kernels_reject_counts_that_are_not_a_multiple_of_the_block()
    {
        Assert.Throws<ArgumentException>(() => DiagonalGaussianKernel.Evaluate(new double[64], 64, 31, 1, [1.0], [0.0], 0, new double[64]));
        Assert.Throws<ArgumentException>(() => TriangularGaussianKernel.Evaluate(new double[64], 32, 64, 1, [1.0], [0.0], 0, new double[64]));
    }
}

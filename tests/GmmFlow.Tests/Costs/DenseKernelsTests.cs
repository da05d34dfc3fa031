using CsCheck;
using GmmFlow.Simd.LinearAlgebra;
using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Costs;

/// <summary>
/// The triangular congruence kernels against naive products, on sizes that exercise every tile shape (4×16, 4×8,
/// 1-row, scalar leftover columns). Run the suite with DOTNET_EnableAVX512F=0 to cover the row-axpy fallback.
/// </summary>
public class DenseKernelsTests
{
    private static (double[] L, double[] Lt) RandomLower(int n, int seed)
    {
        var l = RandomGeneral(n, n, seed);
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                l[i * n + j] = 0;
            }
        }
        return (l, Transpose(l, n));
    }

    private static void AssertLowerEqual(double[] expected, double[] actual, int n, string what)
    {
        double scale = Math.Max(1, MaxAbs(expected));
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                Assert.True(Math.Abs(expected[i * n + j] - actual[i * n + j]) <= 1e-13 * n * scale, $"{what} n={n} ({i},{j})");
            }
        }
    }

    [Fact]
    public void Congruences_match_naive_products()
    {
        Gen.Select(Gen.Int[1, 70], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var (l, lt) = RandomLower(n, seed);
            var s = RandomSpd(n, seed + 1);
            var work = new double[n * n];
            var result = new double[n * n];
            DenseKernels.CongruenceLowerTransposed(l, lt, s, work, result, n);
            AssertLowerEqual(Multiply(Multiply(lt, s, n, n, n), l, n, n, n), result, n, "LᵀSL");
            DenseKernels.CongruenceLower(l, lt, s, work, result, n);
            AssertLowerEqual(Multiply(Multiply(l, s, n, n, n), lt, n, n, n), result, n, "LSLᵀ");
        }, iter: 80);
    }

    [Fact]
    public void Weighted_squared_norms_match_naive_sum()
    {
        Gen.Select(Gen.Int[1, 70], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var (l, lt) = RandomLower(n, seed);
            var rows = RandomGeneral(n, n, seed + 2);
            var f = RandomGeneral(1, n, seed + 3);
            f[0] = 0;
            double expected = 0;
            for (int k = 0; k < n; k++)
            {
                var lw = Multiply(l, rows[(k * n)..((k + 1) * n)], n, n, 1);
                expected += f[k] * lw.Sum(x => x * x);
            }
            double actual = DenseKernels.WeightedSquaredNorms(lt, rows, f, new double[n * n], n);
            Assert.True(Math.Abs(actual - expected) <= 1e-12 * n * Math.Max(1, Math.Abs(expected)), $"n={n}: {actual} vs {expected}");
        }, iter: 80);
    }
}

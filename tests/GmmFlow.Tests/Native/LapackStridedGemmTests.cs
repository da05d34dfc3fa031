using CsCheck;
using GmmFlow.Native;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Native;

/// <summary>The strided <see cref="Lapack"/> GEMM overload on sub-blocks of larger row-major buffers.</summary>
public class LapackStridedGemmTests
{
    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Strided_gemm_on_blocks_equals_the_plain_triple_loop(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        Gen.Select(Gen.Int[1, 12], Gen.Int[0, 9], Gen.Int[1, 12], Gen.Int[0, 5], Gen.Int).Sample((m, k, n, pad, seed) =>
        {
            var rng = new CounterRng((ulong)(uint)seed);
            foreach (bool ta in (bool[])[false, true])
            {
                foreach (bool tb in (bool[])[false, true])
                {
                    // Blocks start at offset 1 of buffers whose rows are pad (0–5) longer than the block's rows.
                    int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                    int lda = Math.Max(1, aCols) + pad, ldb = Math.Max(1, bCols) + pad, ldc = n + pad;
                    var a = new double[1 + Math.Max(1, aRows) * lda];
                    var b = new double[1 + Math.Max(1, bRows) * ldb];
                    var c = new double[1 + m * ldc];
                    rng.FillNormal(0, 0, a);
                    rng.FillNormal(1, 0, b);
                    rng.FillNormal(2, 0, c);
                    var before = (double[])c.Clone();
                    lapack.Gemm(ta, tb, m, n, k, 2.0, a.AsSpan(1), lda, b.AsSpan(1), ldb, 0.5, c.AsSpan(1), ldc);
                    for (int i = 0; i < m; i++)
                    {
                        for (int j = 0; j < ldc; j++)
                        {
                            double expected = before[1 + i * ldc + j];
                            if (j < n)
                            {
                                double s = 0;
                                for (int t = 0; t < k; t++)
                                {
                                    s += (ta ? a[1 + t * lda + i] : a[1 + i * lda + t]) * (tb ? b[1 + j * ldb + t] : b[1 + t * ldb + j]);
                                }
                                expected = 2 * s + 0.5 * expected;
                            }
                            // Entries between the rows of the block (the stride's padding) are not touched.
                            Assert.True(Math.Abs(c[1 + i * ldc + j] - expected) <= 1e-12 * (1 + Math.Abs(expected)), $"ta={ta} tb={tb} ({i}, {j})");
                        }
                    }
                    Assert.Equal(before[0], c[0]);
                }
            }
        }, iter: 40);
    }

    [Fact]
    public void Strided_gemm_rejects_a_stride_shorter_than_the_row_or_a_short_buffer()
    {
        var lapack = Lapack.Default;
        var a = new double[12];
        Assert.Throws<ArgumentException>(() => lapack.Gemm(false, false, 2, 2, 3, 1, a, 2, a, 3, 0, new double[4], 2));
        Assert.Throws<ArgumentException>(() => lapack.Gemm(false, false, 2, 2, 3, 1, a, 3, a, 1, 0, new double[4], 2));
        Assert.Throws<ArgumentException>(() => lapack.Gemm(false, false, 3, 2, 3, 1, a, 4, a, 2, 0, new double[7], 3));
    }
}

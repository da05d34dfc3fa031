using CsCheck;
using GmmFlow.Native;
using GmmFlow.Tests.Support;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Native;

public class LapackTests
{
    private static readonly Gen<(int N, int Seed)> s_sizes = Gen.Select(Gen.Int[1, 64], Gen.Int);

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Cholesky_reconstructs_random_spd(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        s_sizes.Sample((n, seed) =>
        {
            var a = RandomSpd(n, seed);
            var l = (double[])a.Clone();
            lapack.Cholesky(l, n);
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++)
                {
                    Assert.Equal(0.0, l[i * n + j]);
                }
                Assert.True(l[i * n + i] > 0);
            }
            var llt = Multiply(l, l, n, n, n, transB: true);
            Assert.True(MaxAbsDiff(llt, a) <= 1e-13 * n * MaxAbs(a), $"n={n}: |LLᵀ − A| = {MaxAbsDiff(llt, a)}");
        }, iter: 60);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Results_do_not_depend_on_where_the_matrix_lies_in_memory(LapackProviderKind kind)
    {
        // MKL picks code paths by the alignment of the arrays it gets unless its conditional numerical
        // reproducibility mode is on (GmmFlow turns it on at load): then the same cost could differ in the last
        // bit from one call to the next. The same matrix at eight offsets within a buffer must give identical bits.
        var lapack = Providers.Get(kind);
        for (int n = 1; n <= 40; n++)
        {
            var a = RandomSpd(n, 100 + n);
            double[]? firstValues = null, firstVectors = null;
            for (int offset = 0; offset < 8; offset++)
            {
                var buffer = new double[n * n + 8];
                a.CopyTo(buffer, offset);
                Span<double> m = buffer.AsSpan(offset, n * n);
                var values = new double[n];
                lapack.SymmetricEigen(m, n, values, vectors: true);
                var vectors = m.ToArray();
                var l = buffer.AsSpan(offset, n * n);
                a.CopyTo(l);
                lapack.Cholesky(l, n);
                vectors = [.. vectors, .. l.ToArray()];
                if (firstValues is null)
                {
                    (firstValues, firstVectors) = (values, vectors);
                    continue;
                }
                Assert.True(values.AsSpan().SequenceEqual(firstValues), $"n={n} offset {offset}: eigenvalues differ in the last bits");
                Assert.True(vectors.AsSpan().SequenceEqual(firstVectors), $"n={n} offset {offset}: eigenvectors or Cholesky factor differ");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Eigen_reconstructs_and_vectors_are_orthonormal(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        s_sizes.Sample((n, seed) =>
        {
            var a = RandomSpd(n, seed);
            var v = (double[])a.Clone();
            var w = new double[n];
            lapack.SymmetricEigen(v, n, w, vectors: true);
            // Rows of v are eigenvectors: A = Vᵀ Λ V with V row k = eigenvector k.
            var lv = new double[n * n];
            for (int k = 0; k < n; k++)
            {
                for (int j = 0; j < n; j++)
                {
                    lv[k * n + j] = w[k] * v[k * n + j];
                }
            }
            var recon = Multiply(v, lv, n, n, n, transA: true);
            double scale = MaxAbs(a);
            Assert.True(MaxAbsDiff(recon, a) <= 1e-12 * n * scale, $"n={n}: |VΛVᵀ − A| = {MaxAbsDiff(recon, a)}");
            var vvt = Multiply(v, v, n, n, n, transB: true);
            for (int i = 0; i < n; i++)
            {
                vvt[i * n + i] -= 1;
            }
            Assert.True(MaxAbs(vvt) <= 1e-12 * n);
            for (int k = 1; k < n; k++)
            {
                Assert.True(w[k] >= w[k - 1]);
            }
        }, iter: 60);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Eigenvalues_match_independent_jacobi(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        Gen.Select(Gen.Int[1, 24], Gen.Int).Sample((n, seed) =>
        {
            var a = RandomSpd(n, seed);
            var w = new double[n];
            lapack.SymmetricEigen((double[])a.Clone(), n, w, vectors: false);
            var reference = JacobiEigenvalues(a, n);
            Assert.True(MaxAbsDiff(w, reference) <= 1e-12 * reference[^1] * n);
        }, iter: 40);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Singular_values_equal_eigenvalues_for_spd_and_sqrt_of_gram_eigenvalues(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        s_sizes.Sample((n, seed) =>
        {
            var a = RandomSpd(n, seed);
            var s = new double[n];
            lapack.SingularValues((double[])a.Clone(), n, n, s);
            var w = new double[n];
            lapack.SymmetricEigen((double[])a.Clone(), n, w, vectors: false);
            Array.Reverse(w);
            Assert.True(MaxAbsDiff(s, w) <= 1e-12 * n * w[0]);

            // Rectangular general B (n×m): σ(B)² = eig(BᵀB).
            int m = Math.Max(1, n / 2 + 1);
            var b = RandomGeneral(n, m, seed + 1);
            var sb = new double[Math.Min(n, m)];
            lapack.SingularValues((double[])b.Clone(), n, m, sb);
            var btb = Multiply(b, b, m, n, m, transA: true);
            var eig = new double[m];
            lapack.SymmetricEigen(btb, m, eig, vectors: false);
            Array.Reverse(eig);
            for (int k = 0; k < sb.Length; k++)
            {
                Assert.True(Math.Abs(sb[k] * sb[k] - eig[k]) <= 1e-10 * eig[0] * n, $"n={n} k={k}");
            }
        }, iter: 40);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Generalized_eigen_satisfies_Ax_equals_lambda_Bx(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        Gen.Select(Gen.Int[1, 32], Gen.Int).Sample((n, seed) =>
        {
            var a = RandomSpd(n, seed);
            var b = RandomSpd(n, seed ^ 0x5555, shift: 0.5);
            var x = (double[])a.Clone();
            var w = new double[n];
            lapack.GeneralizedSymmetricEigen(x, (double[])b.Clone(), n, w, vectors: true);
            for (int k = 0; k < n; k++)
            {
                var xk = x.AsSpan(k * n, n).ToArray();
                var ax = Multiply(a, xk, n, n, 1);
                var bx = Multiply(b, xk, n, n, 1);
                for (int i = 0; i < n; i++)
                {
                    Assert.True(Math.Abs(ax[i] - w[k] * bx[i]) <= 1e-9 * (1 + Math.Abs(w[k])) * MaxAbs(ax), $"n={n} k={k}");
                }
            }
        }, iter: 30);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Gemm_triangular_solve_and_inverse_match_naive(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 9], Gen.Int).Sample((n, m, seed) =>
        {
            // C (n×(n+1)) = op(A) op(B), op(A) n×m, op(B) m×(n+1); storage follows each transpose flag.
            int rows = n, k = m, cols = n + 1;
            foreach (bool ta in (bool[])[false, true])
            {
                foreach (bool tb in (bool[])[false, true])
                {
                    var a = ta ? RandomGeneral(k, rows, seed) : RandomGeneral(rows, k, seed);
                    var b = tb ? RandomGeneral(cols, k, seed + 7) : RandomGeneral(k, cols, seed + 7);
                    var expected = Multiply(a, b, rows, k, cols, transA: ta, transB: tb);
                    var c = new double[rows * cols];
                    c.AsSpan().Fill(1.0);
                    lapack.Gemm(ta, tb, rows, cols, k, 2.0, a, b, 0.5, c);
                    for (int i = 0; i < c.Length; i++)
                    {
                        Assert.True(Math.Abs(c[i] - (2 * expected[i] + 0.5)) <= 1e-12 * k * 10, $"ta={ta} tb={tb}");
                    }
                }
            }

            var spd = RandomSpd(n, seed);
            lapack.Cholesky(spd, n);
            var rhs = RandomGeneral(n, m, seed + 3);
            var x = (double[])rhs.Clone();
            lapack.SolveLower(spd, n, x, m, transpose: false);
            Assert.True(MaxAbsDiff(Multiply(spd, x, n, n, m), rhs) <= 1e-10 * n);
            var y = (double[])rhs.Clone();
            lapack.SolveLower(spd, n, y, m, transpose: true);
            Assert.True(MaxAbsDiff(Multiply(spd, y, n, n, m, transA: true), rhs) <= 1e-10 * n);
            var inv = (double[])spd.Clone();
            lapack.InvertLowerTriangular(inv, n);
            var id = Multiply(spd, inv, n, n, n);
            for (int i = 0; i < n; i++)
            {
                id[i * n + i] -= 1;
            }
            Assert.True(MaxAbs(id) <= 1e-10 * n);
        }, iter: 30);
    }

    [Fact]
    public void Providers_agree_on_random_spd()
    {
        var all = Lapack.Available();
        Assert.NotEmpty(all);
        if (all.Count < 2)
        {
            Assert.Skip("only one LAPACK provider on this machine: " + all[0]);
        }
        s_sizes.Sample((n, seed) =>
        {
            var a = RandomSpd(n, seed);
            var w0 = new double[n];
            var w1 = new double[n];
            all[0].SymmetricEigen((double[])a.Clone(), n, w0, vectors: false);
            all[1].SymmetricEigen((double[])a.Clone(), n, w1, vectors: false);
            Assert.True(MaxAbsDiff(w0, w1) <= 1e-12 * n * w0[^1]);
            var l0 = (double[])a.Clone();
            var l1 = (double[])a.Clone();
            all[0].Cholesky(l0, n);
            all[1].Cholesky(l1, n);
            Assert.True(MaxAbsDiff(l0, l1) <= 1e-12 * n * Math.Sqrt(MaxAbs(a)));
        }, iter: 40);
    }

    [Fact]
    public void Default_provider_honours_environment_variable()
    {
        string? forced = Environment.GetEnvironmentVariable(Lapack.ProviderVariable);
        var lapack = Lapack.Default;
        if (forced is "mkl")
        {
            Assert.Equal(LapackProviderKind.Mkl, lapack.Kind);
        }
        else if (forced is "system")
        {
            Assert.Equal(LapackProviderKind.System, lapack.Kind);
        }
        else if (Lapack.TryGet(LapackProviderKind.Mkl, out _) is not null)
        {
            Assert.Equal(LapackProviderKind.Mkl, lapack.Kind); // preferred when present
        }
        Assert.False(string.IsNullOrWhiteSpace(lapack.Version));
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Bad_input_gives_typed_errors_not_native_crashes(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        // Not positive definite: the failing batch index and minor are named.
        var batch = new double[3 * 4];
        double[] good = [2, 0.5, 0.5, 1], bad = [1, 2, 2, 1]; // det < 0
        good.CopyTo(batch, 0);
        good.CopyTo(batch, 4);
        bad.CopyTo(batch, 8);
        var npd = Assert.Throws<NotPositiveDefiniteException>(() => lapack.CholeskyBatch(batch, 2, 3, "covariance of component"));
        Assert.Equal(2, npd.Index);
        Assert.Equal(2, npd.MinorOrder);
        Assert.Contains("covariance of component #2", npd.Message);

        var status = new int[3];
        bad.CopyTo(batch, 8);
        good.CopyTo(batch, 0);
        good.CopyTo(batch, 4);
        batch[5] = double.NaN;
        Assert.Equal(2, lapack.TryCholeskyBatch(batch, 2, 3, status));
        Assert.Equal([0, -1, 2], status);

        // NaN entries are caught before LAPACK sees them.
        double[] nan = [1, 0, double.NaN, 1];
        var nf = Assert.Throws<NonFiniteValueException>(() => lapack.SymmetricEigen(nan, 2, new double[2], vectors: false));
        Assert.Equal(2, nf.Position);
        Assert.Throws<NonFiniteValueException>(() => lapack.Cholesky([double.PositiveInfinity], 1));
        Assert.Throws<NonFiniteValueException>(() => lapack.SingularValues([1, double.NaN], 1, 2, new double[1]));

        // Size mismatches never reach native code.
        Assert.Throws<ArgumentException>(() => lapack.Cholesky(new double[3], 2));
        Assert.Throws<ArgumentException>(() => lapack.SymmetricEigen(new double[4], 2, new double[1], vectors: true));
        Assert.Throws<ArgumentException>(() => lapack.Gemm(false, false, 2, 2, 2, 1, new double[4], new double[3], 0, new double[4]));
        Assert.Throws<ArgumentException>(() => lapack.SolveLower(new double[4], 2, new double[3], 2, transpose: false));
        Assert.Throws<ArgumentException>(() => lapack.Cholesky(new double[4], -1));
        Assert.Throws<NotPositiveDefiniteException>(() => lapack.GeneralizedSymmetricEigen([1, 0, 0, 1], [1, 2, 2, 1], 2, new double[2], vectors: false));
    }
}

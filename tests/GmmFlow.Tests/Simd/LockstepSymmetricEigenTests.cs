using System.Runtime.Intrinsics;
using CsCheck;
using GmmFlow.Native;
using GmmFlow.Simd;
using GmmFlow.Simd.LinearAlgebra;
using GmmFlow.Tests.Support;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Simd;

/// <summary>
/// The lockstep eigensolver against LAPACK dsyevd (every provider), lane by lane, at every SIMD width: eigenvalues,
/// and with B = I the eigenvectors (residual and orthonormality); lanes that converge at different speeds or not at
/// all must not disturb each other.
/// </summary>
public class LockstepSymmetricEigenTests
{
    /// <summary>Lane counts of the widths this machine runs (SimdWidth is internal; its values are lane counts).</summary>
    public static TheoryData<int> Widths()
    {
        var data = new TheoryData<int>();
        foreach (var w in SimdDispatch.Available())
        {
            data.Add((int)w);
        }
        if (SimdDispatch.Available().Contains(SimdWidth.V512))
        {
            data.Add(Simd512x2.Count); // the cost matrices' width: two AVX-512 halves
        }
        return data;
    }

    /// <summary>Solves one matrix per lane at the given width; returns eigenvalues (lane-major) and B (lane-major) and the failure mask.</summary>
    internal static int Solve(SimdWidth width, double[][] matrices, int d, double[][]? b, out double[][] values)
    {
        int lanes = (int)width; // 16 stands for Simd512x2
        Assert.Equal(lanes, matrices.Length);
        var a = new double[d * d * lanes];
        var bb = b is null ? null : new double[d * d * lanes];
        for (int q = 0; q < lanes; q++)
        {
            for (int e = 0; e < d * d; e++)
            {
                // Only the lower triangle may be read: the upper one is poisoned.
                a[e * lanes + q] = e % d <= e / d ? matrices[q][e] : double.NaN;
                if (bb is not null)
                {
                    bb[e * lanes + q] = b![q][e];
                }
            }
        }
        var w = new double[d * lanes];
        var scratch = new double[LockstepSymmetricEigen.ScratchLength(d, lanes)];
        Span<double> bs = bb is null ? default : bb.AsSpan();
        int failed = lanes == Simd512x2.Count
            ? LockstepSymmetricEigen.Solve<Simd512x2, Vector512x2>(a, bs, w, scratch, d)
            : width switch
        {
            SimdWidth.V512 => LockstepSymmetricEigen.Solve<Simd512, Vector512<double>>(a, bs, w, scratch, d),
            SimdWidth.V256 => LockstepSymmetricEigen.Solve<Simd256, Vector256<double>>(a, bs, w, scratch, d),
            SimdWidth.V128 => LockstepSymmetricEigen.Solve<Simd128, Vector128<double>>(a, bs, w, scratch, d),
            _ => LockstepSymmetricEigen.Solve<SimdScalar, double>(a, bs, w, scratch, d),
        };
        values = new double[lanes][];
        for (int q = 0; q < lanes; q++)
        {
            values[q] = new double[d];
            for (int k = 0; k < d; k++)
            {
                values[q][k] = w[k * lanes + q];
            }
            if (bb is not null)
            {
                for (int e = 0; e < d * d; e++)
                {
                    b![q][e] = bb[e * lanes + q];
                }
            }
        }
        return failed;
    }

    private static double[] RandomSymmetric(int n, int seed)
    {
        var g = RandomGeneral(n, n, seed);
        var s = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                s[i * n + j] = 0.5 * (g[i * n + j] + g[j * n + i]);
            }
        }
        return s;
    }

    private static double[] Sorted(double[] x)
    {
        var c = (double[])x.Clone();
        Array.Sort(c);
        return c;
    }

    private static void AssertMatchesLapack(Lapack lapack, double[] matrix, double[] values, int d, string what)
    {
        var copy = (double[])matrix.Clone();
        var reference = new double[d];
        lapack.SymmetricEigen(copy, d, reference, vectors: false);
        Array.Sort(reference);
        var mine = Sorted(values);
        double scale = Math.Max(MaxAbs(matrix), double.Epsilon);
        for (int k = 0; k < d; k++)
        {
            Assert.True(Math.Abs(mine[k] - reference[k]) <= 1e-13 * d * scale,
                $"{what}: eigenvalue {k} = {mine[k]:R}, LAPACK {reference[k]:R} (‖A‖max {scale:R})");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Eigenvalues_equal_lapack_for_random_symmetric_matrices(int lanes)
    {
        var width = (SimdWidth)lanes;
        foreach (var lapack in Lapack.Available())
        {
            Gen.Select(Gen.Int[1, 40], Gen.Int).Sample((d, seed) =>
            {
                var matrices = Enumerable.Range(0, lanes).Select(q => q % 2 == 0 ? RandomSymmetric(d, seed + q) : RandomSpd(d, seed + q)).ToArray();
                int failed = Solve(width, matrices, d, null, out var values);
                Assert.Equal(0, failed);
                for (int q = 0; q < lanes; q++)
                {
                    AssertMatchesLapack(lapack, matrices[q], values[q], d, $"{lapack.Kind} d={d} lane {q}");
                }
            }, iter: 40);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Rotated_identity_holds_orthonormal_eigenvectors(int lanes)
    {
        var width = (SimdWidth)lanes;
        Gen.Select(Gen.Int[1, 32], Gen.Int).Sample((d, seed) =>
        {
            var matrices = Enumerable.Range(0, lanes).Select(q => RandomSymmetric(d, seed + 7 * q)).ToArray();
            var b = Enumerable.Range(0, lanes).Select(_ => Identity(d)).ToArray();
            int failed = Solve(width, matrices, d, b, out var values);
            Assert.Equal(0, failed);
            for (int q = 0; q < lanes; q++)
            {
                AssertEigenpairs(matrices[q], values[q], b[q], d, $"d={d} lane {q}");
            }
        }, iter: 25);
    }

    /// <summary>
    /// Rows of <paramref name="rows"/> (the returned (B·W)ᵀ with B = I) are unit eigenvectors: ‖A w_k − λ_k w_k‖∞ ≤
    /// 1e-12·d·‖A‖max, ‖w_k‖² = 1 and w_j·w_k = 0 to 1e-13·d.
    /// </summary>
    private static void AssertEigenpairs(double[] matrix, double[] values, double[] rows, int d, string what)
    {
        double scale = MaxAbs(matrix);
        for (int k = 0; k < d; k++)
        {
            double norm2 = 0;
            for (int r = 0; r < d; r++)
            {
                double aw = 0;
                for (int c = 0; c < d; c++)
                {
                    aw += matrix[r * d + c] * rows[k * d + c];
                }
                Assert.True(Math.Abs(aw - values[k] * rows[k * d + r]) <= 1e-12 * d * scale,
                    $"{what}: residual of eigenpair {k} row {r}");
                norm2 += rows[k * d + r] * rows[k * d + r];
            }
            Assert.True(Math.Abs(norm2 - 1) <= 1e-13 * d, $"{what}: ‖w_{k}‖² = {norm2:R}");
            for (int k2 = 0; k2 < k; k2++)
            {
                double dot = 0;
                for (int r = 0; r < d; r++)
                {
                    dot += rows[k * d + r] * rows[k2 * d + r];
                }
                Assert.True(Math.Abs(dot) <= 1e-13 * d, $"{what}: w_{k}·w_{k2} = {dot:R}");
            }
        }
    }

    /// <summary>
    /// Lanes that are tridiagonal or diagonal from the start, have repeated eigenvalues, decouple into blocks
    /// (interior zero couplings), span 16 orders of magnitude, or are zero, next to ordinary random ones.
    /// </summary>
    private static List<double[]> StructuredPool(int d) =>
    [
        Identity(d),
        new double[d * d],
        Diagonal(Enumerable.Range(0, d).Select(k => (double)(k % 3)).ToArray()),
        WithSpectrum(Enumerable.Range(0, d).Select(k => k < d / 2 ? 1.0 : 2.0).ToArray(), 11),
        BlockDiagonal(RandomSymmetric(5, 3), RandomSymmetric(d - 5, 4), d),
        WithSpectrum(Enumerable.Range(0, d).Select(k => Math.Pow(10, -8 + 16.0 * k / (d - 1))).ToArray(), 12),
        RandomSymmetric(d, 13),
        RandomSpd(d, 14),
    ];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Structured_lanes_converge_independently(int lanes)
    {
        var width = (SimdWidth)lanes;
        int d = 12;
        var rng = new Random(5);
        var pool = StructuredPool(d);
        var matrices = Enumerable.Range(0, lanes).Select(q => pool[(q + rng.Next(pool.Count)) % pool.Count]).ToArray();
        foreach (var lapack in Lapack.Available())
        {
            int failed = Solve(width, matrices, d, null, out var values);
            Assert.Equal(0, failed);
            for (int q = 0; q < lanes; q++)
            {
                AssertMatchesLapack(lapack, matrices[q], values[q], d, $"{lapack.Kind} lane {q}");
            }
        }
        // All eight pool members side by side at AVX-512 width.
        if (lanes == 8)
        {
            Assert.Equal(0, Solve(width, pool.ToArray(), d, null, out var all));
            for (int q = 0; q < 8; q++)
            {
                AssertMatchesLapack(Lapack.Default, pool[q], all[q], d, $"pool member {q}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void A_lane_with_non_finite_or_overflowing_entries_is_reported_and_the_others_are_unaffected(int lanes)
    {
        var width = (SimdWidth)lanes;
        int d = 6;
        var matrices = Enumerable.Range(0, lanes).Select(q => RandomSpd(d, 40 + q)).ToArray();
        var bad = (double[])matrices[lanes - 1].Clone();
        bad[1] = bad[d] = double.NaN;
        matrices[lanes - 1] = bad;
        if (lanes > 1)
        {
            matrices[0] = RandomSpd(d, 99).Select(x => x * 1e300).ToArray();
        }
        int failed = Solve(width, matrices, d, null, out var values);
        Assert.True((failed >> (lanes - 1) & 1) == 1, "the NaN lane must be reported");
        if (lanes > 1)
        {
            Assert.True((failed & 1) == 1, "the lane whose squared norms overflow must be reported");
        }
        for (int q = 1; q < lanes - 1; q++)
        {
            Assert.True((failed >> q & 1) == 0);
            AssertMatchesLapack(Lapack.Default, matrices[q], values[q], d, $"lane {q}");
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void A_sweep_whose_shift_hits_the_corner_exactly_is_either_right_or_handed_back(int lanes)
    {
        // [[0, 1, 0], [1, 0, ½], [0, ½, ±1]]: the shift from the leading 2×2 is ∓1 up to the reflector's sign, so in
        // one of the two the first root-free step has γ = d[m] − σ = 0 (the iteration's c = 0 branch, which the
        // lockstep step does not special-case). Such a lane must come back flagged (the cost path then uses LAPACK)
        // or with the right eigenvalues, never with wrong finite ones.
        var width = (SimdWidth)lanes;
        foreach (double corner in new[] { 1.0, -1.0 })
        {
            double[] m = [0, 1, 0, 1, 0, 0.5, 0, 0.5, corner];
            var matrices = Enumerable.Range(0, lanes).Select(q => q % 2 == 0 ? m : RandomSpd(3, q)).ToArray();
            int failed = Solve(width, matrices, 3, null, out var values);
            for (int q = 0; q < lanes; q++)
            {
                if ((failed >> q & 1) == 0)
                {
                    AssertMatchesLapack(Lapack.Default, matrices[q], values[q], 3, $"corner {corner} lane {q}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Structured_and_clustered_lanes_get_orthonormal_eigenvectors(int lanes)
    {
        // Repeated, split and zero spectra make twisted-factorization vectors parallel or degenerate: the solver must
        // notice and still return orthonormal eigenvectors, for every lane, whatever its neighbours are.
        var width = (SimdWidth)lanes;
        int d = 12;
        var pool = StructuredPool(d);
        // Pairs of eigenvalues 1e-6, 1e-9 and 1e-12 apart (relative), amid a spread spectrum.
        foreach (double gap in new[] { 1e-6, 1e-9, 1e-12 })
        {
            pool.Add(WithSpectrum(Enumerable.Range(0, d).Select(k => 1.0 + k / 2 + (k % 2) * gap).ToArray(), 20));
        }
        var rng = new Random(8);
        for (int round = 0; round < 6; round++)
        {
            var matrices = Enumerable.Range(0, lanes).Select(q => pool[(q + rng.Next(pool.Count)) % pool.Count]).ToArray();
            var b = Enumerable.Range(0, lanes).Select(_ => Identity(d)).ToArray();
            Assert.Equal(0, Solve(width, matrices, d, b, out var values));
            for (int q = 0; q < lanes; q++)
            {
                AssertEigenpairs(matrices[q], values[q], b[q], d, $"round {round} lane {q}");
                AssertMatchesLapack(Lapack.Default, matrices[q], values[q], d, $"round {round} lane {q}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(33)]
    public void Twisted_factorizations_serve_distinct_spectra_and_decline_repeated_ones(int d)
    {
        // The eigenvector path proper (Tridiagonalize, ApplyReflectors, then the twisted factorizations) at AVX-512
        // or the widest width here: random lanes and a diagonal lane (exactly zero couplings, exact zero pivots) are
        // served; a lane with an exactly repeated eigenvalue makes the group decline, with T restored for the rotations.
        int lanes = (int)SimdDispatch.Best;
        var matrices = Enumerable.Range(0, lanes).Select(q => q == 1 && d > 1
            ? Diagonal(Enumerable.Range(0, d).Select(k => (double)(d - k)).ToArray())
            : RandomSpd(d, 60 + q)).ToArray();
        var (status, values, rows) = RunTwisted(matrices, d);
        Assert.Equal(0, status);
        for (int q = 0; q < lanes; q++)
        {
            AssertEigenpairs(matrices[q], values[q], rows[q], d, $"d={d} lane {q}");
            AssertMatchesLapack(Lapack.Default, matrices[q], values[q], d, $"d={d} lane {q}");
        }
        if (d > 1)
        {
            matrices[lanes - 1] = WithSpectrum(Enumerable.Range(0, d).Select(k => k < 2 ? 3.0 : 1.0 + k).ToArray(), 61);
            var (declined, _, _) = RunTwisted(matrices, d);
            Assert.Equal(-1, declined);
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    public void Spread_spectra_are_served_by_refined_twisted_vectors(int d)
    {
        // Spectra over 12 orders of magnitude (log-uniform, as the linear bridges' K = YᵀY of an underactuated system):
        // the small eigenvalues are close relative to ‖A‖, so the plain twisted path declines; the spread variant
        // accepts the overlaps, orthonormalises the rows and must give eigenpairs as accurate as the rotations'.
        int lanes = (int)SimdDispatch.Best;
        var matrices = Enumerable.Range(0, lanes).Select(q =>
        {
            var rng = new Random(700 + q);
            return WithSpectrum(Enumerable.Range(0, d).Select(_ => Math.Pow(10, -4 + 12 * rng.NextDouble())).ToArray(), 800 + q);
        }).ToArray();
        Assert.Equal(-1, RunTwisted(matrices, d).Status);
        var (status, values, rows) = RunTwisted(matrices, d, spread: true);
        Assert.Equal(0, status);
        for (int q = 0; q < lanes; q++)
        {
            AssertEigenpairs(matrices[q], values[q], rows[q], d, $"d={d} lane {q}");
            AssertMatchesLapack(Lapack.Default, matrices[q], values[q], d, $"d={d} lane {q}");
        }
    }

    /// <summary>Runs the twisted-factorization path on one lane group with B = I; returns its status, values and rows.</summary>
    private static (int Status, double[][] Values, double[][] Rows) RunTwisted(double[][] matrices, int d, bool spread = false)
    {
        var width = SimdDispatch.Best;
        int lanes = (int)width;
        var a = new double[d * d * lanes];
        var b = new double[d * d * lanes];
        for (int q = 0; q < lanes; q++)
        {
            for (int e = 0; e < d * d; e++)
            {
                a[e * lanes + q] = matrices[q][e];
                b[e * lanes + q] = e % d == e / d ? 1 : 0;
            }
        }
        var w = new double[d * lanes];
        var scratch = new double[LockstepSymmetricEigen.ScratchLength(d, lanes)];
        int status = (width, spread) switch
        {
            (SimdWidth.V512, false) => LockstepSymmetricEigen.SolveWithTwistsOnly<Simd512, Vector512<double>>(a, b, w, scratch, d),
            (SimdWidth.V256, false) => LockstepSymmetricEigen.SolveWithTwistsOnly<Simd256, Vector256<double>>(a, b, w, scratch, d),
            (SimdWidth.V128, false) => LockstepSymmetricEigen.SolveWithTwistsOnly<Simd128, Vector128<double>>(a, b, w, scratch, d),
            (_, false) => LockstepSymmetricEigen.SolveWithTwistsOnly<SimdScalar, double>(a, b, w, scratch, d),
            (SimdWidth.V512, true) => LockstepSymmetricEigen.SolveSpreadWithTwistsOnly<Simd512, Vector512<double>>(a, b, w, scratch, d),
            (SimdWidth.V256, true) => LockstepSymmetricEigen.SolveSpreadWithTwistsOnly<Simd256, Vector256<double>>(a, b, w, scratch, d),
            (SimdWidth.V128, true) => LockstepSymmetricEigen.SolveSpreadWithTwistsOnly<Simd128, Vector128<double>>(a, b, w, scratch, d),
            (_, true) => LockstepSymmetricEigen.SolveSpreadWithTwistsOnly<SimdScalar, double>(a, b, w, scratch, d),
        };
        var values = new double[lanes][];
        var rows = new double[lanes][];
        for (int q = 0; q < lanes; q++)
        {
            values[q] = Enumerable.Range(0, d).Select(k => w[k * lanes + q]).ToArray();
            rows[q] = Enumerable.Range(0, d * d).Select(e => b[e * lanes + q]).ToArray();
        }
        return (status, values, rows);
    }

    private static double[] Identity(int d) => Diagonal(Enumerable.Repeat(1.0, d).ToArray());

    private static double[] Diagonal(double[] values)
    {
        int d = values.Length;
        var m = new double[d * d];
        for (int k = 0; k < d; k++)
        {
            m[k * d + k] = values[k];
        }
        return m;
    }

    /// <summary>
    /// Q diag(λ) Qᵀ with Q orthogonal: a product of d Householder reflectors from seeded random vectors, in managed
    /// code. (Taking Q from MKL's eigenvectors made the inputs differ in the last bits from run to run — MKL picks
    /// code paths by memory alignment — and with them whether a lane with exactly repeated eigenvalues was handed
    /// back: the test was flaky.)
    /// </summary>
    private static double[] WithSpectrum(double[] spectrum, int seed)
    {
        int d = spectrum.Length;
        var rng = new Random(seed);
        var q = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            q[i * d + i] = 1;
        }
        var v = new double[d];
        var qv = new double[d];
        for (int r = 0; r < d; r++)
        {
            double vv = 0;
            for (int i = 0; i < d; i++)
            {
                v[i] = rng.NextDouble() * 2 - 1;
                vv += v[i] * v[i];
            }
            // Q ← Q (I − 2 v vᵀ / vᵀv); row k of q is column k of Q.
            for (int k = 0; k < d; k++)
            {
                double dot = 0;
                for (int i = 0; i < d; i++)
                {
                    dot += q[k * d + i] * v[i];
                }
                qv[k] = 2 * dot / vv;
            }
            for (int k = 0; k < d; k++)
            {
                for (int i = 0; i < d; i++)
                {
                    q[k * d + i] -= qv[k] * v[i];
                }
            }
        }
        var m = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double sum = 0;
                for (int k = 0; k < d; k++)
                {
                    sum += q[k * d + i] * spectrum[k] * q[k * d + j];
                }
                m[i * d + j] = sum;
            }
        }
        // Symmetrise exactly (the sum above rounds differently for (i, j) and (j, i) only by ordering; make sure).
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                m[j * d + i] = m[i * d + j];
            }
        }
        return m;
    }

    private static double[] BlockDiagonal(double[] a, double[] b, int d)
    {
        int na = (int)Math.Round(Math.Sqrt(a.Length)), nb = d - na;
        var m = new double[d * d];
        for (int i = 0; i < na; i++)
        {
            for (int j = 0; j < na; j++)
            {
                m[i * d + j] = a[i * na + j];
            }
        }
        for (int i = 0; i < nb; i++)
        {
            for (int j = 0; j < nb; j++)
            {
                m[(na + i) * d + na + j] = b[i * nb + j];
            }
        }
        return m;
    }
}

using CsCheck;
using GmmFlow.Native;
using GmmFlow.Tests.Costs;
using static GmmFlow.Tests.Dynamics.DynamicsTestHelpers;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Dynamics;

/// <summary>
/// The kernels of the per-pair set-up against independent references: the row-oriented eigensolver against LAPACK
/// dsyevd, the register-blocked products and triangular solves against naive loops, the factor-based pair algebra
/// against the direct reduction (triangular factor of Σ̂0, LAPACK eigenvectors, explicit inverses), and the
/// allocation-free frames.
/// </summary>
public class PairSetupKernelTests
{
    private static double[] RandomSymmetric(int n, int seed, int kind)
    {
        var rng = new Random(seed);
        var a = new double[n * n];
        switch (kind)
        {
            case 0: // general symmetric
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        a[i * n + j] = a[j * n + i] = Normal(rng);
                    }
                }
                break;
            case 1: // SPD
                return RandomSpd(n, seed);
            case 2: // repeated eigenvalues: Q diag(1, 1, 2, 2, …) Qᵀ
            {
                var q = RandomGeneral(n, n, seed);
                var (qq, _) = QrQ(q, n);
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        double s = 0;
                        for (int k = 0; k < n; k++)
                        {
                            s += qq[i * n + k] * (1 + k / 2) * qq[j * n + k];
                        }
                        a[i * n + j] = s;
                    }
                }
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < i; j++)
                    {
                        a[i * n + j] = a[j * n + i] = 0.5 * (a[i * n + j] + a[j * n + i]);
                    }
                }
                break;
            }
            default: // tridiagonal with a zero last row and column (exact zero reflectors and a zero eigenvalue)
                for (int i = 0; i + 1 < n; i++)
                {
                    a[i * n + i] = Normal(rng);
                    if (i + 2 < n)
                    {
                        a[i * n + i + 1] = a[(i + 1) * n + i] = Normal(rng);
                    }
                }
                break;
        }
        return a;
    }

    // Q of a Gram–Schmidt QR (columns orthonormal), independent of the code under test.
    private static (double[] Q, int Rank) QrQ(double[] a, int n)
    {
        var q = (double[])a.Clone();
        for (int j = 0; j < n; j++)
        {
            for (int pass = 0; pass < 2; pass++)
            {
                for (int k = 0; k < j; k++)
                {
                    double d = 0;
                    for (int i = 0; i < n; i++)
                    {
                        d += q[i * n + k] * q[i * n + j];
                    }
                    for (int i = 0; i < n; i++)
                    {
                        q[i * n + j] -= d * q[i * n + k];
                    }
                }
            }
            double norm = 0;
            for (int i = 0; i < n; i++)
            {
                norm += q[i * n + j] * q[i * n + j];
            }
            norm = Math.Sqrt(norm);
            for (int i = 0; i < n; i++)
            {
                q[i * n + j] /= norm;
            }
        }
        return (q, n);
    }

    [Fact]
    public void Row_oriented_eigen_matches_lapack_and_gives_orthonormal_eigenvectors()
    {
        foreach (var lapack in Lapack.Available())
        {
            Gen.Select(Gen.Int[1, 24], Gen.Int[0, 3], Gen.Int).Sample((n, kind, seed) =>
            {
                var a = RandomSymmetric(n, seed, kind);
                double scale = Math.Max(1, MaxAbs(a));
                var values = new double[n];
                var vectors = new double[n * n];
                Assert.True(SmallSymmetricEigen.DecomposeRowOriented(a, n, values, vectors, new double[n]));
                var reference = (double[])a.Clone();
                var expected = new double[n];
                lapack.SymmetricEigen(reference, n, expected, vectors: false);
                var sorted = (double[])values.Clone();
                Array.Sort(sorted);
                Assert.True(MaxAbsDiff(sorted, expected) <= 1e-13 * n * scale, $"{lapack.Kind} n = {n} kind {kind}: eigenvalues");
                AssertEigenDecomposition(a, n, values, vectors, 1e-13 * n * scale, 1e-13 * n, $"n = {n} kind {kind}:");
            }, iter: 60);
        }
    }

    [Fact]
    public void Blocked_products_and_triangular_solves_match_naive_loops()
    {
        Gen.Select(Gen.Int[1, 20], Gen.Int[1, 20], Gen.Int[1, 7], Gen.Int).Sample((r, k, colsOver4, seed) =>
        {
            foreach (int cols in new[] { 4 * colsOver4, 4 * colsOver4 - 1 })
            {
                if (cols < 1)
                {
                    continue;
                }
                foreach (bool ta in new[] { false, true })
                {
                    foreach (bool tb in new[] { false, true })
                    {
                        var a = RandomGeneral(r, k, seed);
                        var b = RandomGeneral(k, cols, seed + 1);
                        var c = new double[r * cols];
                        SmallDense.Multiply(a, ta, b, tb, c, r, k, cols);
                        var expected = Multiply(a, b, r, k, cols, ta, tb);
                        Assert.True(MaxAbsDiff(c, expected) <= 1e-13 * k * Math.Max(1, MaxAbs(expected)),
                            $"r = {r}, k = {k}, cols = {cols}, Aᵀ {ta}, Bᵀ {tb}");
                    }
                }
            }
            if (r == k)
            {
                int n = r;
                var square = new double[n * n];
                SmallDense.Multiply(RandomGeneral(n, n, seed), RandomGeneral(n, n, seed + 3), square, n);
                Assert.True(MaxAbsDiff(square, Multiply(RandomGeneral(n, n, seed), RandomGeneral(n, n, seed + 3), n, n, n))
                    <= 1e-13 * n * Math.Max(1, MaxAbs(square)), $"square n = {n}");
                var l = new double[n * n];
                Assert.True(SmallDense.TryCholesky(RandomSpd(n, seed), l, n));
                foreach (int cols in new[] { 1, 3, 8, 16 })
                {
                    var rhs = RandomGeneral(n, cols, seed + 5);
                    var x = (double[])rhs.Clone();
                    SmallDense.ForwardSolve(l, x, n, cols);
                    Assert.True(MaxAbsDiff(Multiply(l, x, n, n, cols), rhs) <= 1e-12 * Math.Max(1, MaxAbs(rhs)), $"L⁻¹B n = {n} cols = {cols}");
                    x = (double[])rhs.Clone();
                    SmallDense.BackwardSolveTransposed(l, x, n, cols);
                    Assert.True(MaxAbsDiff(Multiply(l, x, n, n, cols, transA: true), rhs) <= 1e-12 * Math.Max(1, MaxAbs(rhs)),
                        $"L⁻ᵀB n = {n} cols = {cols}");
                }
            }
        }, iter: 80);
    }

    [Fact]
    public void Sum_of_logs_equals_the_term_by_term_sum_over_the_whole_range()
    {
        var rng = new Random(4);
        foreach (double spread in new[] { 1.0, 1e3, 1e40, 1e150 })
        {
            var x = new double[40];
            double expected = 0;
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = Math.Pow(spread, 2 * rng.NextDouble() - (i % 3 == 0 ? 1.5 : 0.5));
                expected += Math.Log(x[i]);
            }
            Assert.Equal(expected, SmallDense.SumOfLogs(x), 1e-12 * Math.Max(1, Math.Abs(expected)));
        }
    }

    /// <summary>
    /// The set-up through the endpoint factors against the direct reduction of the theory page: Σ̂0 = RΣ0Rᵀ, Σ̂1 = L⁻¹Σ1L⁻ᵀ
    /// (R = L⁻¹Φ), the triangular factor L̂0 of Σ̂0, LAPACK's eigenvectors of L̂0ᵀΣ̂1L̂0, Ĉ = L̂0 V diag(c) Vᵀ L̂0⁻¹,
    /// S01 = Φ⁻¹LĈLᵀ, and Σ(T/2), Π(T/2) from the marginal formulas with explicit inverses.
    /// </summary>
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 2)]
    [InlineData(8, 4)]
    [InlineData(16, 8)]
    [InlineData(3, 3)]
    [InlineData(8, 8)]
    [InlineData(16, 16)]
    public void Factor_based_set_up_equals_the_direct_reduction(int n, int m)
    {
        foreach (double sigma in new[] { 0.0, 0.3, 1.0 })
        {
            for (int trial = 0; trial < 3; trial++)
            {
                int seed = 100 * n + 10 * trial;
                var d = RandomLti(n, m, seed, horizon: 1.2);
                var rng = new Random(seed);
                double[] m0 = new double[n], m1 = new double[n];
                for (int i = 0; i < n; i++)
                {
                    m0[i] = Normal(rng);
                    m1[i] = 2 * Normal(rng);
                }
                var s0 = RandomSpd(n, seed + 1, 0.3);
                var s1 = RandomSpd(n, seed + 2, 0.3);
                var bridge = LinearGaussianBridge.Create(d, m0, s0, m1, s1, sigma);
                var (cost, cross, sigmaMid, piMid) = DirectReduction(d, m0, s0, m1, s1, sigma * sigma);
                var gram = new double[n * n];
                d.Gramian(d.Horizon, 0, gram);
                var gramValues = JacobiEigenvalues(gram, n);
                double kappa = gramValues.Max() / gramValues.Min();
                string where = $"n = {n}, σ = {sigma}, trial {trial}, κ(M) = {kappa:E1}";
                Assert.True(Math.Abs(bridge.Cost - cost) <= Math.Max(1e-12, 1e-16 * kappa) * Math.Max(1, Math.Abs(cost)), $"{where}: J {bridge.Cost:R} vs {cost:R}");
                var c = new double[n * n];
                bridge.CrossCovariance(c);
                if (sigma == 0)
                {
                    // Deterministic coupling X_T = m1 + A(X0 − m0): S01ᵀΣ0⁻¹S01 = Σ1 (a certificate for both routes).
                    var s0Inv = Reference.Inverse(s0, n);
                    double ours = RelDiff(Multiply(Multiply(c, s0Inv, n, n, n, transA: true), c, n, n, n), s1);
                    double direct = RelDiff(Multiply(Multiply(cross, s0Inv, n, n, n, transA: true), cross, n, n, n), s1);
                    Assert.True(ours <= Math.Max(1e-11, 1e-15 * kappa * kappa), $"{where}: S01ᵀΣ0⁻¹S01 − Σ1 {ours:E2} (direct route {direct:E2})");
                }
                // Both routes amplify rounding by the reduction's whitening (κ(M) from L⁻¹, squared in the reduced pair):
                // strict tolerances for well-conditioned Gramians (m = n), κ-scaled ones for few controls.
                double loose = 1e-15 * kappa * kappa;
                Assert.True(RelDiff(c, cross) <= Math.Max(1e-11, loose), $"{where}: Cov(X0, XT) {RelDiff(c, cross):E2}");
                Assert.True(RelDiff(Cov(bridge, 0.6), sigmaMid) <= Math.Max(1e-11, loose), $"{where}: Σ(T/2) {RelDiff(Cov(bridge, 0.6), sigmaMid):E2}");
                Assert.True(RelDiff(Pi(bridge, 0.6), piMid) <= Math.Max(1e-9, loose), $"{where}: Π(T/2) {RelDiff(Pi(bridge, 0.6), piMid):E2}");
            }
        }
    }

    private static (double Cost, double[] Cross, double[] SigmaMid, double[] PiMid) DirectReduction(LinearDynamics d, double[] m0, double[] s0,
        double[] m1, double[] s1, double eps)
    {
        int n = d.StateDimension, nn = n * n;
        double horizon = d.Horizon, ta = 0.5 * horizon;
        var phi = new double[nn];
        var gram = new double[nn];
        d.Transition(horizon, 0, phi);
        d.Gramian(horizon, 0, gram);
        var l = NaiveCholesky(gram, n);
        var lInv = LowerInverse(l, n);
        var r = Multiply(lInv, phi, n, n, n);
        var hs0 = Multiply(Multiply(r, s0, n, n, n), r, n, n, n, transB: true);
        var hs1 = Multiply(Multiply(lInv, s1, n, n, n), lInv, n, n, n, transB: true);
        var l0 = NaiveCholesky(hs0, n);
        var k = Multiply(Multiply(l0, hs1, n, n, n, transA: true), l0, n, n, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                k[i * n + j] = k[j * n + i] = 0.5 * (k[i * n + j] + k[j * n + i]);
            }
        }
        var gamma = new double[n];
        Lapack.Default.SymmetricEigen(k, n, gamma, vectors: true); // row j of k: eigenvector j
        var hm0 = Multiply(r, m0, n, n, 1);
        var hm1 = Multiply(lInv, m1, n, n, 1);
        double cost = 0, logDet1 = Reference.LogAbsDeterminant(hs1, n);
        for (int i = 0; i < n; i++)
        {
            cost += (hm1[i] - hm0[i]) * (hm1[i] - hm0[i]) + hs0[i * n + i] + hs1[i * n + i];
        }
        var x = new double[nn];
        for (int j = 0; j < n; j++)
        {
            double g = Math.Max(0, gamma[j]), delta = Math.Sqrt(4 * g + eps * eps), cj = 2 * g / (delta + eps);
            if (eps > 0)
            {
                double gj = 1 + Math.Sqrt(1 + 4 * g / (eps * eps));
                cost -= eps * (gj - Math.Log(gj));
            }
            else
            {
                cost -= 2 * Math.Sqrt(g);
            }
            for (int p = 0; p < n; p++)
            {
                for (int q = 0; q < n; q++)
                {
                    x[p * n + q] += k[j * n + p] * cj * k[j * n + q];
                }
            }
        }
        if (eps > 0)
        {
            cost += -eps * logDet1 + n * eps * (1 + Math.Log(eps / 2));
        }
        var chat = Multiply(Multiply(l0, x, n, n, n), LowerInverse(l0, n), n, n, n);
        var phiInv = Reference.Inverse(phi, n);
        var cross = Multiply(Multiply(Multiply(phiInv, l, n, n, n), chat, n, n, n), l, n, n, n, transB: true);

        // Marginal and Π at t_a (time-invariant: Φ(T, t_a) = Φ(t_a, 0), M(T, t_a) = M(t_a, 0)).
        var pt = new double[nn];
        var mt = new double[nn];
        d.Transition(ta, 0, pt);
        d.Gramian(ta, 0, mt);
        var gramInv = Reference.Inverse(gram, n);
        var g0 = Multiply(Multiply(mt, pt, n, n, n, transB: true), gramInv, n, n, n); // M(t,0)Φ(T,t)ᵀM⁻¹
        var f0 = Multiply(g0, phi, n, n, n);
        for (int i = 0; i < nn; i++)
        {
            f0[i] = pt[i] - f0[i];
        }
        var fs01gt = Multiply(Multiply(f0, cross, n, n, n), g0, n, n, n, transB: true);
        var sig = Multiply(Multiply(f0, s0, n, n, n), f0, n, n, n, transB: true);
        var gsg = Multiply(Multiply(g0, s1, n, n, n), g0, n, n, n, transB: true);
        var noise = Multiply(Multiply(g0, pt, n, n, n), mt, n, n, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int q = i * n + j;
                sig[q] += gsg[q] + fs01gt[q] + fs01gt[j * n + i] + eps * (mt[q] - noise[q]);
            }
        }
        // Π = Φ(T,t)ᵀ M(T,t)⁻¹ (Cov(X_T, X_t) Σ_t⁻¹ − Φ(T,t)), Cov(X_T, X_t) = S01ᵀFᵀ + Σ1Gᵀ.
        var covTt = Multiply(cross, f0, n, n, n, transA: true, transB: true);
        var s1gt = Multiply(s1, g0, n, n, n, transB: true);
        for (int i = 0; i < nn; i++)
        {
            covTt[i] += s1gt[i];
        }
        var inner = Multiply(covTt, Reference.Inverse(sig, n), n, n, n);
        for (int i = 0; i < nn; i++)
        {
            inner[i] -= pt[i];
        }
        var pi = Multiply(Multiply(pt, Reference.Inverse(mt, n), n, n, n, transA: true), inner, n, n, n);
        return (cost, cross, sig, pi);
    }

    private static double[] LowerInverse(double[] l, int n)
    {
        var x = new double[n * n];
        for (int c = 0; c < n; c++)
        {
            for (int i = 0; i < n; i++)
            {
                double s = i == c ? 1 : 0;
                for (int k = 0; k < i; k++)
                {
                    s -= l[i * n + k] * x[k * n + c];
                }
                x[i * n + c] = s / l[i * n + i];
            }
        }
        return x;
    }

    [Fact]
    public void Frames_and_field_evaluation_allocate_nothing_once_warm()
    {
        const int n = 4, m = 2;
        var lti = RandomLti(n, m, 3);
        double[] times = [0, 0.5, 1.5];
        var aGrid = new double[3 * n * n];
        var bGrid = new double[3 * n * m];
        for (int k = 0; k < 3; k++)
        {
            RandomGeneral(n, n, 20 + k).Select(v => 0.3 * v).ToArray().CopyTo(aGrid, k * n * n);
            RandomGeneral(n, m, 30 + k).CopyTo(bGrid, k * n * m);
        }
        var grid = LinearDynamics.PiecewiseLinear(times, aGrid, bGrid, n, m);
        foreach (var dynamics in new[] { lti, grid })
        {
            var bridge = LinearGaussianBridge.Create(dynamics, new double[n], RandomSpd(n, 1, 0.5), Enumerable.Repeat(1.0, n).ToArray(),
                RandomSpd(n, 2, 0.5), 0.4);
            double[] mean = new double[n], cov = new double[n * n], gain = new double[n * n], offset = new double[n];
            double horizon = dynamics.Horizon;
            for (int step = 0; step < 40; step++)
            {
                bridge.Evaluate(horizon * step / 41.0, mean, cov, gain, offset, BridgeField.ProbabilityFlow);
            }
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int step = 0; step < 40; step++)
            {
                bridge.Evaluate(horizon * (step + 0.5) / 41.0, mean, cov, gain, offset, BridgeField.ProbabilityFlow);
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }
}

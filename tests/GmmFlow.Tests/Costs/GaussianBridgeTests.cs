using CsCheck;
using GmmFlow.Native;
using GmmFlow.Tests.Support;
using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Costs;

public class GaussianBridgeTests
{
    private static readonly double[] s_times = [0.0, 0.1, 0.35, 0.6, 0.9, 1.0];

    private sealed record Case(int N, double[] M0, double[] S0, double[] M1, double[] S1)
    {
        public double Scale => SquaredDistance(M0, M1) + Trace(S0, N) + Trace(S1, N);
    }

    private static Case RandomCase(int n, int seed, double condition = 0)
        => new(n, RandomMean(n, seed), condition > 0 ? SpdWithCondition(n, seed, condition) : RandomSpd(n, seed),
            RandomMean(n, seed + 1), RandomSpd(n, seed + 2));

    private static readonly (CostKind Kind, double Noise)[] s_bridges =
    [
        (CostKind.Surrogate, 0), (CostKind.Wasserstein, 0), (CostKind.SchrodingerBridge, 0.7),
        (CostKind.EntropicTransport, 0.2), (CostKind.SchrodingerBridge, 0),
    ];

    private static GaussianBridge Bridge(Lapack lapack, CostKind kind, Case c, double noise)
        => GaussianBridge.Create(lapack, kind, c.M0, c.S0, c.M1, c.S1, c.N, noise);

    private static (double[] Mean, double[] Sigma, double[] Gain, double[] Offset) Evaluate(GaussianBridge b, double t, BridgeField field = BridgeField.Drift)
    {
        int n = b.Dimension, len = b.IsDiagonal ? n : n * n;
        double[] mean = new double[n], sigma = new double[len], gain = new double[len], offset = new double[n];
        b.Evaluate(t, mean, sigma, gain, offset, field);
        return (mean, sigma, gain, offset);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Bridges_hit_both_endpoints(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[1, 16], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var c = RandomCase(n, seed);
            foreach (var (kind, noise) in s_bridges)
            {
                var b = Bridge(lapack, kind, c, noise);
                var (m0, s0, _, off) = Evaluate(b, 0);
                var (m1, s1, _, _) = Evaluate(b, 1);
                double tol = 1e-12 * c.Scale;
                Assert.True(MaxAbsDiff(m0, c.M0) <= tol && MaxAbsDiff(m1, c.M1) <= tol, $"{kind}: mean endpoints");
                Assert.True(MaxAbsDiff(s0, c.S0) <= tol, $"{kind} n={n}: Σ(0) off by {MaxAbsDiff(s0, c.S0)}");
                Assert.True(MaxAbsDiff(s1, c.S1) <= tol, $"{kind} n={n}: Σ(1) off by {MaxAbsDiff(s1, c.S1)}");
                Assert.True(MaxAbsDiff(off, Add(c.M1, 1, c.M0, -1)) <= tol);
            }
        }, iter: 30);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Covariance_follows_the_field_lyapunov_equation(LapackProviderKind provider)
    {
        // dΣ/dt = AΣ + ΣAᵀ (+ εI for the SDE drift) by central differences: the field transports the marginals.
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[1, 12], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var c = RandomCase(n, seed);
            foreach (var (kind, noise) in s_bridges)
            {
                var b = Bridge(lapack, kind, c, noise);
                foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
                {
                    foreach (double t in new[] { 0.1, 0.35, 0.6, 0.9 })
                    {
                        const double h = 1e-5;
                        var (_, plus, _, _) = Evaluate(b, t + h);
                        var (_, minus, _, _) = Evaluate(b, t - h);
                        var (_, sigma, gain, _) = Evaluate(b, t, field);
                        var derivative = Add(plus, 0.5 / h, minus, -0.5 / h);
                        var asa = Multiply(gain, sigma, n, n, n);
                        var lyapunov = Add(asa, 1, Transpose(asa, n), 1);
                        if (field == BridgeField.Drift)
                        {
                            for (int i = 0; i < n; i++)
                            {
                                lyapunov[i * n + i] += noise * noise;
                            }
                        }
                        double err = MaxAbsDiff(derivative, lyapunov);
                        Assert.True(err <= 1e-6 * c.Scale, $"{kind} σ={noise} {field} n={n} t={t}: |dΣ/dt − (AΣ + ΣAᵀ)| = {err}");
                    }
                }
            }
        }, iter: 20);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Monge_matrix_is_spd_pushes_sigma0_to_sigma1_and_matches_sqrtm(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[1, 40], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var c = RandomCase(n, seed);
            var b = Bridge(lapack, CostKind.Wasserstein, c, 0);
            var t = new double[n * n];
            b.CouplingGain(t);
            var pushed = Multiply(Multiply(t, c.S0, n, n, n), t, n, n, n);
            Assert.True(MaxAbsDiff(pushed, c.S1) <= 1e-11 * MaxAbs(c.S1) * n, $"n={n}: |TΣ0T − Σ1| = {MaxAbsDiff(pushed, c.S1)}");
            Assert.True(MaxAbsDiff(t, Transpose(t, n)) == 0);
            Assert.True(JacobiEigenvalues(t, n)[0] > 0);
            var reference = Monge(c.S0, c.S1, n);
            Assert.True(MaxAbsDiff(t, reference) <= 1e-10 * MaxAbs(reference) * n, $"n={n}: T vs sqrtm T {MaxAbsDiff(t, reference)}");
            // Geodesic gain (T − I)((1−t)I + tT)⁻¹ (docs/theory.md#w2-geodesic).
            foreach (double time in s_times)
            {
                var (_, _, gain, _) = Evaluate(b, time);
                var expected = Multiply(Add(reference, 1, Identity(n), -1), Inverse(Add(Identity(n), 1 - time, reference, time), n), n, n, n);
                Assert.True(MaxAbsDiff(gain, expected) <= 1e-9 * Math.Max(1, MaxAbs(expected)), $"n={n} t={time}: geodesic gain");
            }
        }, iter: 30);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Schrodinger_cross_covariance_and_gains_match_sqrtm_reference(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 1_000_000], Gen.Double[0.02, 3]).Sample((n, seed, noise) =>
        {
            var c = RandomCase(n, seed);
            double eps = noise * noise;
            var b = Bridge(lapack, CostKind.SchrodingerBridge, c, noise);
            var cross = new double[n * n];
            b.CrossCovariance(cross);
            var reference = SchrodingerCross(c.S0, c.S1, n, eps);
            Assert.True(MaxAbsDiff(cross, reference) <= 1e-10 * MaxAbs(reference) * n, $"n={n} σ={noise}: C vs sqrtm C {MaxAbsDiff(cross, reference)}");
            // G = Σ0⁻¹C is SPD (docs/theory.md#static-coupling).
            var g = new double[n * n];
            b.CouplingGain(g);
            Assert.True(MaxAbsDiff(g, Multiply(Inverse(c.S0, n), reference, n, n, n)) <= 1e-9 * MaxAbs(g) * n);
            Assert.True(MaxAbsDiff(g, Transpose(g, n)) <= 1e-14 * MaxAbs(g));
            Assert.True(JacobiEigenvalues(g, n)[0] > 0);
            foreach (double t in s_times)
            {
                foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
                {
                    var (sigmaRef, gainRef) = SchrodingerAt(c.S0, c.S1, reference, n, eps, t, field == BridgeField.ProbabilityFlow);
                    var (_, sigma, gain, _) = Evaluate(b, t, field);
                    Assert.True(MaxAbsDiff(sigma, sigmaRef) <= 1e-10 * c.Scale, $"n={n} t={t}: Σ_t");
                    Assert.True(MaxAbsDiff(gain, gainRef) <= 1e-8 * Math.Max(1, MaxAbs(gainRef)), $"n={n} t={t} {field}: gain {MaxAbsDiff(gain, gainRef)}");
                }
            }
        }, iter: 25);
    }

    [Fact]
    public void Conditional_law_of_the_coupling()
    {
        var c = RandomCase(5, 42);
        double[] x0 = RandomMean(5, 7), mean = new double[5], cov = new double[25], g = new double[25];
        foreach (var (kind, noise) in s_bridges)
        {
            var b = Bridge(Lapack.Default, kind, c, noise);
            b.CouplingGain(g);
            b.Conditional(x0, mean, cov);
            var shift = Multiply(g, Add(x0, 1, c.M0, -1), 5, 5, 1);
            Assert.True(MaxAbsDiff(mean, Add(c.M1, 1, shift, 1)) <= 1e-12 * c.Scale);
            double eps = kind is CostKind.SchrodingerBridge or CostKind.EntropicTransport ? noise * noise : 0;
            Assert.True(MaxAbsDiff(cov, g.Select(x => eps * x).ToArray()) <= 1e-15 * c.Scale);
            // Any coupling gain pushes Σ0 to Σ1 together with the conditional noise: G Σ0 Gᵀ + εG = Σ1.
            var total = Add(Multiply(Multiply(g, c.S0, 5, 5, 5), Transpose(g, 5), 5, 5, 5), 1, cov, 1);
            Assert.True(MaxAbsDiff(total, c.S1) <= 1e-11 * c.Scale, $"{kind} σ={noise}: GΣ0Gᵀ + εG vs Σ1 {MaxAbsDiff(total, c.S1)}");
        }
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Kinetic_energy_of_each_bridge_equals_its_cost(LapackProviderKind provider)
    {
        // ∫₀¹ |b|² + tr(A Σ Aᵀ) dt of the bridge's own drift = W2² (geodesic), surrogate (linear path), J (SB),
        // and W2² < surrogate: the geodesic is the cheaper path.
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[1, 10], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var c = RandomCase(n, seed);
            foreach (var (kind, noise) in s_bridges)
            {
                var b = Bridge(lapack, kind, c, noise);
                double energy = Integrate(t =>
                {
                    var (_, sigma, gain, offset) = Evaluate(b, t);
                    var ksk = Multiply(Multiply(gain, sigma, n, n, n), gain, n, n, n, transB: true);
                    return offset.Sum(x => x * x) + Trace(ksk, n);
                });
                Assert.True(Math.Abs(energy - b.Cost) <= 1e-9 * c.Scale, $"{kind} σ={noise} n={n}: energy {energy} vs cost {b.Cost}");
            }
            double w2 = Wasserstein(c.M0, c.S0, c.M1, c.S1, n);
            Assert.True(Math.Abs(Bridge(lapack, CostKind.Wasserstein, c, 0).Cost - w2) <= 1e-10 * c.Scale);
        }, iter: 15);
    }

    [Fact]
    public void Surrogate_flow_map_pushes_source_covariance_to_target()
    {
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var c = RandomCase(n, seed);
            var b = Bridge(Lapack.Default, CostKind.Surrogate, c, 0);
            var phi = new double[n * n];
            b.CouplingGain(phi);
            var pushed = Multiply(Multiply(phi, c.S0, n, n, n), phi, n, n, n, transB: true);
            Assert.True(MaxAbsDiff(pushed, c.S1) <= 1e-11 * MaxAbs(c.S1) * n);
            // Φ = (Σ1Σ0⁻¹)^½ = Σ0^½ (Σ0^-½ Σ1 Σ0^-½)^½ Σ0^-½ is independent of the Cholesky factor used to build it.
            var r0 = Sqrtm(c.S0, n);
            var ri0 = Function(c.S0, n, x => 1 / Math.Sqrt(x));
            var inner = Multiply(Multiply(ri0, c.S1, n, n, n), ri0, n, n, n);
            Symmetrize(inner, n);
            var expected = Multiply(Multiply(r0, Sqrtm(inner, n), n, n, n), ri0, n, n, n);
            Assert.True(MaxAbsDiff(phi, expected) <= 1e-10 * MaxAbs(expected) * n);
            // X1 = m1 + Φ(X0 − m0) ⇒ Cov(X0, X1) = Σ0 Φᵀ (Φ is not symmetric).
            var cross = new double[n * n];
            b.CrossCovariance(cross);
            Assert.True(MaxAbsDiff(cross, Multiply(c.S0, phi, n, n, n, transB: true)) <= 1e-12 * MaxAbs(cross) * n);
        }, iter: 30);
    }

    [Fact]
    public void Diagonal_bridges_match_full_bridges_on_diagonal_matrices()
    {
        Gen.Select(Gen.Int[1, 10], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            var rng = new Random(seed);
            double[] v0 = Enumerable.Range(0, n).Select(_ => 0.1 + 2 * rng.NextDouble()).ToArray();
            double[] v1 = Enumerable.Range(0, n).Select(_ => 0.1 + 2 * rng.NextDouble()).ToArray();
            double[] m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 1), f0 = new double[n * n], f1 = new double[n * n];
            for (int i = 0; i < n; i++)
            {
                f0[i * n + i] = v0[i];
                f1[i * n + i] = v1[i];
            }
            var fullSource = GaussianFactors.FromFull(m0, f0, 1, n, "source");
            var fullTarget = GaussianFactors.FromFull(m1, f1, 1, n, "target");
            var diagSource = GaussianFactors.FromDiagonal(m0, v0, 1, n, "source");
            var diagTarget = GaussianFactors.FromDiagonal(m1, v1, 1, n, "target");
            foreach (var (kind, noise) in s_bridges)
            {
                var full = GaussianBridge.Create(kind, fullSource, 0, fullTarget, 0, noise);
                var diag = GaussianBridge.Create(kind, diagSource, 0, diagTarget, 0, noise);
                Assert.True(diag.IsDiagonal && !full.IsDiagonal);
                Assert.Equal(full.Cost, diag.Cost, 1e-11);
                foreach (double t in s_times)
                {
                    foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
                    {
                        var (_, sf, gf, _) = Evaluate(full, t, field);
                        var (_, sd, gd, _) = Evaluate(diag, t, field);
                        for (int i = 0; i < n; i++)
                        {
                            Assert.Equal(sf[i * n + i], sd[i], 1e-11);
                            Assert.Equal(gf[i * n + i], gd[i], 1e-10);
                        }
                    }
                }
                double[] gFull = new double[n * n], gDiag = new double[n];
                full.CouplingGain(gFull);
                diag.CouplingGain(gDiag);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal(gFull[i * n + i], gDiag[i], 1e-11);
                }
            }
        }, iter: 20);
    }

    [Fact]
    public void Warm_evaluate_allocates_nothing()
    {
        var c = RandomCase(6, 3);
        foreach (var (kind, noise) in s_bridges)
        {
            var b = Bridge(Lapack.Default, kind, c, noise);
            double[] mean = new double[6], sigma = new double[36], gain = new double[36], offset = new double[6];
            b.Evaluate(0.3, mean, sigma, gain, offset, BridgeField.ProbabilityFlow);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int k = 0; k < 10; k++)
            {
                b.Evaluate(0.1 * k, mean, sigma, gain, offset);
                b.Field(0.05 * k, gain, offset, BridgeField.ProbabilityFlow);
                b.Mean(0.5, mean);
                b.Covariance(0.5, sigma);
            }
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void Bad_times_and_sizes_are_rejected()
    {
        var c = RandomCase(3, 5);
        var b = Bridge(Lapack.Default, CostKind.Wasserstein, c, 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Mean(1.5, new double[3]));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Covariance(double.NaN, new double[9]));
        Assert.Throws<ArgumentException>(() => b.Covariance(0.5, new double[8]));
        var f = GaussianFactors.FromFull(c.M0, c.S0, 1, 3, "source");
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianBridge.Create(CostKind.Surrogate, f, 1, f, 0));
    }
}

using CsCheck;
using GmmFlow.Native;
using GmmFlow.Tests.Support;
using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Costs;

public class GaussianCostsTests
{
    private static readonly Gen<(int N, int Seed)> s_cases = Gen.Select(Gen.Int[1, 64], Gen.Int[0, 1_000_000]);

    private static double Cost(Lapack lapack, CostKind kind, double[] m0, double[] s0, double[] m1, double[] s1, int n,
        double noise = 0, SchrodingerCostVariant variant = SchrodingerCostVariant.KineticEnergy, bool closedForms = true)
    {
        var f0 = GaussianFactors.FromFull(lapack, m0, s0, 1, n, "source");
        var f1 = GaussianFactors.FromFull(lapack, m1, s1, 1, n, "target");
        double pair = PairKernels.Cost(kind, noise * noise, variant, f0, 0, f1, 0, PairWorkspace.ForThread(n), closedForms);
        if (!closedForms || !LockstepPairCosts.Applies(f0))
        {
            return pair;
        }
        // d ≥ 3: cost matrices solve the eigenproblem in SIMD lockstep, the one-pair path with LAPACK. Every accuracy
        // assertion of these tests applies to the lockstep number returned here; the LAPACK one must agree with it.
        var matrix = new double[1];
        GaussianCosts.ComputeMatrix(kind, f0, f1, matrix, noise, variant, lockstep: true);
        // Both are backward stable; their difference scales with the conditioning like their errors do.
        double budget = 1e-13 * n * Math.Max(Condition(lapack, s0, n), Condition(lapack, s1, n)) * Math.Max(Scale(m0, s0, m1, s1, n), Math.Abs(pair));
        Assert.True(Math.Abs(matrix[0] - pair) <= budget, $"{kind} d={n}: lockstep {matrix[0]:R} vs LAPACK {pair:R}");
        return matrix[0];
    }

    private static double Condition(Lapack lapack, double[] s, int n)
    {
        var copy = (double[])s.Clone();
        var w = new double[n];
        lapack.SymmetricEigen(copy, n, w, vectors: false);
        return w.Max() / w.Min();
    }

    /// <summary>Scale of the terms that cancel in W2²: the error budget of any method is relative to this.</summary>
    private static double Scale(double[] m0, double[] s0, double[] m1, double[] s1, int n)
        => SquaredDistance(m0, m1) + Trace(s0, n) + Trace(s1, n);

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Wasserstein_matches_sqrtm_reference(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        s_cases.Sample((n, seed) =>
        {
            double[] s0 = RandomSpd(n, seed), s1 = RandomSpd(n, seed + 1), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 2);
            double expected = Wasserstein(m0, s0, m1, s1, n);
            double actual = Cost(lapack, CostKind.Wasserstein, m0, s0, m1, s1, n);
            Assert.True(Math.Abs(actual - expected) <= 1e-10 * Scale(m0, s0, m1, s1, n), $"n={n}: {actual} vs sqrtm {expected}");
        }, iter: 40);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Surrogate_matches_quadrature_of_kinetic_energy(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        s_cases.Sample((n, seed) =>
        {
            double[] s0 = RandomSpd(n, seed), s1 = RandomSpd(n, seed + 1), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 2);
            double expected = SurrogateByQuadrature(m0, s0, m1, s1, n);
            double actual = Cost(lapack, CostKind.Surrogate, m0, s0, m1, s1, n);
            Assert.True(Math.Abs(actual - expected) <= 1e-10 * Math.Abs(expected), $"n={n}: {actual} vs quadrature {expected}");
        }, iter: 25);
    }

    [Fact]
    public void Surrogate_is_never_below_wasserstein()
    {
        var lapack = Lapack.Default;
        Gen.Select(Gen.Int[1, 40], Gen.Int[0, 1_000_000], Gen.Double[0.001, 2]).Sample((n, seed, shift) =>
        {
            double[] s0 = RandomSpd(n, seed, shift), s1 = RandomSpd(n, seed + 7, shift), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 3);
            double w2 = Cost(lapack, CostKind.Wasserstein, m0, s0, m1, s1, n);
            double sur = Cost(lapack, CostKind.Surrogate, m0, s0, m1, s1, n);
            Assert.True(sur >= w2 - 1e-12 * Scale(m0, s0, m1, s1, n), $"n={n}: surrogate {sur} < W2² {w2}");
        }, iter: 200);
    }

    [Fact]
    public void Wasserstein_of_a_gaussian_with_itself_is_zero()
    {
        Gen.Select(Gen.Int[1, 48], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            double[] s = RandomSpd(n, seed), m = RandomMean(n, seed);
            double w2 = Cost(Lapack.Default, CostKind.Wasserstein, m, s, m, s, n);
            double sur = Cost(Lapack.Default, CostKind.Surrogate, m, s, m, s, n);
            Assert.True(w2 >= 0 && w2 <= 1e-12 * Trace(s, n), $"n={n}: W2(a,a) = {w2}");
            Assert.True(sur >= 0 && sur <= 1e-24 * Trace(s, n), $"n={n}: surrogate(a,a) = {sur}");
        }, iter: 50);
    }

    [Fact]
    public void One_dimensional_reference_values()
    {
        // N(0, 1) → N(2, 4): W2² = 4 + (1 − 2)² = 5; surrogate = 4 + ¾ log 4 (docs/theory.md#reference-values).
        double w2 = GaussianCosts.Pair(CostKind.Wasserstein, [0.0], [1.0], [2.0], [4.0], 1);
        double sur = GaussianCosts.Pair(CostKind.Surrogate, [0.0], [1.0], [2.0], [4.0], 1);
        Assert.Equal(5.0, w2, 1e-14);
        Assert.Equal(5.039720770839918, sur, 1e-14);
        Assert.Equal(4 + 0.75 * Math.Log(4), sur, 1e-14);
        Assert.Equal(5.0, GaussianCosts.PairDiagonal(CostKind.Wasserstein, [0.0], [1.0], [2.0], [4.0], 1), 1e-14);
        Assert.Equal(5.039720770839918, GaussianCosts.PairDiagonal(CostKind.Surrogate, [0.0], [1.0], [2.0], [4.0], 1), 1e-14);
    }

    [Theory]
    [InlineData(0.0, 100.07)]
    [InlineData(0.1, 100.74)]
    [InlineData(1.0, 103.48)]
    [InlineData(10.0, 125.56)]
    public void Gmmflow_toy_lp_objective_matches_published_numbers(double variance, double published)
    {
        // docs/theory.md#reference-values: source N(0, 0.4 I), 8 equal-weight targets N(10(cos θ, sin θ), 0.2 I). One source component, so
        // the LP coupling is forced (λ_1j = 1/8) and the objective is the mean of the row.
        double[] means1 = new double[16], covs1 = new double[32];
        for (int k = 0; k < 8; k++)
        {
            double theta = 2 * Math.PI * k / 8;
            means1[2 * k] = 10 * Math.Cos(theta);
            means1[2 * k + 1] = 10 * Math.Sin(theta);
            covs1[4 * k] = covs1[4 * k + 3] = 0.2;
        }
        var source = GaussianFactors.FromFull([0.0, 0.0], [0.4, 0, 0, 0.4], 1, 2, "source");
        var target = GaussianFactors.FromFull(means1, covs1, 8, 2, "target");
        var row = new double[8];
        var kind = variance == 0 ? CostKind.Wasserstein : CostKind.SchrodingerBridge;
        GaussianCosts.Compute(kind, source, target, row, Math.Sqrt(variance), SchrodingerCostVariant.GmmFlowReference);
        Assert.Equal(published, row.Average(), 1e-2);
        if (variance == 0)
        {
            Assert.Equal(101.2 - 4 * Math.Sqrt(0.08), row.Average(), 1e-12);
        }
        // The same numbers from diagonal storage.
        var sourceDiag = GaussianFactors.FromDiagonal([0.0, 0.0], [0.4, 0.4], 1, 2, "source");
        var targetDiag = GaussianFactors.FromDiagonal(means1, Enumerable.Repeat(0.2, 16).ToArray(), 8, 2, "target");
        var rowDiag = new double[8];
        GaussianCosts.Compute(kind, sourceDiag, targetDiag, rowDiag, Math.Sqrt(variance), SchrodingerCostVariant.GmmFlowReference);
        Assert.True(MaxAbsDiff(row, rowDiag) <= 1e-12 * 100);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Schrodinger_kinetic_energy_matches_quadrature(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[1, 24], Gen.Int[0, 1_000_000], Gen.Double[0.05, 3]).Sample((n, seed, noise) =>
        {
            double[] s0 = RandomSpd(n, seed), s1 = RandomSpd(n, seed + 1), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 2);
            double eps = noise * noise;
            double expected = SchrodingerByQuadrature(m0, s0, m1, s1, n, eps);
            double actual = Cost(lapack, CostKind.SchrodingerBridge, m0, s0, m1, s1, n, noise);
            Assert.True(Math.Abs(actual - expected) <= 1e-9 * Scale(m0, s0, m1, s1, n), $"n={n} σ={noise}: {actual} vs quadrature {expected}");
        }, iter: 25);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Entropic_cost_equals_objective_at_the_sqrtm_coupling(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[1, 24], Gen.Int[0, 1_000_000], Gen.Double[0.05, 3]).Sample((n, seed, noise) =>
        {
            double[] s0 = RandomSpd(n, seed), s1 = RandomSpd(n, seed + 1), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 2);
            double eps = noise * noise;
            // E|X0 − X1|² + 2ε KL(π | μ0⊗μ1) with KL = ½ log(det Σ0 det Σ1 / det Γ), Γ = [[Σ0, C], [Cᵀ, Σ1]].
            var c = SchrodingerCross(s0, s1, n, eps);
            var gamma = new double[4 * n * n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    gamma[i * 2 * n + j] = s0[i * n + j];
                    gamma[i * 2 * n + n + j] = c[i * n + j];
                    gamma[(n + i) * 2 * n + j] = c[j * n + i];
                    gamma[(n + i) * 2 * n + n + j] = s1[i * n + j];
                }
            }
            double objective = SquaredDistance(m0, m1) + Trace(s0, n) + Trace(s1, n) - 2 * Trace(c, n)
                + eps * (LogAbsDeterminant(s0, n) + LogAbsDeterminant(s1, n) - LogAbsDeterminant(gamma, 2 * n));
            double actual = Cost(lapack, CostKind.EntropicTransport, m0, s0, m1, s1, n, noise);
            Assert.True(Math.Abs(actual - objective) <= 1e-9 * Scale(m0, s0, m1, s1, n), $"n={n} σ={noise}: {actual} vs objective {objective}");
        }, iter: 25);
    }

    [Fact]
    public void Reference_code_variant_differs_from_kinetic_energy_by_one_component_terms()
    {
        // J − J_ref = ε log det Σ0 + dε(1 + log ε − log 2): independent of the target, so the LP plan is the same.
        Gen.Select(Gen.Int[1, 12], Gen.Int[0, 1_000_000], Gen.Double[0.1, 2]).Sample((n, seed, noise) =>
        {
            double[] s0 = RandomSpd(n, seed), s1 = RandomSpd(n, seed + 1), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 2);
            double eps = noise * noise;
            double j = Cost(Lapack.Default, CostKind.SchrodingerBridge, m0, s0, m1, s1, n, noise);
            double jRef = Cost(Lapack.Default, CostKind.SchrodingerBridge, m0, s0, m1, s1, n, noise, SchrodingerCostVariant.GmmFlowReference);
            double expected = eps * LogAbsDeterminant(s0, n) + n * eps * (1 + Math.Log(eps) - Math.Log(2));
            Assert.True(Math.Abs(j - jRef - expected) <= 1e-10 * Scale(m0, s0, m1, s1, n));
        }, iter: 50);
    }

    [Fact]
    public void Zero_noise_returns_wasserstein_exactly_and_small_noise_converges_to_it()
    {
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            double[] s0 = RandomSpd(n, seed), s1 = RandomSpd(n, seed + 1), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 2);
            double w2 = Cost(Lapack.Default, CostKind.Wasserstein, m0, s0, m1, s1, n);
            foreach (var kind in new[] { CostKind.SchrodingerBridge, CostKind.EntropicTransport })
            {
                foreach (var variant in new[] { SchrodingerCostVariant.KineticEnergy, SchrodingerCostVariant.GmmFlowReference })
                {
                    Assert.Equal(w2, Cost(Lapack.Default, kind, m0, s0, m1, s1, n, 0, variant));
                    double near = Cost(Lapack.Default, kind, m0, s0, m1, s1, n, 1e-4, variant);
                    // |cost − W2²| = O(ε log ε) with ε = 1e-8.
                    Assert.True(Math.Abs(near - w2) <= 1e-6 * Scale(m0, s0, m1, s1, n), $"{kind}/{variant} n={n}: {near} vs {w2}");
                }
            }
        }, iter: 30);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Two_by_two_closed_forms_match_general_path(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Double[1, 1e6], Gen.Double[0.01, 3]).Sample((seed, condition, noise) =>
        {
            double[] s0 = SpdWithCondition(2, seed, condition), s1 = RandomSpd(2, seed + 1, 0.05), m0 = RandomMean(2, seed), m1 = RandomMean(2, seed + 2);
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport })
            {
                foreach (var variant in new[] { SchrodingerCostVariant.KineticEnergy, SchrodingerCostVariant.GmmFlowReference })
                {
                    double closed = Cost(lapack, kind, m0, s0, m1, s1, 2, noise, variant, closedForms: true);
                    double general = Cost(lapack, kind, m0, s0, m1, s1, 2, noise, variant, closedForms: false);
                    double tolerance = 1e-12 * Math.Max(1, condition) * (Scale(m0, s0, m1, s1, 2) + Math.Abs(general));
                    Assert.True(Math.Abs(closed - general) <= tolerance, $"{kind}/{variant} κ={condition:g3}: closed {closed} vs general {general}");
                }
            }
        }, iter: 200);
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void One_dimensional_closed_forms_match_general_path(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        Gen.Select(Gen.Double[1e-3, 1e3], Gen.Double[1e-3, 1e3], Gen.Double[-5, 5], Gen.Double[0.01, 3]).Sample((v0, v1, shift, noise) =>
        {
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport })
            {
                foreach (var variant in new[] { SchrodingerCostVariant.KineticEnergy, SchrodingerCostVariant.GmmFlowReference })
                {
                    double closed = Cost(lapack, kind, [0.0], [v0], [shift], [v1], 1, noise, variant, closedForms: true);
                    double general = Cost(lapack, kind, [0.0], [v0], [shift], [v1], 1, noise, variant, closedForms: false);
                    Assert.True(Math.Abs(closed - general) <= 1e-13 * (shift * shift + v0 + v1 + Math.Abs(general)), $"{kind}/{variant}: {closed} vs {general}");
                }
            }
        }, iter: 200);
    }

    [Fact]
    public void Two_by_two_closed_forms_handle_isotropic_and_commuting_pairs()
    {
        // Equal eigenvalues (C ∝ I) and exactly commuting pairs are the degenerate branches of the 2×2 eigenvectors.
        double[] m = [0.5, -1];
        foreach (var (s0, s1) in new[] { (new[] { 2.0, 0, 0, 2 }, new[] { 8.0, 0, 0, 8 }), (new[] { 1.0, 0, 0, 9 }, new[] { 4.0, 0, 0, 1 }), (new[] { 1.0, 0, 0, 1 }, new[] { 1.0, 0, 0, 1 }) })
        {
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge })
            {
                double full = GaussianCosts.Pair(kind, m, s0, m, s1, 2, 0.3);
                double diag = GaussianCosts.PairDiagonal(kind, m, [s0[0], s0[3]], m, [s1[0], s1[3]], 2, 0.3);
                Assert.Equal(diag, full, 1e-12);
            }
        }
    }

    [Fact]
    public void Diagonal_storage_matches_full_storage()
    {
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 1_000_000], Gen.Double[0, 2]).Sample((n, seed, noise) =>
        {
            var rng = new Random(seed);
            double[] v0 = Enumerable.Range(0, n).Select(_ => 0.05 + 3 * rng.NextDouble()).ToArray();
            double[] v1 = Enumerable.Range(0, n).Select(_ => 0.05 + 3 * rng.NextDouble()).ToArray();
            double[] m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 1);
            double[] f0 = new double[n * n], f1 = new double[n * n];
            for (int i = 0; i < n; i++)
            {
                f0[i * n + i] = v0[i];
                f1[i * n + i] = v1[i];
            }
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport })
            {
                double diag = GaussianCosts.PairDiagonal(kind, m0, v0, m1, v1, n, noise);
                double full = GaussianCosts.Pair(kind, m0, f0, m1, f1, n, noise);
                Assert.True(Math.Abs(diag - full) <= 1e-11 * (Scale(m0, f0, m1, f1, n) + Math.Abs(full)), $"{kind} n={n}: diag {diag} vs full {full}");
            }
        }, iter: 60);
    }

    [Fact]
    public void Surrogate_agrees_with_wasserstein_to_third_order_in_commuting_case()
    {
        // Per eigendirection the gap is ¼ m log(1 + m) − (1 − √(1 + m))² = m⁴/192 + O(m⁵) (docs/theory.md#surrogate-cost).
        foreach (double m in new[] { 3e-2, 1e-2, -1e-2 })
        {
            double gap = GaussianCosts.Pair(CostKind.Surrogate, [0.0], [1.0], [0.0], [1 + m], 1)
                - GaussianCosts.Pair(CostKind.Wasserstein, [0.0], [1.0], [0.0], [1 + m], 1);
            // The O(m⁵) remainder makes the ratio 1 − O(m) (≈ 0.87 at m = 0.1).
            Assert.True(Math.Abs(gap / (Math.Pow(m, 4) / 192) - 1) <= 2 * Math.Abs(m), $"m={m}: gap {gap}");
        }
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Stress_cases_from_the_surrogate_paper_are_finite_and_correct(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        // Near the SPD boundary (2-D, κ(Σ1) = 1000 with a large covariance move), κ = 1e6 in 5-D, a 30-D Wishart pair.
        var cases = new List<(string Name, int N, double[] S0, double[] S1, double Condition)>
        {
            ("near SPD boundary", 2, [1.0, 0.0, 0.0, 1.0], [500.5, 499.5, 499.5, 500.5], 1e3),
            ("kappa 1e6", 5, SpdWithCondition(5, 11, 1e6), SpdWithCondition(5, 12, 10), 1e6),
            ("30-D Wishart", 30, RandomSpd(30, 13, 0.05), RandomSpd(30, 14, 0.05), 1e3),
            ("kappa 1e6 both", 8, SpdWithCondition(8, 15, 1e6), SpdWithCondition(8, 16, 1e6), 1e6),
        };
        foreach (var (name, n, s0, s1, condition) in cases)
        {
            double[] m0 = RandomMean(n, 1), m1 = RandomMean(n, 2);
            double scale = Scale(m0, s0, m1, s1, n);
            double w2 = Cost(lapack, CostKind.Wasserstein, m0, s0, m1, s1, n);
            double sur = Cost(lapack, CostKind.Surrogate, m0, s0, m1, s1, n);
            Assert.True(double.IsFinite(w2) && double.IsFinite(sur), name);
            double w2Ref = Wasserstein(m0, s0, m1, s1, n);
            double surRef = SurrogateByQuadrature(m0, s0, m1, s1, n, panels: 64);
            Assert.True(Math.Abs(w2 - w2Ref) <= 1e-13 * Math.Sqrt(condition) * n * scale, $"{name}: W2 {w2} vs {w2Ref}");
            Assert.True(Math.Abs(sur - surRef) <= 1e-13 * condition * n * Math.Max(surRef, scale), $"{name}: surrogate {sur} vs {surRef}");
            Assert.True(sur >= w2 - 1e-12 * scale, name);
            foreach (double noise in new[] { 1e-3, 0.5 })
            {
                double j = Cost(lapack, CostKind.SchrodingerBridge, m0, s0, m1, s1, n, noise);
                double ot = Cost(lapack, CostKind.EntropicTransport, m0, s0, m1, s1, n, noise);
                Assert.True(double.IsFinite(j) && double.IsFinite(ot), name);
            }
        }
    }
}

using CsCheck;
using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Costs;

public class RegimeTests
{
    [Fact]
    public void One_dimensional_row_of_the_paper_table()
    {
        // Table II of the surrogate paper (docs/theory.md#reference-values), "1D (always comm)": N(0,1) → N(2,4): δ = 3, κ = 1, commutator 0, W2² 5.00, C_sur 5.04, gap 0.04.
        var r = RegimeDiagnostics.Compute([0.0], [1.0], [2.0], [4.0], 1);
        Assert.Equal(3, r.WhitenedPerturbation, 1e-14);
        Assert.Equal(1, r.SourceCondition);
        Assert.Equal(1, r.TargetCondition);
        Assert.Equal(0, r.Commutator);
        Assert.Equal(5, r.Wasserstein, 1e-14);
        Assert.Equal(5.039720770839918, r.Surrogate, 1e-14);
        Assert.Equal(0.75 * Math.Log(4) - 1, r.Gap, 1e-14);
        Assert.Equal(r.Gap / 5, r.RelativeGap, 1e-14);
        Assert.Equal(6, r.Segments); // ⌈‖ΔΣ‖ / (r λ_min)⌉ = ⌈3 / 0.5⌉
        Assert.Equal(TransportRegime.ExactPreferable, r.Regime);
        Assert.Equal(TransportRegime.SurrogateAccurate, RegimeDiagnostics.Compute([0.0], [1.0], [2.0], [4.0], 1, threshold: 0.01).Regime);
    }

    [Fact]
    public void Indicators_match_independent_computations()
    {
        Gen.Select(Gen.Int[2, 16], Gen.Int[0, 1_000_000]).Sample((n, seed) =>
        {
            double[] s0 = RandomSpd(n, seed), s1 = RandomSpd(n, seed + 1), m0 = RandomMean(n, seed), m1 = RandomMean(n, seed + 2);
            var r = RegimeDiagnostics.Compute(m0, s0, m1, s1, n);
            // δ = ‖Σ0^-½ ΔΣ Σ0^-½‖₂ with a Jacobi inverse square root.
            var ri = Function(s0, n, x => 1 / Math.Sqrt(x));
            var whitened = Multiply(Multiply(ri, Add(s1, 1, s0, -1), n, n, n), ri, n, n, n);
            Symmetrize(whitened, n);
            var w = JacobiEigenvalues(whitened, n);
            Assert.Equal(Math.Max(-w[0], w[^1]), r.WhitenedPerturbation, 1e-9);
            var commutator = Add(Multiply(s0, s1, n, n, n), 1, Multiply(s1, s0, n, n, n), -1);
            Assert.Equal(FrobeniusNorm(commutator) / (FrobeniusNorm(s0) * FrobeniusNorm(s1)), r.Commutator, 1e-12);
            var e0 = JacobiEigenvalues(s0, n);
            var e1 = JacobiEigenvalues(s1, n);
            Assert.Equal(e0[^1] / e0[0], r.SourceCondition, 1e-9 * r.SourceCondition);
            Assert.Equal(e1[^1] / e1[0], r.TargetCondition, 1e-9 * r.TargetCondition);
            double scale = SquaredDistance(m0, m1) + Trace(s0, n) + Trace(s1, n);
            Assert.Equal(Wasserstein(m0, s0, m1, s1, n), r.Wasserstein, 1e-10 * scale);
            Assert.Equal(SurrogateByQuadrature(m0, s0, m1, s1, n), r.Surrogate, 1e-10 * scale);
            Assert.Equal(r.Surrogate - r.Wasserstein, r.Gap, 1e-12 * scale);
        }, iter: 20);
    }

    [Fact]
    public void Commuting_pairs_have_zero_commutator_and_rotated_ones_do_not()
    {
        var diag = RegimeDiagnostics.Compute([0.0, 0], [1.0, 0, 0, 9], [0.0, 0], [5.0, 0, 0, 1], 2);
        Assert.Equal(0, diag.Commutator);
        double c = Math.Cos(0.4), s = Math.Sin(0.4);
        // R diag(5, 1) Rᵀ: same spectrum, rotated by 0.4 rad.
        double[] rotated = [5 * c * c + s * s, 4 * c * s, 4 * c * s, 5 * s * s + c * c];
        var nonCommuting = RegimeDiagnostics.Compute([0.0, 0], [1.0, 0, 0, 9], [0.0, 0], rotated, 2);
        Assert.True(nonCommuting.Commutator > 0.05);
        Assert.True(nonCommuting.Gap > diag.Gap);
    }

    [Fact]
    public void Path_splitting_makes_every_segment_local()
    {
        // Path splitting (docs/theory.md#path-splitting): with n = Segments pieces, δ_i = ‖Σ_{i−1}^-½ (ΔΣ/n) Σ_{i−1}^-½‖₂ ≤ r for every piece.
        Gen.Select(Gen.Int[1, 8], Gen.Int[0, 1_000_000], Gen.Double[0.1, 0.9], Gen.Double[1, 1e3]).Sample((n, seed, radius, condition) =>
        {
            double[] s0 = SpdWithCondition(n, seed, condition), s1 = RandomSpd(n, seed + 1, 0.2), m = new double[n];
            var r = RegimeDiagnostics.Compute(m, s0, m, s1, n, radius);
            Assert.True(r.Segments >= 1);
            if (r.Segments > 2000)
            {
                return;
            }
            var step = Add(s1, 1.0 / r.Segments, s0, -1.0 / r.Segments);
            for (int i = 0; i < r.Segments; i++)
            {
                var start = Add(s0, 1 - (double)i / r.Segments, s1, (double)i / r.Segments);
                var ri = Function(start, n, x => 1 / Math.Sqrt(x));
                var local = Multiply(Multiply(ri, step, n, n, n), ri, n, n, n);
                Symmetrize(local, n);
                var w = JacobiEigenvalues(local, n);
                Assert.True(Math.Max(-w[0], w[^1]) <= radius * (1 + 1e-9), $"segment {i}/{r.Segments}: δ_i = {Math.Max(-w[0], w[^1])} > r = {radius}");
            }
        }, iter: 40);
    }

    [Fact]
    public void Small_perturbations_are_surrogate_accurate_and_large_ones_are_not()
    {
        var a = RandomSpd(6, 3);
        var near = Add(a, 1, RandomSpd(6, 4), 0.01);
        var far = Add(SpdWithCondition(6, 5, 1e4), 1, a, 0);
        double[] m = new double[6], shifted = [1.0, 1, 1, 1, 1, 1];
        // Between separated components the gap (O(δ³), docs/theory.md#regime-map) is tiny relative to W2²...
        var accurate = RegimeDiagnostics.Compute(m, a, shifted, near, 6);
        Assert.Equal(TransportRegime.SurrogateAccurate, accurate.Regime);
        Assert.True(accurate.WhitenedPerturbation < 0.5);
        // ...but with equal means the relative gap is O(δ), and an ill-conditioned move is far outside the local regime.
        var exact = RegimeDiagnostics.Compute(m, a, m, far, 6);
        Assert.Equal(TransportRegime.ExactPreferable, exact.Regime);
        Assert.True(exact.WhitenedPerturbation > 1 && exact.Segments > 1);
    }

    [Fact]
    public void Table_matches_pairwise_diagnostics()
    {
        int k0 = 3, k1 = 4, n = 5;
        var means0 = RandomGeneral(k0, n, 1);
        var means1 = RandomGeneral(k1, n, 2);
        var covs0 = Enumerable.Range(0, k0).SelectMany(k => RandomSpd(n, 10 + k)).ToArray();
        var covs1 = Enumerable.Range(0, k1).SelectMany(k => RandomSpd(n, 20 + k)).ToArray();
        var source = GaussianFactors.FromFull(means0, covs0, k0, n, "source");
        var target = GaussianFactors.FromFull(means1, covs1, k1, n, "target");
        var table = RegimeTable.Compute(source, target, radius: 0.3, threshold: 0.05);
        Assert.Equal(k0 * k1, table.Pairs.Length);
        for (int i = 0; i < k0; i++)
        {
            for (int j = 0; j < k1; j++)
            {
                Assert.Equal(RegimeDiagnostics.Compute(source, i, target, j, 0.3, 0.05), table[i, j]);
            }
        }
        Assert.Equal(table.Pairs.ToArray().Max(p => p.RelativeGap), table.MaxRelativeGap);
        Assert.Equal(table.SurrogateAccurateCount == k0 * k1 ? TransportRegime.SurrogateAccurate : TransportRegime.ExactPreferable, table.Recommendation);
        Assert.Throws<ArgumentException>(() => RegimeTable.Compute(source, target, radius: 1.5));
    }

    [Fact]
    public void Diagonal_storage_gives_the_same_diagnostics()
    {
        double[] v0 = [0.5, 2, 3], v1 = [1, 0.25, 3.5], m0 = [0, 1, 2], m1 = [1, 1, 0];
        var d = RegimeDiagnostics.Compute(GaussianFactors.FromDiagonal(m0, v0, 1, 3), 0, GaussianFactors.FromDiagonal(m1, v1, 1, 3, "target"), 0);
        double[] f0 = [0.5, 0, 0, 0, 2, 0, 0, 0, 3], f1 = [1, 0, 0, 0, 0.25, 0, 0, 0, 3.5];
        var f = RegimeDiagnostics.Compute(m0, f0, m1, f1, 3);
        Assert.Equal(f.WhitenedPerturbation, d.WhitenedPerturbation, 1e-12);
        Assert.Equal(f.SourceCondition, d.SourceCondition, 1e-12);
        Assert.Equal(f.Wasserstein, d.Wasserstein, 1e-12);
        Assert.Equal(f.Surrogate, d.Surrogate, 1e-12);
        Assert.Equal(f.Segments, d.Segments);
        Assert.Equal(0, d.Commutator);
        Assert.Equal(0, f.Commutator, 1e-15);
    }
}

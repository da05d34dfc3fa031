using GmmFlow.Simd;

namespace GmmFlow.Tests.Diagonal;

/// <summary>
/// The diagonal path (O(d) closed-form costs, diagonal bridges, the O(P·d) field kernel) against the general
/// full-covariance path run on the same mixtures expanded to d×d matrices (eigensolvers, Cholesky factors, the dense
/// field kernels): costs, Σ(t), gains, coupling gains, velocities and log-densities agree to 1e-12 (normwise
/// relative), for diagonal and spherical inputs, d ∈ {1, 2, 3, 17, 64, 512}.
/// </summary>
public class DiagonalEquivalenceTests
{
    private const double Tolerance = 1e-12;

    public static TheoryData<int, CovarianceType> Shapes()
    {
        var data = new TheoryData<int, CovarianceType>();
        foreach (int d in new[] { 1, 2, 3, 17, 64, 512 })
        {
            data.Add(d, CovarianceType.Diagonal);
            data.Add(d, CovarianceType.Spherical);
        }
        return data;
    }

    private static (GaussianMixture Source, GaussianMixture Target) Pair(int d, CovarianceType type)
    {
        // Fewer components at d = 512, where every full-path pair costs an eigen-decomposition of a 512×512 matrix.
        int k0 = d >= 512 ? 2 : 4, k1 = d >= 512 ? 2 : 3;
        return (DiagonalMixtures.Random(k0, d, 100 + d, type), DiagonalMixtures.Random(k1, d, 200 + d, type));
    }

    private static readonly (CostKind Kind, double Noise, SchrodingerCostVariant Variant)[] CostCases =
    [
        (CostKind.Wasserstein, 0, SchrodingerCostVariant.KineticEnergy),
        (CostKind.Surrogate, 0, SchrodingerCostVariant.KineticEnergy),
        (CostKind.SchrodingerBridge, 0.7, SchrodingerCostVariant.KineticEnergy),
        (CostKind.SchrodingerBridge, 0.7, SchrodingerCostVariant.GmmFlowReference),
        (CostKind.SchrodingerBridge, 0, SchrodingerCostVariant.KineticEnergy),
        (CostKind.EntropicTransport, 1.3, SchrodingerCostVariant.KineticEnergy),
    ];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Cost_matrices_equal_the_full_covariance_path(int d, CovarianceType type)
    {
        var (a, b) = Pair(d, type);
        var (diagSource, diagTarget) = GaussianFactors.ForTransport(a, b);
        Assert.True(diagSource.IsDiagonal && diagTarget.IsDiagonal);
        var fullSource = GaussianFactors.FromMixture(a, "source");
        var fullTarget = GaussianFactors.FromMixture(b, "target");
        int pairs = a.ComponentCount * b.ComponentCount;
        var diag = new double[pairs];
        var full = new double[pairs];
        foreach (var (kind, noise, variant) in CostCases)
        {
            GaussianCosts.Compute(kind, diagSource, diagTarget, diag, noise, variant);
            GaussianCosts.Compute(kind, fullSource, fullTarget, full, noise, variant);
            for (int p = 0; p < pairs; p++)
            {
                double rel = Math.Abs(diag[p] - full[p]) / Math.Abs(full[p]);
                Assert.True(rel <= Tolerance, $"{kind} σ = {noise} {variant}, d = {d}, pair {p}: diagonal {diag[p]:R} vs full {full[p]:R} (rel {rel:g3})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bridges_keep_diagonal_covariances_and_gains_equal_to_the_full_path(int d, CovarianceType type)
    {
        var (a, b) = Pair(d, type);
        var (diagSource, diagTarget) = GaussianFactors.ForTransport(a, b);
        var fullSource = GaussianFactors.FromMixture(a, "source");
        var fullTarget = GaussianFactors.FromMixture(b, "target");
        var mean = new double[d];
        var offset = new double[d];
        var covDiag = new double[d];
        var gainDiag = new double[d];
        var covFull = new double[d * d];
        var gainFull = new double[d * d];
        var meanFull = new double[d];
        var offsetFull = new double[d];
        // One pair per kind at d = 512 (each full bridge there costs eigen-decompositions of 512×512 matrices).
        int i = d >= 512 ? 0 : 1, j = d >= 512 ? 1 : 2;
        foreach (var (kind, noise) in new[] { (CostKind.Wasserstein, 0.0), (CostKind.Surrogate, 0.0), (CostKind.SchrodingerBridge, 0.8), (CostKind.EntropicTransport, 0.3) })
        {
            var bd = GaussianBridge.Create(kind, diagSource, i, diagTarget, j, noise);
            var bf = GaussianBridge.Create(kind, fullSource, i, fullTarget, j, noise);
            Assert.True(bd.IsDiagonal);
            Assert.False(bf.IsDiagonal);
            Assert.True(Math.Abs(bd.Cost - bf.Cost) <= Tolerance * Math.Abs(bf.Cost), $"{kind} d = {d}: bridge cost {bd.Cost:R} vs {bf.Cost:R}");
            bd.CouplingGain(gainDiag);
            bf.CouplingGain(gainFull);
            CheckDiagonal(gainDiag, gainFull, d, $"{kind} d = {d} coupling gain");
            foreach (double t in new[] { 0.0, 0.3, 0.75, 1.0 })
            {
                foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
                {
                    bd.Evaluate(t, mean, covDiag, gainDiag, offset, field);
                    bf.Evaluate(t, meanFull, covFull, gainFull, offsetFull, field);
                    string what = $"{kind} σ = {noise} {field} d = {d} t = {t}";
                    Assert.True(DiagonalMixtures.Relative(mean, meanFull) <= Tolerance, what + ": mean");
                    Assert.Equal(offsetFull, offset);
                    CheckDiagonal(covDiag, covFull, d, what + ": Σ(t)");
                    CheckDiagonal(gainDiag, gainFull, d, what + ": gain");
                }
            }
        }
    }

    /// <summary>The diagonal vector equals the full matrix's diagonal and the full matrix has nothing off it (normwise, 1e-12).</summary>
    private static void CheckDiagonal(double[] diagonal, double[] full, int d, string what)
    {
        double[] fromFull = DiagonalMixtures.Diagonal(full, d, out double off);
        double scale = fromFull.Max(Math.Abs);
        double rel = DiagonalMixtures.Relative(diagonal, fromFull);
        Assert.True(rel <= Tolerance, $"{what}: diagonal differs by {rel:g3} (relative)");
        Assert.True(off <= Tolerance * scale, $"{what}: the full path has an off-diagonal entry {off:g3} (scale {scale:g3})");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Plan_velocities_and_log_densities_equal_the_full_covariance_plan(int d, CovarianceType type)
    {
        var (a, b) = Pair(d, type);
        foreach (var options in new[]
                 {
                     new TransportOptions { Cost = CostKind.Wasserstein },
                     new TransportOptions { Cost = CostKind.Surrogate },
                     new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.6 },
                 })
        {
            var diagPlan = TransportPlan.Create(a, b, options);
            var fullPlan = TransportPlan.Create(DiagonalMixtures.Expanded(a), DiagonalMixtures.Expanded(b), options);
            Assert.Equal(type, diagPlan.CovarianceType);
            Assert.Equal(CovarianceType.Full, fullPlan.CovarianceType);
            Assert.Equal(fullPlan.Pairs, diagPlan.Pairs);
            Assert.True(Math.Abs(diagPlan.Objective - fullPlan.Objective) <= Tolerance * Math.Abs(fullPlan.Objective));
            const int n = 24;
            var vd = new double[n * d];
            var vf = new double[n * d];
            var ldd = new double[n];
            var ldf = new double[n];
            var single = new double[d];
            foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
            {
                // One field object per plan: the frames are rebuilt once per t (TransportPlan.Velocity's per-thread cache
                // would rebuild the full d = 512 frame at every alternation between the two plans).
                var diagField = diagPlan.CreatePlanField(field);
                var fullField = fullPlan.CreatePlanField(field);
                Assert.Equal(d >= DiagonalVelocityFrame.MinimumDimension, diagField is DiagonalPlanVelocityField);
                foreach (double t in new[] { 0.0, 0.37, 0.81, 1.0 })
                {
                    var x = diagPlan.SampleMarginal(t, n, seed: (ulong)(17 * d + (int)(100 * t)));
                    diagField.Evaluate(t, x, vd, ldd);
                    fullField.Evaluate(t, x, vf, ldf);
                    for (int i = 0; i < n; i++)
                    {
                        string what = $"{options.Cost} {field} d = {d} t = {t} point {i}";
                        double rel = DiagonalMixtures.Relative(vd.AsSpan(i * d, d), vf.AsSpan(i * d, d));
                        Assert.True(rel <= Tolerance, $"{what}: velocity differs by {rel:g3}");
                        Assert.True(Math.Abs(ldd[i] - ldf[i]) <= Tolerance * Math.Max(1, Math.Abs(ldf[i])), $"{what}: log ρ_t {ldd[i]:R} vs {ldf[i]:R}");
                        // One point alone, through the public single-point API, gives the same bits as inside the batch.
                        double ld = diagPlan.Velocity(t, x.AsSpan(i * d, d), single, field);
                        Assert.Equal(vd.AsSpan(i * d, d).ToArray(), single);
                        Assert.Equal(ldd[i], ld);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(8, 3)]
    [InlineData(17, 5)]
    [InlineData(64, 19)]
    [InlineData(100, 7)]
    public void Diagonal_frame_agrees_across_simd_widths_and_with_a_direct_evaluation(int d, int pairs)
    {
        var rng = new Random(d * 7 + pairs);
        var frame = new DiagonalVelocityFrame(d, 2);
        var logW = new double[pairs];
        var m = new double[pairs * d];
        var s = new double[pairs * d];
        var k = new double[pairs * d];
        var bOff = new double[pairs * d];
        for (int p = 0; p < pairs; p++)
        {
            logW[p] = Math.Log(0.2 + rng.NextDouble());
            for (int j = 0; j < d; j++)
            {
                m[p * d + j] = 1.5 * (rng.NextDouble() - 0.5);
                s[p * d + j] = 0.3 + rng.NextDouble();
                k[p * d + j] = rng.NextDouble() - 0.5;
                bOff[p * d + j] = rng.NextDouble() - 0.5;
            }
            frame.SetPair(p, logW[p], m.AsSpan(p * d, d), s.AsSpan(p * d, d), k.AsSpan(p * d, d), bOff.AsSpan(p * d, d));
        }
        const int n = 23; // blocks of four and a tail of three
        var x = new double[n * d];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = 2 * (rng.NextDouble() - 0.5);
        }
        var reference = new double[n * d];
        var referenceLd = new double[n];
        for (int i = 0; i < n; i++)
        {
            referenceLd[i] = DiagonalMixtures.DirectField(x.AsSpan(i * d, d), logW, m, s, k, bOff, reference.AsSpan(i * d, d));
        }
        var v = new double[n * d];
        var ld = new double[n];
        foreach (var width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(x, v, ld, parallel: false, width);
            for (int i = 0; i < n; i++)
            {
                Assert.True(DiagonalMixtures.Relative(v.AsSpan(i * d, d), reference.AsSpan(i * d, d)) <= 1e-12, $"{width}: point {i}");
                Assert.True(Math.Abs(ld[i] - referenceLd[i]) <= 1e-12 * Math.Abs(referenceLd[i]), $"{width}: log-density of point {i}");
            }
        }
    }

    [Fact]
    public void Diagonal_frame_rejects_bad_shapes_and_non_positive_variances()
    {
        var frame = new DiagonalVelocityFrame(3);
        double[] ok = [1, 1, 1];
        Assert.Throws<ArgumentOutOfRangeException>(() => frame.SetPair(0, 0, ok, [1, 0, 1], ok, ok));
        Assert.Throws<ArgumentException>(() => frame.SetPair(0, 0, ok, [1, 1], ok, ok));
        Assert.Throws<InvalidOperationException>(() => frame.Evaluate(ok, new double[3]));
        frame.SetPair(0, 0, ok, ok, ok, ok);
        Assert.Throws<ArgumentException>(() => frame.EvaluateBatch(new double[4], new double[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => frame.SetPair(2, 0, ok, ok, ok, ok));
    }
}

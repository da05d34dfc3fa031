using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Accuracy;

/// <summary>
/// Extreme but finite covariances (docs/theory/transport-accuracy.md#supported-range): inside the supported range every
/// cost kind equals the scaled exact value (costs are homogeneous of degree 1 in a common scale s of the covariances,
/// with means scaled by √s and σ by √s); outside it costs, bridges and plans refuse with a typed exception naming the
/// side and the component.
/// </summary>
public sealed class SupportedRangeTests : CliHarness
{
    public static TheoryData<CostKind, CovarianceType, double> InRange()
    {
        var data = new TheoryData<CostKind, CovarianceType, double>();
        foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport })
        {
            foreach (var type in new[] { CovarianceType.Full, CovarianceType.Diagonal, CovarianceType.Spherical })
            {
                foreach (double s in new[] { 1e-45, 1e45 })
                {
                    data.Add(kind, type, s);
                }
            }
        }
        return data;
    }

    // Two components in d = 3 (the SIMD lockstep kernel) with a fixed correlated full covariance, or its diagonal /
    // mean variance, everything multiplied by `scale` (means by √scale).
    private static GaussianMixture Mixture(CovarianceType type, double scale, int seed, int d = 3)
    {
        var rng = new Random(seed);
        double[] means = Enumerable.Range(0, 2 * d).Select(_ => (rng.NextDouble() * 4 - 2) * Math.Sqrt(scale)).ToArray();
        var full = new double[2 * d * d];
        for (int k = 0; k < 2; k++)
        {
            var a = Enumerable.Range(0, d * d).Select(_ => rng.NextDouble() - 0.5).ToArray();
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    double v = i == j ? 0.5 + i * 0.3 : 0;
                    for (int m = 0; m < d; m++)
                    {
                        v += a[i * d + m] * a[j * d + m];
                    }
                    full[k * d * d + i * d + j] = v;
                }
            }
        }
        double[] compact = type switch
        {
            CovarianceType.Full => full,
            CovarianceType.Diagonal => Enumerable.Range(0, 2 * d).Select(x => full[x / d * d * d + x % d * (d + 1)]).ToArray(),
            _ => [full[0] + full[4] + full[8], full[9] + full[13] + full[17]],
        };
        return new GaussianMixture([0.4, 0.6], means, compact.Select(v => v * scale).ToArray(), type);
    }

    private static double[] Costs(CostKind kind, GaussianMixture a, GaussianMixture b, double noise)
    {
        var c = new double[a.ComponentCount * b.ComponentCount];
        GaussianCosts.Compute(kind, GaussianFactors.FromMixture(a, "source"), GaussianFactors.FromMixture(b, "target"), c, noise);
        return c;
    }

    [Theory]
    [MemberData(nameof(InRange))]
    public void Every_cost_kind_equals_the_scaled_exact_value_at_the_edges_of_the_range(CostKind kind, CovarianceType type, double scale)
    {
        double noise = kind is CostKind.SchrodingerBridge or CostKind.EntropicTransport ? 0.8 : 0;
        double[] reference = Costs(kind, Mixture(type, 1, 1), Mixture(type, 1, 2), noise);
        var a = Mixture(type, scale, 1);
        var b = Mixture(type, scale, 2);
        double[] scaled = Costs(kind, a, b, noise * Math.Sqrt(scale));
        for (int p = 0; p < reference.Length; p++)
        {
            Assert.Equal(reference[p], scaled[p] / scale, 1e-10 * Math.Abs(reference[p]));
        }
        // The plan (costs, LP objective, bridges) and its exact marginal at t = 1 hold the scaled numbers too.
        if (kind != CostKind.EntropicTransport)
        {
            var plan = TransportPlan.Create(a, b, new TransportOptions { Cost = kind, Noise = noise * Math.Sqrt(scale) });
            var unit = TransportPlan.Create(Mixture(type, 1, 1), Mixture(type, 1, 2), new TransportOptions { Cost = kind, Noise = noise });
            Assert.Equal(unit.Objective, plan.Objective / scale, 1e-10 * unit.Objective);
        }
    }

    [Theory]
    [InlineData(CostKind.Wasserstein)]
    [InlineData(CostKind.Surrogate)]
    [InlineData(CostKind.SchrodingerBridge)]
    public void Mixed_scales_1e_minus45_to_1e45_match_the_isotropic_closed_forms(CostKind kind)
    {
        // Σ0 = a I, Σ1 = b I commute: W2² = |Δm|² + d(√a − √b)²; linear path: |Δm|² + d (b − a) ln(b/a) / 4;
        // SB kinetic energy with ε: |Δm|² + d (a + b − 2c − ε... ) is checked against the diagonal kernel instead.
        const int d = 3;
        double a = 1e-45, b = 1e45;
        double[] m0 = [1, 2, 3], m1 = [0, -1, 5];
        double dm2 = 1 + 9 + 4;
        var full0 = new GaussianMixture([1.0], m0, [a, 0, 0, 0, a, 0, 0, 0, a]);
        var full1 = new GaussianMixture([1.0], m1, [b, 0, 0, 0, b, 0, 0, 0, b]);
        var sph0 = new GaussianMixture([1.0], m0, [a], CovarianceType.Spherical);
        var sph1 = new GaussianMixture([1.0], m1, [b], CovarianceType.Spherical);
        double noise = kind == CostKind.SchrodingerBridge ? 1.0 : 0;
        double full = Costs(kind, full0, full1, noise)[0], diag = Costs(kind, sph0, sph1, noise)[0];
        double expected = kind switch
        {
            CostKind.Wasserstein => dm2 + d * Math.Pow(Math.Sqrt(a) - Math.Sqrt(b), 2),
            CostKind.Surrogate => dm2 + d * (b - a) * Math.Log(b / a) / 4,
            _ => diag,
        };
        Assert.Equal(expected, full, 1e-10 * expected);
        Assert.Equal(expected, diag, 1e-10 * expected);
        Assert.True(double.IsFinite(TransportPlan.Create(full0, full1, new TransportOptions { Cost = kind, Noise = noise }).Objective));
    }

    [Theory]
    [InlineData(CovarianceType.Full, 1e60)]
    [InlineData(CovarianceType.Full, 1e150)]
    [InlineData(CovarianceType.Full, 1e200)]
    [InlineData(CovarianceType.Full, 1e300)]
    [InlineData(CovarianceType.Full, 1e-60)]
    [InlineData(CovarianceType.Full, 1e-150)]
    [InlineData(CovarianceType.Full, 1e-200)]
    [InlineData(CovarianceType.Full, 1e-300)]
    [InlineData(CovarianceType.Diagonal, 1e200)]
    [InlineData(CovarianceType.Diagonal, 1e-200)]
    [InlineData(CovarianceType.Spherical, 1e150)]
    [InlineData(CovarianceType.Spherical, 1e-300)]
    public void Covariances_outside_the_range_are_refused_by_costs_and_plans_naming_the_component(CovarianceType type, double scale)
    {
        // Component 1 alone is extreme (the mixed case): the message names the side, the component and the range. The
        // mixture itself is valid (fitting, sampling and scoring work at any scale); costs, bridges and plans refuse it.
        var good = Mixture(type, 1, 1);
        double[] compact = good.CompactCovariances.ToArray();
        int block = compact.Length / 2;
        for (int i = block; i < compact.Length; i++)
        {
            compact[i] *= scale;
        }
        var extreme = new GaussianMixture(good.Weights, good.Means, compact, type);
        var e = Assert.Throws<OutOfSupportedRangeException>(() => TransportPlan.Create(good, extreme));
        Assert.Equal(1, e.Index);
        Assert.Contains("covariance of target component #1", e.Message);
        Assert.Contains("[1E-50, 1E+50]", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Throws<OutOfSupportedRangeException>(() => Costs(CostKind.Surrogate, extreme, good, 0));
        // The factor entry points (costs and bridges from raw spans) refuse the same values.
        double[] full = new double[2 * 9];
        for (int k = 0; k < 2; k++)
        {
            for (int i = 0; i < 3; i++)
            {
                full[k * 9 + i * 4] = k == 1 ? scale : 1;
            }
        }
        Assert.Throws<OutOfSupportedRangeException>(() => GaussianFactors.FromFull(new double[6], full, 2, 3, "target"));
        Assert.Throws<OutOfSupportedRangeException>(() => GaussianFactors.FromDiagonal(new double[6], [1, 1, 1, scale, scale, scale], 2, 3));
        Assert.Throws<OutOfSupportedRangeException>(() => GaussianCosts.PairDiagonal(CostKind.Wasserstein, [0.0], [1.0], [0.0], [scale], 1));
    }

    [Fact]
    public void Means_and_noise_outside_the_range_are_refused()
    {
        var far = new GaussianMixture([1.0], [0, 1e150], [1.0], CovarianceType.Spherical);
        var m = new GaussianMixture([1.0], [0.0, 0.0], [1.0], CovarianceType.Spherical);
        Assert.Contains("mean of source component #0", Assert.Throws<OutOfSupportedRangeException>(() => TransportPlan.Create(far, m)).Message);
        Assert.Throws<OutOfSupportedRangeException>(() => TransportPlan.Create(m, m, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 1e30 }));
        Assert.Throws<OutOfSupportedRangeException>(() => GaussianCosts.PairDiagonal(CostKind.SchrodingerBridge, [0.0], [1.0], [0.0], [1.0], 1, noise: 1e30));
    }

    [Fact]
    public void The_final_guard_refuses_a_non_finite_cost_matrix_naming_the_entry()
    {
        double[] matrix = [1, 2, 3, 4, double.NaN, 6];
        var e = Assert.Throws<NonFiniteResultException>(() => SupportedRange.CheckCostMatrix(matrix, 3, CostKind.Wasserstein));
        Assert.Equal((1, 1), (e.Row, e.Column));
        Assert.Contains("W2 cost matrix entry (1, 1)", e.Message);
        SupportedRange.CheckCostMatrix([1, 2, 3], 3, CostKind.Surrogate); // finite: no throw
    }

    [Theory]
    [InlineData("plan", "w2")]
    [InlineData("plan", "sb")]
    [InlineData("cost", "surrogate")]
    public void Cli_refuses_a_1e200_mixture_in_one_line_and_writes_nothing(string command, string kind)
    {
        File.WriteAllText(P("a.json"), """{"weights": [1], "means": [[0, 0]], "covariances": [[[1, 0], [0, 1]]]}""");
        File.WriteAllText(P("b.json"), """{"weights": [1], "means": [[1, 0]], "covariances": [[[1e200, 0], [0, 1e200]]]}""");
        string[] args = command == "plan"
            ? ["plan", "--source", P("a.json"), "--target", P("b.json"), "--cost", kind, "--noise", kind == "sb" ? "1" : "0", "--out", P("out.json")]
            : ["cost", "--source", P("a.json"), "--target", P("b.json"), "--kind", kind, "--out", P("out.npy")];
        var r = Run(args);
        Assert.Equal(1, r.Code);
        Assert.Contains("supported range", r.Err);
        Assert.Contains("target component #0", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Equal(["a.json", "b.json"], Files());
    }
}

using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Dynamics.DynamicsTestHelpers;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Dynamics;

public class LinearTransportPlanTests
{
    private static GaussianMixture Single(double[] mean, double[] cov) => new([1.0], mean, cov);

    private static GaussianMixture Ring(int k, double radius, double variance)
    {
        var means = new double[k * 2];
        var covs = new double[k * 4];
        for (int c = 0; c < k; c++)
        {
            means[2 * c] = radius * Math.Cos(2 * Math.PI * c / k);
            means[2 * c + 1] = radius * Math.Sin(2 * Math.PI * c / k);
            covs[4 * c] = covs[4 * c + 3] = variance;
        }
        return new GaussianMixture(Enumerable.Repeat(1.0 / k, k).ToArray(), means, covs);
    }

    /// <summary>Sample mean and covariance against N(m, Σ): max error in units of the Monte-Carlo standard error.</summary>
    private static (double Mean, double Cov) MonteCarloErrors(double[] x, int n, double[] m, double[] s)
    {
        int count = x.Length / n;
        var mean = new double[n];
        for (int i = 0; i < count; i++)
        {
            for (int r = 0; r < n; r++)
            {
                mean[r] += x[i * n + r] / count;
            }
        }
        var cov = new double[n * n];
        for (int i = 0; i < count; i++)
        {
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    cov[r * n + c] += (x[i * n + r] - mean[r]) * (x[i * n + c] - mean[c]) / (count - 1);
                }
            }
        }
        double em = 0, ec = 0;
        for (int r = 0; r < n; r++)
        {
            em = Math.Max(em, Math.Abs(mean[r] - m[r]) / Math.Sqrt(s[r * n + r] / count));
            for (int c = 0; c < n; c++)
            {
                // Var of a sample covariance entry: (Σ_rr Σ_cc + Σ_rc²)/N.
                double se = Math.Sqrt((s[r * n + r] * s[c * n + c] + s[r * n + c] * s[r * n + c]) / count);
                ec = Math.Max(ec, Math.Abs(cov[r * n + c] - s[r * n + c]) / se);
            }
        }
        return (em, ec);
    }

    public static TheoryData<string> Systems => ["lti", "time-varying"];

    [Theory]
    [MemberData(nameof(Systems))]
    public void Sde_endpoints_match_the_target_gaussian(string system)
    {
        const int n = 3, m = 2;
        var dynamics = system == "lti"
            ? RandomLti(n, m, 31, horizon: 1.0)
            : LinearDynamics.PiecewiseLinear([0, 0.4, 1.0],
                [0, 1, 0, -1, 0, 0.5, 0, 0, -0.3, /**/ 0.5, 0, 0, 0, 0, 2, 0, -2, 0, /**/ -0.5, 0.3, 0, 0, 0, 1, 0.4, 0, 0],
                [1, 0, 0, 1, 0, 0, /**/ 0, 0, 1, 0, 0, 1, /**/ 1, 0.5, 0, 0, 0, 1], n, m);
        double[] m0 = RandomMean(n, 2), s0 = RandomSpd(n, 3), m1 = RandomMean(n, 4, 2), s1 = RandomSpd(n, 5);
        var plan = LinearTransportPlan.Create(Single(m0, s0), Single(m1, s1), dynamics, new LinearTransportOptions { Noise = 0.6 });
        const int count = 20000;
        var x0 = Single(m0, s0).Sample(count, 9);
        var x1 = plan.Transport(x0, new TransportRunOptions { Steps = 400, Seed = 3 });
        var (em, ec) = MonteCarloErrors(x1, n, m1, s1);
        // Sampling error of the start and Euler–Maruyama's O(h) bias included: 4.5 standard errors.
        Assert.True(em < 4.5 && ec < 4.5, $"{system}: mean off by {em:F2} SE, covariance by {ec:F2} SE");
    }

    [Fact]
    public void Brownian_plan_equals_the_schrodinger_plan()
    {
        var source = new GaussianMixture([0.3, 0.7], [0, 0, 1, -1], [0.5, 0.1, 0.1, 0.4, 0.3, 0, 0, 0.3]);
        var target = Ring(5, 3, 0.2);
        var sb = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.7 });
        var lin = LinearTransportPlan.Create(source, target, LinearDynamics.Brownian(2), new LinearTransportOptions { Noise = 0.7 });
        Assert.True(Math.Abs(sb.Objective - lin.Objective) < 1e-10 * sb.Objective);
        Assert.True(MaxAbsDiff(sb.CostMatrix, lin.CostMatrix) < 1e-10 * lin.CostMatrix!.Max());
        var points = source.Sample(200, 4);
        var v1 = new double[points.Length];
        var v2 = new double[points.Length];
        foreach (double t in new[] { 0.0, 0.4, 0.9 })
        {
            sb.Velocities(t, points, v1);
            lin.CreateField().Evaluate(t, points, v2);
            Assert.True(MaxAbsDiff(v1, v2) < 1e-9 * (1 + v1.Max(Math.Abs)), $"mixture drift at t = {t}: {MaxAbsDiff(v1, v2)}");
        }
    }

    [Theory]
    [InlineData(0.3, "drift")]
    [InlineData(0.3, "probability-flow")]
    [InlineData(0.0, "drift")]
    public void Transported_mixture_passes_the_two_sample_test(double sigma, string field)
    {
        // 2-D positions under the double integrator: one Gaussian → 4 Gaussians on a ring, velocities N(0, 0.5²).
        var dynamics = LinearDynamics.DoubleIntegrator(2);
        var source = PhaseSpace.Lift(Single([0, 0], [0.4, 0, 0, 0.4]), 0.5);
        var target = PhaseSpace.Lift(Ring(4, 4, 0.2), 0.5);
        var plan = LinearTransportPlan.Create(source, target, dynamics, new LinearTransportOptions { Noise = sigma });
        Assert.Equal(4, plan.Pairs.Count);
        const int count = 1200;
        var x0 = source.Sample(count, 21);
        var run = new TransportRunOptions
        {
            Steps = field == "drift" && sigma > 0 ? 400 : 60,
            Field = field == "drift" ? BridgeField.Drift : BridgeField.ProbabilityFlow,
            Integrator = field == "drift" && sigma > 0 ? Integrator.Auto : Integrator.RungeKutta4,
            Seed = 5,
        };
        var x1 = plan.Transport(x0, run);
        var reference = target.Sample(count, 22);
        var test = SampleMetrics.MmdPermutationTest(x1, reference, 4, permutations: 200, seed: 1);
        Assert.True(test.PValue > 0.01, $"σ = {sigma}, {field}: MMD p = {test.PValue}");
        // The exact marginal at T is the target mixture too.
        var exact = plan.SampleMarginal(1.0, count, 23);
        Assert.True(SampleMetrics.MmdPermutationTest(exact, reference, 4, permutations: 200, seed: 2).PValue > 0.01);
        // And a wrong target is rejected (the test has power at this size).
        var wrong = PhaseSpace.Lift(Ring(4, 3.5, 0.2), 0.5).Sample(count, 24);
        Assert.True(SampleMetrics.MmdPermutationTest(x1, wrong, 4, permutations: 200, seed: 3).PValue < 0.01);
    }

    [Fact]
    public void Objective_and_coupling_come_from_the_pair_costs()
    {
        var dynamics = LinearDynamics.DoubleIntegrator(2, 2.0);
        var source = PhaseSpace.Lift(new GaussianMixture([0.5, 0.5], [-1, 0, 1, 0], [0.3, 0, 0, 0.3, 0.3, 0, 0, 0.3]), 0.4);
        var target = PhaseSpace.Lift(Ring(3, 3, 0.25), 0.4);
        var plan = LinearTransportPlan.Create(source, target, dynamics, new LinearTransportOptions { Noise = 0.2 });
        double objective = 0;
        for (int p = 0; p < plan.Pairs.Count; p++)
        {
            var e = plan.Pairs[p];
            var b = LinearGaussianBridge.Create(dynamics, source.Mean(e.Source), source.Covariance(e.Source), target.Mean(e.Target),
                target.Covariance(e.Target), 0.2);
            Assert.Equal(b.Cost, plan.CostMatrix![e.Source * 3 + e.Target], 12);
            objective += e.Weight * b.Cost;
        }
        Assert.Equal(objective, plan.Objective, 9);
        Assert.True(plan.Pairs.Count <= 2 + 3 - 1);
        var again = LinearTransportPlan.FromCoupling(source, target, dynamics, plan.Options, plan.Pairs, plan.Objective);
        var pts = source.Sample(50, 1);
        var v1 = new double[pts.Length];
        var v2 = new double[pts.Length];
        plan.CreateField().Evaluate(0.7, pts, v1);
        again.CreateField().Evaluate(0.7, pts, v2);
        // The plan solves its pairs' eigenproblems in lockstep groups, FromCoupling one at a time: equal to rounding.
        for (int i = 0; i < v1.Length; i++)
        {
            Assert.Equal(v1[i], v2[i], 1e-12 * Math.Max(1, Math.Abs(v1[i])));
        }
        Assert.Throws<ArgumentException>(() => LinearTransportPlan.Create(Ring(3, 3, 0.2), Ring(3, 3, 0.2), dynamics));
    }
}

using System.Text.Json;
using GmmFlow.Tests.Support;
using GmmFlow.Tests.Transport;

namespace GmmFlow.Tests.Accuracy;

/// <summary>
/// The inaccurate transports (docs/theory/transport-accuracy.md): each reproduces with the old fixed 100 steps and
/// passes with the automatic default; the built-in check fires on a too-coarse run and not on correct ones.
/// </summary>
public sealed class TransportAccuracyTests : CliHarness
{
    private static (double Mean, double Std) Moments(double[] x)
    {
        double m = x.Average();
        return (m, Math.Sqrt(x.Select(v => (v - m) * (v - m)).Sum() / (x.Length - 1)));
    }

    // Bimodal source → N(1.5, 0.86²) in 1-D.
    private static readonly GaussianMixture Bimodal = new([0.5, 0.5], [-2.0, 2.0], [0.25, 0.25], CovarianceType.Spherical);
    private static readonly GaussianMixture Narrow = new([1.0], [1.5], [0.86 * 0.86], CovarianceType.Spherical);

    [Fact]
    public void Sb_sigma_10_drift_default_steps_reach_the_target_spread()
    {
        var plan = TransportPlan.Create(Bimodal, Narrow, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 10 });
        double[] x = Bimodal.Sample(5000, 1);
        var old = plan.TransportAndCheck(x, new TransportRunOptions { Steps = 100, Seed = 3 });
        Assert.InRange(Moments(old.Points).Std, 1.1, 1.3); // the reported 1.22
        Assert.False(old.Check!.Passed);
        Assert.True(old.Check.InputsMatchSource);
        Assert.Contains("inaccurate", old.Check.Warning);

        var auto = plan.TransportAndCheck(x, new TransportRunOptions { Seed = 3 });
        Assert.Equal(Integrator.EulerMaruyama, auto.Integrator);
        (double mean, double std) = Moments(auto.Points);
        Assert.InRange(std, 0.86 - 0.03, 0.86 + 0.03); // ±3.5 SE of a sample std at N = 5000
        Assert.InRange(mean, 1.5 - 0.045, 1.5 + 0.045);
        Assert.True(auto.Check!.Passed, auto.Check.Warning);
        Assert.True(auto.Check.ExpectedIsExact);
    }

    [Fact]
    public void Sb_sigma_100_probability_flow_default_is_adaptive_and_right()
    {
        var plan = TransportPlan.Create(Bimodal, Narrow, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 100 });
        double[] x = Bimodal.Sample(4000, 2);
        var old = plan.TransportAndCheck(x, new TransportRunOptions { Steps = 100, Field = BridgeField.ProbabilityFlow });
        Assert.True(Math.Abs(Moments(old.Points).Mean - 1.5) > 1 || Moments(old.Points).Std > 10);
        Assert.False(old.Check!.Passed);

        var auto = plan.TransportAndCheck(x, new TransportRunOptions { Field = BridgeField.ProbabilityFlow });
        Assert.Equal(Integrator.DormandPrince, auto.Integrator);
        (double mean, double std) = Moments(auto.Points);
        Assert.InRange(mean, 1.5 - 0.05, 1.5 + 0.05);
        Assert.InRange(std, 0.86 - 0.035, 0.86 + 0.035);
        Assert.True(auto.Check!.Passed, auto.Check.Warning);
        Assert.True(auto.Stats.RejectedSteps > 0); // the stiff end forced the controller to shorten steps
    }

    private static double[] Rotated(double angle, double a, double b)
    {
        double c = Math.Cos(angle), s = Math.Sin(angle);
        return [c * c * a + s * s * b, c * s * (a - b), c * s * (a - b), s * s * a + c * c * b];
    }

    [Theory]
    [InlineData(CostKind.Wasserstein)]
    [InlineData(CostKind.Surrogate)]
    public void Condition_number_1e6_is_handled_by_the_adaptive_default(CostKind kind)
    {
        const double cond = 1e6;
        var a = new GaussianMixture([0.5, 0.5], [-2.0, 0, 2, 0], [.. Rotated(0.3, 1, 1 / cond), .. Rotated(1.2, 1, 1 / cond)]);
        var b = new GaussianMixture([0.5, 0.5], [0.0, -2, 0, 2], [.. Rotated(2.0, 1 / cond, 1), .. Rotated(0.7, 1, 1 / cond)]);
        var plan = TransportPlan.Create(a, b, new TransportOptions { Cost = kind });
        double[] x = a.Sample(3000, 2);
        var old = plan.TransportAndCheck(x, new TransportRunOptions { Steps = 100 });
        Assert.False(old.Check!.Passed, $"z = {old.Check.ZScore}");
        var auto = plan.TransportAndCheck(x);
        Assert.True(auto.Check!.Passed, auto.Check.Warning);
        Assert.False(auto.Check.ExpectedIsExact);
    }

    [Fact]
    public void Sb_sigma2_10_in_d16_meets_the_plans_exact_marginal()
    {
        const int d = 16;
        var a = TransportPlanTests.RandomMixture(4, d, 5, 2.0);
        var b = TransportPlanTests.RandomMixture(5, d, 6, 2.0);
        var plan = TransportPlan.Create(a, b, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = Math.Sqrt(10) });
        double[] x = a.Sample(2000, 2);
        var old = plan.TransportAndCheck(x, new TransportRunOptions { Steps = 100, Seed = 4 });
        Assert.False(old.Check!.Passed, $"z = {old.Check.ZScore}");
        var auto = plan.TransportAndCheck(x, new TransportRunOptions { Seed = 4 });
        Assert.True(auto.Check!.Passed, auto.Check.Warning);
        // The rule refines where the gains are stiff: the last nominal step is split more than the first.
        int[] rule = plan.StiffnessSubsteps(BridgeField.Drift, 0.01, out double rate);
        Assert.True(rule[^1] > 10 * rule[0], $"{rule[0]} … {rule[^1]}, max rate {rate}");
        Assert.Equal(rule.Sum(), auto.Stats.AcceptedSteps);
    }

    [Fact]
    public void The_check_catches_three_euler_steps_and_rarely_fires_on_correct_runs()
    {
        var a = TransportPlanTests.RandomMixture(3, 2, 21, 2.0);
        var wide = TransportPlanTests.RandomMixture(4, 2, 22, 2.0);
        // Narrow target components: the geodesics contract, which three Euler steps overshoot.
        var b = new GaussianMixture(wide.Weights, wide.Means, wide.Covariances.ToArray().Select(v => 0.05 * v).ToArray());
        var plan = TransportPlan.Create(a, b);
        double[] x = a.Sample(2000, 7);
        var coarse = plan.TransportAndCheck(x, new TransportRunOptions { Steps = 3, Integrator = Integrator.EulerMaruyama });
        Assert.True(Math.Abs(coarse.Check!.ZScore) > 3 * TransportCheck.Threshold, $"z = {coarse.Check.ZScore}");
        Assert.NotNull(coarse.Check.Warning);

        // Eight independent correct runs (fresh sources and reference samples): a 4-SE threshold fires with probability
        // ~6e-5 each, so one alarm already fails the test; |z| also stays in the bulk of N(0, 1).
        var zs = new List<double>();
        for (ulong seed = 100; seed < 108; seed++)
        {
            var run = plan.TransportAndCheck(a.Sample(2000, seed), new TransportRunOptions { Seed = seed });
            Assert.True(run.Check!.Passed, $"seed {seed}: {run.Check.Warning}");
            zs.Add(run.Check.ZScore);
        }
        Assert.InRange(zs.Select(z => z * z).Average(), 0.1, 3.5); // mean of 8 χ²₁ values: 1 ± ~0.5
    }

    [Fact]
    public void Inputs_that_are_not_source_samples_are_named_as_the_cause()
    {
        var plan = TransportPlan.Create(Bimodal, Narrow);
        double[] x = Bimodal.Sample(3000, 3).Select(v => 1.6 * v).ToArray();
        var run = plan.TransportAndCheck(x);
        Assert.False(run.Check!.InputsMatchSource);
        Assert.False(run.Check.Passed);
        Assert.Contains("not samples of it", run.Check.Warning);
    }

    [Fact]
    public void Exact_expectation_agrees_with_monte_carlo_for_one_gaussian()
    {
        var single = new GaussianMixture([1.0], [0.5, -1, 2], [2.0, 0.3, 0, 0.3, 1, 0.1, 0, 0.1, 0.5]);
        // The same Gaussian as two identical components takes the Monte-Carlo path.
        var twin = new GaussianMixture([0.5, 0.5], [0.5, -1, 2, 0.5, -1, 2], [2.0, 0.3, 0, 0.3, 1, 0.1, 0, 0.1, 0.5, 2.0, 0.3, 0, 0.3, 1, 0.1, 0, 0.1, 0.5]);
        double[] y = single.Sample(5000, 9);
        var exact = TransportCheck.Compute(single, y, 1);
        var mc = TransportCheck.Compute(twin, y, 1, referenceSamples: 200_000);
        Assert.True(exact.ExpectedIsExact);
        Assert.False(mc.ExpectedIsExact);
        Assert.Equal(exact.MeanLogLikelihood, mc.MeanLogLikelihood, 1e-10);
        Assert.True(Math.Abs(exact.Expected - mc.Expected) < 4 * Math.Sqrt(1.5 / 200_000), $"{exact.Expected} vs {mc.Expected}");
        Assert.True(exact.Passed && mc.Passed);
        // Standard error of the exact path: sd(log p) = √(d/2) over √N.
        Assert.Equal(Math.Sqrt(1.5 / 5000), exact.StandardError, 0.1 * exact.StandardError);
    }

    [Fact]
    public void Cli_transport_reports_the_check_in_text_and_json_and_warns_on_a_coarse_run()
    {
        File.WriteAllText(P("a.json"), """{"weights": [0.5, 0.5], "means": [[-2, 0], [2, 0]], "covariances": [[[0.3, 0], [0, 0.3]], [[0.3, 0.1], [0.1, 0.3]]]}""");
        File.WriteAllText(P("b.json"), """{"weights": [1], "means": [[0, 3]], "covariances": [[[1, 0], [0, 0.5]]]}""");
        Assert.Equal(0, Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--out", P("plan.json")).Code);
        Assert.Equal(0, Run("sample", "--model", P("a.json"), "-n", "3000", "--seed", "1", "--out", P("x.npy")).Code);
        var text = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--out", P("y.npy"));
        Assert.Equal(0, text.Code);
        Assert.Contains("dopri5", text.Out);
        Assert.Contains("check: mean target log-likelihood", text.Out);
        Assert.Contains("passed", text.Out);
        Assert.Equal("", text.Err);

        var json = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--out", P("z.npy"), "--json",
            "--steps", "3", "--integrator", "euler-maruyama");
        Assert.Equal(0, json.Code);
        Assert.Contains("gmmflow: warning:", json.Err);
        Assert.Single(json.Err.Trim().Split('\n'));
        using var doc = JsonDocument.Parse(json.Out);
        var root = doc.RootElement;
        Assert.Equal("euler-maruyama", root.GetProperty("integrator").GetString());
        Assert.Equal(3, root.GetProperty("steps").GetInt32());
        var check = root.GetProperty("check");
        Assert.False(check.GetProperty("passed").GetBoolean());
        Assert.True(check.GetProperty("expectedExact").GetBoolean());
        Assert.True(Math.Abs(check.GetProperty("z").GetDouble()) > 4);
    }
}

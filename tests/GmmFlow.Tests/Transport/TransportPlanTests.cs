using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Transport;

/// <summary>
/// The GMMflow pipeline end to end (docs/theory.md#mixture-policy, #reference-values): plan objectives against published values, transported samples
/// against fresh target samples (two-sample MMD permutation test at a fixed false-alarm level), intermediate samples
/// against the exact marginal ρ_t, the policy's kinetic cost against the LP objective.
/// </summary>
public class TransportPlanTests
{
    private const double FalseAlarm = 0.01;

    internal static GaussianMixture RandomMixture(int k, int d, int seed, double spread)
    {
        var rng = new Random(seed);
        var weights = new double[k];
        double total = 0;
        for (int i = 0; i < k; i++)
        {
            weights[i] = 0.5 + rng.NextDouble();
            total += weights[i];
        }
        for (int i = 0; i < k; i++)
        {
            weights[i] /= total;
        }
        var means = new double[k * d];
        for (int i = 0; i < means.Length; i++)
        {
            means[i] = spread * TestMatrices.Normal(rng);
        }
        var covs = new double[k * d * d];
        for (int i = 0; i < k; i++)
        {
            TestMatrices.RandomSpd(d, seed * 31 + i, shift: 0.2).CopyTo(covs, i * d * d);
        }
        return new GaussianMixture(weights, means, covs, CovarianceType.Full, renormalizeWeights: true);
    }

    internal static (GaussianMixture Source, GaussianMixture Target) Toy()
    {
        var source = new GaussianMixture([1.0], [0.0, 0.0], [0.4, 0, 0, 0.4]);
        var weights = new double[8];
        var means = new double[16];
        var covs = new double[32];
        for (int k = 0; k < 8; k++)
        {
            weights[k] = 1.0 / 8;
            (double s, double c) = Math.SinCos(2 * Math.PI * k / 8);
            means[2 * k] = 10 * c;
            means[2 * k + 1] = 10 * s;
            covs[4 * k] = covs[4 * k + 3] = 0.2;
        }
        return (source, new GaussianMixture(weights, means, covs));
    }

    [Theory]
    [InlineData(0.1, 100.74)]
    [InlineData(1.0, 103.48)]
    [InlineData(10.0, 125.56)]
    public void GMMflow_toy_reproduces_published_LP_objectives(double epsilon, double published)
    {
        var (source, target) = Toy();
        var plan = TransportPlan.Create(source, target, new TransportOptions
        {
            Cost = CostKind.SchrodingerBridge,
            Noise = Math.Sqrt(epsilon), // the paper's ε is the noise variance σ²
            CostVariant = SchrodingerCostVariant.GmmFlowReference,
        });
        Assert.Equal(published, plan.Objective, 1e-2);
        Assert.Equal(8, plan.Pairs.Count);
    }

    [Fact]
    public void GMMflow_toy_W2_objective_is_100_07()
    {
        var (source, target) = Toy();
        var plan = TransportPlan.Create(source, target);
        Assert.Equal(100.07, plan.Objective, 1e-2);
        // The σ → 0 limit of the SB plan is the W2 plan.
        var sb = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0 });
        Assert.Equal(plan.Objective, sb.Objective, 1e-12);
    }

    public static TheoryData<CostKind, double, BridgeField, int> Cases() => new()
    {
        { CostKind.Wasserstein, 0, BridgeField.Drift, 2 },
        { CostKind.Surrogate, 0, BridgeField.Drift, 2 },
        { CostKind.SchrodingerBridge, 0.5, BridgeField.Drift, 2 },
        { CostKind.SchrodingerBridge, 0.5, BridgeField.ProbabilityFlow, 2 },
        { CostKind.Wasserstein, 0, BridgeField.Drift, 10 },
        { CostKind.Surrogate, 0, BridgeField.Drift, 10 },
        { CostKind.SchrodingerBridge, 0.3, BridgeField.Drift, 10 },
        { CostKind.SchrodingerBridge, 0.3, BridgeField.ProbabilityFlow, 10 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transported_samples_match_the_target_mixture_and_intermediate_marginals(CostKind cost, double noise, BridgeField field, int d)
    {
        var source = RandomMixture(3, d, 11 + d, spread: 2.0);
        var target = RandomMixture(4, d, 97 + d, spread: 2.0);
        var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = cost, Noise = noise });
        Assert.True(plan.Pairs.Count <= 3 + 4 - 1);

        const int n = 800;
        var x0 = source.Sample(n, seed: 5);
        var run = new TransportRunOptions { Steps = noise > 0 && field == BridgeField.Drift ? 400 : 60, Field = field, Seed = 9, SaveEvery = 0 };
        int stepsToHalf = run.Steps / 2;
        run = run with { SaveEvery = stepsToHalf };
        var trajectory = new double[TransportPlan.TrajectorySnapshots(run) * n * d];
        var x1 = plan.Transport(x0, run, trajectory);

        var fresh = target.Sample(n, seed: 1234);
        var atOne = SampleMetrics.MmdPermutationTest(x1, fresh, d, permutations: 200, seed: 3);
        Assert.True(atOne.PValue > FalseAlarm, $"t = 1: MMD² = {atOne.MmdSquared:g3}, p = {atOne.PValue}");

        // Snapshot 1 is t = 0.5: compare with exact samples of ρ_0.5 (no simulation).
        var half = trajectory.AsSpan(1 * n * d, n * d).ToArray();
        var exactHalf = plan.SampleMarginal(0.5, n, seed: 77);
        var atHalf = SampleMetrics.MmdPermutationTest(half, exactHalf, d, permutations: 200, seed: 4);
        Assert.True(atHalf.PValue > FalseAlarm, $"t = 0.5: MMD² = {atHalf.MmdSquared:g3}, p = {atHalf.PValue}");

        // The same test rejects untransported samples: it has power here.
        var control = SampleMetrics.MmdPermutationTest(x0, fresh, d, permutations: 200, seed: 3);
        Assert.True(control.PValue <= FalseAlarm, $"control not rejected: p = {control.PValue}");
    }

    [Theory]
    [InlineData(CostKind.Wasserstein, 0.0)]
    [InlineData(CostKind.Surrogate, 0.0)]
    [InlineData(CostKind.SchrodingerBridge, 0.4)]
    public void Kinetic_cost_of_the_mixture_policy_does_not_exceed_the_LP_objective(CostKind cost, double noise)
    {
        var source = RandomMixture(3, 2, 5, spread: 1.5);
        var target = RandomMixture(3, 2, 6, spread: 1.5);
        var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = cost, Noise = noise });
        var (estimate, se) = plan.KineticCost(samplesPerNode: 4000, nodes: 12, seed: 1);
        Assert.True(estimate <= plan.Objective + 4 * se, $"E∫|u|² = {estimate} ± {se} > objective {plan.Objective}");
        Assert.True(estimate > 0.3 * plan.Objective, $"estimate {estimate} implausibly small vs {plan.Objective}");
    }

    [Fact]
    public void Single_Gaussian_pair_policy_is_the_bridge_and_its_kinetic_cost_equals_the_cost()
    {
        // One component each: the policy is exactly the pair's affine field, so E∫|u|² = W2² (up to MC error).
        var a = RandomMixture(1, 3, 21, spread: 1);
        var b = RandomMixture(1, 3, 22, spread: 1);
        var plan = TransportPlan.Create(a, b);
        var (estimate, se) = plan.KineticCost(8000, 12, seed: 2);
        Assert.True(Math.Abs(estimate - plan.Objective) <= 4 * se + 1e-9, $"{estimate} ± {se} vs {plan.Objective}");

        // The barycentric map of a single pair is the Monge map m1 + T(x − m0): it hits the target exactly in law.
        var x = a.Sample(1000, 3);
        var mapped = plan.MapBarycentric(x);
        var direct = plan.MapRandom(x, 5); // σ = 0: also deterministic
        Assert.Equal(mapped, direct);
        var p = SampleMetrics.MmdPermutationTest(mapped, b.Sample(1000, 9), 3, 200, seed: 1);
        Assert.True(p.PValue > FalseAlarm);
    }

    [Fact]
    public void Single_point_velocity_equals_batch_and_allocates_nothing_when_warm()
    {
        var source = RandomMixture(4, 2, 1, spread: 2);
        var target = RandomMixture(5, 2, 2, spread: 2);
        var plan = TransportPlan.Create(source, target);
        var points = source.Sample(257, 1);
        var batch = new double[points.Length];
        plan.Velocities(0.3, points, batch);
        Span<double> v = stackalloc double[2];
        for (int i = 0; i < 257; i++)
        {
            plan.Velocity(0.3, points.AsSpan(2 * i, 2), v);
            Assert.Equal(batch[2 * i], v[0], 1e-12);
            Assert.Equal(batch[2 * i + 1], v[1], 1e-12);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            plan.Velocity(0.3, points.AsSpan(0, 2), v);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Sinkhorn_plan_approaches_the_LP_as_temperature_falls()
    {
        var source = RandomMixture(5, 2, 3, spread: 2);
        var target = RandomMixture(6, 2, 4, spread: 2);
        double lp = TransportPlan.Create(source, target).Objective;
        double previous = double.PositiveInfinity;
        foreach (double tau in (double[])[1.0, 0.1, 0.01])
        {
            var plan = TransportPlan.Create(source, target, new TransportOptions { Coupling = CouplingMethod.Sinkhorn, SinkhornTemperature = tau, SinkhornPruneRatio = 0 });
            // Sinkhorn stops at a marginal error of 1e-9, so its transport cost may undercut the LP by ~max C × 1e-9.
            Assert.True(plan.Objective >= lp * (1 - 1e-7), $"τ = {tau}: Sinkhorn {plan.Objective} below LP {lp}");
            Assert.True(plan.Objective <= previous * (1 + 1e-7));
            previous = plan.Objective;
        }
        Assert.True(previous - lp < 0.05 * lp, $"τ = 0.01: {previous} vs LP {lp}");
    }

    [Fact]
    public void Unconverged_sinkhorn_is_flagged_on_the_plan()
    {
        var source = RandomMixture(5, 2, 3, spread: 2);
        var target = RandomMixture(6, 2, 4, spread: 2);
        var plan = TransportPlan.Create(source, target, new TransportOptions
        {
            Coupling = CouplingMethod.Sinkhorn,
            SinkhornTemperature = 1e-4,
            Sinkhorn = new SinkhornOptions { MaxIterations = 3, EpsilonScaling = false },
        });
        Assert.False(plan.CouplingConverged);
        Assert.Equal(3, plan.CouplingIterations);
        Assert.True(plan.CouplingMarginalError > 1e-6);
        Assert.True(TransportPlan.Create(source, target).CouplingConverged);
    }

    [Fact]
    public void Plan_file_round_trips_and_rejects_inconsistent_couplings()
    {
        var source = RandomMixture(3, 2, 8, spread: 2);
        var target = RandomMixture(2, 2, 9, spread: 2);
        var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.2 });
        using var stream = new MemoryStream();
        PlanJson.Write(plan, stream);
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        var back = PlanJson.Read(new MemoryStream(stream.ToArray()), "plan.json");
        Assert.Equal(plan.Pairs, back.Pairs);
        Assert.Equal(plan.Objective, back.Objective);
        Assert.Equal(CostKind.SchrodingerBridge, back.Options.Cost);
        Span<double> v1 = stackalloc double[2], v2 = stackalloc double[2];
        plan.Velocity(0.4, [0.3, -0.2], v1);
        back.Velocity(0.4, [0.3, -0.2], v2);
        Assert.Equal(v1.ToArray(), v2.ToArray());

        var truncated = Assert.Throws<DataFormatException>(() => PlanJson.Read(new MemoryStream(stream.ToArray()[..(int)(stream.Length / 2)]), "plan.json"));
        Assert.Contains("plan.json", truncated.Message);
        var badIndex = text.Replace("\"i\": 0", "\"i\": 7");
        var e = Assert.Throws<DataFormatException>(() => PlanJson.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(badIndex)), "plan.json"));
        Assert.Contains("source component 7", e.Message);
        var badWeight = System.Text.RegularExpressions.Regex.Replace(text, "\"weight\": [0-9.eE+-]+", "\"weight\": 0.001");
        var m = Assert.Throws<DataFormatException>(() => PlanJson.Read(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(badWeight)), "plan.json"));
        Assert.Contains("mass", m.Message);
    }

    [Fact]
    public void Bad_inputs_are_typed_errors()
    {
        var a = RandomMixture(2, 2, 1, 1);
        var b = RandomMixture(2, 3, 2, 1);
        Assert.Throws<ArgumentException>(() => TransportPlan.Create(a, b));
        Assert.Throws<ArgumentOutOfRangeException>(() => TransportPlan.Create(a, a, new TransportOptions { Noise = -1 }));
        var plan = TransportPlan.Create(a, RandomMixture(2, 2, 3, 1));
        Assert.Throws<NonFiniteValueException>(() => plan.Velocity(0.5, [double.NaN, 0], new double[2]));
        Assert.Throws<ArgumentException>(() => plan.Transport(new double[5]));
        Assert.ThrowsAny<ArgumentException>(() => plan.Velocities(1.5, new double[2], new double[2]));
        var noisy = TransportPlan.Create(a, RandomMixture(2, 2, 3, 1), new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.5 });
        Assert.Throws<ArgumentException>(() => noisy.Transport(new double[4], new TransportRunOptions { Integrator = Integrator.RungeKutta4 }));
    }
}

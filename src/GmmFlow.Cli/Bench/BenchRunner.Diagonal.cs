namespace GmmFlow.Cli.Bench;

// The structured-covariance cases (docs/theory/structured-covariances.md#benchmarks): GMMflow's latent-translation
// shape (d = 512, K = 10 diagonal components on both sides, Schrödinger bridge with σ = 1) and its logo shape (K = 500
// spherical components on both sides in 2-D). Groups: "plan" (costs + LP + bridges), "field" (its diagonal case),
// "latent" (EM fits, plan and Euler–Maruyama end to end), "logo" (the 250 000-entry LP and the transport).
internal sealed partial class BenchRunner
{
    private const int LatentDimension = 512, LatentComponents = 10;
    private const double LatentNoise = 1.0, LogoNoise = 0.05;

    /// <summary>Cases the diagonal groups add (used by <see cref="BenchSizes.CaseCountOf"/>).</summary>
    internal static int DiagonalCaseCount(string group) => group is "plan" or "field" or "latent" or "logo" ? 1 : 0;

    /// <summary>
    /// K diagonal components in dimension d shaped like image latents: means N(0, 1) per coordinate, variances
    /// 0.01·e^U(−½, ½) (the GMMflow experiment's σ² = 0.01 scale), weights 0.5 + U(0, 1) normalised.
    /// </summary>
    internal static GaussianMixture LatentMixture(int k, int d, int seed)
    {
        var rng = new Random(seed);
        var weights = new double[k];
        var means = new double[k * d];
        var variances = new double[k * d];
        for (int c = 0; c < k; c++)
        {
            weights[c] = 0.5 + rng.NextDouble();
        }
        for (int i = 0; i < means.Length; i++)
        {
            means[i] = BenchInputs.Normal(rng);
            variances[i] = 0.01 * Math.Exp(rng.NextDouble() - 0.5);
        }
        return new GaussianMixture(weights, means, variances, CovarianceType.Diagonal, renormalizeWeights: true);
    }

    /// <summary>
    /// The logo shape: K spherical components in 2-D, equal weights, variance 4·10⁻⁴; the source's means uniform on the
    /// unit square, the target's on a ring of radius 1 with radial jitter (an image's pixels in the GMMflow logo).
    /// </summary>
    internal static GaussianMixture LogoMixture(int k, bool ring, int seed)
    {
        var rng = new Random(seed);
        var weights = new double[k];
        var means = new double[2 * k];
        var variances = new double[k];
        for (int c = 0; c < k; c++)
        {
            weights[c] = 1.0 / k;
            variances[c] = 4e-4;
            if (ring)
            {
                double theta = 2 * Math.PI * rng.NextDouble(), r = 1 + 0.1 * BenchInputs.Normal(rng);
                means[2 * c] = r * Math.Cos(theta);
                means[2 * c + 1] = r * Math.Sin(theta);
            }
            else
            {
                means[2 * c] = 2 * rng.NextDouble() - 1;
                means[2 * c + 1] = 2 * rng.NextDouble() - 1;
            }
        }
        return new GaussianMixture(weights, means, variances, CovarianceType.Spherical, renormalizeWeights: true);
    }

    /// <summary>plan/diag/d512/K10: diagonal factors of both sides, the SB cost matrix, the exact LP and the bridges.</summary>
    private void DiagonalPlan()
    {
        int d = LatentDimension, k = LatentComponents;
        var source = LatentMixture(k, d, 512);
        var target = LatentMixture(k, d, 513);
        var options = new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = LatentNoise };
        TransportPlan? plan = null;
        var timing = BenchTimer.Measure(() => plan = TransportPlan.Create(source, target, options), settings);
        var (sf, tf) = GaussianFactors.ForTransport(source, target);
        var costs = new double[k * k];
        var costsOnly = BenchTimer.Measure(() => GaussianCosts.Compute(options.Cost, sf, tf, costs, LatentNoise), settings);
        Add(new BenchRecord("plan", $"plan/diag/d{d}/K{k}", [("covariance", "diag"), ("d", d), ("k0", k), ("k1", k), ("noise", LatentNoise),
                ("cost", "schrodinger-bridge")], timing, 1, "plans/s",
            [new("objective", plan!.Objective), new("active_pairs", plan.Pairs.Count), new("costs_only_median_seconds", costsOnly.MedianSeconds)]));
        if (Export("plan_diag_source.json") is { } path)
        {
            MixtureJson.Write(source, path);
            MixtureJson.Write(target, Export("plan_diag_target.json")!);
            NpyWriter.Write(Export("plan_diag_costs.npy")!, costs, k, k);
        }
    }

    /// <summary>field/diag/d512/K10: the diagonal mixture policy at t = ½ on N points drawn from ρ_½.</summary>
    private void DiagonalField()
    {
        const double t = 0.5;
        int d = LatentDimension, k = LatentComponents, n = quick ? 1_000 : 10_000;
        var plan = TransportPlan.Create(LatentMixture(k, d, 512), LatentMixture(k, d, 513),
            new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = LatentNoise });
        double[] x = plan.SampleMarginal(t, n, 3);
        var v = new double[x.Length];
        var timing = BenchTimer.Measure(() => plan.Velocities(t, x, v), settings);
        int pairs = plan.Pairs.Count;
        Add(new BenchRecord("field", $"field/diag/d{d}/K{k}", [("covariance", "diag"), ("d", d), ("n", n), ("pairs", pairs), ("t", t)],
            timing, n, "points/s", []));
        if (Export("field_diag_points.npy") is { } path)
        {
            SampleFiles.Write(path, x, d);
            SampleFiles.Write(Export("field_diag_velocities.npy")!, v, d);
            var logWeights = new double[pairs];
            var means = new double[pairs * d];
            var variances = new double[pairs * d];
            var gains = new double[pairs * d];
            var offsets = new double[pairs * d];
            for (int p = 0; p < pairs; p++)
            {
                logWeights[p] = Math.Log(plan.Pairs[p].Weight);
                plan.Bridges[p].Evaluate(t, means.AsSpan(p * d, d), variances.AsSpan(p * d, d), gains.AsSpan(p * d, d), offsets.AsSpan(p * d, d));
            }
            NpyWriter.Write(Export("field_diag_logw.npy")!, logWeights, pairs);
            NpyWriter.Write(Export("field_diag_means.npy")!, means, pairs, d);
            NpyWriter.Write(Export("field_diag_variances.npy")!, variances, pairs, d);
            NpyWriter.Write(Export("field_diag_gains.npy")!, gains, pairs, d);
            NpyWriter.Write(Export("field_diag_offsets.npy")!, offsets, pairs, d);
        }
    }

    /// <summary>
    /// latent/diag/d512/K10: GMMflow's latent translation end to end: diagonal EM fits of both sides (fixed iteration
    /// count from exported k-means++ starts, so sklearn can do the same work), the SB plan, then Euler–Maruyama of the
    /// diagonal policy for the particles.
    /// </summary>
    private void Latent()
    {
        int d = LatentDimension, k = LatentComponents;
        int n = quick ? 2_000 : 10_000, iterations = quick ? 5 : 20, particles = quick ? 200 : 1_000, steps = quick ? 20 : 200;
        double[] x0 = LatentMixture(k, d, 512).Sample(n, 41);
        double[] x1 = LatentMixture(k, d, 513).Sample(n, 42);
        var fitOptions = new GaussianMixtureFitOptions { CovarianceType = CovarianceType.Diagonal };
        var init0 = GaussianMixtureFitter.Fit(x0, d, k, fitOptions with { MaxIterations = 0, Seed = 1 }).Mixture;
        var init1 = GaussianMixtureFitter.Fit(x1, d, k, fitOptions with { MaxIterations = 0, Seed = 2 }).Mixture;
        double[] start = x0.AsSpan(0, particles * d).ToArray();
        var planOptions = new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = LatentNoise };
        var runOptions = new TransportRunOptions { Steps = steps, Integrator = Integrator.EulerMaruyama, Seed = 7 };
        EndToEnd("latent", $"latent/diag/d{d}/K{k}", x0, x1, d, init0, init1, fitOptions with { Tolerance = 0, MaxIterations = iterations },
            start, planOptions, runOptions,
            [("covariance", "diag"), ("d", d), ("n", n), ("k0", k), ("k1", k), ("em_iterations", iterations), ("noise", LatentNoise),
             ("particles", particles), ("steps", steps)]);
    }

    /// <summary>logo/spherical/d2/K500: the 500×500 SB plan between spherical mixtures and the transport of 2 000 points.</summary>
    private void Logo()
    {
        int k = quick ? 100 : 500, particles = quick ? 500 : 2_000, steps = quick ? 20 : 100;
        var source = LogoMixture(k, ring: false, 500);
        var target = LogoMixture(k, ring: true, 501);
        double[] start = source.Sample(particles, 43);
        var planOptions = new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = LogoNoise };
        var runOptions = new TransportRunOptions { Steps = steps, Integrator = Integrator.EulerMaruyama, Seed = 7 };
        EndToEnd("logo", $"logo/spherical/d2/K{k}", null, null, 2, source, target, null, start, planOptions, runOptions,
            [("covariance", "spherical"), ("d", 2), ("k0", k), ("k1", k), ("noise", LogoNoise), ("particles", particles), ("steps", steps)]);
    }

    /// <summary>
    /// Times fit (when <paramref name="fit"/> is given: EM of both sides from the given starts) → plan → transport, and
    /// exports what the Python side needs (&lt;group&gt;_x0/x1.npy, _init0/1.json, _start.npy) and GmmFlow's results.
    /// </summary>
    private void EndToEnd(string group, string name, double[]? x0, double[]? x1, int d, GaussianMixture init0, GaussianMixture init1,
        GaussianMixtureFitOptions? fit, double[] start, TransportOptions planOptions, TransportRunOptions runOptions, BenchParameter[] parameters)
    {
        var stages = new List<double[]>();
        TransportPlan? plan = null;
        double[] moved = [];
        void Operation()
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            var a = fit is null ? init0 : GaussianMixtureFitter.Fit(x0!, d, init0.ComponentCount, fit with { InitialMixture = init0 }).Mixture;
            long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
            var b = fit is null ? init1 : GaussianMixtureFitter.Fit(x1!, d, init1.ComponentCount, fit with { InitialMixture = init1 }).Mixture;
            long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
            plan = TransportPlan.Create(a, b, planOptions);
            long t3 = System.Diagnostics.Stopwatch.GetTimestamp();
            moved = plan.Transport(start, runOptions);
            long t4 = System.Diagnostics.Stopwatch.GetTimestamp();
            double f = System.Diagnostics.Stopwatch.Frequency;
            stages.Add([(t1 - t0) / f, (t2 - t1) / f, (t3 - t2) / f, (t4 - t3) / f]);
        }
        int repeats = quick ? 1 : 5;
        var timing = BenchTimer.Measure(Operation, settings with { Repeats = repeats, Warmup = TimeSpan.Zero }, fixedOpsPerBatch: 1, minWarmupCalls: 1);
        var timed = stages.Skip(stages.Count - repeats).ToArray();
        double Stage(int s) => BenchTimer.Median(timed.Select(r => r[s]).ToArray());
        Add(new BenchRecord(group, name, parameters, timing, start.Length / d, "particles/s",
            [new("fit_source_seconds", Stage(0)), new("fit_target_seconds", Stage(1)), new("plan_seconds", Stage(2)), new("transport_seconds", Stage(3)),
             new("objective", plan!.Objective), new("active_pairs", plan.Pairs.Count),
             new("result_mean_log_likelihood_under_target_fit", plan.Target.MeanLogLikelihood(moved))]));
        if (Export($"{group}_start.npy") is { } path)
        {
            SampleFiles.Write(path, start, d);
            if (x0 is not null)
            {
                SampleFiles.Write(Export($"{group}_x0.npy")!, x0, d);
                SampleFiles.Write(Export($"{group}_x1.npy")!, x1!, d);
            }
            MixtureJson.Write(init0, Export($"{group}_init0.json")!);
            MixtureJson.Write(init1, Export($"{group}_init1.json")!);
            SampleFiles.Write(Export($"{group}_result.npy")!, moved, d);
        }
    }
}

using System.Globalization;
using System.Text.Json;
using GmmFlow.Fitting;
using GmmFlow.Native;

namespace GmmFlow.Cli.Bench;

/// <summary>Sizes of the standard cases: the docs/anchors.md sizes, or small ones for --quick.</summary>
internal sealed record BenchSizes(
    (int K0, int K1, int D)[] Costs,
    int[] Lp,
    int EmPoints, int EmComponents, int[] EmDimensions, int EmWarmupIterations, int EmTimedIterations,
    int FieldComponents, (int D, int Points)[] Field,
    int PointComponents,
    int PipelinePoints, int PipelineIterations, int PipelineParticles, int PipelineSteps, int PipelineRepeats, double PipelineNoise)
{
    public static readonly BenchSizes Full = new(
        Costs: [(50, 50, 2), (50, 50, 16), (20, 20, 64)],
        Lp: [10, 100, 500],
        EmPoints: 100_000, EmComponents: 10, EmDimensions: [2, 16], EmWarmupIterations: 3, EmTimedIterations: 20,
        FieldComponents: 10, Field: [(2, 100_000), (16, 20_000)],
        PointComponents: 10,
        PipelinePoints: 20_000, PipelineIterations: 50, PipelineParticles: 10_000, PipelineSteps: 100, PipelineRepeats: 5, PipelineNoise: 0.5);

    public static readonly BenchSizes Quick = new(
        Costs: [(10, 10, 2), (10, 10, 16), (4, 4, 64)],
        Lp: [10, 30, 60],
        EmPoints: 5_000, EmComponents: 10, EmDimensions: [2, 16], EmWarmupIterations: 2, EmTimedIterations: 3,
        FieldComponents: 10, Field: [(2, 5_000), (16, 1_000)],
        PointComponents: 10,
        PipelinePoints: 2_000, PipelineIterations: 10, PipelineParticles: 500, PipelineSteps: 10, PipelineRepeats: 1, PipelineNoise: 0.5);

    public int CaseCount => 2 * Costs.Length + Lp.Length + EmDimensions.Length + Field.Length + 2;

    /// <summary>Cases in one group of <see cref="BenchRunner.Groups"/>.</summary>
    public int CaseCountOf(string group) => group switch
    {
        "cost" => 2 * Costs.Length,
        "lp" => Lp.Length,
        "em" => EmDimensions.Length,
        "field" => Field.Length,
        _ => 1,
    };
}

/// <summary>
/// The standard cases of `gmmflow bench`, timed in-process through the public API (the EM case drives the fitter's
/// workspace directly, one iteration per call): cost matrices, the exact LP, EM iterations, the batched velocity
/// field, single-point velocity latency and an end-to-end fit → plan → transport pipeline. With an export folder it
/// also writes every case's inputs and GmmFlow's outputs as .npy/JSON for benchmarks/compare.
/// </summary>
internal sealed class BenchRunner(BenchSizes sizes, BenchSettings settings, bool quick, TextWriter progress, string? exportDirectory,
    IReadOnlyCollection<string>? groups = null)
{
    /// <summary>Case groups, in the order they run (the first segment of every case name).</summary>
    public static readonly string[] Groups = ["cost", "lp", "em", "field", "point", "pipeline"];

    private readonly List<BenchRecord> _records = [];

    public BenchReport Run()
    {
        var started = DateTimeOffset.UtcNow;
        var machine = BenchMachine.Describe();
        progress.WriteLine($"gmmflow bench: {CaseCount} cases{(quick ? " (quick)" : "")}, load average {machine.LoadAverageAtStart}");
        if (exportDirectory is not null)
        {
            Directory.CreateDirectory(exportDirectory);
        }
        if (Selected("cost"))
        {
            CostMatrices();
        }
        if (Selected("lp"))
        {
            ExactLp();
        }
        if (Selected("em"))
        {
            EmIterations();
        }
        if (Selected("field"))
        {
            VelocityField();
        }
        if (Selected("point"))
        {
            SinglePoint();
        }
        if (Selected("pipeline"))
        {
            Pipeline();
        }
        var report = new BenchReport(machine, quick, started, BenchMachine.LoadAverage(), _records);
        if (exportDirectory is not null)
        {
            using var stream = File.Create(Path.Combine(exportDirectory, "gmmflow.json"));
            report.WriteJson(stream);
        }
        return report;
    }

    private int CaseCount => groups is null ? sizes.CaseCount : groups.Sum(sizes.CaseCountOf);

    private bool Selected(string group) => groups is null || groups.Contains(group);

    private void Add(BenchRecord record)
    {
        _records.Add(record);
        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gmmflow bench: [{_records.Count}/{CaseCount}] {record.Name,-28} {BenchRecord.FormatSeconds(record.Timing.MedianSeconds),11}/op  " +
            $"{BenchRecord.FormatRate(record.Throughput)}{record.ThroughputUnit}"));
    }

    private string? Export(string name) => exportDirectory is null ? null : Path.Combine(exportDirectory, name);

    private void CostMatrices()
    {
        foreach (var (k0, k1, d) in sizes.Costs)
        {
            var (means0, covariances0) = BenchInputs.Components(k0, d, 1000 + d);
            var (means1, covariances1) = BenchInputs.Components(k1, d, 2000 + d);
            var destination = new double[k0 * k1];
            string size = $"{k0}x{k1}_d{d}";
            if (Export($"{size}_means0.npy") is { } path)
            {
                NpyWriter.Write(path, means0, k0, d);
                NpyWriter.Write(Export($"{size}_covs0.npy")!, covariances0, k0, d, d);
                NpyWriter.Write(Export($"{size}_means1.npy")!, means1, k1, d);
                NpyWriter.Write(Export($"{size}_covs1.npy")!, covariances1, k1, d, d);
            }
            foreach (var kind in (ReadOnlySpan<CostKind>)[CostKind.Wasserstein, CostKind.Surrogate])
            {
                // Timed: factoring both sides (Cholesky and its inverse per component) plus the K0×K1 costs, the same
                // work as the batched numpy function it is compared with.
                void Operation()
                {
                    var source = GaussianFactors.FromFull(means0, covariances0, k0, d, "source");
                    var target = GaussianFactors.FromFull(means1, covariances1, k1, d, "target");
                    GaussianCosts.Compute(kind, source, target, destination);
                }
                var timing = BenchTimer.Measure(Operation, settings);
                // For context: the costs alone, from factors prepared once (what a plan reuses).
                var source = GaussianFactors.FromFull(means0, covariances0, k0, d, "source");
                var target = GaussianFactors.FromFull(means1, covariances1, k1, d, "target");
                var costsOnly = BenchTimer.Measure(() => GaussianCosts.Compute(kind, source, target, destination), settings);
                // And the same costs with one LAPACK dsyevd per pair instead of the lockstep SIMD eigensolver.
                var scratch = new double[k0 * k1];
                var lapackPerPair = BenchTimer.Measure(
                    () => GaussianCosts.ComputeMatrix(kind, source, target, scratch, 0, SchrodingerCostVariant.KineticEnergy, lockstep: false), settings);
                string label = kind == CostKind.Wasserstein ? "W2" : "surrogate";
                Add(new BenchRecord("cost", $"cost/{label}/{k0}x{k1}/d{d}",
                    [("cost", label), ("k0", k0), ("k1", k1), ("d", d)], timing, k0 * k1, "pairs/s",
                    [new("costs_only_median_seconds", costsOnly.MedianSeconds), new("costs_only_cpu_seconds", costsOnly.CpuSecondsPerOp),
                     new("costs_only_allocated_bytes", costsOnly.AllocatedBytesPerOp),
                     new("costs_lapack_per_pair_median_seconds", lapackPerPair.MedianSeconds)]));
                if (Export($"{size}_{kind}.npy") is { } result)
                {
                    NpyWriter.Write(result, destination, k0, k1);
                }
            }
        }
    }

    private void ExactLp()
    {
        foreach (int k in sizes.Lp)
        {
            var (a, b, cost) = BenchInputs.TransportLp(k, 1234 + k);
            Coupling? last = null;
            var timing = BenchTimer.Measure(() => last = Couplings.ExactLp(a, b, cost), settings);
            if (last!.Status != LpStatus.Optimal)
            {
                throw new InvalidOperationException($"The benchmark LP K = {k} ended with status {last.Status}.");
            }
            Add(new BenchRecord("lp", $"lp/K{k}", [("k0", k), ("k1", k)], timing, 1, "LPs/s",
                [new("objective", last.Objective), new("active_pairs", last.Entries.Count), new("simplex_iterations", last.SimplexIterations)]));
            if (Export($"lp_K{k}_a.npy") is { } path)
            {
                NpyWriter.Write(path, a, k);
                NpyWriter.Write(Export($"lp_K{k}_b.npy")!, b, k);
                NpyWriter.Write(Export($"lp_K{k}_cost.npy")!, cost, k, k);
            }
        }
    }

    private void EmIterations()
    {
        int n = sizes.EmPoints, k = sizes.EmComponents;
        foreach (int d in sizes.EmDimensions)
        {
            double[] x = BenchInputs.Mixture(k, d, 1).Sample(n, 2);
            var options = new GaussianMixtureFitOptions();
            var lapack = Lapack.Default;
            var data = new EmData(x, d, default, pointMajor: d >= EmData.PointMajorFromDimension);
            var ws = new EmWorkspace(data, k, CovarianceType.Full, options.RegCovar, lapack, KMeansInitializer.Trials(k));
            GaussianMixtureFitter.Initialize(ws, options, new CounterRng(0), 0, CancellationToken.None);
            var init = GaussianMixtureFitter.Snapshot(ws);
            int iteration = 0;
            // One call = one EM iteration (fused E-step + statistics pass, then the M-step), each timed on its own.
            var emSettings = settings with { Repeats = sizes.EmTimedIterations, Warmup = TimeSpan.Zero };
            var timing = BenchTimer.Measure(() =>
            {
                ws.Pass(EmWorkspace.PassKind.EStep);
                ws.MStep(++iteration);
            }, emSettings, fixedOpsPerBatch: 1, minWarmupCalls: sizes.EmWarmupIterations);
            double logLikelihood = ws.Pass(EmWorkspace.PassKind.LogLikelihood);
            Add(new BenchRecord("em", $"em/full/N{n}/K{k}/d{d}", [("covariance", "full"), ("n", n), ("k", k), ("d", d)],
                timing, n, "points/s", [new("iterations_total", iteration), new("final_mean_log_likelihood", logLikelihood)]));
            if (Export($"X_d{d}.npy") is { } path)
            {
                // The layout benchmarks/compare/em_sklearn.py reads (X, GmmFlow's initialisation, GmmFlow's numbers).
                SampleFiles.Write(path, x, d);
                MixtureJson.Write(init, Export($"init_d{d}.json")!);
                using var stream = File.Create(Export($"gmmflow_d{d}.json")!);
                using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
                w.WriteStartObject();
                w.WriteNumber("n", n);
                w.WriteNumber("k", k);
                w.WriteNumber("d", d);
                w.WriteNumber("cores", Environment.ProcessorCount);
                w.WriteString("lapack", lapack.ToString());
                w.WriteNumber("iterations_total", iteration);
                w.WriteNumber("per_iteration_ms_min", timing.MinSeconds * 1e3);
                w.WriteNumber("per_iteration_ms_median", timing.MedianSeconds * 1e3);
                w.WriteNumber("final_mean_log_likelihood", logLikelihood);
                w.WriteEndObject();
            }
        }
    }

    private void VelocityField()
    {
        const double t = 0.5;
        foreach (var (d, n) in sizes.Field)
        {
            var plan = BenchInputs.PlanWithFullSupport(sizes.FieldComponents, d, 10 + d);
            double[] x = plan.SampleMarginal(t, n, 3);
            var v = new double[x.Length];
            var timing = BenchTimer.Measure(() => plan.Velocities(t, x, v), settings);
            int pairs = plan.Pairs.Count;
            Add(new BenchRecord("field", $"field/d{d}/N{n}", [("d", d), ("n", n), ("pairs", pairs), ("t", t)],
                timing, n, "points/s", []));
            if (Export($"field_d{d}_points.npy") is { } path)
            {
                SampleFiles.Write(path, x, d);
                SampleFiles.Write(Export($"field_d{d}_velocities.npy")!, v, d);
                var logWeights = new double[pairs];
                var means = new double[pairs * d];
                var covariances = new double[pairs * d * d];
                var gains = new double[pairs * d * d];
                var offsets = new double[pairs * d];
                for (int p = 0; p < pairs; p++)
                {
                    logWeights[p] = Math.Log(plan.Pairs[p].Weight);
                    plan.Bridges[p].Evaluate(t, means.AsSpan(p * d, d), covariances.AsSpan(p * d * d, d * d),
                        gains.AsSpan(p * d * d, d * d), offsets.AsSpan(p * d, d));
                }
                NpyWriter.Write(Export($"field_d{d}_logw.npy")!, logWeights, pairs);
                NpyWriter.Write(Export($"field_d{d}_means.npy")!, means, pairs, d);
                NpyWriter.Write(Export($"field_d{d}_covs.npy")!, covariances, pairs, d, d);
                NpyWriter.Write(Export($"field_d{d}_gains.npy")!, gains, pairs, d, d);
                NpyWriter.Write(Export($"field_d{d}_offsets.npy")!, offsets, pairs, d);
            }
        }
    }

    private void SinglePoint()
    {
        const int d = 2;
        const double t = 0.5;
        var plan = BenchInputs.PlanWithFullSupport(sizes.PointComponents, d, 12);
        double[] x = plan.SampleMarginal(t, 1, 4);
        var v = new double[d];
        var timing = BenchTimer.Measure(() => plan.Velocity(t, x, v), settings);
        // Allocation of the call itself, on this thread only (the timer's figure includes every thread).
        const int calls = 10_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            plan.Velocity(t, x, v);
        }
        double bytesPerCall = (double)(GC.GetAllocatedBytesForCurrentThread() - before) / calls;
        Add(new BenchRecord("point", $"point/d{d}/K{sizes.PointComponents}", [("d", d), ("k0", sizes.PointComponents), ("k1", sizes.PointComponents),
            ("pairs", plan.Pairs.Count), ("t", t)], timing, 1, "calls/s", [new("allocated_bytes_per_call_this_thread", bytesPerCall)]));
    }

    /// <summary>
    /// GMMflow's pipeline shape end to end: EM fits of both sides (fixed iteration count from a given k-means++ start, so
    /// the Python side can do the same work), the Schrödinger-bridge cost matrix and exact LP, then Euler–Maruyama of
    /// the mixture policy. Source: a random 4-component 2-D mixture; target: the 8-component ring of docs/theory.md#reference-values.
    /// </summary>
    private void Pipeline()
    {
        const int d = 2, k0 = 4, k1 = 8;
        int n = sizes.PipelinePoints, iterations = sizes.PipelineIterations, particles = sizes.PipelineParticles, steps = sizes.PipelineSteps;
        double noise = sizes.PipelineNoise;
        double[] x0 = BenchInputs.Mixture(k0, d, 40).Sample(n, 41);
        double[] x1 = BenchInputs.Ring().Sample(n, 42);
        var init0 = GaussianMixtureFitter.Fit(x0, d, k0, new GaussianMixtureFitOptions { MaxIterations = 0, Seed = 1 }).Mixture;
        var init1 = GaussianMixtureFitter.Fit(x1, d, k1, new GaussianMixtureFitOptions { MaxIterations = 0, Seed = 2 }).Mixture;
        double[] start = x0.AsSpan(0, particles * d).ToArray();
        var planOptions = new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = noise };
        var runOptions = new TransportRunOptions { Steps = steps, Integrator = Integrator.EulerMaruyama, Seed = 7 };
        var stages = new List<double[]>();
        TransportPlan? plan = null;
        double[] moved = [];
        void Operation()
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            var fit0 = GaussianMixtureFitter.Fit(x0, d, k0, new GaussianMixtureFitOptions { InitialMixture = init0, Tolerance = 0, MaxIterations = iterations });
            long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
            var fit1 = GaussianMixtureFitter.Fit(x1, d, k1, new GaussianMixtureFitOptions { InitialMixture = init1, Tolerance = 0, MaxIterations = iterations });
            long t2 = System.Diagnostics.Stopwatch.GetTimestamp();
            plan = TransportPlan.Create(fit0.Mixture, fit1.Mixture, planOptions);
            long t3 = System.Diagnostics.Stopwatch.GetTimestamp();
            moved = plan.Transport(start, runOptions);
            long t4 = System.Diagnostics.Stopwatch.GetTimestamp();
            double f = System.Diagnostics.Stopwatch.Frequency;
            stages.Add([(t1 - t0) / f, (t2 - t1) / f, (t3 - t2) / f, (t4 - t3) / f]);
        }
        var pipelineSettings = settings with { Repeats = sizes.PipelineRepeats, Warmup = TimeSpan.Zero };
        var timing = BenchTimer.Measure(Operation, pipelineSettings, fixedOpsPerBatch: 1, minWarmupCalls: 1);
        var timed = stages.Skip(stages.Count - sizes.PipelineRepeats).ToArray();
        double Stage(int s) => BenchTimer.Median(timed.Select(r => r[s]).ToArray());
        Add(new BenchRecord("pipeline", $"pipeline/d{d}/N{n}", [("d", d), ("n", n), ("k0", k0), ("k1", k1), ("em_iterations", iterations),
                ("noise", noise), ("particles", particles), ("steps", steps), ("cost", "schrodinger-bridge"), ("integrator", "euler-maruyama")],
            timing, particles, "particles/s",
            [new("fit_source_seconds", Stage(0)), new("fit_target_seconds", Stage(1)), new("plan_seconds", Stage(2)), new("transport_seconds", Stage(3)),
             new("objective", plan!.Objective), new("active_pairs", plan.Pairs.Count),
             new("result_mean_log_likelihood_under_target_fit", plan.Target.MeanLogLikelihood(moved))]));
        if (Export("pipeline_x0.npy") is { } path)
        {
            SampleFiles.Write(path, x0, d);
            SampleFiles.Write(Export("pipeline_x1.npy")!, x1, d);
            MixtureJson.Write(init0, Export("pipeline_init0.json")!);
            MixtureJson.Write(init1, Export("pipeline_init1.json")!);
            SampleFiles.Write(Export("pipeline_result.npy")!, moved, d);
        }
    }
}

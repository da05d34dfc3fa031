using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>
/// `gmmflow multimarginal plan|transport`: momentum Schrödinger bridges through mixture snapshots at several times
/// (docs/theory/multimarginal.md).
/// </summary>
internal static class MultiMarginalCommand
{
    public static Command Create()
    {
        var command = new Command("multimarginal", """
            Multi-marginal momentum Schrödinger bridges: positions observed as mixtures at knot times t0 < … < tM, state
            (x, v) under dx = v dt, dv = u dt + σ dW, one Gaussian problem per tuple of components and a multi-marginal LP.

            Examples:
              gmmflow multimarginal plan --marginal 0:day0.json --marginal 1:day1.npy --marginal 2:day2.npy --components 5 --noise 0.1 --out plan.json
              gmmflow multimarginal plan --marginal 0:a.json --marginal 1.5:b.json --marginal 3:c.json --all-costs C.npy --out plan.json
              gmmflow multimarginal transport --plan plan.json --samples X0.npy --times 0.5,1,2.25 --out runs/
            """)
        {
            PlanCommand(), TransportCommand(), BenchCommand(),
        };
        return command;
    }

    private static Command PlanCommand()
    {
        var marginals = new Option<string[]>("--marginal", "-m")
        {
            Description = "Knot T:FILE (repeat, times strictly increasing): a mixture JSON, or samples (.npy/.csv) fitted with --components.",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var noise = Noise();
        var components = new Option<int>("--components", "-k") { Description = "Components K for marginals given as samples (EM, k-means++ init).", DefaultValueFactory = _ => 5 };
        AtLeast(components, 1);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the EM fits.", DefaultValueFactory = _ => 0 };
        var allCosts = new Option<string?>("--all-costs") { Description = "Also write the full tuple-cost tensor as .npy, shape (N0, …, NM), row-major over i0, …, iM." };
        var tolerance = new Option<double>("--tolerance") { Description = "Relative stopping tolerance of each tuple's L-BFGS.", DefaultValueFactory = _ => 1e-8 };
        NonNegative(tolerance);
        var output = new Option<string>("--out", "-o") { Description = "Plan JSON to write (times, noise, mixtures, objective, active tuples with weight and cost).", Required = true };
        var force = Force();
        var json = Json();
        var command = new Command("plan", "Solve all tuple costs, the multi-marginal LP and the active tuples' bridges; write a plan file.")
        {
            marginals, noise, components, seed, allCosts, tolerance, output, force, json,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            string? costPath = parse.GetValue(allCosts);
            CliFiles.CheckWritable(outPath, overwrite);
            if (costPath is not null)
            {
                if (!SampleFiles.IsNpy(costPath))
                {
                    throw new CliUsageException($"--all-costs {costPath}: the tensor is written as .npy.");
                }
                CliFiles.CheckWritable(costPath, overwrite);
            }
            var stderr = parse.InvocationConfiguration.Error;
            var knots = ParseKnots(parse.GetValue(marginals)!);
            var mixtures = new List<GaussianMixture>();
            foreach (var (time, file) in knots)
            {
                mixtures.Add(LoadKnot(file, parse.GetValue(components), parse.GetValue(seed), stderr));
            }
            var times = knots.Select(k => k.Time).ToArray();
            long tuples = mixtures.Aggregate(1L, (p, m) => p * m.ComponentCount);
            var options = new MultiMarginalOptions
            {
                Noise = parse.GetValue(noise),
                TupleTolerance = parse.GetValue(tolerance),
                Progress = tuples >= 500 ? new StderrProgress(stderr, "tuple costs") : null,
            };
            var clock = Stopwatch.StartNew();
            MultiMarginalPlan plan;
            try
            {
                plan = MultiMarginalPlan.Create(times, mixtures, options);
            }
            catch (ArgumentException e) when (e.ParamName is "times" or "marginals")
            {
                throw new CliUsageException(e.Message.Split(" (Parameter")[0]);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            CliFiles.WriteAtomic(outPath, overwrite, s => MultiMarginalPlanJson.Write(plan, s));
            if (costPath is not null)
            {
                long[] shape = [.. mixtures.Select(m => (long)m.ComponentCount)];
                CliFiles.WriteAtomic(costPath, overwrite, s => SampleFiles.WriteNpy(s, plan.CostTensor!, shape));
            }
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("knots", times.Length);
                    w.WriteNumber("dimension", plan.Dimension);
                    w.WriteNumber("noise", plan.Noise);
                    w.WriteNumber("tuples", tuples);
                    w.WriteNumber("activeTuples", plan.Tuples.Count);
                    w.WriteNumber("objective", plan.Objective);
                    w.WriteNumber("seconds", seconds);
                    w.WriteString("out", outPath);
                    w.WriteEndObject();
                }));
            }
            else
            {
                stdout.WriteLine($"{times.Length} knots in d = {plan.Dimension}, σ = {F(plan.Noise)}: {tuples} tuple costs, {plan.Tuples.Count} active tuples, " +
                    $"objective {F(plan.Objective)} in {F(seconds, "F3")} s");
                stdout.WriteLine($"wrote {outPath}" + (costPath is null ? "" : $" and {costPath}"));
            }
            return CliApp.Success;
        });
        return command;
    }

    private static Command TransportCommand()
    {
        var planPath = new Option<string>("--plan", "-p") { Description = "Plan file written by `gmmflow multimarginal plan`.", Required = true };
        var samples = new Option<string>("--samples", "-s") { Description = "Positions at t0 (.npy or .csv, (N, n)); velocities are drawn from the plan.", Required = true };
        var times = new Option<string?>("--times") { Description = "Comma-separated report times in [t0, tM] (default: the knots)." };
        var steps = new Option<int>("--steps") { Description = "Integration steps over [t0, tM]; knots and report times are hit exactly.", DefaultValueFactory = _ => 400 };
        AtLeast(steps, 1);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial velocities and Brownian increments.", DefaultValueFactory = _ => 0 };
        var exact = new Option<bool>("--exact") { Description = "Also write exact samples of the marginal at each report time (exact.npy, no simulation)." };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: positions.npy (T, N, n), times.npy (T)[, exact.npy].", Required = true };
        var force = Force();
        var json = Json();
        var command = new Command("transport", "Draw initial velocities, integrate the mixture policy from t0, report positions at the knots or given times.")
        {
            planPath, samples, times, steps, seed, exact, output, force, json,
        };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            string positionsPath = Path.Combine(dir, "positions.npy"), timesPath = Path.Combine(dir, "times.npy"), exactPath = Path.Combine(dir, "exact.npy");
            if (File.Exists(dir))
            {
                throw new CliUsageException($"--out {dir} is a file; give a folder.");
            }
            string planFile = parse.GetValue(planPath)!;
            MultiMarginalPlan plan;
            using (var stream = CliFiles.OpenInput(planFile))
            {
                plan = MultiMarginalPlanJson.Read(stream, planFile);
            }
            string samplesPath = parse.GetValue(samples)!;
            double[] x0 = LoadSamples(samplesPath, "--samples", out int d);
            if (d != plan.Dimension)
            {
                throw new InvalidDataException($"{samplesPath} has dimension {d} but the plan {planFile} has {plan.Dimension}.");
            }
            double[] report = parse.GetValue(times) is { } list ? ParseTimes(list, plan) : [.. plan.Times];
            Directory.CreateDirectory(dir);
            CliFiles.CheckWritable(positionsPath, overwrite);
            CliFiles.CheckWritable(timesPath, overwrite);
            bool writeExact = parse.GetValue(exact);
            if (writeExact)
            {
                CliFiles.CheckWritable(exactPath, overwrite);
            }
            int n = x0.Length / d;
            var stderr = parse.InvocationConfiguration.Error;
            var run = new MomentumRunOptions
            {
                Steps = parse.GetValue(steps),
                Seed = parse.GetValue(seed),
                Progress = (long)n * parse.GetValue(steps) * plan.Tuples.Count > 50_000_000 ? new StderrProgress(stderr, "transport") : null,
            };
            var clock = Stopwatch.StartNew();
            var positions = plan.Transport(x0, report, run);
            double seconds = clock.Elapsed.TotalSeconds;
            CliFiles.WriteAtomic(positionsPath, overwrite, s => SampleFiles.WriteNpy(s, positions, [report.Length, n, d]));
            CliFiles.WriteAtomic(timesPath, overwrite, s => SampleFiles.WriteNpy(s, report, [report.Length]));
            if (writeExact)
            {
                var all = new double[report.Length * n * d];
                for (int r = 0; r < report.Length; r++)
                {
                    plan.SampleMarginal(report[r], n, run.Seed + 1 + (ulong)r).CopyTo(all, r * n * d);
                }
                CliFiles.WriteAtomic(exactPath, overwrite, s => SampleFiles.WriteNpy(s, all, [report.Length, n, d]));
            }
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("points", n);
                    w.WriteNumber("dimension", d);
                    w.WriteNumber("reportTimes", report.Length);
                    w.WriteNumber("activeTuples", plan.Tuples.Count);
                    w.WriteNumber("seconds", seconds);
                    w.WriteString("out", dir);
                    w.WriteEndObject();
                }));
            }
            else
            {
                stdout.WriteLine($"transported {n} points in d = {d} through {plan.Times.Count} knots ({plan.Tuples.Count} active tuples, σ = {F(plan.Noise)}) " +
                    $"in {F(seconds, "F3")} s");
                stdout.WriteLine($"wrote {positionsPath} ({report.Length} times)" + (writeExact ? $" and {exactPath}" : ""));
            }
            return CliApp.Success;
        });
        return command;
    }

    private static Command BenchCommand()
    {
        var gmms = new Option<string>("--gmms") { Description = "JSON with times, eps (noise variance), W[k][i], Mu[k][i][c], S[k][i][r][c] (optional repo_C: reference tuple costs).", Required = true };
        var repeat = new Option<int>("--repeat") { Description = "Timed repetitions of the tuple-cost tensor.", DefaultValueFactory = _ => 3 };
        AtLeast(repeat, 1);
        var particles = new Option<int>("--particles") { Description = "Particles transported in the pipeline run.", DefaultValueFactory = _ => 2000 };
        AtLeast(particles, 2);
        var tolerance = new Option<double>("--tolerance") { Description = "Relative stopping tolerance of each tuple's L-BFGS.", DefaultValueFactory = _ => 1e-8 };
        NonNegative(tolerance);
        var command = new Command("bench", "Time the tuple-cost tensor and the whole pipeline on given mixtures; held-out SWD/MMD against the Brownian baseline.")
        {
            gmms, repeat, particles, tolerance,
        };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            string path = parse.GetValue(gmms)!;
            var (times, noise, mixtures, reference) = ReadBenchMixtures(path);
            long tuples = mixtures.Aggregate(1L, (p, m) => p * m.ComponentCount);
            stdout.WriteLine($"{mixtures.Count} marginals × {string.Join("×", mixtures.Select(m => m.ComponentCount))} components in d = {mixtures[0].Dimension}, " +
                $"σ² = {F(noise * noise)}: {tuples} tuples; {Environment.ProcessorCount} cores");
            var options = new MultiMarginalOptions { Noise = noise, TupleTolerance = parse.GetValue(tolerance) };
            var costs = new double[tuples];
            for (int r = 0; r < parse.GetValue(repeat); r++)
            {
                var clock = Stopwatch.StartNew();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                MomentumTupleCosts.Compute(times, mixtures, noise, costs, null, default, options.Settings, out var stats);
                double seconds = clock.Elapsed.TotalSeconds;
                // CPU time of the process: on a shared, overloaded machine wall time overstates the work; CPU seconds / cores is
                // the wall time the same work takes on idle cores.
                double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                stdout.WriteLine($"tuple-cost tensor: {F(seconds, "F2")} s wall, {F(cpuSeconds, "F2")} s CPU ({F(cpuSeconds / ParallelRangeConcurrency, "F2")} s on " +
                    $"{ParallelRangeConcurrency} idle cores); {F((double)stats.Evaluations / tuples, "F0")} objective evaluations per tuple, " +
                    $"{F(cpuSeconds / stats.Evaluations * 1e6, "F1")} µs CPU per evaluation, {stats.Unconverged} tuples at the iteration cap");
            }
            if (reference is not null && reference.Length == costs.Length)
            {
                var ratio = costs.Select((c, i) => reference[i] / c).Order().ToArray();
                stdout.WriteLine($"reference / ours: min {F(ratio[0], "F4")}, median {F(ratio[ratio.Length / 2], "F4")}, max {F(ratio[^1], "F4")}");
                var shape = mixtures.Select(m => m.ComponentCount).ToArray();
                var weights = mixtures.Select(m => m.Weights.ToArray()).ToArray();
                var ours = Couplings.MultiMarginal(costs, shape, weights);
                var theirs = Couplings.MultiMarginal(reference, shape, weights);
                var a = Enumerable.Range(0, ours.Count).Select(e => string.Join(",", ours.GetIndex(e).ToArray())).ToHashSet();
                int shared = Enumerable.Range(0, theirs.Count).Count(e => a.Contains(string.Join(",", theirs.GetIndex(e).ToArray())));
                stdout.WriteLine($"LP on our costs: {ours.Count} active tuples, objective {F(ours.Objective)}; on the reference costs: {theirs.Count} active, " +
                    $"objective {F(theirs.Objective)}; {shared} tuples in both supports");
            }
            var total = Stopwatch.StartNew();
            var cpuTotal = Process.GetCurrentProcess().TotalProcessorTime;
            var plan = MultiMarginalPlan.Create(times, mixtures, options);
            double planSeconds = total.Elapsed.TotalSeconds;
            int count = parse.GetValue(particles);
            var x0 = mixtures[0].Sample(count, 1);
            var moved = plan.Transport(x0, times, new MomentumRunOptions { Seed = 2 });
            stdout.WriteLine($"pipeline: plan (tensor + LP + {plan.Tuples.Count} policies) {F(planSeconds, "F2")} s, transport {count} particles " +
                $"{F(total.Elapsed.TotalSeconds - planSeconds, "F2")} s, total {F(total.Elapsed.TotalSeconds, "F2")} s wall, " +
                $"{F((Process.GetCurrentProcess().TotalProcessorTime - cpuTotal).TotalSeconds, "F2")} s CPU");
            int n = plan.Dimension;
            for (int k = 1; k < times.Length; k++)
            {
                var data = mixtures[k].Sample(count, 10 + (ulong)k);
                var slice = moved.AsSpan(k * count * n, count * n);
                stdout.WriteLine($"knot {k}: transported vs mixture SWD {F(MomentumHeldOut.Swd(slice, data, n), "F4")}, MMD² {F(MomentumHeldOut.Mmd(slice, data, n), "G3")}" +
                    $" (two fresh mixture samples: SWD {F(MomentumHeldOut.Swd(mixtures[k].Sample(count, 99), data, n), "F4")})");
            }
            for (int k = 1; k + 1 < times.Length; k++)
            {
                var data = mixtures[k].Sample(count, 20 + (ulong)k);
                var score = MomentumHeldOut.Evaluate(times, mixtures, k, data, noise, count, 3);
                stdout.WriteLine($"held out t = {F(score.Time)}: momentum SWD {F(score.MomentumSwd, "F4")} MMD² {F(score.MomentumMmd, "G3")}; " +
                    $"Brownian SWD {F(score.BrownianSwd, "F4")} MMD² {F(score.BrownianMmd, "G3")}");
            }
            return CliApp.Success;
        });
        return command;
    }

    private static int ParallelRangeConcurrency => GmmFlow.Simd.ParallelRange.Concurrency;

    /// <summary>Reads the benchmark mixtures file (reflection-free JSON).</summary>
    private static (double[] Times, double Noise, List<GaussianMixture> Mixtures, double[]? Reference) ReadBenchMixtures(string path)
    {
        using var stream = CliFiles.OpenInput(path);
        using var doc = System.Text.Json.JsonDocument.Parse(stream);
        var root = doc.RootElement;
        try
        {
            double[] Flat(System.Text.Json.JsonElement e) => e.ValueKind == System.Text.Json.JsonValueKind.Array
                ? [.. e.EnumerateArray().SelectMany(Flat)] : [e.GetDouble()];
            var times = Flat(root.GetProperty("times"));
            double noise = Math.Sqrt(root.GetProperty("eps").GetDouble());
            var mixtures = new List<GaussianMixture>();
            for (int k = 0; k < times.Length; k++)
            {
                mixtures.Add(new GaussianMixture(Flat(root.GetProperty("W")[k]), Flat(root.GetProperty("Mu")[k]), Flat(root.GetProperty("S")[k])));
            }
            double[]? reference = root.TryGetProperty("repo_C", out var c) ? Flat(c) : null;
            return (times, noise, mixtures, reference);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            throw new InvalidDataException($"{path}: expected fields times, eps, W, Mu, S ({e.Message}).");
        }
    }

    internal static List<(double Time, string File)> ParseKnots(string[] values)
    {
        var knots = new List<(double, string)>();
        foreach (string v in values)
        {
            int colon = v.IndexOf(':');
            if (colon <= 0 || colon == v.Length - 1 || !double.TryParse(v[..colon], NumberStyles.Float, CultureInfo.InvariantCulture, out double t) || !double.IsFinite(t))
            {
                throw new CliUsageException($"--marginal {v}: expected TIME:FILE with a finite TIME, e.g. 0.5:day1.json.");
            }
            knots.Add((t, v[(colon + 1)..]));
        }
        if (knots.Count < 2)
        {
            throw new CliUsageException($"give at least two --marginal knots (got {knots.Count}).");
        }
        for (int k = 1; k < knots.Count; k++)
        {
            if (!(knots[k].Item1 > knots[k - 1].Item1))
            {
                throw new CliUsageException($"--marginal times must increase strictly in the order given: {F(knots[k - 1].Item1)} then {F(knots[k].Item1)}.");
            }
        }
        return knots;
    }

    private static GaussianMixture LoadKnot(string file, int components, ulong seed, TextWriter stderr)
    {
        if (SampleFiles.IsNpy(file) || SampleFiles.IsCsv(file))
        {
            double[] x = SampleFiles.Read(file, out int d);
            if (x.Length / d < components)
            {
                throw new InvalidDataException($"{file} has {x.Length / d} points, fewer than --components {components}.");
            }
            return GaussianMixtureFitter.Fit(x, d, components, new GaussianMixtureFitOptions { Seed = seed }).Mixture;
        }
        return LoadMixture(file, stderr);
    }

    private static double[] ParseTimes(string list, MultiMarginalPlan plan)
    {
        var parts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new CliUsageException("--times is empty.");
        }
        var result = new double[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!double.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out result[i]) || !(result[i] >= plan.Times[0] && result[i] <= plan.Times[^1]))
            {
                throw new CliUsageException($"--times: \"{parts[i]}\" is not a time in [{F(plan.Times[0])}, {F(plan.Times[^1])}].");
            }
        }
        return result;
    }

    /// <summary>Tens of percent on stderr, each at most once; thread-safe (tuple costs report from worker threads).</summary>
    private sealed class StderrProgress(TextWriter stderr, string what) : IProgress<double>
    {
        private int _last = -1;

        public void Report(double value)
        {
            int tens = (int)(value * 10);
            int last = Volatile.Read(ref _last);
            if (tens > last && Interlocked.CompareExchange(ref _last, tens, last) == last)
            {
                lock (stderr)
                {
                    stderr.WriteLine($"gmmflow: {what} {tens * 10}%");
                }
            }
        }
    }
}

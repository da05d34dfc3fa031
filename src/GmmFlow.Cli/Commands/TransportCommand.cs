using System.CommandLine;
using System.Diagnostics;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow transport`: moves source samples along a plan's mixture policy from t = 0 to t = 1.</summary>
internal static class TransportCommand
{
    public static Command Create()
    {
        var planPath = new Option<string>("--plan", "-p") { Description = "Plan file written by `gmmflow plan`.", Required = true };
        var samples = new Option<string>("--samples", "-s") { Description = "Source samples (.npy float64/float32 (N, d), .npz, or .csv/.tsv).", Required = true };
        var steps = CliNumbers.Integer("--steps", "Fixed number of equal time steps (default: automatic — adaptive Dormand–Prince for deterministic fields, the stiffness rule for the SDE).", minimum: 1);
        var seed = CliNumbers.Seed("Seed of the Brownian increments (sb with noise > 0); results do not depend on core count.");
        var integrator = new Option<string>("--integrator") { Description = "auto (Euler–Maruyama for a noisy SB drift, else dopri5; heun with --steps), euler-maruyama, heun, rk4 or dopri5.", DefaultValueFactory = _ => "auto" };
        integrator.AcceptOnlyFromAmong("auto", "euler-maruyama", "heun", "rk4", "dopri5");
        var tolerance = CliNumbers.Real("--tol", "Relative error tolerance of the adaptive integrator (absolute: this × the plan's largest standard deviation).", 1e-5, 0, strict: true);
        var field = new Option<string>("--field") { Description = "For sb with noise > 0: drift (SDE) or probability-flow (deterministic ODE, same marginals).", DefaultValueFactory = _ => "drift" };
        field.AcceptOnlyFromAmong("drift", "probability-flow");
        var trajectories = new Option<string?>("--trajectories") { Description = "Also write the particle paths as .npy of shape (snapshots, N, d)." };
        var saveEvery = CliNumbers.Integer("--save-every", "With --trajectories: a snapshot every this many steps (default: steps/20; automatic steps count a nominal grid of 100).", minimum: 0, defaultValue: 0);
        var output = new Option<string>("--out", "-o") { Description = "Transported samples (.npy or .csv).", Required = true };
        var force = Force();
        var json = Json();
        var header = HeaderOptions();
        var linear = new DynamicsCli();
        var command = new Command("transport", """
            Transport samples with a plan: integrate the mixture policy u(x, t) from t = 0 to t = 1.

            Examples:
              gmmflow transport --plan plan.json --samples X.npy --out Y.npy
              gmmflow transport --plan sb.json --samples X.npy --steps 200 --seed 7 --trajectories T.npy --out Y.npy
              gmmflow transport --plan sb.json --samples X.npy --field probability-flow --integrator rk4 --out Y.npy
              gmmflow transport --plan di-plan.json --samples positions.npy --velocity-std 1 --out Y.npy
            """)
        {
            planPath, samples, steps, tolerance, seed, integrator, field, trajectories, saveEvery, output, force, json, header.Header, header.NoHeader,
        };
        linear.AddTo(command);
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            string? trajPath = parse.GetValue(trajectories);
            string planFile = parse.GetValue(planPath)!, samplesPath = parse.GetValue(samples)!;
            bool? hasHeader = HeaderChoice(parse, header);
            // Every output is checked before any work: extensions, existing files, collisions with each other and the inputs.
            using var files = new CliOutputs(parse.GetValue(force));
            files.Input("--plan", planFile).Input("--samples", samplesPath);
            linear.RegisterInputs(parse, files);
            files.Output("--out", outPath, ".npy", ".csv");
            files.Output("--trajectories", trajPath, ".npy");
            var stderr = parse.InvocationConfiguration.Error;
            // A plan with linear dynamics moves states on [0, T]; position-only samples are lifted, then projected back.
            TransportPlan? plan = null;
            LinearTransportPlan? linearPlan = null;
            bool lifted = false;
            double[] x0;
            int d, inputDimension;
            if (linear.Requested(parse) || LinearPlanJson.HasDynamics(planFile))
            {
                linearPlan = linear.ReadPlan(parse, planFile);
                x0 = LoadSamples(samplesPath, "--samples", hasHeader, stderr, out d);
                inputDimension = d;
                x0 = linear.StateSamples(parse, linearPlan, x0, d, parse.GetValue(seed), samplesPath, out lifted);
                d = linearPlan.Dimension;
            }
            else
            {
                if (parse.GetValue(linear.VelocityStd) is not null || parse.GetValue(linear.NoiseMatrix) is not null)
                {
                    throw new CliUsageException("--velocity-std and --noise-matrix apply to plans with linear dynamics.");
                }
                using (var stream = CliFiles.OpenInput(planFile, "--plan"))
                {
                    plan = PlanJson.Read(stream, planFile);
                }
                x0 = LoadSamples(samplesPath, "--samples", hasHeader, stderr, out d);
                inputDimension = d;
                if (d != plan.Dimension)
                {
                    throw new InvalidDataException($"{samplesPath} has dimension {d} but the plan {planFile} has {plan.Dimension}.");
                }
            }
            int activePairs = plan?.Pairs.Count ?? linearPlan!.Pairs.Count;
            int n = x0.Length / d;
            int? fixedSteps = parse.GetResult(steps) is null ? null : parse.GetValue(steps);
            // Plans with linear dynamics integrate on a fixed grid (the nominal one unless --steps says otherwise).
            if (linearPlan is not null)
            {
                fixedSteps ??= TransportPlan.NominalSteps;
            }
            int stepCount = fixedSteps ?? TransportPlan.NominalSteps;
            int every = trajPath is null ? 0 : parse.GetValue(saveEvery) is > 0 and var k ? k : Math.Max(1, stepCount / 20);
            var run = new TransportRunOptions
            {
                Steps = fixedSteps,
                Tolerance = parse.GetValue(tolerance),
                Seed = parse.GetValue(seed),
                SaveEvery = every,
                Integrator = parse.GetValue(integrator) switch
                {
                    "euler-maruyama" => Integrator.EulerMaruyama,
                    "heun" => Integrator.Heun,
                    "rk4" => Integrator.RungeKutta4,
                    "dopri5" => Integrator.DormandPrince,
                    _ => Integrator.Auto,
                },
                Field = parse.GetValue(field) == "probability-flow" ? BridgeField.ProbabilityFlow : BridgeField.Drift,
                Progress = (long)n * stepCount * activePairs > 50_000_000 ? new StderrProgress(stderr) : null,
                CancellationToken = CliApp.Cancellation,
            };
            int snapshots = TransportPlan.TrajectorySnapshots(run);
            if (snapshots > 0 && (long)n * d > Array.MaxLength / snapshots)
            {
                throw new CliUsageException($"--trajectories: {snapshots} snapshots × {n} points × d = {d} are {(decimal)snapshots * n * d} values, more than one array " +
                    $"holds ({Array.MaxLength}); raise --save-every or transport fewer points per run.");
            }
            var trajectory = new double[(long)snapshots * n * d];
            var clock = Stopwatch.StartNew();
            TransportResult? result;
            double[]? linearPoints = null;
            try
            {
                if (plan is not null)
                {
                    result = plan.TransportAndCheck(x0, run, trajectory);
                }
                else
                {
                    result = null;
                    linearPoints = linearPlan!.Transport(x0, run, trajectory);
                }
            }
            catch (ArgumentException e) when (e.ParamName == "options")
            {
                throw new CliUsageException(e.Message.Split(" (Parameter")[0]);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            double[] x1 = result?.Points ?? linearPoints!;
            if (result?.Check?.Warning is { } warning)
            {
                stderr.WriteLine($"gmmflow: warning: {warning}");
            }
            if (lifted)
            {
                x1 = PhaseSpace.Positions(x1, inputDimension);
                trajectory = PhaseSpace.Positions(trajectory, inputDimension);
                d = inputDimension;
            }
            files.Write(outPath, s => WriteSamples(s, outPath, x1, d));
            if (trajPath is not null)
            {
                files.Write(trajPath, s => SampleFiles.WriteNpy(s, trajectory, [snapshots, n, d]));
            }
            files.Commit(); // both outputs or neither
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("points", n);
                    w.WriteNumber("dimension", d);
                    if (result is not null)
                    {
                        TransportCheckJson.WriteRun(w, result);
                    }
                    else
                    {
                        w.WriteNumber("steps", stepCount);
                    }
                    w.WriteNumber("activePairs", activePairs);
                    w.WriteFinite("seconds", seconds);
                    w.WriteString("out", outPath);
                    if (trajPath is not null)
                    {
                        w.WriteString("trajectories", trajPath);
                        w.WriteNumber("snapshots", snapshots);
                    }
                    w.WriteEndObject();
                }));
            }
            else
            {
                if (result is not null)
                {
                    stdout.WriteLine($"transported {n} points in d = {d} ({activePairs} active pairs, {PlanJson.CostName(plan!.Options.Cost)}, " +
                        $"σ = {F(plan.Options.Noise)}) in {F(seconds, "F3")} s with {TransportCheckJson.Describe(result)}");
                    if (result.Check is { } check)
                    {
                        stdout.WriteLine(TransportCheckJson.Line(check));
                    }
                }
                else
                {
                    stdout.WriteLine($"transported {n} points in d = {d} over {stepCount} steps ({activePairs} active pairs, " +
                        $"{DynamicsCli.Describe(linearPlan!.Dynamics)}, σ = {F(linearPlan.Options.Noise)}) in {F(seconds, "F3")} s");
                }
                stdout.WriteLine($"wrote {outPath}" + (trajPath is null ? "" : $" and {trajPath} ({snapshots} snapshots)"));
            }
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>Integer percentages on stderr, each at most once.</summary>
    private sealed class StderrProgress(TextWriter stderr) : IProgress<double>
    {
        private int _last = -1;

        public void Report(double value)
        {
            int percent = (int)(value * 100);
            if (percent / 10 > _last / 10)
            {
                _last = percent;
                stderr.WriteLine($"gmmflow: transport {percent}%");
            }
        }
    }
}

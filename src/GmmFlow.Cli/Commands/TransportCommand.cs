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
        var samples = new Option<string>("--samples", "-s") { Description = "Source samples (.npy float64/float32 (N, d), or .csv).", Required = true };
        var steps = new Option<int>("--steps") { Description = "Number of fixed time steps.", DefaultValueFactory = _ => 100 };
        AtLeast(steps, 1);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the Brownian increments (sb with noise > 0); results do not depend on core count.", DefaultValueFactory = _ => 0 };
        var integrator = new Option<string>("--integrator") { Description = "auto (Euler–Maruyama for a noisy SB drift, else Heun), euler-maruyama, heun or rk4.", DefaultValueFactory = _ => "auto" };
        integrator.AcceptOnlyFromAmong("auto", "euler-maruyama", "heun", "rk4");
        var field = new Option<string>("--field") { Description = "For sb with noise > 0: drift (SDE) or probability-flow (deterministic ODE, same marginals).", DefaultValueFactory = _ => "drift" };
        field.AcceptOnlyFromAmong("drift", "probability-flow");
        var trajectories = new Option<string?>("--trajectories") { Description = "Also write the particle paths as .npy of shape (snapshots, N, d)." };
        var saveEvery = new Option<int>("--save-every") { Description = "With --trajectories: a snapshot every this many steps (default: steps/20).", DefaultValueFactory = _ => 0 };
        AtLeast(saveEvery, 0);
        var output = new Option<string>("--out", "-o") { Description = "Transported samples (.npy or .csv).", Required = true };
        var force = Force();
        var json = Json();
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
            planPath, samples, steps, seed, integrator, field, trajectories, saveEvery, output, force, json,
        };
        linear.AddTo(command);
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            string? trajPath = parse.GetValue(trajectories);
            bool overwrite = parse.GetValue(force);
            if (!SampleFiles.IsNpy(outPath) && !SampleFiles.IsCsv(outPath))
            {
                throw new CliUsageException($"--out {outPath}: use a .npy or .csv file.");
            }
            if (trajPath is not null && !SampleFiles.IsNpy(trajPath))
            {
                throw new CliUsageException($"--trajectories {trajPath}: trajectories are written as .npy.");
            }
            CliFiles.CheckWritable(outPath, overwrite);
            if (trajPath is not null)
            {
                CliFiles.CheckWritable(trajPath, overwrite);
            }
            string planFile = parse.GetValue(planPath)!;
            string samplesPath = parse.GetValue(samples)!;
            double[] x0 = LoadSamples(samplesPath, "--samples", out int d);
            // A plan with linear dynamics moves states on [0, T]; position-only samples are lifted, then projected back.
            TransportPlan? plan = null;
            LinearTransportPlan? linearPlan = null;
            bool lifted = false;
            int inputDimension = d;
            if (linear.Requested(parse) || LinearPlanJson.HasDynamics(planFile))
            {
                linearPlan = linear.ReadPlan(parse, planFile);
                x0 = linear.StateSamples(parse, linearPlan, x0, d, parse.GetValue(seed), samplesPath, out lifted);
                d = linearPlan.Dimension;
            }
            else
            {
                if (parse.GetValue(linear.VelocityStd) is not null || parse.GetValue(linear.NoiseMatrix) is not null)
                {
                    throw new CliUsageException("--velocity-std and --noise-matrix apply to plans with linear dynamics.");
                }
                using (var stream = CliFiles.OpenInput(planFile))
                {
                    plan = PlanJson.Read(stream, planFile);
                }
                if (d != plan.Dimension)
                {
                    throw new InvalidDataException($"{samplesPath} has dimension {d} but the plan {planFile} has {plan.Dimension}.");
                }
            }
            int activePairs = plan?.Pairs.Count ?? linearPlan!.Pairs.Count;
            int n = x0.Length / d, stepCount = parse.GetValue(steps);
            int every = trajPath is null ? 0 : parse.GetValue(saveEvery) is > 0 and var k ? k : Math.Max(1, stepCount / 20);
            var stderr = parse.InvocationConfiguration.Error;
            var run = new TransportRunOptions
            {
                Steps = stepCount,
                Seed = parse.GetValue(seed),
                SaveEvery = every,
                Integrator = parse.GetValue(integrator) switch
                {
                    "euler-maruyama" => Integrator.EulerMaruyama,
                    "heun" => Integrator.Heun,
                    "rk4" => Integrator.RungeKutta4,
                    _ => Integrator.Auto,
                },
                Field = parse.GetValue(field) == "probability-flow" ? BridgeField.ProbabilityFlow : BridgeField.Drift,
                Progress = (long)n * stepCount * activePairs > 50_000_000 ? new StderrProgress(stderr) : null,
            };
            int snapshots = TransportPlan.TrajectorySnapshots(run);
            var trajectory = new double[(long)snapshots * n * d];
            var clock = Stopwatch.StartNew();
            double[] x1;
            try
            {
                x1 = plan is not null ? plan.Transport(x0, run, trajectory) : linearPlan!.Transport(x0, run, trajectory);
            }
            catch (ArgumentException e) when (e.ParamName == "options")
            {
                throw new CliUsageException(e.Message.Split(" (Parameter")[0]);
            }
            double seconds = clock.Elapsed.TotalSeconds;
            if (lifted)
            {
                x1 = PhaseSpace.Positions(x1, inputDimension);
                trajectory = PhaseSpace.Positions(trajectory, inputDimension);
                d = inputDimension;
            }
            CliFiles.WriteAtomic(outPath, overwrite, s =>
            {
                if (SampleFiles.IsNpy(outPath))
                {
                    SampleFiles.WriteNpy(s, x1, d);
                }
                else
                {
                    SampleFiles.WriteCsv(s, x1, d);
                }
            });
            if (trajPath is not null)
            {
                CliFiles.WriteAtomic(trajPath, overwrite, s => SampleFiles.WriteNpy(s, trajectory, [snapshots, n, d]));
            }
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("points", n);
                    w.WriteNumber("dimension", d);
                    w.WriteNumber("steps", stepCount);
                    w.WriteNumber("activePairs", activePairs);
                    w.WriteNumber("seconds", seconds);
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
                string what = plan is not null ? $"{PlanJson.CostName(plan.Options.Cost)}, σ = {F(plan.Options.Noise)}"
                    : $"{DynamicsCli.Describe(linearPlan!.Dynamics)}, σ = {F(linearPlan.Options.Noise)}";
                stdout.WriteLine($"transported {n} points in d = {d} over {stepCount} steps ({activePairs} active pairs, {what}) in {F(seconds, "F3")} s");
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

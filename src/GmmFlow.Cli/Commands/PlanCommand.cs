using System.CommandLine;
using System.Diagnostics;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow plan`: pair costs + component coupling (LP or Sinkhorn) between two mixtures, written as a plan file.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var source = Mixture("--source", "Source");
        var target = Mixture("--target", "Target");
        var cost = Cost("--cost", "Pair cost and bridge: w2 (W2 geodesic), surrogate (linear path), sb (Schrödinger bridge with --noise), entropic.");
        var noise = Noise();
        var variant = Variant();
        var coupling = new Option<string>("--coupling") { Description = "lp (exact, HiGHS; sparse) or sinkhorn (entropic, temperature --tau).", DefaultValueFactory = _ => "lp" };
        coupling.AcceptOnlyFromAmong("lp", "sinkhorn");
        var tau = new Option<double?>("--tau") { Description = "Sinkhorn temperature τ in cost units (default 1e-2 × the largest pair cost)." };
        tau.Validators.Add(r =>
        {
            double? v = r.GetValueOrDefault<double?>();
            if (v is { } x && (!double.IsFinite(x) || x <= 0))
            {
                r.AddError($"--tau must be a finite number > 0 (got {x}).");
            }
        });
        var output = new Option<string>("--out", "-o") { Description = "Plan JSON to write (mixtures, cost, noise, active couplings, objective).", Required = true };
        var force = Force();
        var json = Json();
        var linear = new DynamicsCli();
        var command = new Command("plan", """
            Build a transport plan between two mixtures: pair costs, the component coupling, one bridge per active pair.

            Examples:
              gmmflow plan --source a.json --target b.json --cost w2 --out plan.json
              gmmflow plan --source a.json --target b.json --cost sb --noise 1 --out plan.json --force
              gmmflow plan --source a.json --target b.json --cost surrogate --coupling sinkhorn --tau 0.05 --out plan.json
              gmmflow plan --source a.json --target b.json --dynamics di.json --velocity-std 1 --noise 0.3 --out plan.json
            """)
        {
            source, target, cost, noise, variant, coupling, tau, output, force, json,
        };
        linear.AddTo(command);
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            CliFiles.CheckWritable(outPath, overwrite);
            var stderr = parse.InvocationConfiguration.Error;
            var a = LoadMixture(parse.GetValue(source)!, stderr);
            var b = LoadMixture(parse.GetValue(target)!, stderr);
            linear.CheckUsage(parse, cost);
            if (linear.Requested(parse))
            {
                if (parse.GetValue(coupling) != "lp")
                {
                    throw new CliUsageException("--dynamics plans use the exact LP coupling (--coupling lp).");
                }
                return linear.RunPlan(parse, a, b, parse.GetValue(noise), outPath, overwrite, parse.GetValue(json));
            }
            if (a.Dimension != b.Dimension)
            {
                throw new InvalidDataException($"--source has dimension {a.Dimension} but --target has {b.Dimension}.");
            }
            var options = new TransportOptions
            {
                Cost = ParseCost(parse.GetValue(cost)!),
                Noise = parse.GetValue(noise),
                CostVariant = ParseVariant(parse.GetValue(variant)!),
                Coupling = parse.GetValue(coupling) == "sinkhorn" ? CouplingMethod.Sinkhorn : CouplingMethod.ExactLp,
                SinkhornTemperature = parse.GetValue(tau),
            };
            var clock = Stopwatch.StartNew();
            var plan = TransportPlan.Create(a, b, options);
            double seconds = clock.Elapsed.TotalSeconds;
            if (!plan.CouplingConverged)
            {
                stderr.WriteLine($"gmmflow: warning: Sinkhorn stopped after {plan.CouplingIterations} iterations with marginal error " +
                    $"{F(plan.CouplingMarginalError, "G3")}; raise --tau or use --coupling lp.");
            }
            CliFiles.WriteAtomic(outPath, overwrite, s => PlanJson.Write(plan, s));
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("cost", PlanJson.CostName(options.Cost));
                    w.WriteNumber("noise", options.Noise);
                    w.WriteString("coupling", parse.GetValue(coupling));
                    w.WriteNumber("objective", plan.Objective);
                    w.WriteNumber("droppedMass", plan.DroppedMass);
                    w.WriteNumber("seconds", seconds);
                    PlanJson.WriteCouplings(w, plan);
                    w.WriteString("out", outPath);
                    w.WriteEndObject();
                }));
                return CliApp.Success;
            }
            stdout.WriteLine($"{PlanJson.CostName(options.Cost)} plan (σ = {F(options.Noise)}, {parse.GetValue(coupling)}): objective {F(plan.Objective, "G10")}, " +
                $"{plan.Pairs.Count} active pairs of {a.ComponentCount}×{b.ComponentCount}, {F(seconds * 1e3, "F2")} ms");
            if (plan.DroppedMass > 0)
            {
                stdout.WriteLine($"  pruned Sinkhorn mass: {F(plan.DroppedMass, "G3")}");
            }
            foreach (var e in plan.Pairs.Take(50))
            {
                stdout.WriteLine($"  {e.Source,4} → {e.Target,-4} λ = {F(e.Weight, "G6")}");
            }
            if (plan.Pairs.Count > 50)
            {
                stdout.WriteLine($"  … {plan.Pairs.Count - 50} more in {outPath}");
            }
            stdout.WriteLine($"wrote {outPath}");
            return CliApp.Success;
        });
        return command;
    }
}

using System.CommandLine;
using System.Diagnostics;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow plan`: pair costs + component coupling (LP or Sinkhorn) between two mixtures, written as a plan file.</summary>
internal static class PlanCommand
{
    /// <summary>More active pairs than this draw a warning (docs/cli-contract.md#dense-plans).</summary>
    internal const int DensePlanWarning = 100_000;

    public static Command Create()
    {
        var source = Mixture("--source", "Source");
        var target = Mixture("--target", "Target");
        var cost = Cost("--cost", "Pair cost and bridge: w2 (W2 geodesic), surrogate (linear path), sb (Schrödinger bridge with --noise), entropic.");
        var noise = Noise();
        var variant = Variant();
        var coupling = new Option<string>("--coupling") { Description = "lp (exact, HiGHS; sparse) or sinkhorn (entropic, temperature --tau).", DefaultValueFactory = _ => "lp" };
        coupling.AcceptOnlyFromAmong("lp", "sinkhorn");
        var tau = CliNumbers.OptionalReal("--tau", "Sinkhorn temperature τ in cost units (default 1e-2 × the largest pair cost).", 0, strict: true);
        var output = new Option<string>("--out", "-o") { Description = "Plan JSON to write (mixtures, cost, noise, active couplings, objective).", Required = true };
        var force = Force();
        var json = Json();
        var renormalize = RenormalizeWeights();
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
            source, target, cost, noise, variant, coupling, tau, output, force, json, renormalize,
        };
        linear.AddTo(command);
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!, sourcePath = parse.GetValue(source)!, targetPath = parse.GetValue(target)!;
            using var files = new CliOutputs(parse.GetValue(force));
            files.Input("--source", sourcePath).Input("--target", targetPath);
            linear.RegisterInputs(parse, files);
            files.Output("--out", outPath, ".json");
            var stderr = parse.InvocationConfiguration.Error;
            bool renorm = parse.GetValue(renormalize);
            var a = LoadMixture(sourcePath, "--source", renorm, stderr);
            var b = LoadMixture(targetPath, "--target", renorm, stderr);
            linear.CheckUsage(parse, cost);
            if (linear.Requested(parse))
            {
                if (parse.GetValue(coupling) != "lp")
                {
                    throw new CliUsageException("--dynamics plans use the exact LP coupling (--coupling lp).");
                }
                return linear.RunPlan(parse, a, b, parse.GetValue(noise), outPath, files, parse.GetValue(json));
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
            if (plan.Pairs.Count > DensePlanWarning)
            {
                // docs/cli-contract.md#dense-plans: a Sinkhorn coupling is dense; a plan file takes ~85 bytes per pair on disk
                // and every pair is a bridge evaluated at every transport step.
                stderr.WriteLine($"gmmflow: warning: the plan has {plan.Pairs.Count} active pairs (about {plan.Pairs.Count * 85L / 1_000_000} MB in {outPath}, " +
                    $"and {plan.Pairs.Count} bridges per transport step); --coupling lp keeps at most K0 + K1 − 1 = {a.ComponentCount + b.ComponentCount - 1}, a smaller --tau fewer.");
            }
            files.Write(outPath, s => PlanJson.Write(plan, s));
            files.Commit();
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("cost", PlanJson.CostName(options.Cost));
                    w.WriteFinite("noise", options.Noise);
                    w.WriteString("coupling", parse.GetValue(coupling));
                    w.WriteFinite("objective", plan.Objective);
                    w.WriteFinite("droppedMass", plan.DroppedMass);
                    w.WriteFinite("seconds", seconds);
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

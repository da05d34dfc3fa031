using System.CommandLine;
using System.Diagnostics;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow cost`: the K0×K1 pair-cost matrix between two mixtures, written as a float64 .npy.</summary>
internal static class CostCommand
{
    public static Command Create()
    {
        var source = Mixture("--source", "Source");
        var target = Mixture("--target", "Target");
        var kind = Cost("--kind", "Pair cost: w2 (exact Bures–Wasserstein W2²), surrogate (closed-form kinetic cost of the linear path), sb (Schrödinger-bridge kinetic energy), entropic (entropic OT, reg = 2σ²).");
        var noise = Noise();
        var variant = Variant();
        var output = new Option<string>("--out", "-o") { Description = "Output .npy file (float64, shape (K0, K1)).", Required = true };
        var force = Force();
        var json = Json();
        var linear = new DynamicsCli();
        var command = new Command("cost", """
            Compute the K0×K1 matrix of pairwise transport costs between the components of two mixtures.

            Examples:
              gmmflow cost --source a.json --target b.json --kind w2 --out costs.npy
              gmmflow cost --source a.json --target b.json --kind sb --noise 0.5 --out sb.npy --force
              gmmflow cost --source a.json --target b.json --dynamics di.json --velocity-std 1 --noise 0.3 --out lin.npy
            """)
        {
            source, target, kind, noise, variant, output, force, json,
        };
        linear.AddTo(command);
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            if (!SampleFiles.IsNpy(outPath))
            {
                throw new CliUsageException($"--out {outPath}: the cost matrix is written as .npy.");
            }
            bool overwrite = parse.GetValue(force);
            CliFiles.CheckWritable(outPath, overwrite);
            var stderr = parse.InvocationConfiguration.Error;
            var a = LoadMixture(parse.GetValue(source)!, stderr);
            var b = LoadMixture(parse.GetValue(target)!, stderr);
            linear.CheckUsage(parse, kind);
            if (linear.Requested(parse))
            {
                return linear.RunCost(parse, a, b, parse.GetValue(noise), outPath, overwrite, parse.GetValue(json));
            }
            if (a.Dimension != b.Dimension)
            {
                throw new InvalidDataException($"--source has dimension {a.Dimension} but --target has {b.Dimension}.");
            }
            var costKind = ParseCost(parse.GetValue(kind)!);
            var clock = Stopwatch.StartNew();
            var costs = new double[a.ComponentCount * b.ComponentCount];
            GaussianCosts.Compute(costKind, GaussianFactors.FromMixture(a, "source"), GaussianFactors.FromMixture(b, "target"), costs,
                parse.GetValue(noise), ParseVariant(parse.GetValue(variant)!));
            double seconds = clock.Elapsed.TotalSeconds;
            CliFiles.WriteAtomic(outPath, overwrite, s => SampleFiles.WriteNpy(s, costs, b.ComponentCount));
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("kind", PlanJson.CostName(costKind));
                    w.WriteNumber("noise", parse.GetValue(noise));
                    w.WriteNumber("rows", a.ComponentCount);
                    w.WriteNumber("columns", b.ComponentCount);
                    w.WriteNumber("min", costs.Min());
                    w.WriteNumber("max", costs.Max());
                    w.WriteNumber("seconds", seconds);
                    w.WriteString("out", outPath);
                    w.WriteEndObject();
                }));
            }
            else
            {
                stdout.WriteLine($"{PlanJson.CostName(costKind)} costs, {a.ComponentCount}×{b.ComponentCount} pairs, d = {a.Dimension}: " +
                    $"min {F(costs.Min())}, max {F(costs.Max())}, {F(seconds * 1e3, "F3")} ms");
                stdout.WriteLine($"wrote {outPath}");
            }
            return CliApp.Success;
        });
        return command;
    }
}

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
        var renormalize = RenormalizeWeights();
        var linear = new DynamicsCli();
        var command = new Command("cost", """
            Compute the K0×K1 matrix of pairwise transport costs between the components of two mixtures.

            Examples:
              gmmflow cost --source a.json --target b.json --kind w2 --out costs.npy
              gmmflow cost --source a.json --target b.json --kind sb --noise 0.5 --out sb.npy --force
              gmmflow cost --source a.json --target b.json --dynamics di.json --velocity-std 1 --noise 0.3 --out lin.npy
            """)
        {
            source, target, kind, noise, variant, output, force, json, renormalize,
        };
        linear.AddTo(command);
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!, sourcePath = parse.GetValue(source)!, targetPath = parse.GetValue(target)!;
            using var files = new CliOutputs(parse.GetValue(force));
            files.Input("--source", sourcePath).Input("--target", targetPath);
            linear.RegisterInputs(parse, files);
            files.Output("--out", outPath, ".npy");
            var stderr = parse.InvocationConfiguration.Error;
            bool renorm = parse.GetValue(renormalize);
            var a = LoadMixture(sourcePath, "--source", renorm, stderr);
            var b = LoadMixture(targetPath, "--target", renorm, stderr);
            linear.CheckUsage(parse, kind);
            if (linear.Requested(parse))
            {
                return linear.RunCost(parse, a, b, parse.GetValue(noise), outPath, files, parse.GetValue(json));
            }
            if (a.Dimension != b.Dimension)
            {
                throw new InvalidDataException($"--source has dimension {a.Dimension} but --target has {b.Dimension}.");
            }
            var costKind = ParseCost(parse.GetValue(kind)!);
            var clock = Stopwatch.StartNew();
            var costs = new double[a.ComponentCount * b.ComponentCount];
            var factors = GaussianFactors.ForTransport(a, b); // diagonal storage when both sides are diagonal or spherical
            GaussianCosts.Compute(costKind, factors.Source, factors.Target, costs,
                parse.GetValue(noise), ParseVariant(parse.GetValue(variant)!));
            double seconds = clock.Elapsed.TotalSeconds;
            files.Write(outPath, s => SampleFiles.WriteNpy(s, costs, [a.ComponentCount, b.ComponentCount]));
            files.Commit();
            Report(parse.InvocationConfiguration.Output, parse.GetValue(json), PlanJson.CostName(costKind), dynamics: null,
                parse.GetValue(noise), costs, a.ComponentCount, b.ComponentCount, seconds, outPath,
                $"{PlanJson.CostName(costKind)} costs, {a.ComponentCount}×{b.ComponentCount} pairs, d = {a.Dimension}");
            return CliApp.Success;
        });
        return command;
    }

    /// <summary>The summary of a written cost matrix (text or --json), shared by the plain and the --dynamics paths.</summary>
    internal static void Report(TextWriter stdout, bool json, string kind, string? dynamics, double noise, double[] costs,
        int rows, int columns, double seconds, string outPath, string heading)
    {
        if (json)
        {
            stdout.WriteLine(JsonText(w =>
            {
                w.WriteStartObject();
                w.WriteString("kind", kind);
                if (dynamics is not null)
                {
                    w.WriteString("dynamics", dynamics);
                }
                w.WriteFinite("noise", noise);
                w.WriteNumber("rows", rows);
                w.WriteNumber("columns", columns);
                w.WriteFinite("min", costs.Min());
                w.WriteFinite("max", costs.Max());
                w.WriteFinite("seconds", seconds);
                w.WriteString("out", outPath);
                w.WriteEndObject();
            }));
            return;
        }
        stdout.WriteLine($"{heading}: min {F(costs.Min())}, max {F(costs.Max())}, {F(seconds * 1e3, "F3")} ms");
        stdout.WriteLine($"wrote {outPath}");
    }
}

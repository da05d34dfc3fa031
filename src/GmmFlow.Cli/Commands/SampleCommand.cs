using System.CommandLine;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow sample`: reproducible samples of a mixture JSON, written as .npy or .csv.</summary>
internal static class SampleCommand
{
    /// <summary>Points drawn per chunk between cancellation checks (the samples do not depend on it).</summary>
    private const int ChunkPoints = 1 << 20;

    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Mixture JSON to sample from.", Required = true };
        var count = CliNumbers.Integer("-n", "Number of samples N.", minimum: 1, defaultValue: null, "--count");
        count.Required = true;
        var seed = CliNumbers.Seed("Seed: the same seed gives the same samples on any number of cores.");
        var output = new Option<string>("--out", "-o") { Description = "Output file: .npy (float64, shape (N, d)) or .csv (header x0,x1,…).", Required = true };
        var force = Force();
        var renormalize = RenormalizeWeights();
        var command = new Command("sample", "Draw samples from a Gaussian mixture JSON.\n\nExamples:\n  gmmflow sample --model model.json -n 10000 --out X.npy\n  gmmflow sample --model model.json -n 500 --seed 3 --out X.csv --force")
        {
            model, count, seed, output, force, renormalize,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!, modelPath = parse.GetValue(model)!;
            using var files = new CliOutputs(parse.GetValue(force));
            files.Input("--model", modelPath);
            files.Output("--out", outPath, ".npy", ".csv");
            var mixture = LoadMixture(modelPath, "--model", parse.GetValue(renormalize), parse.InvocationConfiguration.Error);
            int n = parse.GetValue(count), d = mixture.Dimension;
            if ((long)n * d > Array.MaxLength)
            {
                throw new CliUsageException($"-n {n} points of dimension {d} are {(long)n * d} values, more than one array holds ({Array.MaxLength}); " +
                    "draw fewer points per file (several runs with different --seed).");
            }
            var samples = new double[(long)n * d];
            ulong s = parse.GetValue(seed);
            for (long start = 0; start < n; start += ChunkPoints)
            {
                CliApp.Cancellation.ThrowIfCancellationRequested();
                int points = (int)Math.Min(ChunkPoints, n - start);
                mixture.Sample(s, samples.AsSpan((int)(start * d), points * d), default, start);
            }
            files.Write(outPath, stream => WriteSamples(stream, outPath, samples, d));
            files.Commit();
            parse.InvocationConfiguration.Output.WriteLine($"wrote {n} samples of dimension {d} to {outPath}");
            return CliApp.Success;
        });
        return command;
    }
}

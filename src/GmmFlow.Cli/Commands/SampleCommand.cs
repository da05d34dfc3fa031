using System.CommandLine;
using System.CommandLine.Parsing;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow sample`: reproducible samples of a mixture JSON, written as .npy or .csv.</summary>
internal static class SampleCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "Mixture JSON to sample from.", Required = true };
        var count = new Option<int>("-n", "--count") { Description = "Number of samples N.", Required = true };
        count.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < 1)
            {
                r.AddError($"-n must be at least 1 (got {v}).");
            }
        });
        var seed = new Option<ulong>("--seed") { Description = "Seed: the same seed gives the same samples on any number of cores.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out", "-o") { Description = "Output file: .npy (float64, shape (N, d)) or .csv (header x0,x1,…).", Required = true };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite --out if it exists." };
        var renormalize = new Option<bool>("--renormalize-weights") { Description = "Accept weights that do not sum to 1 by dividing them by their sum (reported on stderr)." };
        var command = new Command("sample", "Draw samples from a Gaussian mixture JSON.\n\nExamples:\n  gmmflow sample --model model.json -n 10000 --out X.npy\n  gmmflow sample --model model.json -n 500 --seed 3 --out X.csv --force")
        {
            model, count, seed, output, force, renormalize,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            if (!SampleFiles.IsNpy(outPath) && !SampleFiles.IsCsv(outPath))
            {
                throw new CliUsageException($"--out {outPath}: use a .npy or .csv file.");
            }
            CliFiles.CheckWritable(outPath, overwrite);
            var mixture = MixtureJson.Read(parse.GetValue(model)!, parse.GetValue(renormalize), out string? warning);
            if (warning is not null)
            {
                parse.InvocationConfiguration.Error.WriteLine($"gmmflow: warning: {warning}");
            }
            int n = parse.GetValue(count);
            double[] samples = mixture.Sample(n, parse.GetValue(seed));
            int d = mixture.Dimension;
            CliFiles.WriteAtomic(outPath, overwrite, stream =>
            {
                if (SampleFiles.IsNpy(outPath))
                {
                    SampleFiles.WriteNpy(stream, samples, d);
                }
                else
                {
                    SampleFiles.WriteCsv(stream, samples, d);
                }
            });
            parse.InvocationConfiguration.Output.WriteLine($"wrote {n} samples of dimension {d} to {outPath}");
            return CliApp.Success;
        });
        return command;
    }
}

using System.CommandLine;
using GmmFlow.Cli.Bench;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow bench`: the standard performance cases timed in-process, as a table or JSON.</summary>
internal static class BenchCommand
{
    private const string Examples = """


        Cases: cost matrices (W2 and surrogate; 50×50 d = 2, 50×50 d = 16, 20×20 d = 64), the exact LP (K = 10, 100, 500),
        one EM iteration (full covariance, N = 100 000, K = 10, d = 2 and 16), the mixture velocity field (19 active pairs;
        d = 2 with N = 100 000, d = 16 with N = 20 000), single-point velocity latency (d = 2, K = 10) and an end-to-end
        fit → plan → transport pipeline. Times are medians of repeats after warm-up; progress goes to stderr.

        Examples:
          gmmflow bench
          gmmflow bench --quick --json
          gmmflow bench --json --out bench.json --force
          gmmflow bench --only field,point           (only the velocity-field and single-point cases)
          gmmflow bench --export compare-data        (inputs + results for benchmarks/compare)
          gmmflow bench --study study                (surrogate vs exact W2: timing vs d, accuracy table, plot)
        """;

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var quick = new Option<bool>("--quick") { Description = "Small sizes and few repeats: finishes in seconds (a smoke test; the numbers are indicative only)." };
        var output = new Option<string?>("--out", "-o") { Description = "Also write the JSON results to this file." };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite --out if it exists." };
        var export = new Option<string?>("--export") { Description = "Write every case's inputs and GmmFlow's outputs (.npy, JSON) into this folder for benchmarks/compare." };
        var study = new Option<string?>("--study") { Description = "Instead of the standard cases, run the surrogate-vs-exact study (arXiv 2603.28992) and write its tables and plot into this folder." };
        var only = new Option<string?>("--only") { Description = "Run only these case groups, comma-separated: " + string.Join(", ", BenchRunner.Groups) + " (e.g. --only field,point)." };
        var command = new Command("bench", "Time GmmFlow's standard cases on this machine (cost matrices, LP, EM, velocity field, single point, pipeline)." + Examples)
        {
            json, quick, output, force, export, study, only,
        };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            string? outPath = parse.GetValue(output);
            bool overwrite = parse.GetValue(force);
            if (outPath is not null)
            {
                CliFiles.CheckWritable(outPath, overwrite);
            }
            string? exportDir = parse.GetValue(export), studyDir = parse.GetValue(study);
            foreach (var (name, dir) in new[] { ("--export", exportDir), ("--study", studyDir) })
            {
                if (dir is not null && File.Exists(dir))
                {
                    throw new CliUsageException($"{name} {dir} is a file; give a folder (it is created if missing).");
                }
            }
            if (studyDir is not null)
            {
                if (exportDir is not null || outPath is not null)
                {
                    throw new CliUsageException("--study writes its own files; it cannot be combined with --export or --out.");
                }
                var result = SurrogateStudy.Run(studyDir, parse.GetValue(quick), stderr);
                if (parse.GetValue(json))
                {
                    stdout.WriteLine(result.ToJson());
                }
                else
                {
                    result.WriteText(stdout);
                }
                return CliApp.Success;
            }

            string[]? groups = null;
            if (parse.GetValue(only) is { } onlyText)
            {
                groups = onlyText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();
                if (groups.Length == 0 || groups.Any(g => !BenchRunner.Groups.Contains(g)))
                {
                    throw new CliUsageException($"--only takes case groups from {string.Join(", ", BenchRunner.Groups)}; got '{onlyText}'.");
                }
            }
            bool isQuick = parse.GetValue(quick);
            var runner = new BenchRunner(isQuick ? BenchSizes.Quick : BenchSizes.Full, isQuick ? BenchSettings.Quick : BenchSettings.Full,
                isQuick, stderr, exportDir, groups);
            BenchReport report = runner.Run();
            if (outPath is not null)
            {
                CliFiles.WriteAtomic(outPath, overwrite, report.WriteJson);
            }
            if (parse.GetValue(json))
            {
                stdout.WriteLine(report.ToJson());
            }
            else
            {
                report.WriteText(stdout);
            }
            return CliApp.Success;
        });
        return command;
    }
}

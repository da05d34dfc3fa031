using System.CommandLine;
using GmmFlow.Cli.Demo;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow demo`: the 2-D showcase — fits, four transport plans per case, tables and pictures.</summary>
internal static class DemoCommand
{
    private const string Description = """
        Run the 2-D demo: for each case (the GMMflow paper's N(0, 0.4 I) → 8 Gaussians, two moons → 8 Gaussians,
        ring → 3×3 grid) fit Gaussian mixtures by EM, build transport plans with the exact W2, surrogate and
        Schrödinger-bridge (σ = 0.1 and σ = 1; ε = σ²) costs, move fresh source points, and print one table per case
        (LP objective, Monte-Carlo kinetic cost, MMD² and sliced W2² to fresh target points, time of each stage).
        Pictures (mixtures with 2σ ellipses, particle paths, snapshots at t = 0, ¼, ½, ¾, 1, the surrogate-vs-W2 regime
        map) and an index (README.md, results.json) go to --out. An --out folder that already holds demo outputs is
        refused unless --force (which replaces those files only). Progress goes to stderr.

        Examples:
          gmmflow demo
          gmmflow demo --out pictures --seed 7
          gmmflow demo --quick --out /tmp/demo --force --json
        """;

    public static Command Create()
    {
        var output = new Option<string>("--out", "-o") { Description = "Folder for the pictures and the index (created if missing).", DefaultValueFactory = _ => "demo-out" };
        var force = new Option<bool>("--force", "-f") { Description = "Replace the outputs of a previous demo in --out." };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of tables." };
        var quick = new Option<bool>("--quick") { Description = "Small sizes (fewer points and steps): a few seconds, for CI and tests." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of every sample set, EM start and Brownian path (same seed, same results on any core count).", DefaultValueFactory = _ => 0 };

        var command = new Command("demo", Description) { output, force, json, quick, seed };
        command.SetAction(parse =>
        {
            ulong s = parse.GetValue(seed);
            var settings = parse.GetValue(quick) ? DemoSettings.QuickRun(s) : DemoSettings.Default(s);
            var names = settings.Cases(fresh: false).Select(c => c.Name);
            // Fails (exit 2) before any computation when the folder is unusable or holds a previous run without --force.
            var folder = DemoOutput.Prepare(parse.GetValue(output)!, parse.GetValue(force), DemoOutput.FileNames(names));
            var result = DemoRunner.Run(settings, folder, new DemoProgress(parse.InvocationConfiguration.Error));
            var stdout = parse.InvocationConfiguration.Output;
            stdout.Write(parse.GetValue(json) ? DemoReport.Json(result) + Environment.NewLine : DemoReport.Text(result));
            return CliApp.Success;
        });
        return command;
    }
}

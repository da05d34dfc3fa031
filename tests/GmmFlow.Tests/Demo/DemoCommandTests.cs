using System.Text.Json;
using System.Text.RegularExpressions;
using GmmFlow.Cli;
using GmmFlow.Cli.Demo;

namespace GmmFlow.Tests.Demo;

/// <summary>`gmmflow demo --quick` run in-process through CliApp.Run: files, tables, transport quality, usage errors.</summary>
public sealed partial class DemoCommandTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly string[] PlanLabels = ["W2", "surrogate", "SB σ=0.1", "SB σ=1"];
    private static readonly string[] CostNames = ["wasserstein", "surrogate", "schrodingerBridge", "schrodingerBridge"];
    private static readonly string[] Cases = ["toy8", "moons8", "ring-grid"];

    private readonly string _dir = Directory.CreateTempSubdirectory("gmmflow-demo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [GeneratedRegex(@"\]\(([^)]+\.png)\)")]
    private static partial Regex PngLink();

    [Fact]
    public void Quick_demo_writes_every_picture_and_transports_onto_the_target()
    {
        string outDir = P("demo");
        var run = Run("demo", "--quick", "--out", outDir);
        Assert.True(run.Code == 0, run.Err);

        // The index lists the pictures; every listed PNG exists, is non-empty and is a real PNG.
        string index = File.ReadAllText(Path.Combine(outDir, DemoOutput.IndexFile));
        var listed = PngLink().Matches(index).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(Cases.Length * 4 + 2, listed.Count);
        Assert.Contains("toy8-momentum-trajectories.png", listed);
        Assert.Contains("toy8-momentum-snapshots.png", listed);
        foreach (string c in Cases)
        {
            foreach (string kind in new[] { "mixtures", "trajectories", "snapshots", "regime" })
            {
                Assert.Contains($"{c}-{kind}.png", listed);
            }
        }
        foreach (string png in listed)
        {
            byte[] bytes = File.ReadAllBytes(Path.Combine(outDir, png));
            Assert.True(bytes.Length > 10_000, $"{png} has only {bytes.Length} bytes");
            Assert.Equal(PngSignature, bytes[..8]);
        }
        foreach (string name in DemoOutput.FileNames(Cases))
        {
            Assert.True(new FileInfo(Path.Combine(outDir, name)).Length > 0, $"{name} missing or empty");
            if (name.EndsWith(".svg", StringComparison.Ordinal))
            {
                Assert.Contains("<svg", File.ReadAllText(Path.Combine(outDir, name)), StringComparison.Ordinal);
            }
        }
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));

        // The text table names every case and every cost kind, once per case.
        foreach (string c in Cases)
        {
            Assert.Contains($"{c}: ", run.Out);
        }
        foreach (string label in PlanLabels)
        {
            Assert.Equal(Cases.Length, Regex.Matches(run.Out, $"^  {Regex.Escape(label)} ", RegexOptions.Multiline).Count);
        }
        Assert.Contains("source (t = 0)", run.Out);
        Assert.Contains("LP objective", run.Out);
        Assert.Contains("MMD²", run.Out);

        // Progress went to stderr, one line per stage, not per step.
        var progressLines = run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.All(progressLines, l => Assert.StartsWith("gmmflow demo [", l));
        Assert.InRange(progressLines.Length, Cases.Length * 6, Cases.Length * 6 + 20);

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, DemoOutput.ResultsFile)));
        CheckTransportQuality(json.RootElement);
    }

    /// <summary>
    /// Every plan must move the fresh source points onto the fitted target: MMD² to fresh target points at most a tenth
    /// of the untransported source's, sliced W2² at most half, and every target component within 10% of its share.
    /// </summary>
    private static void CheckTransportQuality(JsonElement root)
    {
        var cases = root.GetProperty("cases").EnumerateArray().ToList();
        Assert.Equal(Cases, cases.Select(c => c.GetProperty("name").GetString()));
        foreach (var c in cases)
        {
            string name = c.GetProperty("name").GetString()!;
            var rows = c.GetProperty("rows").EnumerateArray().ToList();
            Assert.Equal(2 + PlanLabels.Length, rows.Count);
            double baselineMmd = rows[0].GetProperty("mmdSquared").GetDouble();
            double baselineSw = rows[0].GetProperty("slicedW2Squared").GetDouble();
            Assert.True(baselineMmd > 1e-2, $"{name}: the untransported source should be far from the target (MMD² {baselineMmd})");
            for (int p = 0; p < PlanLabels.Length; p++)
            {
                var row = rows[2 + p];
                Assert.Equal(PlanLabels[p], row.GetProperty("label").GetString());
                Assert.Equal(CostNames[p], row.GetProperty("cost").GetString());
                double mmd = row.GetProperty("mmdSquared").GetDouble();
                double sw = row.GetProperty("slicedW2Squared").GetDouble();
                double mass = row.GetProperty("massError").GetDouble();
                Assert.True(mmd < baselineMmd / 10, $"{name} {PlanLabels[p]}: MMD² {mmd} is not well below the baseline {baselineMmd}");
                Assert.True(sw < baselineSw / 2, $"{name} {PlanLabels[p]}: sliced W2² {sw} vs baseline {baselineSw}");
                Assert.True(mass < 0.1, $"{name} {PlanLabels[p]}: mass error {mass}");
                // Jensen on the mixture of drifts: the policy's kinetic cost cannot exceed the LP objective (up to MC error).
                double kinetic = row.GetProperty("kineticCost").GetDouble(), se = row.GetProperty("kineticCostStandardError").GetDouble();
                Assert.True(kinetic <= row.GetProperty("objective").GetDouble() + 4 * se, $"{name} {PlanLabels[p]}: kinetic {kinetic} > objective");
                Assert.True(row.GetProperty("activePairs").GetInt32() <= c.GetProperty("sourceComponents").GetInt32() + c.GetProperty("targetComponents").GetInt32() - 1);
            }
        }
        // The published toy objectives, recomputed on the exact mixtures.
        foreach (var check in cases[0].GetProperty("publishedChecks").EnumerateArray())
        {
            Assert.Equal(check.GetProperty("published").GetDouble(), check.GetProperty("computed").GetDouble(), 0.006);
        }
    }

    [Fact]
    public void Previous_outputs_are_refused_without_force_and_replaced_with_it()
    {
        string outDir = P("again");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "toy8-regime.png"), "old");
        File.WriteAllText(Path.Combine(outDir, "notes.txt"), "mine");

        var refused = Run("demo", "--quick", "--out", outDir);
        Assert.Equal(2, refused.Code);
        Assert.Contains("--force", refused.Err);
        Assert.Equal("old", File.ReadAllText(Path.Combine(outDir, "toy8-regime.png")));
        Assert.Equal(2, Directory.GetFiles(outDir).Length);

        var forced = Run("demo", "--quick", "--out", outDir, "--force", "--json", "--seed", "3");
        Assert.True(forced.Code == 0, forced.Err);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(outDir, "notes.txt")));
        Assert.Equal(PngSignature, File.ReadAllBytes(Path.Combine(outDir, "toy8-regime.png"))[..8]);

        // --json prints the same document as results.json (timings aside), and it describes a successful transport.
        using var printed = JsonDocument.Parse(forced.Out);
        using var saved = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, DemoOutput.ResultsFile)));
        Assert.Equal(3UL, printed.RootElement.GetProperty("seed").GetUInt64());
        Assert.True(printed.RootElement.GetProperty("quick").GetBoolean());
        Assert.Equal(Numbers(saved.RootElement), Numbers(printed.RootElement));
        CheckTransportQuality(printed.RootElement);
    }

    // Every number of every row except the timings: the run is seeded, so these are reproducible.
    private static List<double> Numbers(JsonElement root)
    {
        var values = new List<double>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            foreach (var row in c.GetProperty("rows").EnumerateArray())
            {
                foreach (var p in row.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Number && !p.Name.EndsWith("Seconds", StringComparison.Ordinal))
                    {
                        values.Add(p.Value.GetDouble());
                    }
                }
            }
        }
        return values;
    }

    [Fact]
    public void Bad_usage_exits_2_before_any_work()
    {
        string file = P("a-file.txt");
        File.WriteAllText(file, "x");
        foreach (string[] args in new[]
        {
            new[] { "demo", "--quick", "--bogus" },
            new[] { "demo", "--quick", "--out", file },
            new[] { "demo", "--quick", "--seed", "minus-one", "--out", P("x") },
            new[] { "demo", "--quick", "--out", Path.Combine(file, "sub") },
            new[] { "demo", "extra-argument", "--out", P("y") },
        })
        {
            var r = Run(args);
            Assert.True(r.Code == 2, $"{string.Join(' ', args)} → {r.Code}: {r.Err}");
            Assert.Equal("", r.Out);
            Assert.StartsWith("gmmflow: ", r.Err);
        }
        Assert.Equal("x", File.ReadAllText(file));
        Assert.False(Directory.Exists(P("x")));
        Assert.False(Directory.Exists(P("y")));
    }

    [Fact]
    public void Help_describes_the_options_with_examples()
    {
        var r = Run("demo", "--help");
        Assert.Equal(0, r.Code);
        foreach (string option in new[] { "--out", "--force", "--json", "--quick", "--seed", "Examples:" })
        {
            Assert.Contains(option, r.Out);
        }
    }
}

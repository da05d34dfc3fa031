using System.Text.Json;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.SchrodingerBridge;

/// <summary>`gmmflow bridge fit | sample | transport | benchmark` in-process: outputs, exit codes, no partial files.</summary>
public sealed class BridgeCliTests : CliHarness
{
    private (double[] X0, double[] X1) WriteSamples()
    {
        var bench = EntropicBridgeBenchmark.Create(2, 1.0, seed: 3, components: 2);
        double[] x0 = bench.SampleSource(1500, 1), x1 = bench.SampleTarget(1500, 2);
        SampleFiles.Write(P("x0.npy"), x0, 2);
        SampleFiles.Write(P("x1.npy"), x1, 2);
        return (x0, x1);
    }

    [Fact]
    public void Fit_sample_transport_chain_matches_the_library()
    {
        var (x0, x1) = WriteSamples();
        var fit = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "--components", "2", "--json", "--out", P("b.json"));
        Assert.Equal(0, fit.Code);
        using (var doc = JsonDocument.Parse(fit.Out))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("components").GetInt32());
        }
        LightBridge bridge;
        using (var stream = File.OpenRead(P("b.json")))
        {
            bridge = LightBridgeJson.Read(stream, "b.json");
        }
        var library = LightBridgeFitter.Fit(x0, x1, 2, 1.0, new LightBridgeFitOptions { Components = 2 }, TestContext.Current.CancellationToken);
        Assert.Equal(library.Bridge.Centers.ToArray(), bridge.Centers.ToArray());

        SampleFiles.Write(P("x.npy"), x0.AsSpan(0, 20), 2);
        Assert.Equal(0, Run("bridge", "sample", "--bridge", P("b.json"), "--samples", P("x.npy"), "--per-point", "5", "--seed", "4", "--out", P("y.npy")).Code);
        double[] y = SampleFiles.Read(P("y.npy"), out int d);
        Assert.Equal(2, d);
        Assert.Equal(bridge.SampleConditional(x0.AsSpan(0, 20), 5, 4), y);

        var t = Run("bridge", "transport", "--bridge", P("b.json"), "--samples", P("x.npy"), "--steps", "20", "--out", P("z.npy"));
        Assert.Equal(0, t.Code);
        Assert.Equal(20, SampleFiles.Read(P("z.npy"), out _).Length);
    }

    [Fact]
    public void Sides_given_as_mixtures_are_sampled_as_the_library_does()
    {
        // A mixture file on either side is sampled (--samples-per-side, source seed --seed, target --seed + 1), exactly
        // as LightBridgeFitter.Fit(mixture, mixture, …): same bridge. A sample file and a mixture file can be mixed.
        var p0 = new GaussianMixture([0.5, 0.5], [-2, 0, 2, 0], [0.5, 0, 0, 0.5, 0.5, 0, 0, 0.5]);
        var p1 = new GaussianMixture([1.0], [0, 3], [1, 0.3, 0.3, 0.8]);
        using (var f = File.Create(P("p0.json")))
        {
            MixtureJson.Write(p0, f);
        }
        using (var f = File.Create(P("p1.json")))
        {
            MixtureJson.Write(p1, f);
        }
        var fit = Run("bridge", "fit", "--source", P("p0.json"), "--target", P("p1.json"), "--samples-per-side", "1200", "--seed", "7",
            "--noise", "1", "-k", "2", "--out", P("b.json"));
        Assert.Equal(0, fit.Code);
        LightBridge bridge;
        using (var stream = File.OpenRead(P("b.json")))
        {
            bridge = LightBridgeJson.Read(stream, "b.json");
        }
        var library = LightBridgeFitter.Fit(p0, p1, 1.0, 1200, new LightBridgeFitOptions { Components = 2, Seed = 7 }, TestContext.Current.CancellationToken);
        Assert.Equal(library.Bridge.Centers.ToArray(), bridge.Centers.ToArray());
        var fromSamples = LightBridgeFitter.Fit(p0.Sample(1200, 7), p1.Sample(1200, 8), 2, 1.0,
            new LightBridgeFitOptions { Components = 2, Seed = 7 }, TestContext.Current.CancellationToken);
        Assert.Equal(fromSamples.Bridge.Centers.ToArray(), library.Bridge.Centers.ToArray());

        SampleFiles.Write(P("x1.npy"), p1.Sample(1200, 8), 2);
        Assert.Equal(0, Run("bridge", "fit", "--source", P("p0.json"), "--target", P("x1.npy"), "--samples-per-side", "1200", "--seed", "7",
            "--noise", "1", "-k", "2", "--out", P("c.json")).Code);
        Assert.Equal(File.ReadAllText(P("b.json")), File.ReadAllText(P("c.json")));
        Assert.Equal(2, Run("bridge", "fit", "--source", P("p0.json"), "--target", P("p1.json"), "--samples-per-side", "0",
            "--noise", "1", "--out", P("d.json")).Code);
        Assert.Throws<ArgumentException>(() => LightBridgeFitter.Fit(p0, new GaussianMixture([1.0], [0.0], [1.0]), 1.0, cancellationToken: TestContext.Current.CancellationToken));
        Assert.False(File.Exists(P("d.json")));
    }

    [Fact]
    public void Held_out_choice_is_reported()
    {
        WriteSamples();
        var fit = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "--max-iterations", "50", "--out", P("b.json"));
        Assert.Equal(0, fit.Code);
        Assert.Contains("K = 8, Full scales, λ = 0: held-out objective", fit.Out);
        // λ and the scale family chosen by the held-out objective too: 2 families × 5 strengths at K = 2.
        var auto = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "-k", "2", "--shrinkage", "auto",
            "--choose-scales", "--max-iterations", "30", "--json", "--out", P("c.json"));
        Assert.Equal(0, auto.Code);
        using var doc = System.Text.Json.JsonDocument.Parse(auto.Out);
        Assert.Equal(10, doc.RootElement.GetProperty("candidates").GetArrayLength());
        var bad = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "--shrinkage", "-1", "--out", P("d.json"));
        Assert.Equal(2, bad.Code);
        Assert.Contains("--shrinkage", bad.Err);
        Assert.False(File.Exists(P("d.json")));
        Assert.Equal(2, Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "--restarts", "-1", "--out", P("d.json")).Code);
        var restarted = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "-k", "2", "--restarts", "1",
            "--shrinkage", "0.01", "--max-iterations", "30", "--out", P("d.json"));
        Assert.Equal(0, restarted.Code);
        Assert.Contains("λ = 0.01", restarted.Out);
    }

    [Fact]
    public void Bad_usage_and_bad_files_fail_in_one_line_and_write_nothing()
    {
        WriteSamples();
        string[] before = Files();
        var noNoise = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--out", P("b.json"));
        Assert.Equal(2, noNoise.Code);
        var zero = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "0", "--out", P("b.json"));
        Assert.Equal(2, zero.Code);
        Assert.Contains("--noise", zero.Err);
        SampleFiles.Write(P("x3.npy"), new double[9], 3);
        var mismatch = Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x3.npy"), "--noise", "1", "--out", P("b.json"));
        Assert.Equal(1, mismatch.Code);
        Assert.Contains("dimension", mismatch.Err);
        File.WriteAllText(P("bad.json"), """{"format": "gmmflow-plan"}""");
        var badBridge = Run("bridge", "sample", "--bridge", P("bad.json"), "--samples", P("x0.npy"), "--out", P("y.npy"));
        Assert.Equal(1, badBridge.Code);
        Assert.Single(badBridge.Err.Trim().Split('\n'));
        var missing = Run("bridge", "transport", "--bridge", P("none.json"), "--samples", P("x0.npy"), "--out", P("y.npy"));
        Assert.Equal(1, missing.Code);
        var badExt = Run("bridge", "sample", "--bridge", P("bad.json"), "--samples", P("x0.npy"), "--out", P("y.txt"));
        Assert.Equal(2, badExt.Code);
        Assert.Equal(before.Concat(["bad.json", "x3.npy"]).Order().ToArray(), Files());
        // An existing output needs --force.
        Assert.Equal(0, Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "-k", "1", "--out", P("b.json")).Code);
        Assert.Equal(2, Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "-k", "1", "--out", P("b.json")).Code);
        Assert.Equal(0, Run("bridge", "fit", "--source", P("x0.npy"), "--target", P("x1.npy"), "--noise", "1", "-k", "1", "--force", "--out", P("b.json")).Code);
    }

    [Theory]
    [InlineData(false, 15)]
    [InlineData(true, 18)]
    public void Benchmark_prints_a_row_per_cell(bool trueStart, int columns)
    {
        string[] args = ["bridge", "benchmark", "--dims", "2", "--noise-variances", "1", "--seeds", "1", "--samples", "600", "--test-points", "5",
            "--per-point", "100", "--components", "2", "--out", P($"t{columns}.md")];
        var r = Run(trueStart ? [.. args, "--true-start"] : args);
        Assert.Equal(0, r.Code);
        string row = File.ReadAllLines(P($"t{columns}.md")).Single(l => l.StartsWith("| 2 |", StringComparison.Ordinal));
        // 15 columns (18 with the true-start diagnostic); every metric is a finite number.
        string[] cells = row.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
        Assert.Equal(columns, cells.Length);
        Assert.All(cells, c => Assert.True(double.TryParse(c, System.Globalization.CultureInfo.InvariantCulture, out double v) && double.IsFinite(v), c));
    }
}

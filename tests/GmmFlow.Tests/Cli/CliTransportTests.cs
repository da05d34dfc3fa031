using System.Text.Json;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Cli;

/// <summary>`gmmflow cost | regime | plan | transport | info` in-process: outputs, exit codes, no partial files.</summary>
public sealed class CliTransportTests : CliHarness
{
    private void WriteMixtures()
    {
        File.WriteAllText(P("a.json"), """
            {"weights": [0.5, 0.5], "means": [[0, 0], [3, 0]],
             "covariances": [[[1, 0.2], [0.2, 0.5]], [[0.5, 0], [0, 0.5]]]}
            """);
        File.WriteAllText(P("b.json"), """
            {"weights": [0.3, 0.3, 0.4], "means": [[0, 5], [4, 5], [2, -4]],
             "covariances": [[[0.3, 0], [0, 0.3]], [[0.6, 0.1], [0.1, 0.4]], [[1, 0], [0, 1]]]}
            """);
    }

    [Fact]
    public void Cost_writes_a_K0_by_K1_npy_equal_to_the_library()
    {
        WriteMixtures();
        var r = Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--kind", "surrogate", "--out", P("c.npy"));
        Assert.Equal(0, r.Code);
        double[] c = SampleFiles.Read(P("c.npy"), out int columns);
        Assert.Equal(3, columns);
        Assert.Equal(6, c.Length);
        var a = MixtureJson.Read(P("a.json"));
        var b = MixtureJson.Read(P("b.json"));
        double expected = GaussianCosts.Pair(CostKind.Surrogate, a.Mean(1), a.Covariance(1), b.Mean(2), b.Covariance(2), 2);
        Assert.Equal(expected, c[1 * 3 + 2], 1e-12);
    }

    [Fact]
    public void Regime_prints_every_pair_and_valid_json()
    {
        WriteMixtures();
        var text = Run("regime", "--source", P("a.json"), "--target", P("b.json"));
        Assert.Equal(0, text.Code);
        Assert.Contains("recommendation", text.Out);
        var json = Run("regime", "--source", P("a.json"), "--target", P("b.json"), "--json");
        using var doc = JsonDocument.Parse(json.Out);
        var pairs = doc.RootElement.GetProperty("pairs");
        Assert.Equal(6, pairs.GetArrayLength());
        foreach (var p in pairs.EnumerateArray())
        {
            Assert.True(p.GetProperty("surrogate").GetDouble() >= p.GetProperty("w2").GetDouble() - 1e-12);
        }
    }

    [Theory]
    [InlineData("w2", "0")]
    [InlineData("surrogate", "0")]
    [InlineData("sb", "0.5")]
    public void Sample_plan_transport_chain_lands_on_the_target(string cost, string noise)
    {
        WriteMixtures();
        Assert.Equal(0, Run("sample", "--model", P("a.json"), "-n", "1500", "--seed", "1", "--out", P("x.npy")).Code);
        var plan = Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--cost", cost, "--noise", noise, "--out", P("plan.json"), "--json");
        Assert.Equal(0, plan.Code);
        using (var doc = JsonDocument.Parse(plan.Out))
        {
            Assert.True(doc.RootElement.GetProperty("couplings").GetArrayLength() <= 2 + 3 - 1);
        }
        var t = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--seed", "3", "--trajectories", P("t.npy"), "--save-every", "25", "--out", P("y.npy"));
        Assert.Equal(0, t.Code);
        double[] y = SampleFiles.Read(P("y.npy"), out int d);
        Assert.Equal(2, d);
        var fresh = MixtureJson.Read(P("b.json")).Sample(1500, 99);
        var test = SampleMetrics.MmdPermutationTest(y, fresh, 2, permutations: 200, seed: 1);
        Assert.True(test.PValue > 0.01, $"p = {test.PValue}");
        // (100 / 25 + 1) snapshots × N × d, stored as a 3-D array.
        byte[] header = File.ReadAllBytes(P("t.npy"))[..128];
        Assert.Contains("'shape': (5, 1500, 2)", System.Text.Encoding.ASCII.GetString(header));
    }

    [Fact]
    public void Bad_inputs_exit_1_or_2_with_one_line_and_no_output()
    {
        WriteMixtures();
        File.WriteAllText(P("truncated.json"), """{"weights": [0.5, 0.5], "means": [[0, 0], [3""");
        File.WriteAllText(P("npd.json"), """{"weights": [1], "means": [[0, 0]], "covariances": [[[1, 2], [2, 1]]]}""");
        File.WriteAllText(P("d3.json"), """{"weights": [1], "means": [[0, 0, 0]], "covariances": [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]}""");
        var before = Files();

        Check(Run("plan", "--source", P("truncated.json"), "--target", P("b.json"), "--out", P("p.json")), 1, "truncated.json");
        Check(Run("plan", "--source", P("npd.json"), "--target", P("b.json"), "--out", P("p.json")), 1, "npd.json");
        Check(Run("plan", "--source", P("d3.json"), "--target", P("b.json"), "--out", P("p.json")), 1, "dimension");
        Check(Run("plan", "--source", P("missing.json"), "--target", P("b.json"), "--out", P("p.json")), 1, "missing.json");
        Check(Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--cost", "w3", "--out", P("p.json")), 2, "w3");
        Check(Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--noise", "-1", "--out", P("p.json")), 2, "--noise");
        Check(Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--out", P("c.csv")), 2, ".npy");
        Check(Run("transport", "--plan", P("a.json"), "--samples", P("x.npy"), "--out", P("y.npy")), 1, "gmmflow-plan");
        Check(Run("bogus-command"), 2, "bogus");
        Assert.Equal(before, Files());

        // A .npy of the wrong dtype or shape: written by hand (int32, and 3-D).
        Assert.Equal(0, Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--out", P("plan.json")).Code);
        before = Files();
        WriteNpy(P("int.npy"), "<i4", "(4, 2)", new byte[32]);
        WriteNpy(P("cube.npy"), "<f8", "(2, 2, 2)", new byte[64]);
        WriteNpy(P("d3.npy"), "<f8", "(4, 3)", new byte[96]);
        before = Files();
        Check(Run("transport", "--plan", P("plan.json"), "--samples", P("int.npy"), "--out", P("y.npy")), 1, "int.npy");
        Check(Run("transport", "--plan", P("plan.json"), "--samples", P("cube.npy"), "--out", P("y.npy")), 1, "cube.npy");
        Check(Run("transport", "--plan", P("plan.json"), "--samples", P("d3.npy"), "--out", P("y.npy")), 1, "dimension");
        Assert.Equal(before, Files());

        // An existing output is not overwritten without --force.
        File.WriteAllText(P("y.npy"), "keep");
        WriteNpy(P("x2.npy"), "<f8", "(1, 2)", new byte[16]);
        Check(Run("transport", "--plan", P("plan.json"), "--samples", P("x2.npy"), "--out", P("y.npy")), 2, "--force");
        Assert.Equal("keep", File.ReadAllText(P("y.npy")));
        Assert.Equal(0, Run("transport", "--plan", P("plan.json"), "--samples", P("x2.npy"), "--out", P("y.npy"), "--force").Code);

        static void Check((int Code, string Out, string Err) r, int code, string mention)
        {
            Assert.Equal(code, r.Code);
            string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(lines);
            Assert.DoesNotContain("   at ", r.Err); // no stack trace without --verbose
            Assert.Contains(mention, r.Err);
        }
    }

    [Fact]
    public void Every_command_has_help_with_examples()
    {
        foreach (string command in (string[])["info", "fit", "sample", "cost", "regime", "plan", "transport"])
        {
            var r = Run(command, "--help");
            Assert.Equal(0, r.Code);
            Assert.Contains("Usage", r.Out);
            if (command != "info" && command != "sample")
            {
                Assert.Contains("Examples", r.Out);
            }
        }
    }

    [Fact]
    public void Info_names_the_lapack_provider_and_highs_1_12()
    {
        var r = Run("info", "--json");
        Assert.Equal(0, r.Code);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.StartsWith("1.12", doc.RootElement.GetProperty("highsVersion").GetString());
        Assert.True(doc.RootElement.GetProperty("highsSelfCheckPassed").GetBoolean());
        string provider = doc.RootElement.GetProperty("lapackProvider").GetString()!;
        Assert.Contains(provider, (string[])["Mkl", "System"]);
    }

    private static void WriteNpy(string path, string descr, string shape, byte[] data)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        string header = dict.PadRight(64 - 10 - 1) + "\n";
        using var f = File.Create(path);
        f.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
        f.Write(System.Text.Encoding.ASCII.GetBytes(header));
        f.Write(data);
    }
}

using System.Text.Json;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.MultiMarginal;

/// <summary>`gmmflow multimarginal plan | transport` in-process: files, agreement with the library, usage errors.</summary>
public sealed class MultiMarginalCliTests : CliHarness
{
    [Fact]
    public void Plan_and_transport_round_trip_through_files()
    {
        var m = MomentumFixtures.Snapshots();
        for (int k = 0; k < m.Length; k++)
        {
            MixtureJson.Write(m[k], P($"m{k}.json"));
        }
        // The middle knot from samples, fitted with --components 2.
        SampleFiles.Write(P("m1.npy"), m[1].Sample(3000, 5), 2);
        var r = Run("multimarginal", "plan", "--marginal", "0:" + P("m0.json"), "--marginal", "1:" + P("m1.npy"), "--marginal", "2.5:" + P("m2.json"),
            "--components", "2", "--noise", "0.4", "--all-costs", P("c.npy"), "--out", P("plan.json"), "--json");
        Assert.True(r.Code == 0, r.Err);
        using (var doc = JsonDocument.Parse(r.Out))
        {
            Assert.Equal(3, doc.RootElement.GetProperty("knots").GetInt32());
            Assert.Equal(8, doc.RootElement.GetProperty("tuples").GetInt64());
        }
        using (var stream = File.OpenRead(P("plan.json")))
        {
            var plan = MultiMarginalPlanJson.Read(stream, "plan.json");
            Assert.Equal([0, 1, 2.5], plan.Times);
            using var doc = JsonDocument.Parse(File.ReadAllText(P("plan.json")));
            double fileObjective = doc.RootElement.GetProperty("objective").GetDouble();
            Assert.Equal(fileObjective, plan.Objective, 1e-6 * fileObjective);
            var tuples = doc.RootElement.GetProperty("tuples");
            Assert.Equal(plan.Tuples.Count, tuples.GetArrayLength());
            Assert.True(tuples[0].GetProperty("cost").GetDouble() > 0);
        }
        Assert.True(new FileInfo(P("c.npy")).Length >= 8 * 8);

        SampleFiles.Write(P("x0.npy"), m[0].Sample(200, 9), 2);
        r = Run("multimarginal", "transport", "--plan", P("plan.json"), "--samples", P("x0.npy"), "--times", "0.5,2.5", "--steps", "100",
            "--exact", "--out", P("run"));
        Assert.True(r.Code == 0, r.Err);
        double[] times = SampleFiles.Read(Path.Combine(P("run"), "times.npy"), out _);
        Assert.Equal([0.5, 2.5], times);
        Assert.True(File.Exists(Path.Combine(P("run"), "positions.npy")));
        Assert.True(File.Exists(Path.Combine(P("run"), "exact.npy")));
        // Existing outputs need --force.
        r = Run("multimarginal", "transport", "--plan", P("plan.json"), "--samples", P("x0.npy"), "--out", P("run"));
        Assert.Equal(2, r.Code);
    }

    [Fact]
    public void Bad_usage_is_one_line_with_exit_2()
    {
        var m = MomentumFixtures.Snapshots();
        MixtureJson.Write(m[0], P("a.json"));
        MixtureJson.Write(m[1], P("b.json"));
        var r = Run("multimarginal", "plan", "--marginal", "1:" + P("a.json"), "--marginal", "0:" + P("b.json"), "--out", P("p.json"));
        Assert.Equal(2, r.Code);
        Assert.Contains("increase strictly", r.Err);
        r = Run("multimarginal", "plan", "--marginal", "x:" + P("a.json"), "--marginal", "1:" + P("b.json"), "--out", P("p.json"));
        Assert.Equal(2, r.Code);
        r = Run("multimarginal", "plan", "--marginal", "0:" + P("a.json"), "--out", P("p.json"));
        Assert.Equal(2, r.Code);
        Assert.False(File.Exists(P("p.json")));
        File.WriteAllText(P("bad.json"), """{"format": "gmmflow-plan"}""");
        r = Run("multimarginal", "transport", "--plan", P("bad.json"), "--samples", P("a.json"), "--out", P("run"));
        Assert.Equal(1, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}

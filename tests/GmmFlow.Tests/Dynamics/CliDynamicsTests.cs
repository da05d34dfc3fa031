using System.Text.Json;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Dynamics;

/// <summary>`gmmflow cost | plan | transport --dynamics` in-process.</summary>
public sealed class CliDynamicsTests : CliHarness
{
    private void WriteInputs()
    {
        // Position-only mixtures (2-D) for the double integrator with 2 positions.
        File.WriteAllText(P("a.json"), """
            {"weights": [1], "means": [[0, 0]], "covariances": [[[0.4, 0], [0, 0.4]]]}
            """);
        File.WriteAllText(P("b.json"), """
            {"weights": [0.5, 0.5], "means": [[3, 0], [-3, 0]],
             "covariances": [[[0.2, 0], [0, 0.2]], [[0.2, 0], [0, 0.2]]]}
            """);
        File.WriteAllText(P("di.json"), """{"preset": "double-integrator", "positions": 2, "horizon": 1}""");
        File.WriteAllText(P("brownian.json"), """{"A": [[0, 0], [0, 0]], "B": [[1, 0], [0, 1]], "horizon": 1}""");
        File.WriteAllText(P("grid.json"), """
            {"times": [0, 0.5, 1],
             "A": [[[0, 0], [0, 0]], [[0, 0.3], [-0.3, 0]], [[0, 0], [0, 0]]],
             "B": [[[1, 0], [0, 1]], [[1, 0], [0, 1]], [[1, 0], [0, 1]]]}
            """);
    }

    [Fact]
    public void Cost_with_dynamics_equals_the_library()
    {
        WriteInputs();
        var r = Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("di.json"), "--velocity-std", "0.5",
            "--noise", "0.3", "--out", P("c.npy"));
        Assert.True(r.Code == 0, r.Err);
        double[] c = SampleFiles.Read(P("c.npy"), out int columns);
        Assert.Equal(2, columns);
        var a = PhaseSpace.Lift(MixtureJson.Read(P("a.json")), 0.5);
        var b = PhaseSpace.Lift(MixtureJson.Read(P("b.json")), 0.5);
        var bridge = LinearGaussianBridge.Create(LinearDynamics.DoubleIntegrator(2), a.Mean(0), a.Covariance(0), b.Mean(1), b.Covariance(1), 0.3);
        Assert.Equal(bridge.Cost, c[1], 12);
        // Brownian dynamics give the sb cost of the plain command.
        Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--kind", "sb", "--noise", "0.3", "--out", P("sb.npy"));
        Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("brownian.json"), "--noise", "0.3", "--out", P("lin.npy"));
        var sb = SampleFiles.Read(P("sb.npy"), out _);
        var lin = SampleFiles.Read(P("lin.npy"), out _);
        Assert.True(Math.Abs(sb[0] - lin[0]) < 1e-10 && Math.Abs(sb[1] - lin[1]) < 1e-10);
    }

    [Fact]
    public void Plan_records_the_dynamics_and_transport_reads_it()
    {
        WriteInputs();
        var plan = Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("grid.json"), "--noise", "0.2", "--out", P("plan.json"));
        Assert.True(plan.Code == 0, plan.Err);
        using (var doc = JsonDocument.Parse(File.ReadAllText(P("plan.json"))))
        {
            Assert.Equal(3, doc.RootElement.GetProperty("dynamics").GetProperty("times").GetArrayLength());
        }
        var read = LinearPlanJson.Read(File.OpenRead(P("plan.json")), "plan.json");
        Assert.Equal(LinearDynamicsKind.PiecewiseLinear, read.Dynamics.Kind);
        Assert.Equal(2, read.Pairs.Count);
        // The plain reader refuses it with a clear message; the transport command reads it.
        Assert.Contains("linear dynamics", Assert.Throws<DataFormatException>(() => PlanJson.Read(File.OpenRead(P("plan.json")), "plan.json")).Message);
        var x = MixtureJson.Read(P("a.json")).Sample(300, 1);
        SampleFiles.Write(P("x.npy"), x, 2);
        var t = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--steps", "50", "--out", P("y.npy"), "--json");
        Assert.True(t.Code == 0, t.Err);
        var y = SampleFiles.Read(P("y.npy"), out int d);
        Assert.Equal(2, d);
        Assert.Equal(600, y.Length);
        // Dynamics given again must agree with the file's.
        var bad = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--dynamics", P("di.json"), "--out", P("z.npy"));
        Assert.Equal(2, bad.Code);
        Assert.DoesNotContain("z.npy", Files());
    }

    [Fact]
    public void Position_only_samples_are_lifted_and_projected_back()
    {
        WriteInputs();
        var plan = Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("di.json"), "--velocity-std", "0.5",
            "--out", P("plan.json"));
        Assert.True(plan.Code == 0, plan.Err);
        var x = MixtureJson.Read(P("a.json")).Sample(2000, 3);
        SampleFiles.Write(P("x.npy"), x, 2);
        var t = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--velocity-std", "0.5", "--steps", "40",
            "--integrator", "rk4", "--out", P("y.npy"));
        Assert.True(t.Code == 0, t.Err);
        var y = SampleFiles.Read(P("y.npy"), out int d);
        Assert.Equal(2, d);
        // Half the mass ends near each target mean (±3, 0).
        int right = 0;
        for (int i = 0; i < y.Length / 2; i++)
        {
            right += y[2 * i] > 0 ? 1 : 0;
        }
        Assert.InRange(right, 900, 1100);
        var missing = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--out", P("z.npy"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("--velocity-std", missing.Err);
    }

    [Fact]
    public void Bad_dynamics_and_options_are_one_line_errors()
    {
        WriteInputs();
        File.WriteAllText(P("unctrl.json"), """{"A": [[0, 0], [0, -1]], "B": [[1], [0]], "horizon": 1}""");
        var r = Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("unctrl.json"), "--out", P("c.npy"));
        Assert.Equal(1, r.Code);
        Assert.Contains("not controllable", r.Err);
        File.WriteAllText(P("ragged.json"), """{"A": [[0, 0], [0]], "B": [[1], [0]]}""");
        r = Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("ragged.json"), "--out", P("c.npy"));
        Assert.Equal(1, r.Code);
        Assert.Contains("row 1", r.Err);
        r = Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("di.json"), "--kind", "w2", "--out", P("c.npy"));
        Assert.Equal(2, r.Code);
        r = Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--noise-matrix", P("di.json"), "--out", P("c.npy"));
        Assert.Equal(2, r.Code);
        r = Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("di.json"), "--out", P("p.json"));
        Assert.Equal(2, r.Code);
        Assert.Contains("--velocity-std", r.Err);
        Assert.DoesNotContain("c.npy", Files());
        Assert.DoesNotContain("p.json", Files());
    }

    [Fact]
    public void Noise_matrix_plans_round_trip()
    {
        WriteInputs();
        File.WriteAllText(P("d.json"), """{"D": [[0.2, 0, 0, 0], [0, 0.2, 0, 0], [0, 0, 0.3, 0], [0, 0, 0, 0.3]]}""");
        var r = Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--dynamics", P("di.json"), "--velocity-std", "0.5",
            "--noise-matrix", P("d.json"), "--out", P("plan.json"), "--json");
        Assert.True(r.Code == 0, r.Err);
        var plan = LinearPlanJson.Read(File.OpenRead(P("plan.json")), "plan.json");
        Assert.True(plan.Bridges.All(b => b.HasNoiseMatrix && b.ShootingResidual < 1e-10));
        Assert.Equal(4, plan.DiffusionColumns);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal(plan.Objective, doc.RootElement.GetProperty("objective").GetDouble(), 10);
    }
}

using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Diagonal;

/// <summary>`gmmflow cost | plan | transport` on diagonal and spherical mixture files: the plan file records the
/// covariance type, the costs equal the library's diagonal path, the transported samples land on the target.</summary>
public sealed class DiagonalCliTests : CliHarness
{
    [Fact]
    public void Cost_plan_and_transport_take_diagonal_and_spherical_files_end_to_end()
    {
        const int d = 12;
        var a = DiagonalMixtures.Random(3, d, 81, CovarianceType.Spherical, spread: 0.6);
        var b = DiagonalMixtures.Random(4, d, 82, CovarianceType.Diagonal, spread: 0.6);
        MixtureJson.Write(a, P("a.json"));
        MixtureJson.Write(b, P("b.json"));

        Assert.Equal(0, Run("cost", "--source", P("a.json"), "--target", P("b.json"), "--kind", "sb", "--noise", "0.8", "--out", P("c.npy")).Code);
        double[] c = SampleFiles.Read(P("c.npy"), out int columns);
        Assert.Equal(4, columns);
        var (s, t) = GaussianFactors.ForTransport(a, b);
        var expected = new double[12];
        GaussianCosts.Compute(CostKind.SchrodingerBridge, s, t, expected, 0.8);
        Assert.Equal(expected, c);

        Assert.Equal(0, Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--cost", "sb", "--noise", "0.8", "--out", P("plan.json")).Code);
        Assert.Contains("\"covariance_type\": \"diag\"", File.ReadAllText(P("plan.json")));
        SampleFiles.Write(P("x.npy"), a.Sample(600, 5), d);
        var run = Run("transport", "--plan", P("plan.json"), "--samples", P("x.npy"), "--steps", "150", "--seed", "2", "--out", P("y.npy"));
        Assert.Equal(0, run.Code);
        double[] y = SampleFiles.Read(P("y.npy"), out int dy);
        Assert.Equal(d, dy);
        var test = SampleMetrics.MmdPermutationTest(y, b.Sample(600, 99), d, permutations: 200, seed: 1);
        Assert.True(test.PValue > 0.01, $"p = {test.PValue}");
    }
}

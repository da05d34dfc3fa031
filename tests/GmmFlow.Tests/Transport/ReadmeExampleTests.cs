namespace GmmFlow.Tests.Transport;

/// <summary>The README's "API in a few lines", run as written (files replaced by generated samples).</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void Readme_api_example_runs_and_lands_on_the_target()
    {
        var truthA = TransportPlanTests.RandomMixture(3, 2, 1, spread: 3);
        var truthB = TransportPlanTests.RandomMixture(4, 2, 2, spread: 3);
        double[] xs = truthA.Sample(4000, 1);
        double[] ys = truthB.Sample(4000, 2);
        int d = 2;

        GaussianMixture source = GaussianMixtureFitter.Fit(xs, d, components: 3, cancellationToken: TestContext.Current.CancellationToken).Mixture;
        GaussianMixture target = GaussianMixtureFitter.Fit(ys, d, components: 4, cancellationToken: TestContext.Current.CancellationToken).Mixture;
        var plan = TransportPlan.Create(source, target, new TransportOptions
        {
            Cost = CostKind.SchrodingerBridge,
            Noise = 0.5,
        });
        Assert.InRange(plan.Pairs.Count, 1, 3 + 4 - 1);

        double[] moved = plan.Transport(xs, new TransportRunOptions { Steps = 100, Seed = 1 });
        Span<double> v = stackalloc double[d];
        plan.Velocity(t: 0.5, x: xs.AsSpan(0, d), velocity: v);
        Assert.True(double.IsFinite(v[0]) && double.IsFinite(v[1]));

        double[] half = plan.SampleMarginal(0.5, count: 1000, seed: 7);
        Assert.Equal(2000, half.Length);
        double w2 = GaussianCosts.Pair(CostKind.Wasserstein, source.Mean(0), source.Covariance(0),
                                       target.Mean(0), target.Covariance(0), d);
        Assert.True(w2 >= 0);
        RegimeTable regime = RegimeTable.Compute(GaussianFactors.FromMixture(source, "source"),
                                                 GaussianFactors.FromMixture(target, "target"));
        Assert.Equal(3, regime.SourceCount);

        var test = SampleMetrics.MmdPermutationTest(moved[..2000], truthB.Sample(1000, 3), d, permutations: 200, seed: 1);
        Assert.True(test.PValue > 0.01, $"p = {test.PValue}");
    }
}

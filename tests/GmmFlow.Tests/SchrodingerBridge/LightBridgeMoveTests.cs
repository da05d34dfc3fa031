namespace GmmFlow.Tests.SchrodingerBridge;

/// <summary>The split-merge moves of <see cref="LightBridgeFitter"/> (docs/theory/exact-sb.md#fitting).</summary>
public class LightBridgeMoveTests
{
    [Fact]
    public void Two_components_on_one_cluster_and_one_on_two_are_rearranged()
    {
        // Three well-separated potential components at σ² = 0.1 (d = 4). The start puts two components on cluster A,
        // 0.5 apart (symmetric KL 2.5 nats: above the absolute 1-nat duplicate rule, far below the other pairs), and one
        // component midway between clusters B and C. L-BFGS alone stays in this local minimum; the move must merge the
        // pair and split the middle component along the axis joining B and C.
        const int d = 4, n = 4000;
        double noise = Math.Sqrt(0.1);
        double[] identity = new double[3 * d * d];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < d; i++)
            {
                identity[c * d * d + i * d + i] = 1;
            }
        }
        double[] trueCenters = [-4, 0, 0, 0, 4, 3, 0, 0, 4, -3, 0, 0];
        var truth = new LightBridge(noise, [1.0 / 3, 1.0 / 3, 1.0 / 3], trueCenters, identity);
        var rng = new CounterRng(5);
        var x0 = new double[n * d];
        rng.FillNormal(0, 0, x0);
        double[] x1 = truth.SampleConditional(x0, 1, 6);
        var source = new double[n * d];
        rng.FillNormal(1, 0, source);
        var start = new LightBridge(noise, [1.0 / 3, 1.0 / 3, 1.0 / 3], [-4.25, 0, 0, 0, -3.75, 0, 0, 0, 4, 0, 0, 0], identity);

        var fit = LightBridgeFitter.Fit(source, x1, d, noise, new LightBridgeFitOptions { Initial = start },
            cancellationToken: TestContext.Current.CancellationToken);
        var fromTruth = LightBridgeFitter.Fit(source, x1, d, noise, new LightBridgeFitOptions { Initial = truth },
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(fit.Objective <= fromTruth.Objective + 1e-6, $"from the bad start {fit.Objective}, from the truth {fromTruth.Objective}");
        // Every true centre has a fitted centre near it.
        for (int t = 0; t < 3; t++)
        {
            double nearest = double.PositiveInfinity;
            for (int c = 0; c < 3; c++)
            {
                double s = 0;
                for (int i = 0; i < d; i++)
                {
                    s += Math.Pow(fit.Bridge.Centers[c * d + i] - trueCenters[t * d + i], 2);
                }
                nearest = Math.Min(nearest, Math.Sqrt(s));
            }
            Assert.True(nearest < 0.5, $"true centre {t}: nearest fitted centre at {nearest}");
        }
    }
}

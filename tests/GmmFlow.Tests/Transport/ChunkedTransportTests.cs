namespace GmmFlow.Tests.Transport;

/// <summary>
/// <see cref="TransportRunOptions.FirstStream"/>: a sample set transported in chunks, each with its starting index and
/// the same seed, equals one call over the whole set bit for bit (Brownian SB plans with fixed and automatic SDE steps,
/// linear-dynamics plans); without the offsets the chunks' noise would repeat.
/// </summary>
public class ChunkedTransportTests
{
    private static double[] InChunks(Func<double[], TransportRunOptions, double[]> transport, double[] x, int d, int[] cuts, TransportRunOptions run)
    {
        var output = new double[x.Length];
        int start = 0;
        foreach (int end in cuts.Append(x.Length / d))
        {
            var part = transport(x[(start * d)..(end * d)], run with { FirstStream = (ulong)start });
            part.CopyTo(output, start * d);
            start = end;
        }
        return output;
    }

    [Theory]
    [InlineData(50)]
    [InlineData(null)]
    public void Brownian_plan_chunks_equal_one_call(int? steps)
    {
        var source = TransportPlanTests.RandomMixture(3, 2, 1, 2.0);
        var target = TransportPlanTests.RandomMixture(2, 2, 2, 2.0);
        var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.5 });
        var x = source.Sample(301, 4);
        var run = new TransportRunOptions { Steps = steps, Seed = 11 };
        var whole = plan.Transport(x, run);
        Assert.Equal(whole, InChunks((p, r) => plan.Transport(p, r), x, 2, [1, 128, 200], run));
        // Without the offsets the second chunk would reuse the first chunk's streams.
        var unshifted = plan.Transport(x[256..], run);
        Assert.NotEqual(whole[256..], unshifted);
    }

    [Fact]
    public void Linear_plan_chunks_equal_one_call()
    {
        var dynamics = LinearDynamics.DoubleIntegrator(1, 1.0);
        var source = TransportPlanTests.RandomMixture(2, 2, 5, 1.0);
        var target = TransportPlanTests.RandomMixture(2, 2, 6, 1.0);
        var plan = LinearTransportPlan.Create(source, target, dynamics, new LinearTransportOptions { Noise = 0.4 });
        var x = source.Sample(97, 7);
        var run = new TransportRunOptions { Steps = 40, Seed = 3 };
        Assert.Equal(plan.Transport(x, run), InChunks((p, r) => plan.Transport(p, r), x, 2, [13, 60], run));
    }
}

namespace GmmFlow.Tests.SchrodingerBridge;

/// <summary>The batched conditional moments and the bit-exact JSON round trip the C ABI and Python rely on.</summary>
public class LightBridgeBatchTests
{
    [Fact]
    public void Batched_conditional_moments_equal_the_mixture_moments_of_each_conditional()
    {
        // Reference per point: the mean and covariance of the Gaussian mixture Conditional(x) returns, computed here.
        var bridge = LightBridgeTests.Potential2D(0.7);
        var rng = new Random(3);
        const int n = 500, d = 2;
        var x = new double[n * d];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = 3 * (rng.NextDouble() - 0.5);
        }
        var mean = new double[n * d];
        var cov = new double[n * d * d];
        bridge.ConditionalMoments(x, mean, cov);
        for (int p = 0; p < n; p++)
        {
            GaussianMixture c = bridge.Conditional(x.AsSpan(p * d, d));
            var m = new double[d];
            var s = new double[d * d];
            for (int k = 0; k < c.ComponentCount; k++)
            {
                double w = c.Weights[k];
                for (int i = 0; i < d; i++)
                {
                    m[i] += w * c.Means[k * d + i];
                }
            }
            for (int k = 0; k < c.ComponentCount; k++)
            {
                double w = c.Weights[k];
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        double di = c.Means[k * d + i] - m[i], dj = c.Means[k * d + j] - m[j];
                        s[i * d + j] += w * (c.Covariances[k * d * d + i * d + j] + di * dj);
                    }
                }
            }
            for (int i = 0; i < d; i++)
            {
                Assert.Equal(m[i], mean[p * d + i], 1e-10);
                for (int j = 0; j < d; j++)
                {
                    Assert.Equal(s[i * d + j], cov[p * d * d + i * d + j], 1e-10);
                }
            }
        }
    }

    [Fact]
    public void Batched_conditional_moments_refuse_wrong_lengths()
    {
        var bridge = LightBridgeTests.Potential2D(0.7);
        var x = new double[6];
        Assert.Throws<ArgumentException>(() => bridge.ConditionalMoments(x, new double[4], new double[12]));
        Assert.Throws<ArgumentException>(() => bridge.ConditionalMoments(x, new double[6], new double[8]));
        Assert.Throws<ArgumentException>(() => bridge.ConditionalMoments(new double[5], new double[6], new double[12]));
    }

    [Fact]
    public void Json_round_trip_keeps_every_parameter_bit_for_bit()
    {
        // Weights 1/3 each do not sum to exactly 1 in floating point; a second normalisation must not move them.
        var bridge = new LightBridge(0.9, [1.0, 1.0, 1.0], [0.0, 1.0, 2.0, -1.0, 0.5, 0.5], [1.0, 2.0, 0.5, 0.7, 1.3, 0.4],
            CovarianceType.Diagonal);
        using var stream = new MemoryStream();
        LightBridgeJson.Write(bridge, stream);
        stream.Position = 0;
        LightBridge back = LightBridgeJson.Read(stream, "bridge");
        Assert.Equal(bridge.Weights.ToArray(), back.Weights.ToArray());
        Assert.Equal(bridge.Centers.ToArray(), back.Centers.ToArray());
        Assert.Equal(bridge.Scales.ToArray(), back.Scales.ToArray());
        double[] x = [0.3, -0.2, 1.0, 0.4];
        Assert.Equal(bridge.SampleConditional(x, 4, 11), back.SampleConditional(x, 4, 11));
    }
}

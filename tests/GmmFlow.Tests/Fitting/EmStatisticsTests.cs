namespace GmmFlow.Tests.Fitting;

/// <summary>
/// EM through chunk statistics (the distributed path) against the fitter itself: the same warm start and number of
/// iterations give the same model, whatever the chunking; statistics of chunks add up to those of the whole.
/// </summary>
public sealed class EmStatisticsTests
{
    private static GaussianMixture Truth(CovarianceType type) => type switch
    {
        CovarianceType.Full => new GaussianMixture([0.3, 0.45, 0.25], [0, 0, 0, 4, 1, 0, -3, 2, 1],
            [1, 0.3, 0, 0.3, 0.8, 0.1, 0, 0.1, 0.5, 0.6, 0, 0, 0, 0.4, 0, 0, 0, 0.9, 0.5, -0.2, 0, -0.2, 1.2, 0, 0, 0, 0.3]),
        CovarianceType.Diagonal => new GaussianMixture([0.3, 0.45, 0.25], [0, 0, 0, 4, 1, 0, -3, 2, 1],
            [1, 0.8, 0.5, 0.6, 0.4, 0.9, 0.5, 1.2, 0.3], CovarianceType.Diagonal),
        _ => new GaussianMixture([0.3, 0.45, 0.25], [0, 0, 0, 4, 1, 0, -3, 2, 1], [1, 0.5, 0.7], CovarianceType.Spherical),
    };

    private static GaussianMixture Start(CovarianceType type) => type switch
    {
        CovarianceType.Full => new GaussianMixture([1 / 3.0, 1 / 3.0, 1 / 3.0], [0.5, 0, 0, 3, 0, 0, -2, 1, 0],
            [1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1]),
        CovarianceType.Diagonal => new GaussianMixture([1 / 3.0, 1 / 3.0, 1 / 3.0], [0.5, 0, 0, 3, 0, 0, -2, 1, 0],
            [1, 1, 1, 1, 1, 1, 1, 1, 1], CovarianceType.Diagonal),
        _ => new GaussianMixture([1 / 3.0, 1 / 3.0, 1 / 3.0], [0.5, 0, 0, 3, 0, 0, -2, 1, 0], [1, 1, 1], CovarianceType.Spherical),
    };

    [Theory]
    [InlineData(CovarianceType.Full, 1)]
    [InlineData(CovarianceType.Full, 7)]
    [InlineData(CovarianceType.Diagonal, 3)]
    [InlineData(CovarianceType.Spherical, 5)]
    public void ChunkedEm_EqualsTheFitter(CovarianceType type, int chunks)
    {
        const int n = 3000, d = 3, iterations = 12;
        double[] x = Truth(type).Sample(n, seed: 11);
        GaussianMixture current = Start(type);
        for (int it = 0; it < iterations; it++)
        {
            EmStatistics? total = null;
            int size = (n + chunks - 1) / chunks;
            for (int c = 0; c < chunks; c++)
            {
                int from = c * size, count = Math.Min(size, n - from);
                var part = EmStatistics.Compute(current, x.AsSpan(from * d, count * d));
                if (total is null) { total = part; } else { total.Add(part); }
            }
            current = total!.Maximize(current, 1e-6);
        }
        var fit = GaussianMixtureFitter.Fit(x, d, 3, new GaussianMixtureFitOptions
        {
            CovarianceType = type, InitialMixture = Start(type), MaxIterations = iterations, Tolerance = 1e-300,
        }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(iterations, fit.Iterations);
        Assert.Equal(fit.MeanLogLikelihood, current.MeanLogLikelihood(x), 1e-10);
        for (int i = 0; i < current.Means.Length; i++)
        {
            Assert.Equal(fit.Mixture.Means[i], current.Means[i], 1e-9);
        }
        for (int i = 0; i < current.CompactCovariances.Length; i++)
        {
            Assert.Equal(fit.Mixture.CompactCovariances[i], current.CompactCovariances[i], 1e-9);
        }
    }

    [Fact]
    public void Statistics_AreAdditive_AndMatchTheirDefinition()
    {
        GaussianMixture m = Truth(CovarianceType.Full);
        double[] x = m.Sample(500, seed: 3);
        var whole = EmStatistics.Compute(m, x);
        var a = EmStatistics.Compute(m, x.AsSpan(0, 600));
        a.Add(EmStatistics.Compute(m, x.AsSpan(600)));
        Assert.Equal(500, whole.PositiveCount);
        Assert.Equal(500, whole.TotalWeight);
        Assert.Equal(500, whole.Weights.Sum(), 1e-9);
        Assert.Equal(m.MeanLogLikelihood(x) * 500, whole.LogLikelihood, 1e-8);
        for (int i = 0; i < whole.SecondMoments.Length; i++)
        {
            Assert.Equal(whole.SecondMoments[i], a.SecondMoments[i], 1e-9);
        }
        // Definition, by brute force: S1_k = Σ r_ik (x_i − m_k).
        var resp = new double[500 * 3];
        m.Responsibilities(x, resp);
        for (int k = 0; k < 3; k++)
        {
            for (int j = 0; j < 3; j++)
            {
                double s = 0;
                for (int i = 0; i < 500; i++)
                {
                    s += resp[i * 3 + k] * (x[i * 3 + j] - m.Mean(k)[j]);
                }
                Assert.Equal(s, whole.FirstMoments[k * 3 + j], 1e-9);
            }
        }
    }

    [Fact]
    public void SampleWeights_ActLikeRepeatedPoints()
    {
        GaussianMixture m = Truth(CovarianceType.Diagonal);
        double[] x = m.Sample(50, seed: 5);
        double[] weights = Enumerable.Range(0, 50).Select(i => (double)(i % 3)).ToArray();
        var repeated = new List<double>();
        for (int i = 0; i < 50; i++)
        {
            for (int r = 0; r < (int)weights[i]; r++)
            {
                repeated.AddRange(x.AsSpan(i * 3, 3).ToArray());
            }
        }
        var weighted = EmStatistics.Compute(m, x, weights);
        var copies = EmStatistics.Compute(m, repeated.ToArray());
        Assert.Equal(copies.TotalWeight, weighted.TotalWeight, 1e-12);
        Assert.Equal(copies.LogLikelihood, weighted.LogLikelihood, 1e-9);
        for (int i = 0; i < copies.SecondMoments.Length; i++)
        {
            Assert.Equal(copies.SecondMoments[i], weighted.SecondMoments[i], 1e-9);
        }
    }

    [Fact]
    public void BadInputs_AreRefusedWithTheirName()
    {
        GaussianMixture m = Truth(CovarianceType.Full);
        Assert.Contains("multiple", Assert.Throws<ArgumentException>(() => EmStatistics.Compute(m, new double[4])).Message);
        Assert.Throws<NonFiniteValueException>(() => EmStatistics.Compute(m, [0, double.NaN, 0]));
        Assert.Contains("weight of point 0", Assert.Throws<ArgumentException>(() => EmStatistics.Compute(m, [0, 0, 0], [-1.0])).Message);
        var empty = new EmStatistics(3, 3, CovarianceType.Full);
        Assert.Contains("no weight", Assert.Throws<ArgumentException>(() => empty.Maximize(m)).Message);
        var lonely = EmStatistics.Compute(m, [40, 40, 40]);
        Assert.Contains("Component", Assert.Throws<ArgumentException>(() => lonely.Maximize(m)).Message);
        Assert.Throws<ArgumentException>(() => empty.Add(new EmStatistics(2, 3, CovarianceType.Full)));
        Assert.Throws<ArgumentException>(() => EmStatistics.Compute(m, new double[9]).Maximize(Truth(CovarianceType.Diagonal)));
    }
}

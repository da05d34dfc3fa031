namespace GmmFlow.Tests.Mixtures;

public class SamplingTests
{
    [Fact]
    public void Parallel_draw_equals_a_serial_draw_one_sample_at_a_time()
    {
        var rng = new Random(11);
        var p = NaiveMixture.RandomParameters(rng, 5, 7, CovarianceType.Full);
        var mixture = new GaussianMixture(p.W, p.M, p.C);
        const int n = 20_000;
        // All cores: the draw is far larger than one work item.
        var parallel = mixture.Sample(n, 1234);
        var labels = new int[n];
        var parallelWithLabels = new double[n * 7];
        mixture.Sample(1234, parallelWithLabels, labels);
        Assert.Equal(parallel, parallelWithLabels);
        // One thread: each call draws a single sample (below the parallel grain), addressed by its index.
        var one = new double[7];
        var label = new int[1];
        for (int i = 0; i < n; i += 97)
        {
            mixture.Sample(1234, one, label, firstIndex: i);
            Assert.Equal(parallel.AsSpan(i * 7, 7).ToArray(), one);
            Assert.Equal(labels[i], label[0]);
        }
        Assert.Equal(parallel, mixture.Sample(n, 1234));
        Assert.NotEqual(parallel, mixture.Sample(n, 1235));
    }

    [Theory]
    [InlineData(CovarianceType.Full)]
    [InlineData(CovarianceType.Diagonal)]
    [InlineData(CovarianceType.Spherical)]
    public void Sample_moments_match_the_mixture(CovarianceType type)
    {
        var rng = new Random(2);
        int k = 3, d = 3;
        var p = NaiveMixture.RandomParameters(rng, k, d, type);
        var mixture = new GaussianMixture(p.W, p.M, p.C, type);
        const int n = 400_000;
        var labels = new int[n];
        var x = new double[n * d];
        mixture.Sample(99, x, labels);

        // Component frequencies: binomial standard error sqrt(a(1−a)/n) ≤ 8e-4; allow 5 of them.
        var counts = new int[k];
        foreach (int l in labels)
        {
            counts[l]++;
        }
        for (int c = 0; c < k; c++)
        {
            Assert.Equal(p.W[c], counts[c] / (double)n, 4e-3);
        }
        // Per component: sample mean and covariance vs the parameters (standard errors ~ sqrt(σ²/n_k)).
        for (int c = 0; c < k; c++)
        {
            var cov = NaiveMixture.FullCovariance(p.C, type, c, d);
            var mean = new double[d];
            var second = new double[d * d];
            int nk = 0;
            for (int i = 0; i < n; i++)
            {
                if (labels[i] != c)
                {
                    continue;
                }
                nk++;
                for (int a = 0; a < d; a++)
                {
                    mean[a] += x[i * d + a];
                }
            }
            for (int a = 0; a < d; a++)
            {
                mean[a] /= nk;
            }
            for (int i = 0; i < n; i++)
            {
                if (labels[i] != c)
                {
                    continue;
                }
                for (int a = 0; a < d; a++)
                {
                    for (int b = 0; b < d; b++)
                    {
                        second[a * d + b] += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]) / nk;
                    }
                }
            }
            for (int a = 0; a < d; a++)
            {
                double se = Math.Sqrt(cov[a * d + a] / nk);
                Assert.Equal(p.M[c * d + a], mean[a], 6 * se);
                for (int b = 0; b < d; b++)
                {
                    double seCov = Math.Sqrt((cov[a * d + a] * cov[b * d + b] + cov[a * d + b] * cov[a * d + b]) / nk);
                    Assert.Equal(cov[a * d + b], second[a * d + b], 6 * seCov);
                }
            }
        }
    }

    [Fact]
    public void Sample_rejects_bad_arguments()
    {
        var mixture = new GaussianMixture([1.0], [0, 0], [1, 0, 0, 1]);
        Assert.Throws<ArgumentException>(() => mixture.Sample(1, new double[3]));
        Assert.Throws<ArgumentException>(() => mixture.Sample(1, new double[4], new int[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => mixture.Sample(-1, 0UL));
        Assert.Empty(mixture.Sample(0, 0UL));
    }
}

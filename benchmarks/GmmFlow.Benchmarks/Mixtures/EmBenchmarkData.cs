namespace GmmFlow.Benchmarks.Mixtures;

/// <summary>
/// The benchmark data: N points from a random K-component mixture with overlapping full-covariance components
/// (means ~ N(0, 4I), covariances AAᵀ/d + 0.2I): overlapping enough that no responsibility underflows to 0,
/// so no implementation gets to skip work on this data.
/// </summary>
internal static class EmBenchmarkData
{
    public static GaussianMixture Truth(int k, int d, int seed)
    {
        var rng = new Random(seed);
        var weights = new double[k];
        double sum = 0;
        for (int c = 0; c < k; c++)
        {
            weights[c] = 0.5 + rng.NextDouble();
            sum += weights[c];
        }
        for (int c = 0; c < k; c++)
        {
            weights[c] /= sum;
        }
        var means = new double[k * d];
        for (int i = 0; i < means.Length; i++)
        {
            means[i] = 2 * Normal(rng);
        }
        var covariances = new double[k * d * d];
        var a = new double[d * d];
        for (int c = 0; c < k; c++)
        {
            for (int i = 0; i < a.Length; i++)
            {
                a[i] = Normal(rng);
            }
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    double s = 0;
                    for (int l = 0; l < d; l++)
                    {
                        s += a[i * d + l] * a[j * d + l];
                    }
                    covariances[(c * d + i) * d + j] = s / d + (i == j ? 0.2 : 0);
                }
            }
        }
        return new GaussianMixture(weights, means, covariances);
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

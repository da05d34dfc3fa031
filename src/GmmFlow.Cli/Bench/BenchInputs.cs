namespace GmmFlow.Cli.Bench;

/// <summary>
/// Seeded inputs of the standard benchmark cases. Everything a case times is generated here from a fixed seed, so
/// a rerun (or the Python side, which reads the exported copies) sees exactly the same numbers.
/// </summary>
internal static class BenchInputs
{
    /// <summary>
    /// K Gaussians in dimension d: means 2·N(0, I), covariances B Bᵀ/d + 0.1 I with B standard normal (Wishart-like,
    /// well conditioned, no two alike).
    /// </summary>
    public static (double[] Means, double[] Covariances) Components(int k, int d, int seed)
    {
        var rng = new Random(seed);
        var means = new double[k * d];
        for (int i = 0; i < means.Length; i++)
        {
            means[i] = 2 * Normal(rng);
        }
        var covariances = new double[k * d * d];
        var b = new double[d * d];
        for (int c = 0; c < k; c++)
        {
            for (int i = 0; i < b.Length; i++)
            {
                b[i] = Normal(rng);
            }
            Span<double> s = covariances.AsSpan(c * d * d, d * d);
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double sum = 0;
                    for (int p = 0; p < d; p++)
                    {
                        sum += b[i * d + p] * b[j * d + p];
                    }
                    s[i * d + j] = s[j * d + i] = sum / d + (i == j ? 0.1 : 0);
                }
            }
        }
        return (means, covariances);
    }

    /// <summary>A K-component full-covariance mixture with weights 0.5 + U(0, 1), normalised, and <see cref="Components"/>.</summary>
    public static GaussianMixture Mixture(int k, int d, int seed)
    {
        var (means, covariances) = Components(k, d, seed);
        var rng = new Random(seed ^ 0x5bd1e995);
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
        return new GaussianMixture(weights, means, covariances);
    }

    /// <summary>Positive weights summing to 1: a Dirichlet(1, …, 1) draw (normalised exponentials).</summary>
    public static double[] Dirichlet(Random rng, int k)
    {
        var w = new double[k];
        double s = 0;
        for (int i = 0; i < k; i++)
        {
            w[i] = -Math.Log(1 - rng.NextDouble());
            s += w[i];
        }
        for (int i = 0; i < k; i++)
        {
            w[i] /= s;
        }
        return w;
    }

    /// <summary>The transport LP of size K×K: Dirichlet marginals and costs uniform in [0, 1).</summary>
    public static (double[] A, double[] B, double[] Cost) TransportLp(int k, int seed)
    {
        var rng = new Random(seed);
        double[] a = Dirichlet(rng, k), b = Dirichlet(rng, k);
        var cost = new double[k * k];
        for (int i = 0; i < cost.Length; i++)
        {
            cost[i] = rng.NextDouble();
        }
        return (a, b, cost);
    }

    /// <summary>
    /// A transport plan between two random K-component mixtures whose exact LP has the full K0 + K1 − 1 = 2K − 1
    /// active pairs (a non-degenerate vertex; the first seed from <paramref name="seed"/> on that gives one).
    /// </summary>
    public static TransportPlan PlanWithFullSupport(int k, int d, int seed, TransportOptions? options = null)
    {
        for (int s = seed; s < seed + 200; s += 2)
        {
            var plan = TransportPlan.Create(Mixture(k, d, s), Mixture(k, d, s + 1), options);
            if (plan.Pairs.Count == 2 * k - 1)
            {
                return plan;
            }
        }
        throw new InvalidOperationException($"No seed in [{seed}, {seed + 200}) gave a non-degenerate {k}×{k} plan.");
    }

    /// <summary>The 8 equal-weight components N(10 (cos θ_k, sin θ_k), 0.2 I₂), θ_k = 2πk/8, of GMMflow's 2-D toy (docs/theory.md#reference-values).</summary>
    public static GaussianMixture Ring()
    {
        const int k = 8;
        var weights = new double[k];
        var means = new double[2 * k];
        var covariances = new double[4 * k];
        for (int c = 0; c < k; c++)
        {
            weights[c] = 1.0 / k;
            double theta = 2 * Math.PI * c / k;
            means[2 * c] = 10 * Math.Cos(theta);
            means[2 * c + 1] = 10 * Math.Sin(theta);
            covariances[4 * c] = covariances[4 * c + 3] = 0.2;
        }
        return new GaussianMixture(weights, means, covariances);
    }

    public static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

namespace GmmFlow.Cli.Demo;

/// <summary>A 2-D source/target pair of sample sets for the demo (row-major N×2).</summary>
internal sealed record DemoCase(string Name, string Title, double[] Source, double[] Target, int SourceComponents, int TargetComponents);

/// <summary>Seeded 2-D sample generators for `gmmflow demo` (CounterRng: identical on every machine and thread count).</summary>
internal static class DemoDatasets
{
    /// <summary>Name of the <see cref="GaussianToEight"/> case (the one with published numbers).</summary>
    public const string ToyName = "toy8";

    /// <summary>
    /// The GMMflow paper's 2-D toy (docs/theory.md#reference-values): source N(0, 0.4 I); target 8 equal components
    /// N(10 (cos θ_k, sin θ_k), 0.2 I), θ_k = 2πk/8.
    /// </summary>
    public static DemoCase GaussianToEight(int n, ulong seed)
    {
        var rng = new CounterRng(seed);
        var source = new double[2 * n];
        var target = new double[2 * n];
        double s0 = Math.Sqrt(0.4), s1 = Math.Sqrt(0.2);
        for (int i = 0; i < n; i++)
        {
            (double a, double b) = rng.NormalPair((ulong)i, 0);
            source[2 * i] = s0 * a;
            source[2 * i + 1] = s0 * b;
            int k = (int)(rng.NextBits((ulong)i, 1) % 8);
            (double c, double d) = rng.NormalPair((ulong)i, 2);
            (double sin, double cos) = Math.SinCos(2 * Math.PI * k / 8);
            target[2 * i] = 10 * cos + s1 * c;
            target[2 * i + 1] = 10 * sin + s1 * d;
        }
        return new DemoCase(ToyName, "N(0, 0.4 I) → 8 Gaussians (GMMflow toy)", source, target, 1, 8);
    }

    /// <summary>
    /// The exact mixtures behind <see cref="GaussianToEight"/> and the LP objectives the GMMflow notebook publishes for
    /// them (docs/theory.md#reference-values): W2² 100.07, and with the reference code's SB cost variant 100.74 / 103.48 / 125.56 for noise
    /// variance ε = 0.1 / 1 / 10 (σ = √ε).
    /// </summary>
    public static (GaussianMixture Source, GaussianMixture Target, IReadOnlyList<(double Epsilon, double Objective)> Published) ExactToy()
    {
        var source = new GaussianMixture([1.0], [0.0, 0.0], [0.4, 0.0, 0.0, 0.4]);
        var weights = new double[8];
        var means = new double[16];
        var covariances = new double[32];
        for (int k = 0; k < 8; k++)
        {
            (double sin, double cos) = Math.SinCos(2 * Math.PI * k / 8);
            weights[k] = 1.0 / 8;
            means[2 * k] = 10 * cos;
            means[2 * k + 1] = 10 * sin;
            covariances[4 * k] = covariances[4 * k + 3] = 0.2;
        }
        // ε = 0 stands for the W2² row.
        return (source, new GaussianMixture(weights, means, covariances), [(0, 100.07), (0.1, 100.74), (1, 103.48), (10, 125.56)]);
    }

    /// <summary>Two interleaved moons (noise 0.08, scaled ×3) → 8 Gaussians on a circle of radius 6 (σ = 0.35).</summary>
    public static DemoCase MoonsToEight(int n, ulong seed)
    {
        var rng = new CounterRng(seed);
        var source = new double[2 * n];
        var target = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.Uniform((ulong)i, 0) * Math.PI;
            bool upper = (rng.NextBits((ulong)i, 1) & 1) == 0;
            (double e1, double e2) = rng.NormalPair((ulong)i, 2);
            // sklearn's make_moons shape, centred: upper (cos u, sin u), lower (1 − cos u, 0.5 − sin u).
            double x = upper ? Math.Cos(u) : 1 - Math.Cos(u);
            double y = upper ? Math.Sin(u) : 0.5 - Math.Sin(u);
            source[2 * i] = 3 * (x - 0.5 + 0.08 * e1);
            source[2 * i + 1] = 3 * (y - 0.25 + 0.08 * e2);
            int k = (int)(rng.NextBits((ulong)i, 3) % 8);
            (double c, double d) = rng.NormalPair((ulong)i, 4);
            (double sin, double cos) = Math.SinCos(2 * Math.PI * k / 8 + Math.PI / 8);
            target[2 * i] = 6 * cos + 0.35 * c;
            target[2 * i + 1] = 6 * sin + 0.35 * d;
        }
        return new DemoCase("moons8", "two moons → 8 Gaussians", source, target, 10, 8);
    }

    /// <summary>A noisy ring of radius 4 → a 3×3 grid of Gaussians (spacing 3, σ = 0.3).</summary>
    public static DemoCase RingToGrid(int n, ulong seed)
    {
        var rng = new CounterRng(seed);
        var source = new double[2 * n];
        var target = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.Uniform((ulong)i, 0) * 2 * Math.PI;
            (double e1, double e2) = rng.NormalPair((ulong)i, 1);
            (double sin, double cos) = Math.SinCos(u);
            source[2 * i] = (4 + 0.25 * e1) * cos;
            source[2 * i + 1] = (4 + 0.25 * e1) * sin + 0.05 * e2;
            int k = (int)(rng.NextBits((ulong)i, 2) % 9);
            (double c, double d) = rng.NormalPair((ulong)i, 3);
            target[2 * i] = 3 * (k % 3 - 1) + 0.3 * c;
            target[2 * i + 1] = 3 * (k / 3 - 1) + 0.3 * d;
        }
        return new DemoCase("ring-grid", "ring → 3×3 grid", source, target, 12, 9);
    }
}

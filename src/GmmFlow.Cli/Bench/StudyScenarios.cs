using GmmFlow.Native;

namespace GmmFlow.Cli.Bench;

/// <summary>One Gaussian pair of the accuracy table, with the values Table II of arXiv 2603.28992 reports for its row.</summary>
internal sealed record AccuracyScenario(string Name, int Dimension, double[] Mean0, double[] Covariance0, double[] Mean1, double[] Covariance1,
    double PaperDelta, double PaperCondition, double PaperWasserstein, double PaperSurrogate, string Construction);

/// <summary>
/// The Gaussian pairs and mixtures of the surrogate-vs-exact study (arXiv 2603.28992 §VII; docs/theory.md#regime-map). The paper does not print its
/// matrices; rows 1–6 below are reconstructions that reproduce its printed δ, κ, W2², C_sur and gap (row 6 was fitted
/// to them), rows 7–10 follow the named structure (κ = 10⁶, AR(1) Toeplitz, factor model, Wishart) with our own
/// parameters, so their numbers are comparable in kind, not digit for digit.
/// </summary>
internal static class StudyScenarios
{
    public static IReadOnlyList<AccuracyScenario> AccuracyRows()
    {
        var rows = new List<AccuracyScenario>
        {
            new("1-D (always commuting)", 1, [0.0], [1.0], [2.0], [4.0], 3.00, 1.00, 5.00, 5.04,
                "N(0, 1) → N(2, 4)"),
            new("2-D isotropic", 2, [0, 0], Diagonal(0.19, 0.19), [1.172, 1.172], Diagonal(0.38, 0.38), 1.00, 1.00, 2.81, 2.81,
                "Σ0 = 0.19 I, Σ1 = 0.38 I, Δm = (1.172, 1.172)"),
            new("2-D commuting (diagonal)", 2, [0, 0], Diagonal(1, 9), [1, 1], Diagonal(2, 4), 1.00, 9.00, 3.17, 3.19,
                "Σ0 = diag(1, 9), Σ1 = diag(2, 4), Δm = (1, 1)"),
            new("2-D non-commuting", 2, [0, 0], Diagonal(1, 9), [1, 1], Rotated(0.6, 2, 4), 1.68, 9.00, 3.88, 4.11,
                "Σ0 = diag(1, 9), Σ1 = R(0.6) diag(2, 4) R(0.6)ᵀ, Δm = (1, 1)"),
            new("non-commuting + mean shift", 2, [0, 0], Diagonal(1, 9), [15, 12], Rotated(0.6, 2, 4), 1.68, 9.00, 370.88, 371.11,
                "as above with Δm = (15, 12)"),
            new("near-SPD boundary", 2, [0, 0], Diagonal(1000, 1), [0, 0], Rotated(1.2521282, 0.49764456, 944.94432), 93.05, 1000.00, 98.52, 2363.09,
                "Σ0 = diag(1000, 1), Σ1 = R(1.2521) diag(0.4976, 944.94) R(1.2521)ᵀ (fitted to the paper's δ, W2², C_sur)"),
        };

        // κ = 10⁶ stress test, d = 5: Σ1 = Σ0^½ (I + M) Σ0^½ with ‖M‖₂ = 0.98 exactly (M = H diag(μ) H, H a Householder
        // reflection), so δ = 0.98 while Σ0's spectrum spans six decades.
        {
            const int d = 5;
            double[] spectrum = [1, Math.Pow(10, -1.5), 1e-3, Math.Pow(10, -4.5), 1e-6];
            double[] mu = [0.98, -0.5, 0.25, -0.75, 0.6];
            double[] h = Householder([1, 2, -1, 1, -2]);
            var m = Product(Product(h, Diagonal(mu), d), h, d);
            var root = Diagonal(spectrum.Select(Math.Sqrt).ToArray());
            for (int i = 0; i < d; i++)
            {
                m[i * d + i] += 1;
            }
            var s1 = Product(Product(root, m, d), root, d);
            Symmetrize(s1, d);
            rows.Add(new("κ = 10⁶ stress test", d, new double[d], Diagonal(spectrum), new double[d], s1, 0.98, 1e6, 0.99, 1.79,
                "Σ0 = diag(1, 10^-1.5, …, 10^-6), Σ1 = Σ0^½ (I + M) Σ0^½, ‖M‖₂ = 0.98, Δm = 0"));
        }
        {
            const int d = 10;
            rows.Add(new("10-D Toeplitz (AR(1))", d, new double[d], Toeplitz(0.85, d), new double[d], Toeplitz(-0.5, d), 24.57, 75.17, 7.06, 9.23,
                "Σ0 = (0.85^|i−j|), Σ1 = ((−0.5)^|i−j|), Δm = 0"));
        }
        {
            const int d = 20;
            var rng = new Random(20);
            rows.Add(new("20-D factor model", d, new double[d], Factor(rng, d, 2, 0.5), new double[d], Factor(rng, d, 2, 2.2), 100.38, 101.38, 41.11, 60.10,
                "Σ = I + F Fᵀ with 2 factors, F0 ~ 0.5 N(0, 1), F1 ~ 2.2 N(0, 1) (seed 20), Δm = 0"));
        }
        {
            const int d = 30, n = 95;
            var rng = new Random(30);
            rows.Add(new("30-D Wishart", d, new double[d], Wishart(rng, d, n), new double[d], Wishart(rng, d, n), 6.10, 12.49, 6.71, 7.91,
                "Σ = W Wᵀ / 95, W 30×95 standard normal (seed 30), Δm = 0"));
        }
        return rows;
    }

    /// <summary>The three mixture regimes of the timing study (Table III's names in arXiv 2603.28992; our recipes).</summary>
    public static readonly string[] TimingScenarios = ["commuting-mild", "non-commuting-balanced", "anisotropic-stretched"];

    /// <summary>
    /// K components in dimension d for a timing scenario: means N(0, I); covariances
    /// commuting-mild: diag(λ_i (1 + 0.5 u)), λ evenly spaced in [1, 4], u ~ U(−1, 1) (all commute);
    /// non-commuting-balanced: G Gᵀ/(2d) + 0.3 I with G d×2d standard normal (κ ≈ 8);
    /// anisotropic-stretched: Q diag(λ) Qᵀ with λ log-spaced in [1, 44] and Q a Haar-random rotation per component.
    /// </summary>
    public static GaussianMixture TimingMixture(string scenario, int k, int d, int seed)
    {
        var rng = new Random(seed);
        var weights = Enumerable.Repeat(1.0 / k, k).ToArray();
        var means = new double[k * d];
        for (int i = 0; i < means.Length; i++)
        {
            means[i] = BenchInputs.Normal(rng);
        }
        var covariances = new double[k * d * d];
        for (int c = 0; c < k; c++)
        {
            double[] sigma = scenario switch
            {
                "commuting-mild" => Diagonal(Enumerable.Range(0, d).Select(i => (1 + 3.0 * i / Math.Max(1, d - 1)) * (1 + 0.5 * (2 * rng.NextDouble() - 1))).ToArray()),
                "non-commuting-balanced" => Gram(rng, d, 2 * d, 0.3),
                _ => RotatedSpectrum(rng, Enumerable.Range(0, d).Select(i => Math.Pow(44, (double)i / Math.Max(1, d - 1))).ToArray()),
            };
            sigma.CopyTo(covariances, c * d * d);
        }
        return new GaussianMixture(weights, means, covariances);
    }

    private static double[] Diagonal(params double[] values)
    {
        int d = values.Length;
        var m = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            m[i * d + i] = values[i];
        }
        return m;
    }

    /// <summary>R(θ) diag(a, b) R(θ)ᵀ.</summary>
    private static double[] Rotated(double theta, double a, double b)
    {
        double c = Math.Cos(theta), s = Math.Sin(theta);
        return [a * c * c + b * s * s, (a - b) * c * s, (a - b) * c * s, a * s * s + b * c * c];
    }

    private static double[] Householder(double[] u)
    {
        int d = u.Length;
        double norm2 = u.Sum(x => x * x);
        var h = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                h[i * d + j] = (i == j ? 1 : 0) - 2 * u[i] * u[j] / norm2;
            }
        }
        return h;
    }

    private static double[] Toeplitz(double rho, int d)
    {
        var m = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                m[i * d + j] = Math.Pow(rho, Math.Abs(i - j));
            }
        }
        return m;
    }

    /// <summary>I + F Fᵀ, F d×factors with entries scale·N(0, 1).</summary>
    private static double[] Factor(Random rng, int d, int factors, double scale)
    {
        var f = new double[d * factors];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = scale * BenchInputs.Normal(rng);
        }
        var m = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double s = i == j ? 1 : 0;
                for (int p = 0; p < factors; p++)
                {
                    s += f[i * factors + p] * f[j * factors + p];
                }
                m[i * d + j] = s;
            }
        }
        return m;
    }

    /// <summary>W Wᵀ / n, W d×n standard normal.</summary>
    private static double[] Wishart(Random rng, int d, int n) => Gram(rng, d, n, 0);

    /// <summary>G Gᵀ / n + ridge·I with G d×n standard normal (one dgemm).</summary>
    private static double[] Gram(Random rng, int d, int n, double ridge)
    {
        var g = new double[d * n];
        for (int i = 0; i < g.Length; i++)
        {
            g[i] = BenchInputs.Normal(rng);
        }
        var m = new double[d * d];
        Lapack.Default.Gemm(false, true, d, d, n, 1.0 / n, g, g, 0, m);
        Symmetrize(m, d);
        for (int i = 0; i < d; i++)
        {
            m[i * d + i] += ridge;
        }
        return m;
    }

    /// <summary>Q diag(λ) Qᵀ with Q the eigenvectors of a random symmetric Gaussian matrix (Haar-distributed).</summary>
    private static double[] RotatedSpectrum(Random rng, double[] spectrum)
    {
        int d = spectrum.Length;
        var q = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                q[i * d + j] = q[j * d + i] = BenchInputs.Normal(rng);
            }
        }
        var values = new double[d];
        Lapack.Default.SymmetricEigen(q, d, values, vectors: true);
        // Rows of q are the eigenvectors: Σ = Σ_k λ_k q_k q_kᵀ = Qᵀ diag(λ) Q with Q = q.
        var scaled = new double[d * d];
        for (int k = 0; k < d; k++)
        {
            for (int j = 0; j < d; j++)
            {
                scaled[k * d + j] = spectrum[k] * q[k * d + j];
            }
        }
        var m = new double[d * d];
        Lapack.Default.Gemm(true, false, d, d, d, 1.0, q, scaled, 0, m);
        Symmetrize(m, d);
        return m;
    }

    private static double[] Product(double[] a, double[] b, int d)
    {
        var c = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int k = 0; k < d; k++)
            {
                double aik = a[i * d + k];
                for (int j = 0; j < d; j++)
                {
                    c[i * d + j] += aik * b[k * d + j];
                }
            }
        }
        return c;
    }

    private static void Symmetrize(double[] m, int d)
    {
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
            }
        }
    }
}

using GmmFlow.Sampling;

namespace GmmFlow.Tests.Sampling;

/// <summary>
/// ELBO and log-weights against closed forms and quadrature on Gaussian targets with known Z; AIS/SMC log Ẑ unbiased
/// within its standard error on a Gaussian and a Gaussian-mixture target; the variational fit recovers a Gaussian.
/// </summary>
public class EstimatorTests
{
    private const double LogZ = 2.0;
    private static readonly double[] s_mean = [1, -1, 0.5];
    private static readonly double[] s_var = [0.5, 2, 1];

    private static GaussianMixtureTarget Gaussian3() => new("gauss", [1.0], s_mean, s_var, LogZ);

    private static MixturePrior Prior(int d, double[] mean, double scale)
    {
        var p = new MixturePrior(d, 1, CovarianceType.Diagonal);
        p.AddComponent(mean, scale);
        return p;
    }

    [Fact]
    public void Importance_sampling_elbo_and_log_z_match_the_closed_form_and_quadrature()
    {
        // 2-D: target Z·N(m, diag v), proposal N(μ, s²I). ELBO = log Z − KL(q ‖ π) in closed form.
        double[] m = [0.5, -0.3], v = [0.8, 1.5], mu = [0, 0];
        double s = 1.1, logZ = -0.7;
        var target = new GaussianMixtureTarget("g2", [1.0], m, v, logZ);
        double kl = 0;
        for (int j = 0; j < 2; j++)
        {
            kl += 0.5 * ((s * s / v[j]) + ((mu[j] - m[j]) * (mu[j] - m[j]) / v[j]) - 1 - Math.Log(s * s / v[j]));
        }
        double exact = logZ - kl;

        // Brute force: ∫ q (log ρ − log q) on a grid (midpoint rule over ±9 s).
        var prior = Prior(2, mu, s);
        var scratch = new double[prior.ScratchLength];
        var lr = new double[1];
        double quadrature = 0;
        const int G = 400;
        double h = 18 * s / G;
        for (int a = 0; a < G; a++)
        {
            for (int b = 0; b < G; b++)
            {
                double[] x = [-9 * s + ((a + 0.5) * h), -9 * s + ((b + 0.5) * h)];
                double lq = prior.LogDensity(x, Span<double>.Empty, scratch);
                target.Evaluate(x, lr, Span<double>.Empty);
                quadrature += Math.Exp(lq) * (lr[0] - lq) * h * h;
            }
        }
        Assert.Equal(exact, quadrature, 1e-6);

        SamplerResult r = AnnealedSampler.Run(target, prior, new AnnealingOptions { Particles = 20_000, Steps = 0, Seed = 3 }, cancellationToken: TestContext.Current.CancellationToken);
        double sd = StandardDeviation(r.LogWeights);
        Assert.True(Math.Abs(r.Elbo - exact) < 4 * sd / Math.Sqrt(r.LogWeights.Length), $"ELBO {r.Elbo} vs exact {exact} (sd {sd})");
        // Each log-weight is log ρ(x) − log q(x) at its sample: recompute one by the closed forms.
        double[] x0 = r.Samples[..2];
        double lq0 = prior.LogDensity(x0, Span<double>.Empty, scratch);
        target.Evaluate(x0, lr, Span<double>.Empty);
        Assert.Equal(lr[0] - lq0, r.LogWeights[0], 1e-12);
        // Ẑ is unbiased with relative variance ≈ 1/(M·ESS).
        Assert.True(Math.Abs(r.LogNormalizer - logZ) < 4 / Math.Sqrt(r.LogWeights.Length * r.EffectiveSampleSize), $"log Ẑ {r.LogNormalizer}");
    }

    [Fact]
    public void Variational_fit_recovers_a_gaussian_target_diagonal_and_full()
    {
        var target = Gaussian3();
        VariationalFit fit = VariationalFitter.Fit(target, new VariationalOptions { Components = 1, Iterations = 1500, LearningRate = 0.03, Seed = 1 }, cancellationToken: TestContext.Current.CancellationToken);
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(s_mean[j], fit.Prior.Mean(0)[j], 0.1);
            Assert.Equal(Math.Sqrt(s_var[j]), fit.Prior.Factor(0)[j], 0.1);
        }
        Assert.Equal(LogZ, SamplerMetrics.Mean(fit.ElboTrace.AsSpan(1400)), 0.02);

        // Correlated 2-D Gaussian (a user function target): the full-covariance prior must learn the correlation.
        double[,] cov = { { 1, 0.8 }, { 0.8, 1.5 } };
        double det = (cov[0, 0] * cov[1, 1]) - (cov[0, 1] * cov[0, 1]);
        double[,] prec = { { cov[1, 1] / det, -cov[0, 1] / det }, { -cov[0, 1] / det, cov[0, 0] / det } };
        double logNorm = 0.3 - Math.Log(2 * Math.PI) - (0.5 * Math.Log(det));
        var correlated = new FunctionTarget("corr", 2,
            x => logNorm - (0.5 * ((prec[0, 0] * x[0] * x[0]) + (2 * prec[0, 1] * x[0] * x[1]) + (prec[1, 1] * x[1] * x[1]))),
            x => [-((prec[0, 0] * x[0]) + (prec[0, 1] * x[1])), -((prec[0, 1] * x[0]) + (prec[1, 1] * x[1]))]);
        VariationalFit full = VariationalFitter.Fit(correlated, new VariationalOptions { Components = 1, Iterations = 1500, LearningRate = 0.03, CovarianceType = CovarianceType.Full, Seed = 2 }, cancellationToken: TestContext.Current.CancellationToken);
        ReadOnlySpan<double> c = full.Prior.ToMixture().Covariance(0);
        Assert.Equal(1, c[0], 0.12);
        Assert.Equal(0.8, c[1], 0.12);
        Assert.Equal(1.5, c[3], 0.15);
        Assert.Equal(0.3, SamplerMetrics.Mean(full.ElboTrace.AsSpan(1400)), 0.02);
    }

    public static TheoryData<KernelKind, double> Kernels => new()
    {
        { KernelKind.Mala, 0 }, { KernelKind.Hmc, 0 }, { KernelKind.Ula, 0 }, { KernelKind.Mala, 0.5 },
    };

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Annealed_log_z_is_unbiased_on_a_gaussian(KernelKind kernel, double resample)
    {
        var prior = Prior(3, [0, 0, 0], 1.5);
        CheckUnbiased(Gaussian3(), prior, LogZ, kernel, resample, steps: 16);
    }

    [Theory]
    [InlineData(KernelKind.Mala, 0)]
    [InlineData(KernelKind.Mala, 0.5)]
    [InlineData(KernelKind.Hmc, 0.5)]
    public void Annealed_log_z_is_unbiased_on_a_gaussian_mixture(KernelKind kernel, double resample)
    {
        var target = new GaussianMixtureTarget("gm2", [0.3, 0.7], [-2, 0, 2, 0], [0.36, 0.36, 0.36, 0.36], logNormalizer: -1);
        var prior = Prior(2, [0, 0], 2.5);
        CheckUnbiased(target, prior, -1, kernel, resample, steps: 32);
    }

    private static void CheckUnbiased(ITarget target, MixturePrior prior, double logZ, KernelKind kernel, double resample, int steps)
    {
        const int R = 12; // ULA weights vary more (its corrections carry the discretisation error): more particles
        var ratios = new double[R];
        var logs = new double[R];
        for (int r = 0; r < R; r++)
        {
            SamplerResult res = AnnealedSampler.Run(target, prior, new AnnealingOptions
            {
                Particles = kernel == KernelKind.Ula ? 1500 : 300, Steps = steps, Kernel = kernel, ResampleThreshold = resample, Seed = (ulong)(100 + r),
            }, cancellationToken: TestContext.Current.CancellationToken);
            logs[r] = res.LogNormalizer;
            ratios[r] = Math.Exp(res.LogNormalizer - logZ);
        }
        double mean = SamplerMetrics.Mean(ratios);
        double se = StandardDeviation(ratios) / Math.Sqrt(R);
        Assert.True(se < 0.05, $"{kernel}: Ẑ/Z standard error {se} too large for a meaningful test");
        Assert.True(Math.Abs(mean - 1) <= (3 * se) + 1e-3, $"{kernel} (resample {resample}): mean Ẑ/Z = {mean} ± {se}; log Ẑ = {string.Join(", ", logs)}");
        double logMean = SamplerMetrics.Mean(logs);
        double logSe = StandardDeviation(logs) / Math.Sqrt(R);
        Assert.True(Math.Abs(logMean - logZ) <= (3 * logSe) + 5e-3, $"{kernel}: mean log Ẑ {logMean} ± {logSe} vs {logZ}");
    }

    [Fact]
    public void Same_seed_gives_identical_runs()
    {
        var prior = Prior(3, [0, 0, 0], 1.5);
        var options = new AnnealingOptions { Particles = 200, Steps = 8, Kernel = KernelKind.Hmc, ResampleThreshold = 0.5, Seed = 7 };
        SamplerResult a = AnnealedSampler.Run(Gaussian3(), prior, options, cancellationToken: TestContext.Current.CancellationToken);
        SamplerResult b = AnnealedSampler.Run(Gaussian3(), prior, options, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(a.Samples, b.Samples);
        Assert.Equal(a.LogNormalizer, b.LogNormalizer);
    }

    internal static double StandardDeviation(ReadOnlySpan<double> v)
    {
        double m = SamplerMetrics.Mean(v);
        double s = 0;
        foreach (double x in v)
        {
            s += (x - m) * (x - m);
        }
        return Math.Sqrt(s / (v.Length - 1));
    }
}

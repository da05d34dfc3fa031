using GmmFlow.Native;
using GmmFlow.Simd;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Mixtures;

public class EmFitterTests
{
    public static TheoryData<LapackProviderKind, CovarianceType> ProvidersAndTypes()
    {
        var data = new TheoryData<LapackProviderKind, CovarianceType>();
        foreach (var lapack in Lapack.Available())
        {
            foreach (var type in (CovarianceType[])[CovarianceType.Full, CovarianceType.Diagonal, CovarianceType.Spherical])
            {
                data.Add(lapack.Kind, type);
            }
        }
        return data;
    }

    /// <summary>Three clusters far apart in 2-D with distinct shapes and weights 0.5 / 0.3 / 0.2.</summary>
    internal static GaussianMixture Separated() => new(
        [0.5, 0.3, 0.2],
        [-10, 0, 10, 0, 0, 12],
        [1, 0.3, 0.3, 0.5, 2, -0.5, -0.5, 1, 0.6, 0, 0, 0.6]);

    [Theory]
    [MemberData(nameof(ProvidersAndTypes))]
    public void Log_likelihood_never_decreases_across_iterations(LapackProviderKind kind, CovarianceType type)
    {
        var rng = new Random(8);
        // Overlapping clusters so EM needs many iterations (the monotone property is exercised, not just converged).
        var p = NaiveMixture.RandomParameters(rng, 4, 5, CovarianceType.Full, spread: 1.2);
        var x = new GaussianMixture(p.W, p.M, p.C).Sample(4000, 5);
        var options = new GaussianMixtureFitOptions { CovarianceType = type, Tolerance = 0, MaxIterations = 80, Lapack = Providers.Get(kind) };
        var fit = Fits.Fit(x, 5, 4, options);
        Assert.DoesNotContain(fit.Warnings, w => w.Contains("re-seeded"));
        var h = fit.LogLikelihoodHistory;
        Assert.Equal(80, h.Count);
        Assert.True(h[^1] - h[0] > 1e-3, "EM made no progress, the test would prove nothing");
        for (int i = 1; i < h.Count; i++)
        {
            // Round-off allowance only: EM with reg_covar = 1e-6 is monotone up to O(reg²).
            Assert.True(h[i] >= h[i - 1] - 1e-12 * Math.Abs(h[i]), $"iteration {i + 1}: {h[i - 1]:R} -> {h[i]:R}");
        }
        Assert.True(fit.MeanLogLikelihood >= h[^1] - 1e-12 * Math.Abs(h[^1]));
        Assert.Equal(fit.Mixture.MeanLogLikelihood(x), fit.MeanLogLikelihood, 1e-12 * Math.Abs(fit.MeanLogLikelihood));
        Assert.False(fit.Converged);
    }

    [Theory]
    [InlineData(CovarianceType.Full, 2)]
    [InlineData(CovarianceType.Full, 9)]
    [InlineData(CovarianceType.Diagonal, 4)]
    [InlineData(CovarianceType.Spherical, 3)]
    public void One_iteration_equals_a_naive_e_step_and_m_step(CovarianceType type, int d)
    {
        var rng = new Random(d);
        int k = 3, n = 1500;
        var p = NaiveMixture.RandomParameters(rng, k, d, type, spread: 1);
        var start = new GaussianMixture(p.W, p.M, p.C, type);
        // Data from a different mixture, so the step moves the parameters a lot (δ = the mean's move is large).
        var q = NaiveMixture.RandomParameters(rng, k, d, CovarianceType.Full, spread: 3);
        var x = new GaussianMixture(q.W, q.M, q.C).Sample(n, 1);
        const double reg = 1e-3;
        var fit = Fits.Fit(x, d, k, new GaussianMixtureFitOptions { CovarianceType = type, InitialMixture = start, MaxIterations = 1, Tolerance = 0, RegCovar = reg });

        // Naive E-step: responsibilities from the textbook density; naive M-step: weighted means and centred covariances.
        var r = new double[n * k];
        double logLikelihood = 0;
        for (int i = 0; i < n; i++)
        {
            var terms = NaiveMixture.WeightedLogTerms(p.W, p.M, p.C, type, d, x.AsSpan(i * d, d));
            double lse = NaiveMixture.LogSumExp(terms);
            logLikelihood += lse / n;
            for (int c = 0; c < k; c++)
            {
                r[i * k + c] = Math.Exp(terms[c] - lse);
            }
        }
        Assert.Equal(logLikelihood, fit.LogLikelihoodHistory[0], 1e-10);
        for (int c = 0; c < k; c++)
        {
            double nk = 0;
            var mean = new double[d];
            for (int i = 0; i < n; i++)
            {
                nk += r[i * k + c];
                for (int j = 0; j < d; j++)
                {
                    mean[j] += r[i * k + c] * x[i * d + j];
                }
            }
            for (int j = 0; j < d; j++)
            {
                mean[j] /= nk;
            }
            var cov = new double[d * d];
            for (int i = 0; i < n; i++)
            {
                for (int a = 0; a < d; a++)
                {
                    for (int b = 0; b < d; b++)
                    {
                        cov[a * d + b] += r[i * k + c] * (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]) / nk;
                    }
                }
            }
            double sphere = 0;
            for (int a = 0; a < d; a++)
            {
                sphere += cov[a * d + a] / d;
            }
            Assert.Equal(nk / n, fit.Mixture.Weights[c], 1e-12);
            Assert.True(TestMatrices.MaxAbsDiff(mean, fit.Mixture.Mean(c)) < 1e-10);
            var got = fit.Mixture.Covariance(c);
            for (int a = 0; a < d; a++)
            {
                for (int b = 0; b < d; b++)
                {
                    double expected = type switch
                    {
                        CovarianceType.Full => cov[a * d + b] + (a == b ? reg : 0),
                        CovarianceType.Diagonal => a == b ? cov[a * d + a] + reg : 0,
                        _ => a == b ? sphere + reg : 0,
                    };
                    Assert.Equal(expected, got[a * d + b], 1e-10);
                }
            }
        }
    }

    [Fact]
    public void Well_separated_clusters_are_recovered_within_sampling_tolerance()
    {
        var truth = Separated();
        const int n = 30_000;
        var x = truth.Sample(n, 21);
        var fit = Fits.Fit(x, 2, 3);
        Assert.True(fit.Converged);
        Assert.Empty(fit.Warnings);
        var m = fit.Mixture;
        for (int t = 0; t < 3; t++)
        {
            int c = Nearest(m, truth.Mean(t));
            double a = truth.Weights[t];
            int nt = (int)(a * n);
            Assert.Equal(a, m.Weights[c], 5 * Math.Sqrt(a * (1 - a) / n));
            var sigma = truth.Covariance(t);
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(truth.Mean(t)[i], m.Mean(c)[i], 5 * Math.Sqrt(sigma[i * 2 + i] / nt));
                for (int j = 0; j < 2; j++)
                {
                    double se = Math.Sqrt((sigma[i * 2 + i] * sigma[j * 2 + j] + sigma[i * 2 + j] * sigma[i * 2 + j]) / nt);
                    Assert.Equal(sigma[i * 2 + j], m.Covariance(c)[i * 2 + j], 5 * se);
                }
            }
        }
    }

    [Theory]
    [InlineData(CovarianceType.Full, 6)]
    [InlineData(CovarianceType.Diagonal, 4)]
    [InlineData(CovarianceType.Spherical, 3)]
    public void Sample_then_fit_round_trip_recovers_the_mixture(CovarianceType type, int d)
    {
        var rng = new Random(40 + d);
        var p = NaiveMixture.RandomParameters(rng, 3, d, type, spread: 6);
        var truth = new GaussianMixture(p.W, p.M, p.C, type);
        var train = truth.Sample(40_000, 1);
        var test = truth.Sample(40_000, 2);
        var fit = Fits.Fit(train, d, 3, new GaussianMixtureFitOptions { CovarianceType = type, Tolerance = 1e-8, MaxIterations = 500 });
        // The maximum-likelihood fit explains its training data at least as well as the truth does ...
        Assert.True(fit.MeanLogLikelihood >= truth.MeanLogLikelihood(train) - 1e-9);
        // ... and generalises like the truth: held-out log-likelihoods agree to sampling error (~ 1/sqrt(N)).
        Assert.Equal(truth.MeanLogLikelihood(test), fit.Mixture.MeanLogLikelihood(test), 0.01);
        for (int t = 0; t < 3; t++)
        {
            int c = Nearest(fit.Mixture, truth.Mean(t));
            Assert.Equal(truth.Weights[t], fit.Mixture.Weights[c], 0.015);
            Assert.True(TestMatrices.MaxAbsDiff(truth.Mean(t), fit.Mixture.Mean(c)) < 0.1);
            Assert.True(TestMatrices.MaxAbsDiff(truth.Covariance(t), fit.Mixture.Covariance(c)) < 0.15);
        }
    }

    [Fact]
    public void Integer_sample_weights_equal_repeated_points()
    {
        var x = Separated().Sample(600, 9);
        var weights = new double[600];
        var repeated = new List<double>();
        for (int i = 0; i < 600; i++)
        {
            weights[i] = 1 + i % 3;
            for (int r = 0; r < weights[i]; r++)
            {
                repeated.Add(x[2 * i]);
                repeated.Add(x[2 * i + 1]);
            }
        }
        // The same warm start for both, so only the weighting differs.
        var start = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { MaxIterations = 2 }).Mixture;
        var options = new GaussianMixtureFitOptions { InitialMixture = start, Tolerance = 0, MaxIterations = 20 };
        var weighted = Fits.Fit(x, 2, 3, options, weights);
        var expanded = Fits.Fit(repeated.ToArray(), 2, 3, options);
        Assert.Equal(expanded.MeanLogLikelihood, weighted.MeanLogLikelihood, 1e-10);
        Assert.True(TestMatrices.MaxAbsDiff(expanded.Mixture.Means, weighted.Mixture.Means) < 1e-9);
        Assert.True(TestMatrices.MaxAbsDiff(expanded.Mixture.Covariances, weighted.Mixture.Covariances) < 1e-9);
        Assert.True(TestMatrices.MaxAbsDiff(expanded.Mixture.Weights, weighted.Mixture.Weights) < 1e-12);
        // Zero weights remove points entirely.
        var half = new double[600];
        half.AsSpan(0, 300).Fill(1);
        var firstHalf = Fits.Fit(x.AsSpan(0, 600).ToArray(), 2, 3, options);
        var masked = Fits.Fit(x, 2, 3, options, half);
        Assert.Equal(firstHalf.MeanLogLikelihood, masked.MeanLogLikelihood, 1e-10);
    }

    [Fact]
    public void Bic_selects_the_true_number_of_components_and_uses_sklearn_counting()
    {
        var x = Separated().Sample(3000, 4);
        var best = Fits.FitBestByBic(x, 2, 1, 6, out var candidates);
        Assert.Equal(3, best.Mixture.ComponentCount);
        Assert.Equal(6, candidates.Count);
        foreach (var c in candidates)
        {
            int k = c.Mixture.ComponentCount;
            int p = k * 3 + k * 2 + k - 1;
            Assert.Equal(p, c.ParameterCount);
            Assert.Equal(-2 * c.MeanLogLikelihood * 3000 + p * Math.Log(3000), c.Bic, 1e-9);
            Assert.Equal(-2 * c.MeanLogLikelihood * 3000 + 2 * p, c.Aic, 1e-9);
            Assert.Equal(c.Mixture.Bic(x), c.Bic, 1e-8);
            Assert.True(c.Bic >= best.Bic);
        }
    }

    [Fact]
    public void Initialisations_warm_start_and_zero_iterations_behave()
    {
        var x = Separated().Sample(3000, 6);
        var one = Fits.Fit(x, 2, 5, new GaussianMixtureFitOptions { Seed = 3 });
        var several = Fits.Fit(x, 2, 5, new GaussianMixtureFitOptions { Seed = 3, Initializations = 4 });
        // Initialisation 0 of both runs is the same, so keeping the best of four cannot be worse.
        Assert.True(several.MeanLogLikelihood >= one.MeanLogLikelihood);

        var random = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { Initialization = MixtureInitialization.RandomFromData, Seed = 1, Initializations = 3 });
        var kmeans = Fits.Fit(x, 2, 3);
        Assert.Equal(kmeans.MeanLogLikelihood, random.MeanLogLikelihood, 1e-3);

        var none = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { MaxIterations = 0 });
        Assert.Equal(0, none.Iterations);
        Assert.Empty(none.LogLikelihoodHistory);
        Assert.Equal(none.Mixture.MeanLogLikelihood(x), none.MeanLogLikelihood, 1e-12);

        var warm = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { InitialMixture = kmeans.Mixture });
        Assert.True(warm.Converged);
        Assert.True(warm.Iterations <= 2, $"warm start from a converged fit took {warm.Iterations} iterations");
        Assert.True(warm.MeanLogLikelihood >= kmeans.MeanLogLikelihood - 1e-9);

        // A full warm start converted to a spherical fit.
        var spherical = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { InitialMixture = kmeans.Mixture, CovarianceType = CovarianceType.Spherical });
        Assert.Equal(CovarianceType.Spherical, spherical.Mixture.CovarianceType);
    }

    [Fact]
    public void Progress_is_reported_every_iteration_and_the_fit_can_be_cancelled()
    {
        var x = Separated().Sample(2000, 7);
        var reports = new List<FitProgress>();
        var fit = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { Tolerance = 0, MaxIterations = 7, Progress = new Sync<FitProgress>(reports.Add) });
        Assert.Equal(7, reports.Count);
        Assert.Equal(Enumerable.Range(1, 7), reports.Select(r => r.Iteration));
        Assert.Equal(fit.LogLikelihoodHistory, reports.Select(r => r.MeanLogLikelihood));
        Assert.True(double.IsPositiveInfinity(reports[0].Change));

        using var cts = new CancellationTokenSource();
        var options = new GaussianMixtureFitOptions { Tolerance = 0, MaxIterations = 100, Progress = new Sync<FitProgress>(r => { if (r.Iteration == 3) { cts.Cancel(); } }) };
        Assert.ThrowsAny<OperationCanceledException>(() => GaussianMixtureFitter.Fit(x, 2, 3, options, cancellationToken: cts.Token));
    }

    private sealed class Sync<T>(Action<T> action) : IProgress<T>
    {
        public void Report(T value) => action(value);
    }

    [Fact]
    public void Bad_inputs_raise_clear_typed_errors()
    {
        double[] x = [0, 0, 1, 1, 2, 2, 3, 3];
        var nan = Assert.Throws<NonFiniteValueException>(() => Fits.Fit([0, 0, 1, double.NaN, 2, 2], 2, 1));
        Assert.Equal(1, nan.Index);
        Assert.Equal(1, nan.Position);
        Assert.Contains("no points", Assert.Throws<ArgumentException>(() => Fits.Fit([], 2, 1)).Message);
        Assert.Contains("multiple of the dimension", Assert.Throws<ArgumentException>(() => Fits.Fit(x, 3, 1)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Fits.Fit(x, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fits.Fit(x, 0, 1));
        Assert.Contains("K must not exceed N", Assert.Throws<ArgumentException>(() => Fits.Fit(x, 2, 5)).Message);
        Assert.Throws<ArgumentException>(() => Fits.Fit(x, 2, 1, sampleWeights: [1, 1, -1, 1]));
        Assert.Throws<ArgumentException>(() => Fits.Fit(x, 2, 1, sampleWeights: [1, 1]));
        Assert.Throws<ArgumentException>(() => Fits.Fit(x, 2, 1, sampleWeights: [0, 0, 0, 0]));
        Assert.Contains("positive weight", Assert.Throws<ArgumentException>(() => Fits.Fit(x, 2, 3, sampleWeights: [1, 1, 0, 0])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Fits.Fit(x, 2, 1, new GaussianMixtureFitOptions { RegCovar = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Fits.Fit(x, 2, 1, new GaussianMixtureFitOptions { Initializations = 0 }));
        var wrongShape = new GaussianMixture([1.0], [0, 0, 0], [1, 1, 1], CovarianceType.Diagonal);
        Assert.Throws<ArgumentException>(() => Fits.Fit(x, 2, 1, new GaussianMixtureFitOptions { InitialMixture = wrongShape }));
    }

    [Theory]
    [InlineData(CovarianceType.Full)]
    [InlineData(CovarianceType.Diagonal)]
    [InlineData(CovarianceType.Spherical)]
    public void Duplicate_points_are_regularised_with_a_warning(CovarianceType type)
    {
        var x = new double[100];
        for (int i = 0; i < 50; i++)
        {
            x[2 * i] = 1.5;
            x[2 * i + 1] = -2;
        }
        var fit = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { CovarianceType = type });
        Assert.Contains(fit.Warnings, w => w.Contains("degenerate") || w.Contains("not positive definite"));
        Assert.True(double.IsFinite(fit.MeanLogLikelihood));
        foreach (double v in fit.Mixture.Covariances)
        {
            Assert.True(double.IsFinite(v));
        }
        Assert.Equal(1.5, fit.Mixture.Mean(0)[0], 1e-12);
    }

    [Fact]
    public void Collinear_data_keep_a_positive_definite_covariance_with_a_warning()
    {
        // Points on a line in 3-D: every covariance is rank one before reg_covar.
        var rng = new Random(1);
        var x = new double[3 * 2000];
        for (int i = 0; i < 2000; i++)
        {
            double t = NaiveMixture.Normal(rng) + (i % 2 == 0 ? 10 : -10);
            x[3 * i] = t;
            x[3 * i + 1] = 2 * t;
            x[3 * i + 2] = -t;
        }
        foreach (double reg in (double[])[1e-6, 0])
        {
            var fit = Fits.Fit(x, 3, 2, new GaussianMixtureFitOptions { RegCovar = reg });
            Assert.Contains(fit.Warnings, w => w.Contains("degenerate") || w.Contains("not positive definite"));
            Assert.True(double.IsFinite(fit.MeanLogLikelihood));
            Assert.Equal(2, fit.Mixture.ComponentCount);
        }
    }

    [Fact]
    public void A_component_left_without_points_is_reseeded_and_reported()
    {
        var x = Separated().Sample(3000, 12);
        // Component 2 starts a million units away: after the first E-step it has no responsibility at all.
        var start = new GaussianMixture([0.45, 0.45, 0.1], [-10, 0, 10, 0, 1e6, 1e6], [1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]);
        var fit = Fits.Fit(x, 2, 3, new GaussianMixtureFitOptions { InitialMixture = start, MaxIterations = 200 });
        Assert.Contains(fit.Warnings, w => w.Contains("component 2") && w.Contains("re-seeded"));
        Assert.True(fit.Mixture.Weights[2] > 0.1, $"the re-seeded component should claim a cluster, weight {fit.Mixture.Weights[2]}");
        Assert.True(TestMatrices.MaxAbsDiff(fit.Mixture.Mean(2), (double[])[0, 12]) < 0.2);
    }

    private static int Nearest(GaussianMixture m, ReadOnlySpan<double> mean)
    {
        int best = 0;
        double bestDistance = double.PositiveInfinity;
        for (int c = 0; c < m.ComponentCount; c++)
        {
            double s = 0;
            for (int j = 0; j < mean.Length; j++)
            {
                double e = m.Mean(c)[j] - mean[j];
                s += e * e;
            }
            if (s < bestDistance)
            {
                bestDistance = s;
                best = c;
            }
        }
        return best;
    }
}

/// <summary>Serial against parallel fits: alone, so the shared worker threads are free for the parallel one.</summary>
[Collection(nameof(RunsAlone))]
public class EmFitterThreadingTests
{
    [Fact]
    public void Fit_is_identical_on_one_thread_and_on_all_cores()
    {
        var x = EmFitterTests.Separated().Sample(50_000, 3);
        var options = new GaussianMixtureFitOptions { Tolerance = 0, MaxIterations = 15, Initializations = 2 };
        var parallel = Fits.Fit(x, 2, 4, options);
        GaussianMixtureFit? fit = null;
        Serially.Run(() => fit = GaussianMixtureFitter.Fit(x, 2, 4, options));
        var serial = fit!;
        Assert.Equal(parallel.MeanLogLikelihood, serial.MeanLogLikelihood);
        Assert.Equal(parallel.LogLikelihoodHistory, serial.LogLikelihoodHistory);
        Assert.Equal(parallel.Mixture.Means.ToArray(), serial.Mixture.Means.ToArray());
        Assert.Equal(parallel.Mixture.Covariances.ToArray(), serial.Mixture.Covariances.ToArray());
        Assert.Equal(parallel.Mixture.Weights.ToArray(), serial.Mixture.Weights.ToArray());
    }
}

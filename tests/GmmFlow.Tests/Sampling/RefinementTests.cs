using GmmFlow.Sampling;

namespace GmmFlow.Tests.Sampling;

/// <summary>IMR finds all modes of a well-separated mixture that a single Gaussian misses; typed errors for bad targets.</summary>
public class RefinementTests
{
    private static GaussianMixtureTarget FourModes() => new("four", [0.25, 0.25, 0.25, 0.25], [-5, -5, -5, 5, 5, -5, 5, 5], [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);

    private static double Coverage(VariationalFit fit, GaussianMixtureTarget target)
    {
        SamplerResult r = AnnealedSampler.Run(target, fit.Prior, new AnnealingOptions { Particles = 2000, Steps = 0, Seed = 5 }, cancellationToken: TestContext.Current.CancellationToken);
        return SamplerMetrics.EntropicModeCoverage(target, r.Samples, 2);
    }

    [Fact]
    public void Imr_covers_all_modes_a_single_gaussian_misses()
    {
        var target = FourModes();
        VariationalFit single = VariationalFitter.Fit(target, new VariationalOptions { Components = 1, Iterations = 600, LearningRate = 0.05, Seed = 1 }, cancellationToken: TestContext.Current.CancellationToken);
        VariationalFit imr = VariationalFitter.Fit(target, new VariationalOptions
        {
            Components = 4, Iterations = 1200, ImrEvery = 300, LearningRate = 0.05, ExplorationScale = 5, Seed = 1,
        }, cancellationToken: TestContext.Current.CancellationToken);
        double emcSingle = Coverage(single, target);
        double emcImr = Coverage(imr, target);
        Assert.True(emcSingle < 0.1, $"single Gaussian EMC {emcSingle}");
        Assert.True(emcImr > 0.95, $"IMR EMC {emcImr}; means {string.Join(" ", imr.Prior.ToMixture().Means.ToArray())}");
        Assert.Equal([300, 600, 900], imr.ComponentsAdded);
    }

    [Fact]
    public void Imr_score_clips_the_prior_log_density_from_below()
    {
        Assert.Equal(-1 - -3, VariationalFitter.ImrScore(-1, -3, 0, double.PositiveInfinity));
        Assert.Equal(-1 - -2, VariationalFitter.ImrScore(-1, -30, 0, 2));
    }

    [Fact]
    public void Nan_log_density_is_a_typed_error_naming_the_target()
    {
        var bad = new FunctionTarget("bad", 2, x => x[0] > 0.5 ? double.NaN : -(x[0] * x[0]), x => [-2 * x[0], 0]);
        var e = Assert.Throws<TargetEvaluationException>(() => VariationalFitter.Fit(bad, new VariationalOptions { Components = 1, Iterations = 5 }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal("bad", e.Target);
        Assert.Contains("NaN", e.Message);
        var prior = new MixturePrior(2, 1, CovarianceType.Diagonal);
        prior.AddComponent([0, 0], 1);
        Assert.Throws<TargetEvaluationException>(() => AnnealedSampler.Run(bad, prior, new AnnealingOptions { Particles = 50, Steps = 0 }, cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public void Gradient_of_wrong_length_or_non_finite_is_a_typed_error()
    {
        var shortGradient = new FunctionTarget("short", 3, x => 0, x => [0, 0]);
        var e = Assert.Throws<TargetEvaluationException>(() => VariationalFitter.Fit(shortGradient, new VariationalOptions { Components = 1, Iterations = 2 }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Contains("2 values", e.Message);
        var infinite = new FunctionTarget("inf", 1, x => 0, x => [double.PositiveInfinity]);
        Assert.Throws<TargetEvaluationException>(() => VariationalFitter.Fit(infinite, new VariationalOptions { Components = 1, Iterations = 2 }, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Throws<TargetEvaluationException>(() => new FunnelTarget().Evaluate(new double[9], new double[1], Span<double>.Empty));
    }

    [Fact]
    public void Fit_is_cancellable_and_reports_progress()
    {
        var reports = new List<VariationalProgress>();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress(p =>
        {
            reports.Add(p);
            if (p.Iteration >= 20)
            {
                cts.Cancel();
            }
        });
        Assert.Throws<OperationCanceledException>(() => VariationalFitter.Fit(FourModes(), new VariationalOptions { Iterations = 1000 }, progress, cts.Token));
        Assert.NotEmpty(reports);
    }

    private sealed class SyncProgress(Action<VariationalProgress> action) : IProgress<VariationalProgress>
    {
        public void Report(VariationalProgress value) => action(value);
    }
}

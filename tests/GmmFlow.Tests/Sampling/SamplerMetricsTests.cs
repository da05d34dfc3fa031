using GmmFlow.Sampling;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Sampling;

/// <summary>ESS, EMC and the Sinkhorn divergence against closed forms; the `gmmflow sampler` command end to end.</summary>
public sealed class SamplerMetricsTests : CliHarness
{
    [Fact]
    public void Ess_and_log_mean_exp_closed_forms()
    {
        Assert.Equal(1, SamplerMetrics.EffectiveSampleSize([3, 3, 3, 3]), 1e-15);
        Assert.Equal(0.25, SamplerMetrics.EffectiveSampleSize([0, -800, -800, -800]), 1e-12);
        Assert.Equal(Math.Log((1 + Math.E) / 2), SamplerMetrics.LogMeanExp([1000, 1001]) - 1000, 1e-12);
    }

    [Fact]
    public void Emc_is_one_for_balanced_and_zero_for_collapsed_samples()
    {
        var target = new GaussianMixtureTarget("two", [0.5, 0.5], [-3, 3], [1, 1]);
        Assert.Equal(1, SamplerMetrics.EntropicModeCoverage(target, [-3, 3, -2.5, 2.5], 1), 1e-12);
        Assert.Equal(0, SamplerMetrics.EntropicModeCoverage(target, [-3, -2, -4, -1], 1), 1e-12);
    }

    [Fact]
    public void Sinkhorn_divergence_is_zero_for_equal_clouds_and_the_squared_shift_for_a_translation()
    {
        var x = new double[300 * 2];
        new CounterRng(1).FillNormal(0, 0, x);
        var y = (double[])x.Clone();
        Assert.Equal(0, SamplerMetrics.SinkhornDivergence(x, y, 2), 1e-6);
        for (int i = 0; i < 300; i++)
        {
            y[2 * i] += 3;
            y[(2 * i) + 1] -= 4;
        }
        // Translating a cloud by v moves it at cost |v|² per unit mass (the identity-plus-shift plan is optimal).
        Assert.Equal(25, SamplerMetrics.SinkhornDivergence(x, y, 2), 0.05);
    }

    [Fact]
    public void Sampler_command_writes_samples_prior_metrics_and_picture()
    {
        var r = Run("sampler", "--target", "funnel", "--iterations", "200", "--imr-every", "50", "--components", "3", "--steps", "8",
            "--particles", "200", "--sinkhorn-samples", "100", "--out", P("run"));
        Assert.True(r.Code == 0, r.Err);
        string dir = P("run");
        double[] samples = SampleFiles.Read(Path.Combine(dir, "samples.npy"), out int d);
        Assert.Equal(10, d);
        Assert.Equal(2000, samples.Length);
        GaussianMixture prior = MixtureJson.Read(Path.Combine(dir, "prior.json"));
        Assert.Equal(3, prior.ComponentCount);
        string metrics = File.ReadAllText(Path.Combine(dir, "metrics.json"));
        Assert.Contains("\"delta_log_z\"", metrics);
        Assert.Contains("\"sinkhorn\"", metrics);
        Assert.True(new FileInfo(Path.Combine(dir, "marginals.png")).Length > 1000);
        // A second run into the same folder needs --force (exit 2), and a bad target name is a usage error.
        Assert.Equal(2, Run("sampler", "--target", "funnel", "--out", dir).Code);
        Assert.Equal(2, Run("sampler", "--target", "nope", "--out", P("x")).Code);
    }
}

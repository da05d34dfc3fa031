namespace GmmFlow.Tests.Mixtures;

/// <summary>The fitter with the test's cancellation token (so an aborted test run stops a long fit).</summary>
internal static class Fits
{
    public static GaussianMixtureFit Fit(ReadOnlySpan<double> points, int dimension, int components,
        GaussianMixtureFitOptions? options = null, ReadOnlySpan<double> sampleWeights = default)
        => GaussianMixtureFitter.Fit(points, dimension, components, options, sampleWeights, TestContext.Current.CancellationToken);

    public static GaussianMixtureFit FitBestByBic(ReadOnlySpan<double> points, int dimension, int min, int max,
        out IReadOnlyList<GaussianMixtureFit> candidates, GaussianMixtureFitOptions? options = null)
        => GaussianMixtureFitter.FitBestByBic(points, dimension, min, max, out candidates, options, default, TestContext.Current.CancellationToken);
}

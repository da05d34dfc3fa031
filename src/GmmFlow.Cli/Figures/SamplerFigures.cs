using ScottPlot;

namespace GmmFlow.Cli.Figures;

/// <summary>The sampler command's picture: 2-D marginals of the samples with the fitted prior's 2σ ellipses.</summary>
internal static class SamplerFigures
{
    private static readonly Color SampleColor = Color.FromHex("#1f77b4");
    private static readonly Color PriorColor = Color.FromHex("#7a0f10");

    /// <summary>
    /// One panel per coordinate pair (up to three: (1,2), (1,3), (2,3) in 1-based coordinates), samples as dots and the
    /// prior components' marginal 2σ ellipses.
    /// </summary>
    public static RenderedFigure Marginals(string title, string subtitle, double[] samples, int dimension, GaussianMixture prior, int maxPoints = 2000)
    {
        var pairs = new List<(int, int)> { (0, 1) };
        if (dimension >= 3)
        {
            pairs.Add((0, 2));
            pairs.Add((1, 2));
        }
        var multiplot = new Multiplot();
        multiplot.AddPlots(pairs.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(1, pairs.Count);
        int n = samples.Length / dimension;
        int stride = Math.Max(1, n / maxPoints);
        for (int p = 0; p < pairs.Count; p++)
        {
            (int a, int b) = pairs[p];
            var xy = new List<double>();
            for (int i = 0; i < n; i += stride)
            {
                xy.Add(samples[(i * dimension) + a]);
                xy.Add(samples[(i * dimension) + b]);
            }
            var ellipses = new List<Ellipse2D>();
            for (int k = 0; k < prior.ComponentCount; k++)
            {
                ReadOnlySpan<double> m = prior.Mean(k);
                ReadOnlySpan<double> c = prior.Covariance(k);
                ellipses.Add(new Ellipse2D(m[a], m[b], c[(a * dimension) + a], c[(a * dimension) + b], c[(b * dimension) + b], prior.Weights[k]));
            }
            var points = xy.ToArray();
            var plot = multiplot.GetPlot(p);
            DemoFigures.Style(plot);
            DemoFigures.AddPoints(plot, points, SampleColor.WithAlpha(0.3), 3);
            DemoFigures.AddEllipses(plot, ellipses, PriorColor, widthScale: 0.7);
            DemoFigures.AddMeans(plot, ellipses, PriorColor);
            plot.Title($"x{a + 1} vs x{b + 1}", size: 13);
            var (xmin, xmax, ymin, ymax) = DemoFigures.Bounds([points], 0.05);
            DemoFigures.SetSquareLimits(plot, xmin, xmax, ymin, ymax);
            DemoFigures.Fonts(plot);
        }
        return DemoFigures.WithHeader(multiplot, 360 * pairs.Count, 380, title, subtitle);
    }
}

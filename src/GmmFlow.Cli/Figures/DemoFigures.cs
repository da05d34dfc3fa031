using ScottPlot;

namespace GmmFlow.Cli.Figures;

/// <summary>A 2-D Gaussian component to draw as its 2σ ellipse.</summary>
internal readonly record struct Ellipse2D(double MeanX, double MeanY, double Sxx, double Sxy, double Syy, double Weight);

/// <summary>
/// The demo's pictures (ScottPlot; PNG always, SVG for single-panel figures since ScottPlot's multiplot
/// writes PNG only). Inputs are plain row-major arrays of 2-D points so this file knows nothing of the
/// transport machinery.
/// </summary>
internal static class DemoFigures
{
    private static readonly Color SourceColor = new(31, 119, 180);
    private static readonly Color TargetColor = new(214, 39, 40);
    private static readonly Color TransportColor = new(44, 160, 44);

    /// <summary>Source and target samples with the fitted components' 2σ ellipses (line width ∝ weight).</summary>
    public static IReadOnlyList<string> Mixtures(string pathWithoutExtension, string title,
        double[] source, double[] target, IReadOnlyList<Ellipse2D> sourceComponents, IReadOnlyList<Ellipse2D> targetComponents)
    {
        var plot = new Plot();
        AddPoints(plot, source, SourceColor.WithAlpha(0.25), "source samples");
        AddPoints(plot, target, TargetColor.WithAlpha(0.25), "target samples");
        AddEllipses(plot, sourceComponents, SourceColor, "source components (2σ)");
        AddEllipses(plot, targetComponents, TargetColor, "target components (2σ)");
        Finish(plot, title);
        return Save(plot, pathWithoutExtension, 800, 700);
    }

    /// <summary>Trajectories of a subset of particles over the source (start) and target (end) clouds.</summary>
    public static IReadOnlyList<string> Trajectories(string pathWithoutExtension, string title,
        double[] source, double[] target, double[] trajectories, int frames, int particles, int maxDrawn = 150)
    {
        var plot = new Plot();
        AddPoints(plot, source, SourceColor.WithAlpha(0.12), "source");
        AddPoints(plot, target, TargetColor.WithAlpha(0.12), "target");
        int drawn = Math.Min(maxDrawn, particles);
        int stride = Math.Max(1, particles / drawn);
        var xs = new double[frames];
        var ys = new double[frames];
        bool labelled = false;
        for (int p = 0; p < particles; p += stride)
        {
            for (int f = 0; f < frames; f++)
            {
                xs[f] = trajectories[(f * particles + p) * 2];
                ys[f] = trajectories[(f * particles + p) * 2 + 1];
            }
            var line = plot.Add.ScatterLine((double[])xs.Clone(), (double[])ys.Clone());
            line.Color = TransportColor.WithAlpha(0.55);
            line.LineWidth = 1;
            if (!labelled)
            {
                line.LegendText = "particle paths";
                labelled = true;
            }
            var end = plot.Add.ScatterPoints(new[] { xs[^1] }, new[] { ys[^1] });
            end.Color = TransportColor;
            end.MarkerSize = 4;
        }
        Finish(plot, title);
        return Save(plot, pathWithoutExtension, 800, 700);
    }

    /// <summary>Snapshots of transported samples at several times t (one panel each, shared limits).</summary>
    public static IReadOnlyList<string> Snapshots(string pathWithoutExtension, string title,
        IReadOnlyList<double> times, IReadOnlyList<double[]> samplesAtTimes, double[]? targetReference)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(times.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        (double xmin, double xmax, double ymin, double ymax) = Bounds(samplesAtTimes, targetReference);
        for (int k = 0; k < times.Count; k++)
        {
            var plot = multiplot.GetPlot(k);
            if (targetReference is not null && k == times.Count - 1)
            {
                AddPoints(plot, targetReference, TargetColor.WithAlpha(0.18), "fresh target samples");
            }
            Color c = Blend(SourceColor, TransportColor, times[k]);
            AddPoints(plot, samplesAtTimes[k], c.WithAlpha(0.35), $"t = {times[k]:0.##}");
            plot.Title(k == 0 ? $"{title}   t = {times[k]:0.##}" : $"t = {times[k]:0.##}", size: 13);
            plot.Axes.SetLimits(xmin, xmax, ymin, ymax);
            if (k == times.Count - 1 && targetReference is not null)
            {
                plot.ShowLegend(Alignment.UpperRight);
            }
        }
        string png = pathWithoutExtension + ".png";
        multiplot.SavePng(png, 320 * times.Count, 360);
        return [png];
    }

    /// <summary>
    /// The surrogate-vs-W2 regime map: every component pair at (whitened perturbation δ, relative gap),
    /// coloured by regime, with the label threshold as a dashed line.
    /// </summary>
    public static IReadOnlyList<string> RegimeMap(string pathWithoutExtension, string title,
        IReadOnlyList<double> delta, IReadOnlyList<double> relativeGap, IReadOnlyList<bool> surrogateAccurate, double threshold)
    {
        var plot = new Plot();
        var accurate = (xs: new List<double>(), ys: new List<double>());
        var exact = (xs: new List<double>(), ys: new List<double>());
        const double floor = 1e-16; // log axes: a gap of exactly 0 is drawn at the floor
        for (int i = 0; i < delta.Count; i++)
        {
            var bucket = surrogateAccurate[i] ? accurate : exact;
            bucket.xs.Add(Math.Log10(Math.Max(delta[i], floor)));
            bucket.ys.Add(Math.Log10(Math.Max(relativeGap[i], floor)));
        }
        if (accurate.xs.Count > 0)
        {
            var s = plot.Add.ScatterPoints(accurate.xs.ToArray(), accurate.ys.ToArray());
            s.Color = TransportColor;
            s.MarkerSize = 6;
            s.LegendText = "surrogate accurate";
        }
        if (exact.xs.Count > 0)
        {
            var s = plot.Add.ScatterPoints(exact.xs.ToArray(), exact.ys.ToArray());
            s.Color = TargetColor;
            s.MarkerSize = 6;
            s.LegendText = "exact W2 preferable";
        }
        var line = plot.Add.HorizontalLine(Math.Log10(threshold));
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Gray;
        line.LegendText = $"threshold {threshold:g2}";
        plot.XLabel("log10 δ (whitened perturbation ‖Σ0^-½ ΔΣ Σ0^-½‖₂)");
        plot.YLabel("log10 relative gap (C_sur − W2²) / W2²");
        plot.Title(title);
        plot.ShowLegend(Alignment.UpperLeft);
        return Save(plot, pathWithoutExtension, 800, 600);
    }

    private static void AddPoints(Plot plot, double[] xy, Color color, string label)
    {
        int n = xy.Length / 2;
        var xs = new double[n];
        var ys = new double[n];
        for (int i = 0; i < n; i++)
        {
            xs[i] = xy[2 * i];
            ys[i] = xy[2 * i + 1];
        }
        var s = plot.Add.ScatterPoints(xs, ys);
        s.Color = color;
        s.MarkerSize = 3;
        s.LegendText = label;
    }

    private static void AddEllipses(Plot plot, IReadOnlyList<Ellipse2D> components, Color color, string label)
    {
        double maxWeight = components.Count == 0 ? 1 : components.Max(c => c.Weight);
        const int segments = 72;
        bool labelled = false;
        foreach (var c in components)
        {
            // 2σ ellipse: mean + 2 L (cos θ, sin θ) with Σ = L Lᵀ (2×2 Cholesky).
            double l11 = Math.Sqrt(c.Sxx), l21 = c.Sxy / l11, l22 = Math.Sqrt(Math.Max(c.Syy - l21 * l21, 0));
            var xs = new double[segments + 1];
            var ys = new double[segments + 1];
            for (int k = 0; k <= segments; k++)
            {
                (double s, double co) = Math.SinCos(2 * Math.PI * k / segments);
                xs[k] = c.MeanX + 2 * l11 * co;
                ys[k] = c.MeanY + 2 * (l21 * co + l22 * s);
            }
            var line = plot.Add.ScatterLine(xs, ys);
            line.Color = color;
            line.LineWidth = (float)(0.8 + 2.2 * c.Weight / maxWeight);
            if (!labelled)
            {
                line.LegendText = label;
                labelled = true;
            }
        }
    }

    private static void Finish(Plot plot, string title)
    {
        plot.Title(title);
        plot.Axes.SquareUnits();
        plot.ShowLegend(Alignment.UpperLeft);
    }

    private static IReadOnlyList<string> Save(Plot plot, string pathWithoutExtension, int width, int height)
    {
        string png = pathWithoutExtension + ".png", svg = pathWithoutExtension + ".svg";
        plot.SavePng(png, width, height);
        plot.SaveSvg(svg, width, height);
        return [png, svg];
    }

    private static (double, double, double, double) Bounds(IReadOnlyList<double[]> sets, double[]? extra)
    {
        double xmin = double.MaxValue, xmax = double.MinValue, ymin = double.MaxValue, ymax = double.MinValue;
        foreach (var set in extra is null ? sets : sets.Append(extra))
        {
            for (int i = 0; i + 1 < set.Length; i += 2)
            {
                xmin = Math.Min(xmin, set[i]);
                xmax = Math.Max(xmax, set[i]);
                ymin = Math.Min(ymin, set[i + 1]);
                ymax = Math.Max(ymax, set[i + 1]);
            }
        }
        double padX = 0.05 * (xmax - xmin + 1e-9), padY = 0.05 * (ymax - ymin + 1e-9);
        return (xmin - padX, xmax + padX, ymin - padY, ymax + padY);
    }

    private static Color Blend(Color a, Color b, double t)
    {
        t = Math.Clamp(t, 0, 1);
        return new Color((byte)(a.R + (b.R - a.R) * t), (byte)(a.G + (b.G - a.G) * t), (byte)(a.B + (b.B - a.B) * t));
    }
}

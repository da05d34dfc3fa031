using System.Globalization;
using ScottPlot;
using SkiaSharp;

namespace GmmFlow.Cli.Figures;

/// <summary>A 2-D Gaussian component to draw as its 2σ ellipse.</summary>
internal readonly record struct Ellipse2D(double MeanX, double MeanY, double Sxx, double Sxy, double Syy, double Weight);

/// <summary>One panel of the trajectory figure: the saved positions of every particle (frame-major, then particle, then x/y).</summary>
/// <param name="Title">Panel title.</param>
/// <param name="Trajectories">Frames × particles × 2.</param>
/// <param name="Frames">Saved frames (t = 0 … 1).</param>
/// <param name="Arrival">Per particle, the fitted target component it ends nearest to (its colour).</param>
/// <param name="Drawn">How many particles' paths to draw (an evenly strided subset).</param>
internal sealed record TrajectoryPanel(string Title, double[] Trajectories, int Frames, int[] Arrival, int Drawn);

/// <summary>
/// One row of the snapshot figure: a plan's particles at each snapshot time, and the components (m_p(t), Σ_p(t), λ_p)
/// of its exact marginal ρ_t at that time.
/// </summary>
internal sealed record SnapshotRow(string Label, IReadOnlyList<double[]> Particles, IReadOnlyList<IReadOnlyList<Ellipse2D>> Marginal, int[] Arrival);

/// <summary>An encoded picture ("png" or "svg").</summary>
internal sealed record RenderedFigure(string Extension, byte[] Content);

/// <summary>
/// The demo's pictures (ScottPlot 5, rendered in memory: the caller writes the bytes atomically). Single-panel
/// figures come as PNG and SVG; the multi-panel ones as PNG only (ScottPlot's multiplot renders bitmaps). Inputs
/// are plain row-major arrays of 2-D points, so this file knows nothing of the transport machinery.
/// </summary>
internal static class DemoFigures
{
    // A sans-serif face for every label (ScottPlot's automatic choice is a serif face on Debian); a family that is not
    // installed falls back to Skia's default face.
    private const string FontFamily = "DejaVu Sans";

    private static readonly Color SourceColor = Color.FromHex("#1f77b4");
    private static readonly Color TargetColor = Color.FromHex("#d62728");
    private static readonly Color SourceDark = Color.FromHex("#0b3d66");
    private static readonly Color TargetDark = Color.FromHex("#7a0f10");
    private static readonly Color Neutral = Color.FromHex("#8a8a8a");

    // Tableau-10 without red (the target colour) and grey (ellipses), then darker extras: one colour per target component.
    private static readonly Color[] ComponentPalette =
    [
        Color.FromHex("#1f77b4"), Color.FromHex("#ff7f0e"), Color.FromHex("#2ca02c"), Color.FromHex("#9467bd"),
        Color.FromHex("#8c564b"), Color.FromHex("#e377c2"), Color.FromHex("#bcbd22"), Color.FromHex("#17becf"),
        Color.FromHex("#393b79"), Color.FromHex("#637939"), Color.FromHex("#8c6d31"), Color.FromHex("#843c39"),
    ];

    /// <summary>Colour of fitted target component <paramref name="k"/> in the trajectory and snapshot figures.</summary>
    public static Color ComponentColor(int k) => ComponentPalette[k % ComponentPalette.Length];

    /// <summary>Source and target samples with the fitted components' 2σ ellipses (line width ∝ weight) and means.</summary>
    public static IReadOnlyList<RenderedFigure> Mixtures(string title, double[] source, double[] target,
        IReadOnlyList<Ellipse2D> sourceComponents, IReadOnlyList<Ellipse2D> targetComponents)
    {
        var plot = NewPlot();
        AddPoints(plot, source, SourceColor.WithAlpha(0.25), 3);
        AddPoints(plot, target, TargetColor.WithAlpha(0.25), 3);
        AddEllipses(plot, sourceComponents, SourceDark);
        AddEllipses(plot, targetComponents, TargetDark);
        AddMeans(plot, sourceComponents, SourceDark);
        AddMeans(plot, targetComponents, TargetDark);
        plot.Title(title, size: 17);
        var (xmin, xmax, ymin, ymax) = Bounds([source, target], 0.06);
        SetSquareLimits(plot, xmin, xmax, ymin, ymax);
        // Manual legend entries: the plotted points are faint and tiny, their legend symbols should not be.
        plot.Legend.ManualItems.AddRange(
        [
            PointItem($"source samples ({source.Length / 2})", SourceColor),
            PointItem($"target samples ({target.Length / 2})", TargetColor),
            LineItem($"source fit, K0 = {sourceComponents.Count}", SourceDark),
            LineItem($"target fit, K1 = {targetComponents.Count}", TargetDark),
        ]);
        LegendBelow(plot);
        plot.XLabel("ellipses: 2σ contours (line width ∝ weight); +: component means", size: 13);
        Fonts(plot);
        return Both(plot, 820, 900);
    }

    /// <summary>
    /// One panel per plan: paths of a subset of particles from the source cloud to the target cloud, coloured by the
    /// target component each particle reaches, over the fitted target ellipses. Every panel has the same limits.
    /// </summary>
    public static RenderedFigure Trajectories(string title, string subtitle, IReadOnlyList<TrajectoryPanel> panels, double[] source, double[] target,
        IReadOnlyList<Ellipse2D> targetComponents)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        int columns = panels.Count <= 2 ? panels.Count : 2;
        int rows = (panels.Count + columns - 1) / columns;
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        var sets = new List<double[]> { source, target };
        foreach (var p in panels)
        {
            sets.Add(p.Trajectories);
        }
        var (xmin, xmax, ymin, ymax) = Bounds(sets, 0.04);
        for (int k = 0; k < panels.Count; k++)
        {
            var panel = panels[k];
            var plot = multiplot.GetPlot(k);
            Style(plot);
            AddPoints(plot, source, SourceColor.WithAlpha(0.15), 2);
            AddPoints(plot, target, TargetColor.WithAlpha(0.15), 2);
            AddEllipses(plot, targetComponents, Neutral, widthScale: 0.7);
            int particles = panel.Arrival.Length;
            int count = Math.Min(panel.Drawn, particles);
            // Busy (Brownian) panels draw fewer paths; keep their lines lighter too.
            float alpha = panel.Drawn < panels.Max(q => q.Drawn) ? 0.4f : 0.5f;
            var startX = new double[count];
            var startY = new double[count];
            for (int s = 0; s < count; s++)
            {
                // Evenly strided particles: the source samples are i.i.d., so a stride is a fair random subset.
                int p = (int)((long)s * particles / count);
                var xs = new double[panel.Frames];
                var ys = new double[panel.Frames];
                for (int f = 0; f < panel.Frames; f++)
                {
                    xs[f] = panel.Trajectories[((long)f * particles + p) * 2];
                    ys[f] = panel.Trajectories[((long)f * particles + p) * 2 + 1];
                }
                startX[s] = xs[0];
                startY[s] = ys[0];
                Color c = ComponentColor(panel.Arrival[p]);
                var line = plot.Add.ScatterLine(xs, ys);
                line.Color = c.WithAlpha(alpha);
                line.LineWidth = 1.1f;
                line.MarkerSize = 0;
                plot.Add.Marker(xs[^1], ys[^1], MarkerShape.FilledCircle, 5, c);
            }
            plot.Add.Markers(startX, startY, MarkerShape.FilledCircle, 3, Colors.Black.WithAlpha(0.7));
            plot.Title(panel.Title, size: 16);
            SetSquareLimits(plot, xmin, xmax, ymin, ymax);
            plot.HideLegend();
            Fonts(plot);
        }
        return WithHeader(multiplot, 620 * columns, 600 * rows, title, subtitle);
    }

    /// <summary>
    /// Rows = plans, columns = times: the transported particles at t (coloured by the target component they reach)
    /// over the 2σ ellipses of the components of the plan's exact marginal ρ_t = Σ_p λ_p N(m_p(t), Σ_p(t)).
    /// Particles filling the ellipses means the integration follows GMMflow's closed-form marginal.
    /// </summary>
    public static RenderedFigure Snapshots(string title, IReadOnlyList<double> times, IReadOnlyList<SnapshotRow> rows)
    {
        var multiplot = new Multiplot();
        int columns = times.Count;
        multiplot.AddPlots(rows.Count * columns);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows.Count, columns);
        var sets = new List<double[]>();
        foreach (var row in rows)
        {
            sets.AddRange(row.Particles);
        }
        var (xmin, xmax, ymin, ymax) = Bounds(sets, 0.04);
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            for (int c = 0; c < columns; c++)
            {
                var plot = multiplot.GetPlot(r * columns + c);
                Style(plot);
                AddColoured(plot, row.Particles[c], row.Arrival, 0.55f, 2.5f);
                AddEllipses(plot, row.Marginal[c], Colors.Black.WithAlpha(0.45), widthScale: 0.5);
                string t = times[c].ToString("0.##", CultureInfo.InvariantCulture);
                plot.Title($"{row.Label} · t = {t}", size: 13);
                SetSquareLimits(plot, xmin, xmax, ymin, ymax);
                plot.Axes.Bottom.TickLabelStyle.FontSize = 10;
                plot.Axes.Left.TickLabelStyle.FontSize = 10;
                Fonts(plot);
            }
        }
        return WithHeader(multiplot, 300 * columns, 290 * rows.Count, title,
            "Transported points (colour: the target component reached at t = 1) over the 2σ ellipses of the exact marginal ρ_t's components (black).");
    }

    /// <summary>
    /// The surrogate-vs-W2 regime map: every fitted component pair at (whitened perturbation δ, relative gap
    /// (C_sur − W2²)/W2²) on log axes, coloured by regime, pairs of the W2 plan circled, the label threshold dashed.
    /// </summary>
    public static IReadOnlyList<RenderedFigure> RegimeMap(string title, IReadOnlyList<double> delta, IReadOnlyList<double> relativeGap,
        IReadOnlyList<bool> surrogateAccurate, IReadOnlyList<bool> active, double threshold)
    {
        var plot = NewPlot();
        const double floor = 1e-12; // log axes: a gap of exactly 0 (commuting, equal shapes) is drawn at the floor
        var x = delta.Select(v => Math.Log10(Math.Max(v, floor))).ToArray();
        var y = relativeGap.Select(v => Math.Log10(Math.Max(v, floor))).ToArray();
        foreach (var (accurate, label, color) in new[]
        {
            (true, "surrogate accurate (gap ≤ τ)", Color.FromHex("#2ca02c")),
            (false, "exact W2 preferable (gap > τ)", TargetColor),
        })
        {
            var idx = Enumerable.Range(0, x.Length).Where(i => surrogateAccurate[i] == accurate).ToArray();
            var m = plot.Add.Markers(idx.Select(i => x[i]).ToArray(), idx.Select(i => y[i]).ToArray(), MarkerShape.FilledCircle, 8, color.WithAlpha(0.7));
            m.LegendText = $"{label}: {idx.Length}";
        }
        var used = Enumerable.Range(0, x.Length).Where(i => active[i]).ToArray();
        var ring = plot.Add.Markers(used.Select(i => x[i]).ToArray(), used.Select(i => y[i]).ToArray(), MarkerShape.OpenCircle, 16, Colors.Black);
        ring.MarkerLineWidth = 1.5f;
        ring.LegendText = $"used by the W2 plan: {used.Length}";
        double tau = Math.Log10(threshold);
        var line = plot.Add.HorizontalLine(tau);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Gray;
        line.LineWidth = 1.5f;
        line.LegendText = string.Create(CultureInfo.InvariantCulture, $"threshold τ = {threshold:g2}");
        plot.XLabel("whitened perturbation δ = ‖Σ0^-½ ΔΣ Σ0^-½‖₂ (log scale)", size: 14);
        plot.YLabel("relative gap (C_sur − W2²) / W2² (log scale)", size: 14);
        plot.Title(title, size: 16);
        double xlo = x.Min(), xhi = x.Max(), ylo = Math.Min(y.Min(), tau), yhi = Math.Max(y.Max(), tau);
        double padX = Math.Max(0.08, 0.06 * (xhi - xlo)), padY = Math.Max(0.25, 0.06 * (yhi - ylo));
        (xlo, xhi, ylo, yhi) = (xlo - padX, xhi + padX, ylo - padY, yhi + padY);
        plot.Axes.Bottom.TickGenerator = LogTicks(xlo, xhi);
        plot.Axes.Left.TickGenerator = LogTicks(ylo, yhi);
        plot.Axes.SetLimits(xlo, xhi, ylo, yhi);
        LegendBelow(plot);
        Fonts(plot);
        return Both(plot, 900, 700);
    }

    private static Plot NewPlot()
    {
        var plot = new Plot();
        Style(plot);
        return plot;
    }

    internal static void Style(Plot plot)
    {
        plot.Grid.MajorLineColor = Colors.Black.WithAlpha(0.08);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
    }

    internal static void Fonts(Plot plot)
    {
        plot.Font.Set(FontFamily);
        // Manual legend items keep their own label style; the legend-wide font name covers them.
        plot.Legend.FontName = FontFamily;
    }

    private static LegendItem PointItem(string label, Color color) => new()
    {
        LabelText = label,
        MarkerShape = MarkerShape.FilledCircle,
        MarkerSize = 10,
        MarkerColor = color.WithAlpha(0.7),
        LineWidth = 0,
    };

    private static LegendItem LineItem(string label, Color color) => new()
    {
        LabelText = label,
        LineColor = color,
        LineWidth = 2.5f,
        MarkerShape = MarkerShape.None,
    };

    // The legend as a horizontal panel under the data area, so it never covers points.
    private static void LegendBelow(Plot plot)
    {
        plot.ShowLegend(Edge.Bottom);
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.Legend.FontSize = 13;
    }

    /// <summary>
    /// Ticks for an axis that holds log10 values: decades when the range spans several, else 1-3 or 1-2-5 steps.
    /// Labels are the values themselves ("0.5", "2", "1e-4"); the other integer multiples get minor ticks.
    /// </summary>
    private static ScottPlot.TickGenerators.NumericManual LogTicks(double lo, double hi)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        if (hi - lo < 0.6)
        {
            // Less than a factor 4 in value: evenly spaced values (1-2-5 step, about five of them) at their log positions.
            double vlo = Math.Pow(10, lo), vhi = Math.Pow(10, hi);
            double raw = (vhi - vlo) / 5, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            double step = magnitude * (raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : 5);
            for (double v = Math.Ceiling(vlo / step) * step; v <= vhi; v += step)
            {
                ticks.AddMajor(Math.Log10(v), v.ToString(v >= 0.01 && v < 1000 ? "0.###" : "0.##e0", CultureInfo.InvariantCulture));
            }
            return ticks;
        }
        int[] labelled = hi - lo > 3 ? [1] : hi - lo > 1.2 ? [1, 3] : [1, 2, 5];
        for (int e = (int)Math.Floor(lo) - 1; e <= (int)Math.Ceiling(hi); e++)
        {
            for (int m = 1; m <= 9; m++)
            {
                double v = Math.Log10(m) + e;
                if (v < lo || v > hi)
                {
                    continue;
                }
                if (labelled.Contains(m))
                {
                    double value = m * Math.Pow(10, e);
                    string text = e is >= -2 and <= 2
                        ? value.ToString("0.###", CultureInfo.InvariantCulture)
                        : string.Create(CultureInfo.InvariantCulture, $"{(m == 1 ? "" : $"{m}×")}1e{e}");
                    ticks.AddMajor(v, text);
                }
                else
                {
                    ticks.AddMinor(v);
                }
            }
        }
        return ticks;
    }

    internal static void AddPoints(Plot plot, double[] xy, Color color, float size)
    {
        int n = xy.Length / 2;
        var xs = new double[n];
        var ys = new double[n];
        for (int i = 0; i < n; i++)
        {
            xs[i] = xy[2 * i];
            ys[i] = xy[2 * i + 1];
        }
        plot.Add.Markers(xs, ys, MarkerShape.FilledCircle, size, color);
    }

    // Points coloured by group (one Markers plottable per group, so rendering stays one call per colour).
    private static void AddColoured(Plot plot, double[] xy, int[] group, float alpha, float size)
    {
        int groups = group.Length == 0 ? 0 : group.Max() + 1;
        var xs = new List<double>[groups];
        var ys = new List<double>[groups];
        for (int g = 0; g < groups; g++)
        {
            xs[g] = [];
            ys[g] = [];
        }
        for (int i = 0; i < group.Length; i++)
        {
            xs[group[i]].Add(xy[2 * i]);
            ys[group[i]].Add(xy[2 * i + 1]);
        }
        for (int g = 0; g < groups; g++)
        {
            if (xs[g].Count > 0)
            {
                plot.Add.Markers(xs[g].ToArray(), ys[g].ToArray(), MarkerShape.FilledCircle, size, ComponentColor(g).WithAlpha(alpha));
            }
        }
    }

    internal static void AddEllipses(Plot plot, IReadOnlyList<Ellipse2D> components, Color color, double widthScale = 1)
    {
        double maxWeight = components.Count == 0 ? 1 : components.Max(c => c.Weight);
        const int segments = 96;
        foreach (var c in components)
        {
            // 2σ ellipse: mean + 2 L (cos θ, sin θ) with Σ = L Lᵀ (2×2 Cholesky): the points at Mahalanobis distance 2.
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
            line.MarkerSize = 0;
            line.LineWidth = (float)(widthScale * (1.0 + 2.0 * c.Weight / maxWeight));
        }
    }

    internal static void AddMeans(Plot plot, IReadOnlyList<Ellipse2D> components, Color color)
    {
        var xs = components.Select(c => c.MeanX).ToArray();
        var ys = components.Select(c => c.MeanY).ToArray();
        var m = plot.Add.Markers(xs, ys, MarkerShape.Cross, 9, color);
        m.MarkerLineWidth = 2;
    }

    // Equal data units per pixel on both axes: set the limits, then let ScottPlot widen the shorter span at render
    // time (SquareZoomOut keeps everything inside the limits visible, whatever the panel's data-area aspect).
    // Sparser ticks than ScottPlot's default: these are pictures of point clouds, not charts to read values from.
    internal static void SetSquareLimits(Plot plot, double xmin, double xmax, double ymin, double ymax)
    {
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { TickDensity = 0.6 };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { TickDensity = 0.6 };
        plot.Axes.SetLimits(xmin, xmax, ymin, ymax);
        plot.Axes.Rules.Add(new ScottPlot.AxisRules.SquareZoomOut(plot.Axes.Bottom, plot.Axes.Left));
    }

    private static IReadOnlyList<RenderedFigure> Both(Plot plot, int width, int height) =>
    [
        new("png", plot.GetImageBytes(width, height, ImageFormat.Png)),
        new("svg", System.Text.Encoding.UTF8.GetBytes(plot.GetSvgXml(width, height))),
    ];

    /// <summary>A multi-panel figure under a two-line heading (ScottPlot's multiplot has no figure title): drawn with Skia, encoded as PNG.</summary>
    internal static RenderedFigure WithHeader(Multiplot multiplot, int width, int panelsHeight, string title, string subtitle)
    {
        const int header = 66;
        using var surface = SKSurface.Create(new SKImageInfo(width, panelsHeight + header));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        // The multiplot lays its panels out from the canvas origin whatever rectangle it is given: shift the origin.
        canvas.Save();
        canvas.Translate(0, header);
        multiplot.Render(canvas, new PixelRect(0, width, panelsHeight, 0));
        canvas.Restore();
        using (var bold = SKTypeface.FromFamilyName(FontFamily, SKFontStyle.Bold))
        using (var regular = SKTypeface.FromFamilyName(FontFamily, SKFontStyle.Normal))
        using (var titleFont = new SKFont(bold, 21))
        using (var subtitleFont = new SKFont(regular, 14))
        using (var ink = new SKPaint { Color = SKColors.Black, IsAntialias = true })
        using (var grey = new SKPaint { Color = new SKColor(70, 70, 70), IsAntialias = true })
        {
            canvas.DrawText(title, width / 2f, 30, SKTextAlign.Center, titleFont, ink);
            canvas.DrawText(subtitle, width / 2f, 54, SKTextAlign.Center, subtitleFont, grey);
        }
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return new("png", data.ToArray());
    }

    internal static (double, double, double, double) Bounds(IEnumerable<double[]> sets, double pad)
    {
        double xmin = double.MaxValue, xmax = double.MinValue, ymin = double.MaxValue, ymax = double.MinValue;
        foreach (var set in sets)
        {
            for (int i = 0; i + 1 < set.Length; i += 2)
            {
                if (double.IsFinite(set[i]) && double.IsFinite(set[i + 1]))
                {
                    xmin = Math.Min(xmin, set[i]);
                    xmax = Math.Max(xmax, set[i]);
                    ymin = Math.Min(ymin, set[i + 1]);
                    ymax = Math.Max(ymax, set[i + 1]);
                }
            }
        }
        if (xmin > xmax)
        {
            return (-1, 1, -1, 1);
        }
        double padX = pad * (xmax - xmin + 1e-9), padY = pad * (ymax - ymin + 1e-9);
        return (xmin - padX, xmax + padX, ymin - padY, ymax + padY);
    }
}

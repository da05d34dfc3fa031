using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace GmmFlow.Cli.Demo;

/// <summary>The demo's reports: aligned text tables (stdout), JSON (--json and results.json) and the Markdown index.</summary>
internal static class DemoReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private static readonly string[] Header =
        ["plan", "pairs", "LP objective", "kinetic (MC ± se)", "MMD²", "SW2²", "mass err", "LP s", "transport s", "metrics s"];

    // Left-aligned columns; the rest are right-aligned numbers.
    private static readonly bool[] LeftAligned = [true, false, false, false, false, false, false, false, false, false];

    /// <summary>All cases as aligned text tables, with a legend of the columns and the total time.</summary>
    public static string Text(DemoResult result)
    {
        var sb = new StringBuilder();
        foreach (var c in result.Cases)
        {
            sb.AppendLine(CaseHeading(c));
            foreach (string line in CaseNotes(c, result.Settings))
            {
                sb.Append("  ").AppendLine(line);
            }
            sb.AppendLine();
            var cells = Cells(c);
            var widths = new int[Header.Length];
            for (int k = 0; k < Header.Length; k++)
            {
                widths[k] = Math.Max(Header[k].Length, cells.Max(r => r[k].Length));
            }
            AppendRow(sb, Header, widths);
            foreach (var r in cells)
            {
                AppendRow(sb, r, widths);
            }
            foreach (var check in c.PublishedChecks)
            {
                if (check == c.PublishedChecks[0])
                {
                    sb.AppendLine();
                    sb.AppendLine("  published check (exact toy mixtures, GMMflow reference cost variant, ε = σ²):");
                }
                sb.AppendLine(string.Create(Inv, $"    {check.Label,-12} LP objective {check.Computed,8:F2}   paper {check.Published,8:F2}"));
            }
            sb.AppendLine();
        }
        if (result.Momentum is { } momentum)
        {
            sb.Append(MomentumDemo.Text(momentum, markdown: false));
        }
        sb.AppendLine(Legend);
        sb.AppendLine(string.Create(Inv, $"total {result.TotalSeconds:F1} s; pictures and index in {result.OutputDirectory}"));
        return sb.ToString();
    }

    private const string Legend =
        "columns: pairs = active component pairs of the LP plan; LP objective = Σ λ_ij C_ij (SB: the bridges' exact kinetic energy);\n" +
        "kinetic = Monte-Carlo ∫₀¹ E|u(X_t, t)|² dt of the mixture policy (≤ the LP objective up to MC error);\n" +
        "MMD² (unbiased; mean of Gaussian kernels with bandwidths h·{1/8, 1/4, 1/2, 1}, h = median pooled distance) and sliced W2² to fresh target points;\n" +
        "mass err = ½ Σ_j |share of points nearest fitted target component j − its weight|.\n" +
        "Rows 'source (t = 0)' (untransported) and 'fitted target' (samples of the fitted target mixture) are the baseline and the floor.";

    private static string CaseHeading(DemoCaseResult c) => $"{c.Name}: {c.Title}";

    private static IEnumerable<string> CaseNotes(DemoCaseResult c, DemoSettings s)
    {
        yield return string.Create(Inv,
            $"EM fit K0 = {c.SourceComponents}, K1 = {c.TargetComponents} on {s.FitSamples} points per side: {c.FitSeconds:F2} s{(c.FitsConverged ? "" : " (not converged)")}; " +
            $"regime map: {c.RegimeSurrogateAccurate}/{c.RegimePairs} pairs surrogate-accurate, max relative gap {Sci(c.RegimeMaxRelativeGap)} ({c.RegimeSeconds:F3} s)");
        yield return string.Create(Inv,
            $"{s.TransportSamples} fresh source points transported in {s.Steps} steps, scored against {s.TransportSamples} fresh target points; " +
            $"MMD bandwidths {string.Join(", ", c.Bandwidths.Select(b => b.ToString("F2", Inv)))}; pictures {c.FigureSeconds:F2} s");
    }

    private static List<string[]> Cells(DemoCaseResult c)
    {
        var rows = new List<string[]>();
        foreach (var r in c.Rows)
        {
            rows.Add(
            [
                r.Label,
                r.ActivePairs?.ToString(Inv) ?? "-",
                r.Objective is { } o ? o.ToString("F3", Inv) : "-",
                r.Kinetic is { } k ? string.Create(Inv, $"{k:F3} ± {r.KineticStandardError:F3}") : "-",
                Sci(r.MmdSquared),
                Sci(r.SlicedW2),
                r.MassError.ToString("F3", Inv),
                r.LpSeconds is { } lp ? lp.ToString("F3", Inv) : "-",
                r.TransportSeconds is { } t ? t.ToString("F2", Inv) : "-",
                r.MetricsSeconds.ToString("F2", Inv),
            ]);
        }
        return rows;
    }

    private static void AppendRow(StringBuilder sb, string[] cells, int[] widths)
    {
        sb.Append("  ");
        for (int k = 0; k < cells.Length; k++)
        {
            sb.Append(LeftAligned[k] ? cells[k].PadRight(widths[k]) : cells[k].PadLeft(widths[k]));
            if (k + 1 < cells.Length)
            {
                sb.Append("  ");
            }
        }
        sb.AppendLine();
    }

    private static string Sci(double v) => v.ToString("0.00e+00", Inv);

    /// <summary>The run as JSON (Utf8JsonWriter: no reflection, Native-AOT safe).</summary>
    public static string Json(DemoResult result)
    {
        using var stream = new MemoryStream();
        // Relaxed escaping keeps σ, → and ε readable; the output is a file and a console stream, never embedded in HTML.
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var w = new Utf8JsonWriter(stream, options))
        {
            var s = result.Settings;
            w.WriteStartObject();
            w.WriteString("outputDirectory", result.OutputDirectory);
            w.WriteNumber("seed", s.Seed);
            w.WriteBoolean("quick", s.Quick);
            w.WriteNumber("totalSeconds", result.TotalSeconds);
            w.WriteStartObject("settings");
            w.WriteNumber("fitSamples", s.FitSamples);
            w.WriteNumber("transportSamples", s.TransportSamples);
            w.WriteNumber("steps", s.Steps);
            w.WriteNumber("fitInitializations", s.FitInitializations);
            w.WriteNumber("kineticSamplesPerNode", s.KineticSamplesPerNode);
            w.WriteNumber("kineticNodes", s.KineticNodes);
            w.WriteNumber("slicedDirections", s.SlicedDirections);
            w.WriteEndObject();
            w.WriteStartArray("cases");
            foreach (var c in result.Cases)
            {
                w.WriteStartObject();
                w.WriteString("name", c.Name);
                w.WriteString("title", c.Title);
                w.WriteNumber("sourceComponents", c.SourceComponents);
                w.WriteNumber("targetComponents", c.TargetComponents);
                w.WriteBoolean("fitsConverged", c.FitsConverged);
                w.WriteNumber("fitSeconds", c.FitSeconds);
                w.WriteNumber("regimeSeconds", c.RegimeSeconds);
                w.WriteNumber("figureSeconds", c.FigureSeconds);
                w.WriteStartObject("regime");
                w.WriteNumber("pairs", c.RegimePairs);
                w.WriteNumber("surrogateAccurate", c.RegimeSurrogateAccurate);
                w.WriteNumber("maxRelativeGap", c.RegimeMaxRelativeGap);
                w.WriteEndObject();
                w.WriteStartArray("mmdBandwidths");
                foreach (double b in c.Bandwidths)
                {
                    w.WriteNumberValue(b);
                }
                w.WriteEndArray();
                w.WriteStartArray("rows");
                foreach (var r in c.Rows)
                {
                    w.WriteStartObject();
                    w.WriteString("label", r.Label);
                    if (r.Plan is { } plan)
                    {
                        w.WriteString("cost", plan.CostName);
                        w.WriteNumber("noise", plan.Noise);
                    }
                    else
                    {
                        w.WriteNull("cost");
                        w.WriteNull("noise");
                    }
                    Number(w, "activePairs", r.ActivePairs);
                    Number(w, "objective", r.Objective);
                    Number(w, "kineticCost", r.Kinetic);
                    Number(w, "kineticCostStandardError", r.KineticStandardError);
                    w.WriteNumber("mmdSquared", r.MmdSquared);
                    w.WriteNumber("slicedW2Squared", r.SlicedW2);
                    w.WriteNumber("massError", r.MassError);
                    Number(w, "lpSeconds", r.LpSeconds);
                    Number(w, "transportSeconds", r.TransportSeconds);
                    w.WriteNumber("metricsSeconds", r.MetricsSeconds);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("publishedChecks");
                foreach (var p in c.PublishedChecks)
                {
                    w.WriteStartObject();
                    w.WriteString("label", p.Label);
                    w.WriteNumber("noise", p.Noise);
                    w.WriteNumber("computed", p.Computed);
                    w.WriteNumber("published", p.Published);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                WriteFigures(w, c.Figures);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (result.Momentum is { } momentum)
            {
                MomentumDemo.WriteJson(w, momentum);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The "figures" array: {"file", "caption"} per picture.</summary>
    internal static void WriteFigures(Utf8JsonWriter w, IEnumerable<DemoFigure> figures)
    {
        w.WriteStartArray("figures");
        foreach (var f in figures)
        {
            w.WriteStartObject();
            w.WriteString("file", f.FileName);
            w.WriteString("caption", f.Caption);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void Number(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v)
        {
            w.WriteNumber(name, v);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>A markdown table (header, alignment row, one line per row) followed by a blank line.</summary>
    internal static void AppendMarkdownTable(StringBuilder sb, IReadOnlyList<string> header, Func<int, bool> leftAligned,
        IEnumerable<IReadOnlyList<string>> rows)
    {
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("|" + string.Concat(header.Select((_, k) => leftAligned(k) ? "---|" : "---:|")));
        foreach (var r in rows)
        {
            sb.AppendLine("| " + string.Join(" | ", r) + " |");
        }
        sb.AppendLine();
    }

    /// <summary>A captioned link list of the pictures, then the pictures themselves.</summary>
    internal static void AppendMarkdownFigures(StringBuilder sb, IReadOnlyCollection<DemoFigure> figures)
    {
        foreach (var f in figures)
        {
            sb.AppendLine($"- [{f.FileName}]({f.FileName}): {f.Caption}");
        }
        sb.AppendLine();
        foreach (var f in figures)
        {
            sb.AppendLine($"![{f.FileName}]({f.FileName})");
            sb.AppendLine();
        }
    }

    /// <summary>The index of the output folder: what was run, each case's table, and every picture with a caption.</summary>
    public static string Markdown(DemoResult result)
    {
        var s = result.Settings;
        var sb = new StringBuilder();
        sb.AppendLine("# GmmFlow demo");
        sb.AppendLine();
        sb.AppendLine(string.Create(Inv,
            $"`gmmflow demo{(s.Quick ? " --quick" : "")} --seed {s.Seed}`: {result.Cases.Count} two-dimensional cases, each with mixtures fitted by EM " +
            $"({s.FitSamples} points per side), four transport plans (exact W2, the surrogate cost, Schrödinger bridges with σ = 0.1 and σ = 1; ε = σ²), " +
            $"{s.TransportSamples} fresh source points moved in {s.Steps} steps (Heun; Euler–Maruyama for the SB drift) and scored against " +
            $"{s.TransportSamples} fresh target points. Total {result.TotalSeconds:F1} s. Machine-readable results: [{DemoOutput.ResultsFile}]({DemoOutput.ResultsFile})."));
        sb.AppendLine();
        foreach (var c in result.Cases)
        {
            sb.AppendLine($"## {c.Name}: {c.Title}");
            sb.AppendLine();
            foreach (string line in CaseNotes(c, s))
            {
                sb.AppendLine(line + "  ");
            }
            sb.AppendLine();
            AppendMarkdownTable(sb, Header, k => LeftAligned[k], Cells(c));
            if (c.PublishedChecks.Count > 0)
            {
                sb.AppendLine("Published check (exact toy mixtures, GMMflow reference cost variant): " + string.Join("; ",
                    c.PublishedChecks.Select(p => string.Create(Inv, $"{p.Label} {p.Computed:F2} (paper {p.Published:F2})"))) + ".");
                sb.AppendLine();
            }
            AppendMarkdownFigures(sb, c.Figures);
        }
        if (result.Momentum is { } momentum)
        {
            sb.Append(MomentumDemo.Text(momentum, markdown: true));
        }
        sb.AppendLine("Columns: " + Legend.Replace("\n", " ", StringComparison.Ordinal));
        return sb.ToString();
    }
}

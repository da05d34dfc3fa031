using System.Globalization;
using System.Text;
using System.Text.Json;
using ScottPlot;

namespace GmmFlow.Cli.Bench;

/// <summary>
/// One (scenario, d, method) point of the timing study: the whole construction, and its stages timed on their own —
/// pair costs (factoring included), the Sinkhorn coupling (with its iteration count) and the bridges plus one field
/// frame (<see cref="TransportPlan.FromCoupling"/> and one evaluation of the plan's field at t = 0.5).
/// </summary>
internal sealed record StudyTiming(string Scenario, int Dimension, CostKind Method, int SourceCount, int TargetCount,
    BenchTiming Construction, double CostMatrixSeconds, double SinkhornSeconds, int SinkhornIterations, bool SinkhornConverged,
    double BridgesSeconds, double Objective)
{
    /// <summary>The Gaussian linear algebra of the construction: pair costs + bridges + frame, Sinkhorn left out.</summary>
    public double GaussianSeconds => CostMatrixSeconds + BridgesSeconds;
}

/// <summary>The mixture-level indicators of one (scenario, d): the max over pairs of δ, κ and the commutator, and the plans' gap.</summary>
internal sealed record StudyIndicators(string Scenario, int Dimension, double MaxDelta, double MaxCondition, double MaxCommutator,
    double MaxPairRelativeGap, double PlanRelativeGap);

/// <summary>One row of the accuracy table: our diagnostics of a scenario pair next to the paper's printed values.</summary>
internal sealed record StudyAccuracy(AccuracyScenario Scenario, RegimeDiagnostics Ours);

/// <summary>
/// The surrogate-vs-exact study of the surrogate paper (arXiv 2603.28992, §VII; docs/theory.md#regime-map): (1) transport-construction time against d for the surrogate
/// (Method A) and exact W2 (Method B) pipelines — pair costs, Sinkhorn coupling, one bridge per active pair and the
/// field's per-time set-up plus one evaluation, i.e. <see cref="TransportPlan.Create"/> and one evaluation of its field at
/// t = 0.5 — and (2) the accuracy table (gap, relative gap, δ, commutator, κ) over the
/// paper's scenarios with <see cref="RegimeDiagnostics"/>. Writes CSV, JSON, a Markdown summary and a PNG/SVG plot.
/// </summary>
internal static class SurrogateStudy
{
    private static readonly int[] FullDimensions = [2, 4, 8, 16, 32, 64, 128, 256, 512];
    private static readonly int[] QuickDimensions = [2, 8, 32];

    public static StudyResult Run(string directory, bool quick, TextWriter progress)
    {
        Directory.CreateDirectory(directory);
        int k = quick ? 2 : 5;
        int[] dims = quick ? QuickDimensions : FullDimensions;
        var timings = new List<StudyTiming>();
        var indicators = new List<StudyIndicators>();
        string load = BenchMachine.LoadAverage();
        // Warm every code path once (both methods, a d ≥ 3 LAPACK path) so the first timed case is not the JIT's.
        foreach (var method in (ReadOnlySpan<CostKind>)[CostKind.Surrogate, CostKind.Wasserstein])
        {
            for (int i = 0; i < 30; i++)
            {
                var warm = TransportPlan.Create(StudyScenarios.TimingMixture(StudyScenarios.TimingScenarios[i % 3], 2, 2 + i % 5, i),
                    StudyScenarios.TimingMixture(StudyScenarios.TimingScenarios[i % 3], 2, 2 + i % 5, 100 + i),
                    new TransportOptions { Cost = method, Coupling = CouplingMethod.Sinkhorn });
                warm.CreateField().Evaluate(0.5, new double[2 + i % 5], new double[2 + i % 5]);
            }
        }
        foreach (string scenario in StudyScenarios.TimingScenarios)
        {
            foreach (int d in dims)
            {
                var source = StudyScenarios.TimingMixture(scenario, k, d, 100 + d);
                var target = StudyScenarios.TimingMixture(scenario, k, d, 200 + d);
                var x = source.Sample(1, 5);
                var v = new double[d];
                var objectives = new Dictionary<CostKind, double>();
                foreach (var method in (ReadOnlySpan<CostKind>)[CostKind.Surrogate, CostKind.Wasserstein])
                {
                    var options = new TransportOptions { Cost = method, Coupling = CouplingMethod.Sinkhorn };
                    TransportPlan? plan = null;
                    // Large d takes seconds per construction: a single warm-up call, fewer repeats.
                    var settings = new BenchSettings(quick ? 2 : d >= 128 ? 3 : 7, TimeSpan.FromMilliseconds(quick ? 1 : 20),
                        TimeSpan.FromMilliseconds(quick || d >= 128 ? 0 : 100));
                    // The frame is built through CreateField rather than TransportPlan.Velocity: Velocity's per-thread field cache keeps
                    // every plan it was called on reachable from the thread (so hundreds of d = 512 plans exhaust memory).
                    var timing = BenchTimer.Measure(() =>
                    {
                        plan = TransportPlan.Create(source, target, options);
                        plan.CreateField().Evaluate(0.5, x, v);
                    }, settings, minWarmupCalls: 1);
                    var costs = new double[k * k];
                    var costTiming = BenchTimer.Measure(() => GaussianCosts.Compute(method,
                        GaussianFactors.FromFull(source.Means, source.Covariances, k, d, "source"),
                        GaussianFactors.FromFull(target.Means, target.Covariances, k, d, "target"), costs), settings, minWarmupCalls: 1);
                    // The coupling stage as TransportPlan.Create runs it (default temperature 1e-2 × the largest cost).
                    double tau = 1e-2 * costs.Max(Math.Abs);
                    SinkhornResult? sinkhorn = null;
                    var sinkhornTiming = BenchTimer.Measure(() => sinkhorn = Couplings.Sinkhorn(source.Weights, target.Weights, costs, tau), settings);
                    var pairs = plan!.Pairs;
                    double objective = plan.Objective;
                    // The Sinkhorn plan's marginals are only as exact as its stopping tolerance; this stage re-times the bridges, it does
                    // not re-validate the coupling.
                    var bridgesTiming = BenchTimer.Measure(() =>
                        TransportPlan.FromCoupling(source, target, options, pairs, objective, marginalTolerance: 1e-3).CreateField().Evaluate(0.5, x, v),
                        settings, minWarmupCalls: 1);
                    objectives[method] = objective;
                    timings.Add(new StudyTiming(scenario, d, method, k, k, timing, costTiming.MedianSeconds, sinkhornTiming.MedianSeconds,
                        sinkhorn!.Iterations, sinkhorn.Converged, bridgesTiming.MedianSeconds, objective));
                    progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"gmmflow bench --study: {scenario,-23} d = {d,3} {Label(method),-9} construction {BenchRecord.FormatSeconds(timing.MedianSeconds),10} " +
                        $"(costs {BenchRecord.FormatSeconds(costTiming.MedianSeconds)}, Sinkhorn {BenchRecord.FormatSeconds(sinkhornTiming.MedianSeconds)} " +
                        $"in {sinkhorn.Iterations} iterations, bridges + frame {BenchRecord.FormatSeconds(bridgesTiming.MedianSeconds)})"));
                }
                var table = RegimeTable.Compute(GaussianFactors.FromMixture(source, "source"), GaussianFactors.FromMixture(target, "target"));
                double maxDelta = 0, maxCondition = 0, maxCommutator = 0;
                foreach (var p in table.Pairs)
                {
                    maxDelta = Math.Max(maxDelta, p.WhitenedPerturbation);
                    maxCondition = Math.Max(maxCondition, Math.Max(p.SourceCondition, p.TargetCondition));
                    maxCommutator = Math.Max(maxCommutator, p.Commutator);
                }
                double w2 = objectives[CostKind.Wasserstein];
                indicators.Add(new StudyIndicators(scenario, d, maxDelta, maxCondition, maxCommutator, table.MaxRelativeGap,
                    Math.Abs(objectives[CostKind.Surrogate] - w2) / w2));
            }
        }

        var accuracy = StudyScenarios.AccuracyRows()
            .Select(s => new StudyAccuracy(s, RegimeDiagnostics.Compute(s.Mean0, s.Covariance0, s.Mean1, s.Covariance1, s.Dimension)))
            .ToList();
        var result = new StudyResult(quick, k, load, BenchMachine.LoadAverage(), timings, indicators, accuracy);
        result.WriteFiles(directory);
        progress.WriteLine($"gmmflow bench --study: wrote {string.Join(", ", StudyResult.FileNames)} to {directory}");
        return result;
    }

    public static string Label(CostKind method) => method == CostKind.Surrogate ? "surrogate" : "exact W2";
}

/// <summary>What the study measured, with its writers (files, text, JSON).</summary>
internal sealed record StudyResult(bool Quick, int Components, string LoadAtStart, string LoadAtEnd,
    IReadOnlyList<StudyTiming> Timings, IReadOnlyList<StudyIndicators> Indicators, IReadOnlyList<StudyAccuracy> Accuracy)
{
    public static readonly string[] FileNames = ["study.json", "study_timing.csv", "study_accuracy.csv", "study.md", "time_vs_d.png"];

    private static string F(double v, string format = "G4") => v.ToString(format, CultureInfo.InvariantCulture);

    public void WriteFiles(string directory)
    {
        File.WriteAllText(Path.Combine(directory, "study.json"), ToJson());
        var csv = new StringBuilder("scenario,d,method,k0,k1,construction_median_s,construction_min_s,construction_cpu_s,cost_matrix_median_s,sinkhorn_median_s,sinkhorn_iterations,sinkhorn_converged,bridges_frame_median_s,plan_objective\n");
        foreach (var t in Timings)
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{t.Scenario},{t.Dimension},{SurrogateStudy.Label(t.Method)},{t.SourceCount},{t.TargetCount},{F(t.Construction.MedianSeconds, "R")},{F(t.Construction.MinSeconds, "R")},{F(t.Construction.CpuSecondsPerOp, "R")},{F(t.CostMatrixSeconds, "R")},{F(t.SinkhornSeconds, "R")},{t.SinkhornIterations},{(t.SinkhornConverged ? "true" : "false")},{F(t.BridgesSeconds, "R")},{F(t.Objective, "R")}\n");
        }
        File.WriteAllText(Path.Combine(directory, "study_timing.csv"), csv.ToString());
        var acc = new StringBuilder("scenario,d,delta,kappa0,kappa1,commutator,w2,surrogate,gap,relative_gap,segments,regime,paper_delta,paper_kappa,paper_w2,paper_surrogate,paper_gap\n");
        foreach (var a in Accuracy)
        {
            var o = a.Ours;
            var s = a.Scenario;
            acc.Append(CultureInfo.InvariantCulture,
                $"\"{s.Name}\",{s.Dimension},{F(o.WhitenedPerturbation, "R")},{F(o.SourceCondition, "R")},{F(o.TargetCondition, "R")},{F(o.Commutator, "R")},{F(o.Wasserstein, "R")},{F(o.Surrogate, "R")},{F(o.Gap, "R")},{F(o.RelativeGap, "R")},{o.Segments},{o.Regime},{F(s.PaperDelta, "R")},{F(s.PaperCondition, "R")},{F(s.PaperWasserstein, "R")},{F(s.PaperSurrogate, "R")},{F(s.PaperSurrogate - s.PaperWasserstein, "R")}\n");
        }
        File.WriteAllText(Path.Combine(directory, "study_accuracy.csv"), acc.ToString());
        using (var md = new StreamWriter(Path.Combine(directory, "study.md")))
        {
            WriteText(md);
        }
        Plot(Path.Combine(directory, "time_vs_d"));
    }

    /// <summary>Markdown tables: construction time vs d per scenario, the mixture indicators, the accuracy table.</summary>
    public void WriteText(TextWriter w)
    {
        var dims = Timings.Select(t => t.Dimension).Distinct().Order().ToArray();
        w.WriteLine($"Transport construction (pair costs + Sinkhorn + bridges + one field frame and evaluation), K0 = K1 = {Components}, " +
                    $"median of repeats; load average {LoadAtStart} at start, {LoadAtEnd} at end{(Quick ? "; --quick sizes" : "")}.");
        w.WriteLine();
        w.WriteLine("Summary: surrogate time / exact W2 time (< 1: the surrogate is faster), for the whole construction and for its Gaussian");
        w.WriteLine("linear algebra alone (pair costs + bridges + frame, Sinkhorn left out):");
        w.WriteLine();
        w.WriteLine("| scenario | " + string.Join(" | ", dims.Select(d => $"d = {d}")) + " |");
        w.WriteLine("|---|" + string.Concat(dims.Select(_ => "---|")));
        foreach (string scenario in StudyScenarios.TimingScenarios)
        {
            foreach (bool gaussian in new[] { false, true })
            {
                var cells = dims.Select(d =>
                {
                    var s = Find(scenario, d, CostKind.Surrogate);
                    var e = Find(scenario, d, CostKind.Wasserstein);
                    return s is null || e is null ? "" : gaussian ? F(s.GaussianSeconds / e.GaussianSeconds, "F2") : F(s.Construction.MedianSeconds / e.Construction.MedianSeconds, "F2");
                });
                w.WriteLine($"| {scenario}{(gaussian ? " (costs + bridges)" : " (total)")} | {string.Join(" | ", cells)} |");
            }
        }
        w.WriteLine();
        w.WriteLine("| scenario | d | method | total | pair costs | Sinkhorn (iterations) | bridges + frame |");
        w.WriteLine("|---|---|---|---|---|---|---|");
        foreach (string scenario in StudyScenarios.TimingScenarios)
        {
            foreach (int d in dims)
            {
                foreach (var method in new[] { CostKind.Surrogate, CostKind.Wasserstein })
                {
                    if (Find(scenario, d, method) is not { } t)
                    {
                        continue;
                    }
                    w.WriteLine($"| {scenario} | {d} | {SurrogateStudy.Label(method)} | {BenchRecord.FormatSeconds(t.Construction.MedianSeconds)} | " +
                                $"{BenchRecord.FormatSeconds(t.CostMatrixSeconds)} | {BenchRecord.FormatSeconds(t.SinkhornSeconds)} ({t.SinkhornIterations}{(t.SinkhornConverged ? "" : ", not converged")}) | " +
                                $"{BenchRecord.FormatSeconds(t.BridgesSeconds)} |");
                }
            }
        }
        w.WriteLine();
        w.WriteLine("Mixture indicators (max over the K0×K1 pairs) and the relative gap between the two plans' objectives, |Σλ C_sur − Σλ W2²| / Σλ W2²:");
        w.WriteLine();
        w.WriteLine("| scenario | d | max δ | max κ | max commutator | max pair relative gap | plan relative gap |");
        w.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var i in Indicators)
        {
            w.WriteLine($"| {i.Scenario} | {i.Dimension} | {F(i.MaxDelta, "F3")} | {F(i.MaxCondition, "F2")} | {F(i.MaxCommutator, "F3")} | {F(i.MaxPairRelativeGap, "G3")} | {F(i.PlanRelativeGap, "G3")} |");
        }
        w.WriteLine();
        w.WriteLine("Accuracy of the surrogate (RegimeDiagnostics; relative-gap threshold 1e-3 for the regime label); paper = Table II of arXiv 2603.28992:");
        w.WriteLine();
        w.WriteLine("| scenario | d | δ | κ(Σ0) | κ(Σ1) | commutator | W2² | C_sur | gap | relative gap | segments | regime | paper δ / κ | paper W2² / C_sur / gap |");
        w.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var a in Accuracy)
        {
            var o = a.Ours;
            var s = a.Scenario;
            string regime = o.Regime == TransportRegime.SurrogateAccurate ? "surrogate" : "exact";
            w.WriteLine($"| {s.Name} | {s.Dimension} | {F(o.WhitenedPerturbation, "F2")} | {F(o.SourceCondition, "G4")} | {F(o.TargetCondition, "G4")} | {F(o.Commutator, "F3")} | " +
                        $"{F(o.Wasserstein, "F3")} | {F(o.Surrogate, "F3")} | {F(o.Gap, "F3")} | {F(o.RelativeGap, "G3")} | {o.Segments} | {regime} | " +
                        $"{F(s.PaperDelta, "F2")} / {F(s.PaperCondition, "G6")} | {F(s.PaperWasserstein, "F2")} / {F(s.PaperSurrogate, "F2")} / {F(s.PaperSurrogate - s.PaperWasserstein, "F2")} |");
        }
        w.WriteLine();
        w.WriteLine("Constructions:");
        foreach (var a in Accuracy)
        {
            w.WriteLine($"- {a.Scenario.Name}: {a.Scenario.Construction}");
        }
    }

    private StudyTiming? Find(string scenario, int d, CostKind method)
        => Timings.FirstOrDefault(t => t.Scenario == scenario && t.Dimension == d && t.Method == method);

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("tool", "gmmflow bench --study");
            w.WriteBoolean("quick", Quick);
            w.WriteNumber("components", Components);
            w.WriteString("loadAverageAtStart", LoadAtStart);
            w.WriteString("loadAverageAtEnd", LoadAtEnd);
            w.WriteStartArray("timing");
            foreach (var t in Timings)
            {
                w.WriteStartObject();
                w.WriteString("scenario", t.Scenario);
                w.WriteNumber("d", t.Dimension);
                w.WriteString("method", SurrogateStudy.Label(t.Method));
                w.WriteNumber("k0", t.SourceCount);
                w.WriteNumber("k1", t.TargetCount);
                w.WriteNumber("constructionMedianSeconds", t.Construction.MedianSeconds);
                w.WriteNumber("constructionMinSeconds", t.Construction.MinSeconds);
                w.WriteNumber("constructionCpuSeconds", t.Construction.CpuSecondsPerOp);
                w.WriteNumber("repeats", t.Construction.Repeats);
                w.WriteNumber("costMatrixMedianSeconds", t.CostMatrixSeconds);
                w.WriteNumber("sinkhornMedianSeconds", t.SinkhornSeconds);
                w.WriteNumber("sinkhornIterations", t.SinkhornIterations);
                w.WriteBoolean("sinkhornConverged", t.SinkhornConverged);
                w.WriteNumber("bridgesFrameMedianSeconds", t.BridgesSeconds);
                w.WriteNumber("planObjective", t.Objective);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("indicators");
            foreach (var i in Indicators)
            {
                w.WriteStartObject();
                w.WriteString("scenario", i.Scenario);
                w.WriteNumber("d", i.Dimension);
                w.WriteNumber("maxDelta", i.MaxDelta);
                w.WriteNumber("maxCondition", i.MaxCondition);
                w.WriteNumber("maxCommutator", i.MaxCommutator);
                w.WriteNumber("maxPairRelativeGap", i.MaxPairRelativeGap);
                w.WriteNumber("planRelativeGap", i.PlanRelativeGap);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("accuracy");
            foreach (var a in Accuracy)
            {
                var o = a.Ours;
                w.WriteStartObject();
                w.WriteString("scenario", a.Scenario.Name);
                w.WriteNumber("d", a.Scenario.Dimension);
                w.WriteString("construction", a.Scenario.Construction);
                w.WriteNumber("delta", o.WhitenedPerturbation);
                w.WriteNumber("kappa0", o.SourceCondition);
                w.WriteNumber("kappa1", o.TargetCondition);
                w.WriteNumber("commutator", o.Commutator);
                w.WriteNumber("wasserstein", o.Wasserstein);
                w.WriteNumber("surrogate", o.Surrogate);
                w.WriteNumber("gap", o.Gap);
                w.WriteNumber("relativeGap", o.RelativeGap);
                w.WriteNumber("segments", o.Segments);
                w.WriteString("regime", o.Regime.ToString());
                w.WriteNumber("paperDelta", a.Scenario.PaperDelta);
                w.WriteNumber("paperKappa", a.Scenario.PaperCondition);
                w.WriteNumber("paperWasserstein", a.Scenario.PaperWasserstein);
                w.WriteNumber("paperSurrogate", a.Scenario.PaperSurrogate);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// Two panels against d (log–log): the whole construction, and its Gaussian linear algebra alone (pair costs + bridges
    /// + frame, no Sinkhorn); one colour per scenario, solid = surrogate, dashed = exact W2.
    /// </summary>
    private void Plot(string pathWithoutExtension)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Panel(multiplot.GetPlot(0), t => t.Construction.MedianSeconds, $"Whole construction, K0 = K1 = {Components}");
        Panel(multiplot.GetPlot(1), t => t.GaussianSeconds, "Pair costs + bridges + frame (no Sinkhorn)");
        multiplot.SavePng(pathWithoutExtension + ".png", 1400, 620);
    }

    private void Panel(Plot plot, Func<StudyTiming, double> seconds, string title)
    {
        Color[] colors = [new(31, 119, 180), new(214, 39, 40), new(44, 160, 44)];
        var dims = Timings.Select(t => t.Dimension).Distinct().Order().ToArray();
        for (int s = 0; s < StudyScenarios.TimingScenarios.Length; s++)
        {
            string scenario = StudyScenarios.TimingScenarios[s];
            foreach (var method in (ReadOnlySpan<CostKind>)[CostKind.Surrogate, CostKind.Wasserstein])
            {
                var points = Timings.Where(t => t.Scenario == scenario && t.Method == method).OrderBy(t => t.Dimension).ToArray();
                var line = plot.Add.Scatter(points.Select(t => Math.Log2(t.Dimension)).ToArray(), points.Select(t => Math.Log10(seconds(t))).ToArray());
                line.Color = colors[s];
                line.LineWidth = 2;
                line.MarkerSize = 6;
                line.LinePattern = method == CostKind.Surrogate ? LinePattern.Solid : LinePattern.Dashed;
                // Legends draw every line solid: the marker tells the methods apart there.
                line.MarkerShape = method == CostKind.Surrogate ? MarkerShape.FilledCircle : MarkerShape.OpenSquare;
                line.LegendText = $"{scenario}, {SurrogateStudy.Label(method)}";
            }
        }
        var xTicks = new ScottPlot.TickGenerators.NumericManual();
        foreach (int d in dims)
        {
            xTicks.AddMajor(Math.Log2(d), d.ToString(CultureInfo.InvariantCulture));
        }
        plot.Axes.Bottom.TickGenerator = xTicks;
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        double lo = Math.Floor(Timings.Min(t => Math.Log10(seconds(t))));
        double hi = Math.Ceiling(Timings.Max(t => Math.Log10(seconds(t))));
        for (double e = lo; e <= hi; e++)
        {
            yTicks.AddMajor(e, BenchRecord.FormatSeconds(Math.Pow(10, e)));
        }
        plot.Axes.Left.TickGenerator = yTicks;
        plot.XLabel("dimension d (log scale)");
        plot.YLabel("median time (log scale)");
        plot.Title(title + " (surrogate: solid, dots; exact W2: dashed, squares)");
        plot.ShowLegend(Alignment.UpperLeft);
    }
}

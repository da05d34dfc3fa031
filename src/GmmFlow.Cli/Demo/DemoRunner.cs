using System.Diagnostics;
using System.Globalization;
using GmmFlow.Cli.Figures;

namespace GmmFlow.Cli.Demo;

/// <summary>
/// The `gmmflow demo` pipeline, per case: fit both mixtures by EM on one sample set, build the W2, surrogate and
/// SB (σ = 0.1, 1) plans, transport fresh source points, and score them against fresh target points; then draw the
/// pictures and write the index. Everything is seeded from <see cref="DemoSettings.Seed"/>.
/// </summary>
internal static class DemoRunner
{
    /// <summary>One plan of a case and its transported points: frames × N × 2 positions, and each point's arrival component.</summary>
    private sealed record PlanRun(DemoPlanSpec Spec, TransportPlan Plan, double[] Trajectory, int Frames, int[] Arrival);

    public static DemoResult Run(DemoSettings settings, DemoOutput output, DemoProgress progress)
    {
        var clock = Stopwatch.StartNew();
        var fitCases = settings.Cases(fresh: false);
        var evalCases = settings.Cases(fresh: true);
        var results = new List<DemoCaseResult>();
        for (int c = 0; c < fitCases.Count; c++)
        {
            results.Add(RunCase(settings, c, fitCases[c], evalCases[c], output, progress, $"[{c + 1}/{fitCases.Count}]"));
        }
        var momentum = MomentumDemo.Execute(settings, output, progress, $"[{fitCases.Count + 1}/{fitCases.Count + 1}]");
        var result = new DemoResult(settings, output.Directory, results, clock.Elapsed.TotalSeconds, momentum);
        output.Write(DemoOutput.ResultsFile, DemoReport.Json(result));
        output.Write(DemoOutput.IndexFile, DemoReport.Markdown(result));
        return result;
    }

    private static DemoCaseResult RunCase(DemoSettings settings, int index, DemoCase fitData, DemoCase eval, DemoOutput output,
        DemoProgress progress, string counter)
    {
        const int d = 2;
        var inv = CultureInfo.InvariantCulture;
        string name = fitData.Name;
        progress.Stage(string.Create(inv,
            $"{counter} {name}: EM fit of K0 = {fitData.SourceComponents} and K1 = {fitData.TargetComponents} components to {fitData.Source.Length / d} points each"));
        var clock = Stopwatch.StartNew();
        var fitOptions = new GaussianMixtureFitOptions
        {
            Initializations = settings.FitInitializations,
            Seed = settings.Derive(100 + (ulong)index),
        };
        var sourceFit = GaussianMixtureFitter.Fit(fitData.Source, d, fitData.SourceComponents, fitOptions);
        var targetFit = GaussianMixtureFitter.Fit(fitData.Target, d, fitData.TargetComponents, fitOptions);
        GaussianMixture source = sourceFit.Mixture, target = targetFit.Mixture;
        double fitSeconds = Seconds(clock);

        clock.Restart();
        var regime = RegimeTable.Compute(GaussianFactors.FromMixture(source, "source"), GaussianFactors.FromMixture(target, "target"));
        double regimeSeconds = Seconds(clock);

        // Fixed bandwidths per case, so the MMD² rows compare: h·{⅛, ¼, ½, 1} with h the median distance of the pooled
        // fresh source and target points. The smaller scales resolve single components (the median spans the whole picture).
        double h = SampleMetrics.MedianHeuristicBandwidths(eval.Source, eval.Target, d)[1];
        double[] bandwidths = [h / 8, h / 4, h / 2, h];
        int n = eval.Source.Length / d;
        var rows = new List<DemoRow>();

        clock.Restart();
        rows.Add(BaselineRow("source (t = 0)", eval.Source, eval, target, bandwidths, settings, clock));
        clock.Restart();
        double[] fitted = target.Sample(n, settings.Derive(200 + (ulong)index));
        rows.Add(BaselineRow("fitted target", fitted, eval, target, bandwidths, settings, clock));

        var runs = new List<PlanRun>();
        for (int p = 0; p < DemoSettings.Plans.Count; p++)
        {
            var spec = DemoSettings.Plans[p];
            progress.Stage($"{counter} {name}: {spec.Label}: costs + LP, transport of {n} points ({settings.Steps} steps), metrics");
            clock.Restart();
            var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = spec.Cost, Noise = spec.Noise });
            double lpSeconds = Seconds(clock);

            clock.Restart();
            var run = new TransportRunOptions
            {
                Steps = settings.Steps,
                SaveEvery = 1,
                Seed = settings.Derive(300 + (ulong)(index * 16 + p)),
                Progress = progress.Percent($"{name} {spec.Label} transport"),
            };
            int frames = TransportPlan.TrajectorySnapshots(run);
            var trajectory = new double[(long)frames * eval.Source.Length];
            double[] moved = plan.Transport(eval.Source, run, trajectory);
            double transportSeconds = Seconds(clock);

            clock.Restart();
            (double kinetic, double se) = plan.KineticCost(settings.KineticSamplesPerNode, settings.KineticNodes, settings.Derive(400 + (ulong)(index * 16 + p)));
            double mmd = SampleMetrics.MmdSquared(moved, eval.Target, d, bandwidths);
            double sw2 = SampleMetrics.SlicedWasserstein2Squared(moved, eval.Target, d, settings.SlicedDirections, settings.Derive(500));
            int[] arrival = Labels(target, moved);
            double mass = MassError(arrival, target);
            double metricsSeconds = Seconds(clock);

            rows.Add(new DemoRow(spec.Label, spec, plan.Pairs.Count, plan.Objective, kinetic, se, mmd, sw2, mass, lpSeconds, transportSeconds, metricsSeconds));
            runs.Add(new PlanRun(spec, plan, trajectory, frames, arrival));
        }

        var published = new List<PublishedCheck>();
        if (name == DemoDatasets.ToyName)
        {
            var (exactSource, exactTarget, values) = DemoDatasets.ExactToy();
            foreach (var (epsilon, objective) in values)
            {
                var options = epsilon == 0
                    ? new TransportOptions { Cost = CostKind.Wasserstein }
                    : new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = Math.Sqrt(epsilon), CostVariant = SchrodingerCostVariant.GmmFlowReference };
                double computed = TransportPlan.Create(exactSource, exactTarget, options).Objective;
                published.Add(new PublishedCheck(epsilon == 0 ? "W2²" : string.Create(inv, $"SB ε = {epsilon:g}"), options.Noise, computed, objective));
            }
        }

        progress.Stage($"{counter} {name}: pictures");
        clock.Restart();
        var figures = DrawFigures(settings, fitData, eval, source, target, regime, runs, output);
        double figureSeconds = Seconds(clock);

        return new DemoCaseResult(name, fitData.Title, source.ComponentCount, target.ComponentCount,
            sourceFit.Converged && targetFit.Converged, fitSeconds, regimeSeconds, figureSeconds,
            regime.Pairs.Length, regime.SurrogateAccurateCount, regime.MaxRelativeGap, bandwidths, rows, published, figures);
    }

    private static DemoRow BaselineRow(string label, double[] points, DemoCase eval, GaussianMixture target, double[] bandwidths,
        DemoSettings settings, Stopwatch clock)
    {
        double mmd = SampleMetrics.MmdSquared(points, eval.Target, 2, bandwidths);
        double sw2 = SampleMetrics.SlicedWasserstein2Squared(points, eval.Target, 2, settings.SlicedDirections, settings.Derive(500));
        double mass = MassError(Labels(target, points), target);
        return new DemoRow(label, null, null, null, null, null, mmd, sw2, mass, null, null, Seconds(clock));
    }

    private static IReadOnlyList<DemoFigure> DrawFigures(DemoSettings settings, DemoCase fitData, DemoCase eval,
        GaussianMixture source, GaussianMixture target, RegimeTable regime,
        List<PlanRun> runs,
        DemoOutput output)
    {
        string name = fitData.Name;
        var figures = new List<DemoFigure>();
        var sourceEllipses = Ellipses(source);
        var targetEllipses = Ellipses(target);

        Write(output, $"{name}-mixtures", DemoFigures.Mixtures($"{fitData.Title}: samples and EM fits", fitData.Source, fitData.Target,
            sourceEllipses, targetEllipses));
        figures.Add(new($"{name}-mixtures.png",
            $"{fitData.Title}: the {fitData.Source.Length / 2} + {fitData.Target.Length / 2} points EM was fitted to, with the fitted components' 2σ ellipses (line width ∝ weight) and means (+). Also as SVG."));

        // σ = 1 paths are Brownian scribbles: fewer of them keep that panel readable.
        int drawn = Math.Min(settings.DrawnPaths, eval.Source.Length / 2), drawnNoisy = Math.Max(1, 2 * drawn / 5);
        var panels = runs.Select(r => new TrajectoryPanel(PanelTitle(r.Spec), r.Trajectory, r.Frames, r.Arrival, r.Spec.Noise >= 0.5 ? drawnNoisy : drawn)).ToList();
        string paths = string.Create(CultureInfo.InvariantCulture, $"Paths of {drawn} fresh source points per panel ({drawnNoisy} for σ = 1)");
        Write(output, $"{name}-trajectories", [DemoFigures.Trajectories(fitData.Title,
            $"{paths}. Black dot: start; coloured dot: t = 1; colour: the fitted target component reached; grey: target 2σ ellipses.",
            panels, eval.Source, eval.Target, targetEllipses)]);
        figures.Add(new($"{name}-trajectories.png",
            $"{paths} under each plan, coloured by the target component they reach (black dots: starts; grey: fitted target ellipses)."));

        var times = DemoSettings.SnapshotTimes;
        var snapshotRows = new List<SnapshotRow>();
        int n = eval.Source.Length / 2;
        for (int p = 0; p < runs.Count; p++)
        {
            var r = runs[p];
            var particles = new List<double[]>();
            var marginal = new List<IReadOnlyList<Ellipse2D>>();
            foreach (double t in times)
            {
                // Frame f holds t = f / Steps (SaveEvery = 1).
                int f = (int)Math.Round(t * settings.Steps);
                particles.Add(r.Trajectory.AsSpan(f * n * 2, n * 2).ToArray());
                marginal.Add(MarginalComponents(r.Plan, t));
            }
            snapshotRows.Add(new SnapshotRow(r.Spec.Label, particles, marginal, r.Arrival));
        }
        Write(output, $"{name}-snapshots", [DemoFigures.Snapshots(fitData.Title, times, snapshotRows)]);
        figures.Add(new($"{name}-snapshots.png",
            "Transported points at t = 0, ¼, ½, ¾, 1 (one row per plan, coloured by the target component reached) over the 2σ ellipses of the components of the plan's exact marginal ρ_t."));

        var pairs = regime.Pairs;
        var delta = new double[pairs.Length];
        var gap = new double[pairs.Length];
        var accurate = new bool[pairs.Length];
        var active = new bool[pairs.Length];
        for (int k = 0; k < pairs.Length; k++)
        {
            delta[k] = pairs[k].WhitenedPerturbation;
            gap[k] = pairs[k].RelativeGap;
            accurate[k] = pairs[k].Regime == TransportRegime.SurrogateAccurate;
        }
        foreach (var e in runs[0].Plan.Pairs)
        {
            active[e.Source * regime.TargetCount + e.Target] = true;
        }
        Write(output, $"{name}-regime", DemoFigures.RegimeMap(
            string.Create(CultureInfo.InvariantCulture, $"{fitData.Title}: surrogate vs W2 on all {pairs.Length} fitted pairs"),
            delta, gap, accurate, active, regime.Threshold));
        figures.Add(new($"{name}-regime.png",
            $"Regime map: each fitted (source, target) component pair at its whitened perturbation δ and relative gap (C_sur − W2²)/W2²; circled: pairs the W2 plan uses. Also as SVG."));
        return figures;
    }

    private static string PanelTitle(DemoPlanSpec spec) => spec.Cost switch
    {
        CostKind.Wasserstein => "W2 geodesics (Heun)",
        CostKind.Surrogate => "surrogate linear paths (Heun)",
        _ => string.Create(CultureInfo.InvariantCulture, $"Schrödinger bridge σ = {spec.Noise:g} (Euler–Maruyama)"),
    };

    private static void Write(DemoOutput output, string stem, IReadOnlyList<RenderedFigure> rendered)
    {
        foreach (var r in rendered)
        {
            output.Write($"{stem}.{r.Extension}", r.Content);
        }
    }

    /// <summary>The components λ_p N(m_p(t), Σ_p(t)) of the plan's exact marginal ρ_t (GMMflow Thm. 1).</summary>
    internal static List<Ellipse2D> MarginalComponents(TransportPlan plan, double t)
    {
        var list = new List<Ellipse2D>();
        Span<double> mean = stackalloc double[2];
        Span<double> covariance = stackalloc double[4];
        for (int p = 0; p < plan.Pairs.Count; p++)
        {
            plan.Bridges[p].Mean(t, mean);
            plan.Bridges[p].Covariance(t, covariance);
            list.Add(new Ellipse2D(mean[0], mean[1], covariance[0], covariance[1], covariance[3], plan.Pairs[p].Weight));
        }
        return list;
    }

    internal static List<Ellipse2D> Ellipses(GaussianMixture mixture)
    {
        var list = new List<Ellipse2D>();
        var means = mixture.Means;
        var covariances = mixture.Covariances;
        for (int k = 0; k < mixture.ComponentCount; k++)
        {
            list.Add(new Ellipse2D(means[2 * k], means[2 * k + 1], covariances[4 * k], covariances[4 * k + 1], covariances[4 * k + 3], mixture.Weights[k]));
        }
        return list;
    }

    internal static int[] Labels(GaussianMixture target, double[] points)
    {
        var labels = new int[points.Length / 2];
        target.Predict(points, labels);
        return labels;
    }

    /// <summary>½ Σ_j |n_j/N − b_j| over the fitted target components (n_j: points whose most probable component is j).</summary>
    internal static double MassError(int[] labels, GaussianMixture target)
    {
        var counts = new double[target.ComponentCount];
        foreach (int l in labels)
        {
            counts[l]++;
        }
        double tv = 0;
        for (int j = 0; j < counts.Length; j++)
        {
            tv += Math.Abs(counts[j] / labels.Length - target.Weights[j]);
        }
        return tv / 2;
    }

    private static double Seconds(Stopwatch clock) => clock.Elapsed.TotalSeconds;
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using GmmFlow.Cli.Figures;

namespace GmmFlow.Cli.Demo;

/// <summary>One plan of the momentum case.</summary>
internal sealed record MomentumRow(string Label, string Dynamics, double Noise, int ActivePairs, double Objective, double MmdSquared,
    double SlicedW2, double MassError, double PlanSeconds, double TransportSeconds);

/// <summary>The momentum case: the GMMflow toy's exact mixtures moved under the double integrator (positions plotted).</summary>
internal sealed record MomentumResult(string Name, string Title, double VelocityStd, double BaselineMmd, IReadOnlyList<MomentumRow> Rows,
    IReadOnlyList<DemoFigure> Figures);

/// <summary>
/// `gmmflow demo`'s momentum case (docs/theory/linear-dynamics.md#demo): source N(0, 0.4 I) and the 8-Gaussian ring on
/// positions, each component given velocities N(0, I), transported under the double integrator ẍ = u (+ σ noise on the
/// velocities) with σ = 0 and σ = 1, next to the Brownian Schrödinger bridge σ = 1 on positions. Paths curve: a
/// particle starts with a random velocity and must arrive with one drawn from the target's law.
/// </summary>
internal static class MomentumDemo
{
    public const string Name = "toy8-momentum";
    private const double VelocityStd = 1.0;

    public static IEnumerable<string> FileNames => [$"{Name}-trajectories.png", $"{Name}-snapshots.png"];

    private sealed record Run(string Label, MomentumRow Row, double[] Positions, int Frames, int[] Arrival, Func<double, List<Ellipse2D>> Marginal);

    public static MomentumResult Execute(DemoSettings settings, DemoOutput output, DemoProgress progress, string counter)
    {
        var inv = CultureInfo.InvariantCulture;
        var (source2, target2, _) = DemoDatasets.ExactToy();
        var dynamics = LinearDynamics.DoubleIntegrator(2);
        var source = PhaseSpace.Lift(source2, VelocityStd);
        var target = PhaseSpace.Lift(target2, VelocityStd);
        int n = settings.TransportSamples;
        double[] x0 = source.Sample(n, settings.Derive(600));
        double[] start = PhaseSpace.Positions(x0, 2);
        double[] reference = target2.Sample(n, settings.Derive(601));
        double h = SampleMetrics.MedianHeuristicBandwidths(start, reference, 2)[1];
        double[] bandwidths = [h / 8, h / 4, h / 2, h];
        double baseline = SampleMetrics.MmdSquared(start, reference, 2, bandwidths);

        var runs = new List<Run>();
        foreach (double sigma in new[] { 0.0, 1.0 })
        {
            string label = string.Create(inv, $"momentum σ={sigma:g}");
            progress.Stage($"{counter} {Name}: {label}: linear-bridge costs + LP, transport of {n} states ({settings.Steps} steps)");
            var clock = Stopwatch.StartNew();
            var plan = LinearTransportPlan.Create(source, target, dynamics, new LinearTransportOptions { Noise = sigma });
            double planSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var run = new TransportRunOptions
            {
                Steps = settings.Steps,
                SaveEvery = 1,
                Integrator = sigma > 0 ? Integrator.EulerMaruyama : Integrator.Heun,
                Seed = settings.Derive(602 + (ulong)sigma),
                Progress = progress.Percent($"{Name} {label} transport"),
            };
            int frames = TransportPlan.TrajectorySnapshots(run);
            var trajectory = new double[(long)frames * x0.Length];
            plan.Transport(x0, run, trajectory);
            double transportSeconds = clock.Elapsed.TotalSeconds;
            var positions = PhaseSpace.Positions(trajectory, 2);
            runs.Add(Score(label, "double integrator", sigma, plan.Pairs.Count, plan.Objective, positions, frames, n, reference, target2,
                bandwidths, settings, planSeconds, transportSeconds, t => LinearMarginal(plan, t)));
        }
        {
            const string label = "Brownian SB σ=1";
            progress.Stage($"{counter} {Name}: {label} on positions (no momentum), for contrast");
            var clock = Stopwatch.StartNew();
            var plan = TransportPlan.Create(source2, target2, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 1 });
            double planSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var run = new TransportRunOptions { Steps = settings.Steps, SaveEvery = 1, Seed = settings.Derive(610) };
            int frames = TransportPlan.TrajectorySnapshots(run);
            var trajectory = new double[(long)frames * start.Length];
            plan.Transport(start, run, trajectory);
            double transportSeconds = clock.Elapsed.TotalSeconds;
            runs.Add(Score(label, "brownian", 1, plan.Pairs.Count, plan.Objective, trajectory, frames, n, reference, target2, bandwidths,
                settings, planSeconds, transportSeconds, t => DemoRunner.MarginalComponents(plan, t)));
        }

        progress.Stage($"{counter} {Name}: pictures");
        var targetEllipses = DemoRunner.Ellipses(target2);
        int drawn = Math.Min(settings.DrawnPaths, n);
        var panels = runs.Select(r => new TrajectoryPanel(r.Label, r.Positions, r.Frames, r.Arrival, r.Row.Noise > 0 ? Math.Max(1, 2 * drawn / 5) : drawn)).ToList();
        const string title = "Momentum: N(0, 0.4 I) → 8 Gaussians, velocities N(0, I), double integrator";
        var trajectories = DemoFigures.Trajectories(title,
            "Positions of the particles; the state is (position, velocity) and the control is the acceleration. Black dot: start; " +
            "coloured dot: t = 1; colour: the target component reached.", panels, start, reference, targetEllipses);
        output.Write($"{Name}-trajectories.png", trajectories.Content);
        var times = DemoSettings.SnapshotTimes;
        var rows = runs.Select(r => new SnapshotRow(r.Label,
            times.Select(t => r.Positions.AsSpan((int)Math.Round(t * settings.Steps) * n * 2, n * 2).ToArray()).ToList(),
            times.Select(t => (IReadOnlyList<Ellipse2D>)r.Marginal(t)).ToList(), r.Arrival)).ToList();
        var snapshots = DemoFigures.Snapshots(title, times, rows);
        output.Write($"{Name}-snapshots.png", snapshots.Content);
        var figures = new List<DemoFigure>
        {
            new($"{Name}-trajectories.png",
                "Position paths under the double integrator with σ = 0 and σ = 1 (noise on the velocities only), and the Brownian SB σ = 1 on positions: " +
                "momentum paths are smooth and curve from each particle's random initial velocity."),
            new($"{Name}-snapshots.png",
                "Positions at t = 0, ¼, ½, ¾, 1 over the position marginals (2σ ellipses) of the plans' exact ρ_t components."),
        };
        return new MomentumResult(Name, title, VelocityStd, baseline, [.. runs.Select(r => r.Row)], figures);
    }

    private static Run Score(string label, string dynamics, double sigma, int pairs, double objective, double[] positions, int frames, int n,
        double[] reference, GaussianMixture target2, double[] bandwidths, DemoSettings settings, double planSeconds, double transportSeconds,
        Func<double, List<Ellipse2D>> marginal)
    {
        var final = positions.AsSpan((frames - 1) * n * 2, n * 2).ToArray();
        double mmd = SampleMetrics.MmdSquared(final, reference, 2, bandwidths);
        double sw2 = SampleMetrics.SlicedWasserstein2Squared(final, reference, 2, settings.SlicedDirections, settings.Derive(500));
        int[] arrival = DemoRunner.Labels(target2, final);
        double mass = DemoRunner.MassError(arrival, target2);
        var row = new MomentumRow(label, dynamics, sigma, pairs, objective, mmd, sw2, mass, planSeconds, transportSeconds);
        return new Run(label, row, positions, frames, arrival, marginal);
    }

    /// <summary>Position blocks of the components λ_p N(m_p(t), Σ_p(t)) of the linear plan's exact marginal.</summary>
    private static List<Ellipse2D> LinearMarginal(LinearTransportPlan plan, double t)
    {
        var list = new List<Ellipse2D>();
        var mean = new double[4];
        var cov = new double[16];
        for (int p = 0; p < plan.Pairs.Count; p++)
        {
            plan.Bridges[p].Mean(t, mean);
            plan.Bridges[p].Covariance(t, cov);
            list.Add(new Ellipse2D(mean[0], mean[1], cov[0], cov[1], cov[5], plan.Pairs[p].Weight));
        }
        return list;
    }

    public static void WriteJson(Utf8JsonWriter w, MomentumResult m)
    {
        w.WriteStartObject("momentum");
        w.WriteString("name", m.Name);
        w.WriteString("title", m.Title);
        w.WriteNumber("velocityStd", m.VelocityStd);
        w.WriteNumber("baselineMmdSquared", m.BaselineMmd);
        w.WriteStartArray("rows");
        foreach (var r in m.Rows)
        {
            w.WriteStartObject();
            w.WriteString("label", r.Label);
            w.WriteString("dynamics", r.Dynamics);
            w.WriteNumber("noise", r.Noise);
            w.WriteNumber("activePairs", r.ActivePairs);
            w.WriteNumber("objective", r.Objective);
            w.WriteNumber("mmdSquared", r.MmdSquared);
            w.WriteNumber("slicedW2Squared", r.SlicedW2);
            w.WriteNumber("massError", r.MassError);
            w.WriteNumber("planSeconds", r.PlanSeconds);
            w.WriteNumber("transportSeconds", r.TransportSeconds);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        DemoReport.WriteFigures(w, m.Figures);
        w.WriteEndObject();
    }

    public static string Text(MomentumResult m, bool markdown)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(markdown ? $"## {m.Name}: {m.Title}" : $"{m.Name}: {m.Title}");
        sb.AppendLine();
        sb.AppendLine(string.Create(inv, $"{(markdown ? "" : "  ")}Exact toy mixtures lifted to (position, velocity) with velocities N(0, {m.VelocityStd:g}² I); " +
            $"LP objective = Σ λ J (exact kinetic energy of the linear bridges). Untransported positions: MMD² {m.BaselineMmd:0.00e+00}."));
        sb.AppendLine();
        string[] header = ["plan", "pairs", "LP objective", "MMD²", "SW2²", "mass err", "plan s", "transport s"];
        var cells = m.Rows.Select(r => new[]
        {
            r.Label, r.ActivePairs.ToString(inv), r.Objective.ToString("F4", inv), r.MmdSquared.ToString("0.00e+00", inv),
            r.SlicedW2.ToString("0.00e+00", inv), r.MassError.ToString("F3", inv), r.PlanSeconds.ToString("F3", inv), r.TransportSeconds.ToString("F3", inv),
        }).ToList();
        if (markdown)
        {
            DemoReport.AppendMarkdownTable(sb, header, k => k == 0, cells);
            DemoReport.AppendMarkdownFigures(sb, m.Figures);
            return sb.ToString();
        }
        var widths = header.Select((h, k) => Math.Max(h.Length, cells.Max(r => r[k].Length))).ToArray();
        foreach (var r in cells.Prepend(header))
        {
            sb.Append("  ").AppendLine(string.Join("  ", r.Select((c, k) => k == 0 ? c.PadRight(widths[k]) : c.PadLeft(widths[k]))));
        }
        sb.AppendLine();
        return sb.ToString();
    }
}

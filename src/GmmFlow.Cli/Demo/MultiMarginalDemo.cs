using GmmFlow.Cli.Figures;

namespace GmmFlow.Cli.Demo;

/// <summary>
/// `gmmflow demo`'s multi-marginal case (docs/theory/multimarginal.md#synthetic-data): five snapshots of two branching
/// populations drifting with momentum (<see cref="BranchingSnapshots"/>, 2-D), a mixture fitted to each, and the
/// multi-marginal momentum bridge through all five next to the Brownian piecewise bridge (consecutive two-marginal
/// Schrödinger bridges). Writes trajectory and snapshot pictures.
/// </summary>
internal static class MultiMarginalDemo
{
    public const string Name = "branching-multimarginal";
    private const double Noise = 0.1;
    private const int Components = 4;

    public static IEnumerable<string> FileNames => [$"{Name}-trajectories.png", $"{Name}-snapshots.png"];

    public static void Execute(DemoSettings settings, DemoOutput output, DemoProgress progress, string counter)
    {
        double[] times = [0, 1, 2, 3, 4];
        int n = settings.TransportSamples;
        progress.Stage($"{counter} {Name}: fit {times.Length} snapshots, tuple costs + multi-marginal LP, transport of {n} particles");
        var data = BranchingSnapshots.Generate(2, Math.Max(n, 1000), settings.Derive(700), populations: 2);
        var mixtures = data.Select((x, k) => GaussianMixtureFitter.Fit(x, 2, Components, new GaussianMixtureFitOptions { Seed = settings.Derive(710 + (ulong)k) }).Mixture).ToList();
        var plan = MultiMarginalPlan.Create(times, mixtures, new MultiMarginalOptions { Noise = Noise });
        int framesPerUnit = Math.Max(4, settings.Steps / 4);
        int frames = (times.Length - 1) * framesPerUnit + 1;
        var frameTimes = Enumerable.Range(0, frames).Select(f => (double)f / framesPerUnit).ToArray();
        var start = mixtures[0].Sample(n, settings.Derive(720));
        var momentum = plan.Transport(start, frameTimes, new MomentumRunOptions { Steps = 4 * framesPerUnit * 2, Seed = settings.Derive(721) });

        // Brownian piecewise baseline: a two-marginal SB per segment (noise variance σ² per unit time), chained.
        var brownian = new double[frames * n * 2];
        start.CopyTo(brownian, 0);
        var x = start;
        for (int k = 0; k + 1 < times.Length; k++)
        {
            var segment = TransportPlan.Create(mixtures[k], mixtures[k + 1], new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = Noise });
            var run = new TransportRunOptions { Steps = framesPerUnit, SaveEvery = 1, Seed = settings.Derive(730 + (ulong)k) };
            var trajectory = new double[TransportPlan.TrajectorySnapshots(run) * n * 2];
            x = segment.Transport(x, run, trajectory);
            trajectory.AsSpan(n * 2).CopyTo(brownian.AsSpan((k * framesPerUnit + 1) * n * 2));
        }

        var last = mixtures[^1];
        var reference = last.Sample(n, settings.Derive(740));
        int[] arrivalM = DemoRunner.Labels(last, momentum.AsSpan((frames - 1) * n * 2, n * 2).ToArray());
        int[] arrivalB = DemoRunner.Labels(last, brownian.AsSpan((frames - 1) * n * 2, n * 2).ToArray());
        int drawn = Math.Min(settings.DrawnPaths, n);
        const string title = "Branching populations, 5 snapshots: momentum bridge vs Brownian piecewise bridge";
        var panels = new List<TrajectoryPanel>
        {
            new($"momentum σ={Noise:g} (multi-marginal LP, {plan.Tuples.Count} tuples)", momentum, frames, arrivalM, drawn),
            new($"Brownian SB σ={Noise:g}, segment by segment", brownian, frames, arrivalB, drawn),
        };
        var trajectories = DemoFigures.Trajectories(title,
            "Positions; the momentum bridge's state is (position, velocity) with velocities free at every snapshot. " +
            "Colour: the last snapshot's component reached.", panels, start, reference, DemoRunner.Ellipses(last));
        output.Write($"{Name}-trajectories.png", trajectories.Content);
        var rows = new List<SnapshotRow>
        {
            new("momentum", times.Select(t => momentum.AsSpan((int)Math.Round(t * framesPerUnit) * n * 2, n * 2).ToArray()).ToList(),
                times.Select((t, k) => (IReadOnlyList<Ellipse2D>)DemoRunner.Ellipses(mixtures[k])).ToList(), arrivalM),
            new("Brownian piecewise", times.Select(t => brownian.AsSpan((int)Math.Round(t * framesPerUnit) * n * 2, n * 2).ToArray()).ToList(),
                times.Select((t, k) => (IReadOnlyList<Ellipse2D>)DemoRunner.Ellipses(mixtures[k])).ToList(), arrivalB),
        };
        output.Write($"{Name}-snapshots.png", DemoFigures.Snapshots(title, times, rows).Content);
    }
}

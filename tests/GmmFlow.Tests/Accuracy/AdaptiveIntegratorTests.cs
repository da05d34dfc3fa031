using GmmFlow.Tests.Integrators;

namespace GmmFlow.Tests.Accuracy;

/// <summary>
/// Dormand–Prince 5(4) with step-size control against closed-form flows (docs/theory/transport-accuracy.md#adaptive):
/// the error follows the tolerance, the steps grow like tol^(−1/5), snapshots land on their grid times, stiff decay
/// stays stable, and the fixed-step refinement (substeps) keeps the fixed-step schemes' results.
/// </summary>
public class AdaptiveIntegratorTests
{
    // The rotating, decaying and growing linear field of the fixed-step tests, with its exact flow exp(τA).
    private static readonly double[] RotationDecay = IntegratorsTests.RotationDecay;
    private static readonly double[] Start = [1.0, -0.5, 0.8, -1.2, 0.3, 0.1, 0.02, 3.0, -2.0];

    private static double[] Exact(double[] x0, double tau) => IntegratorsTests.ExactRotationDecay(x0, tau);

    private static double MaxError(double[] a, double[] b) => IntegratorsTests.MaxError(a, b);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Error_follows_the_tolerance_and_steps_grow_like_its_fifth_root(bool timeDependent)
    {
        // v = cos t · A x has the flow map exp((sin t1 − sin t0) A); on [0.3, 2.7] cos t changes sign (a turning flow).
        double t0 = 0.3, t1 = 2.7, tau = timeDependent ? Math.Sin(t1) - Math.Sin(t0) : t1 - t0;
        double[] exact = Exact(Start, tau);
        var tolerances = new[] { 1e-4, 1e-6, 1e-8, 1e-10 };
        var errors = new double[tolerances.Length];
        var steps = new int[tolerances.Length];
        for (int i = 0; i < tolerances.Length; i++)
        {
            double[] x = (double[])Start.Clone();
            var stats = FlowIntegrator.DormandPrince(new LinearField(RotationDecay, 3, timeDependent), x,
                new IntegrationOptions { StartTime = t0, EndTime = t1, Tolerance = tolerances[i], AbsoluteTolerance = tolerances[i] });
            errors[i] = MaxError(x, exact);
            steps[i] = stats.AcceptedSteps;
            Assert.Equal(6 * (stats.AcceptedSteps + stats.RejectedSteps) + 2, stats.Evaluations);
            // The global error is a modest multiple of the per-step tolerance (scale ~3 here, a few dozen steps).
            Assert.True(errors[i] < 50 * tolerances[i] * 3, $"tol {tolerances[i]:g}: error {errors[i]:g3} ({steps[i]} steps)");
        }
        for (int i = 1; i < tolerances.Length; i++)
        {
            Assert.True(errors[i] < errors[i - 1], $"error did not fall: {string.Join(", ", errors)}");
            // Fifth order: 100× tighter tolerance → 100^(1/5) ≈ 2.5× the steps (2.0–3.5 allows for the controller's quantisation).
            double ratio = steps[i] / (double)steps[i - 1];
            Assert.InRange(ratio, 1.8, 3.6);
        }
    }

    [Fact]
    public void Snapshots_land_on_the_grid_times_and_backward_runs_invert_forward_ones()
    {
        var options = new IntegrationOptions { StartTime = 0, EndTime = 2, Steps = 8, SaveEvery = 2, Tolerance = 1e-9, AbsoluteTolerance = 1e-9 };
        int snapshots = FlowIntegrator.SnapshotCount(options);
        Assert.Equal(5, snapshots);
        double[] x = (double[])Start.Clone();
        var trajectory = new double[snapshots * x.Length];
        FlowIntegrator.DormandPrince(new LinearField(RotationDecay, 3), x, options, trajectory);
        for (int s = 0; s < snapshots; s++)
        {
            double[] exact = Exact(Start, 0.5 * s);
            Assert.True(MaxError(trajectory.AsSpan(s * x.Length, x.Length).ToArray(), exact) < 1e-7, $"snapshot {s}");
        }
        var back = new IntegrationOptions { StartTime = 2, EndTime = 0, Tolerance = 1e-9, AbsoluteTolerance = 1e-9 };
        FlowIntegrator.DormandPrince(new LinearField(RotationDecay, 3), x, back);
        Assert.True(MaxError(x, Start) < 1e-7);
    }

    [Fact]
    public void Stiff_decay_stays_stable_and_accurate()
    {
        // x' = −2000 x + 0: explicit Heun with 100 steps on [0, 1] diverges (|1 + hλ + (hλ)²/2| = 181); DP5 must not.
        double[] a = [-2000];
        double[] x = [1.0, -3.0];
        var stats = FlowIntegrator.DormandPrince(new LinearField(a, 1), x, new IntegrationOptions { Tolerance = 1e-6, AbsoluteTolerance = 1e-6 });
        Assert.All(x, v => Assert.True(Math.Abs(v) < 1e-5, $"{v}"));
        Assert.True(stats.AcceptedSteps < 1000, $"{stats}");
        double[] h = [1.0];
        FlowIntegrator.Heun(new LinearField(a, 1), h, new IntegrationOptions { Steps = 100 });
        Assert.True(Math.Abs(h[0]) > 1e10);
    }

    [Fact]
    public void Exceeding_MaxSteps_fails_loudly_and_leaves_the_states()
    {
        double[] x = (double[])Start.Clone();
        var e = Assert.Throws<InvalidOperationException>(() => FlowIntegrator.DormandPrince(new LinearField(RotationDecay, 3), x,
            new IntegrationOptions { EndTime = 50, Tolerance = 1e-12, AbsoluteTolerance = 1e-12, MaxSteps = 20 }));
        Assert.Contains("MaxSteps = 20", e.Message);
        Assert.Equal(Start, x);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => FlowIntegrator.DormandPrince(new LinearField(RotationDecay, 3), x,
            new IntegrationOptions { CancellationToken = cts.Token }));
        Assert.Equal(Start, x);
    }

    [Fact]
    public void Substeps_of_one_are_the_plain_grid_and_finer_substeps_converge()
    {
        var field = new LinearField(RotationDecay, 3);
        double[] plain = (double[])Start.Clone(), ones = (double[])Start.Clone(), fine = (double[])Start.Clone();
        FlowIntegrator.EulerMaruyama(field, plain, 0.3, 5, new IntegrationOptions { Steps = 10 });
        FlowIntegrator.EulerMaruyama(field, ones, 0.3, 5, new IntegrationOptions { Steps = 10, Substeps = Enumerable.Repeat(1, 10).ToArray() });
        Assert.Equal(plain, ones); // bit for bit, noise included
        FlowIntegrator.Euler(field, fine, new IntegrationOptions { Steps = 10, Substeps = Enumerable.Repeat(100, 10).ToArray() });
        Assert.True(MaxError(fine, Exact(Start, 1)) < 5e-3);
        Assert.Throws<ArgumentException>(() => FlowIntegrator.Euler(field, fine, new IntegrationOptions { Steps = 10, Substeps = [1, 2] }));
    }
}

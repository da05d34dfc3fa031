namespace GmmFlow;

/// <summary>Time grid, output and run control for <see cref="FlowIntegrator"/>.</summary>
public sealed class IntegrationOptions
{
    /// <summary>Shared default: t from 0 to 1 in 100 steps, no trajectory, all processors.</summary>
    public static IntegrationOptions Default { get; } = new();

    /// <summary>Start time t0 (default 0).</summary>
    public double StartTime { get; init; }

    /// <summary>End time t1 (default 1). May be below <see cref="StartTime"/> to integrate backwards.</summary>
    public double EndTime { get; init; } = 1.0;

    /// <summary>Number of equal steps N ≥ 1 (default 100); step k runs from t0 + (t1 − t0)k/N to t0 + (t1 − t0)(k+1)/N.</summary>
    public int Steps { get; init; } = 100;

    /// <summary>
    /// Save a snapshot of all particles every this many steps (0, the default: no trajectory). Snapshots are taken
    /// at step 0 (the initial state), at every multiple of SaveEvery, and at the last step if it is not a multiple;
    /// see <see cref="FlowIntegrator.SnapshotCount"/>.
    /// </summary>
    public int SaveEvery { get; init; }

    /// <summary>
    /// Whether the per-particle updates and noise run on all cores (GmmFlow's shared worker threads, the default) or
    /// on the calling thread only. Results are bit-identical either way.
    /// </summary>
    public bool Parallel { get; init; } = true;

    /// <summary>
    /// Random stream of the first particle (default 0): particle i draws its noise from stream FirstStream + i. Chunks
    /// of one sample set integrated separately with their starting indices here reproduce one run over the whole set.
    /// </summary>
    public ulong FirstStream { get; init; }

    /// <summary>Receives the completed fraction in (0, 1], at most about 100 times per run and always at the end.</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>
    /// Checked before every step; on cancellation (<see cref="OperationCanceledException"/>) the states are left as
    /// they were before the call, and a trajectory holds the snapshots taken so far.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>
    /// Relative error tolerance per step of <see cref="FlowIntegrator.DormandPrince"/> (default 1e-6): a step is accepted
    /// when every particle's scaled error RMS over its coordinates, with scale <see cref="AbsoluteTolerance"/> +
    /// Tolerance·|x|, is at most 1 (docs/theory/transport-accuracy.md#adaptive). Fixed-step schemes ignore it.
    /// </summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>Absolute error tolerance per coordinate of <see cref="FlowIntegrator.DormandPrince"/> (default 1e-6, for data of unit scale).</summary>
    public double AbsoluteTolerance { get; init; } = 1e-6;

    /// <summary>
    /// Most accepted plus rejected steps <see cref="FlowIntegrator.DormandPrince"/> may take (default 100 000); beyond it the
    /// run fails with <see cref="InvalidOperationException"/> instead of silently returning an inaccurate result.
    /// </summary>
    public int MaxSteps { get; init; } = 100_000;

    /// <summary>
    /// Optional refinement of the fixed grid: step k is split into Substeps[k] ≥ 1 equal substeps (length
    /// <see cref="Steps"/>). The SDE step rule of <see cref="TransportPlan"/> uses it; snapshots and progress stay on the
    /// coarse grid, and Euler–Maruyama's noise counters number the substeps.
    /// </summary>
    internal int[]? Substeps { get; init; }

    internal void Validate()
    {
        if (!(Tolerance > 0 && Tolerance < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The relative tolerance must be in (0, 1).");
        }
        if (!(AbsoluteTolerance > 0) || !double.IsFinite(AbsoluteTolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(AbsoluteTolerance), AbsoluteTolerance, "The absolute tolerance must be finite and > 0.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxSteps, 1, nameof(MaxSteps));
        if (Substeps is { } sub && (sub.Length != Steps || sub.Any(m => m < 1)))
        {
            throw new ArgumentException($"Substeps needs {Steps} entries ≥ 1.", nameof(Substeps));
        }
        FiniteCheck.ThrowIfNonFinite(StartTime, "start time", nameof(StartTime));
        FiniteCheck.ThrowIfNonFinite(EndTime, "end time", nameof(EndTime));
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 1, nameof(Steps));
        ArgumentOutOfRangeException.ThrowIfNegative(SaveEvery, nameof(SaveEvery));
    }

    /// <summary>Time at the end of step k (k = 0 is the start), exact at both ends.</summary>
    internal double TimeAt(int k) => k == Steps ? EndTime : StartTime + (EndTime - StartTime) * k / Steps;
}

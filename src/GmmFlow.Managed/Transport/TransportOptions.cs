namespace GmmFlow;

/// <summary>How source and target components are coupled.</summary>
public enum CouplingMethod
{
    /// <summary>Exact linear program (HiGHS): a sparse plan with at most K0 + K1 − 1 active pairs (GMMflow Thm. 1).</summary>
    ExactLp,

    /// <summary>Entropic OT by log-domain Sinkhorn with temperature τ (docs/theory.md#sinkhorn); dense, τ → 0 recovers the LP.</summary>
    Sinkhorn,
}

/// <summary>Which ODE/SDE scheme moves the particles.</summary>
public enum Integrator
{
    /// <summary>
    /// Euler–Maruyama for a noisy Schrödinger-bridge drift (σ &gt; 0) and adaptive Dormand–Prince otherwise; with fixed
    /// <see cref="TransportRunOptions.Steps"/>, Euler–Maruyama or Heun.
    /// </summary>
    Auto,

    /// <summary>Euler–Maruyama, dX = u dt + σ dW (σ = the plan's noise; with σ = 0 it is explicit Euler).</summary>
    EulerMaruyama,

    /// <summary>Heun (explicit trapezoid), second order, deterministic fields only.</summary>
    Heun,

    /// <summary>Classical fourth-order Runge–Kutta, deterministic fields only.</summary>
    RungeKutta4,

    /// <summary>Adaptive Dormand–Prince 5(4) with error control (<see cref="TransportRunOptions.Tolerance"/>), deterministic fields only.</summary>
    DormandPrince,
}

/// <summary>How a <see cref="TransportPlan"/> is built from two mixtures.</summary>
public sealed record TransportOptions
{
    /// <summary>Pair cost and bridge: W2 geodesic, surrogate linear path, or Schrödinger bridge.</summary>
    public CostKind Cost { get; init; } = CostKind.Wasserstein;

    /// <summary>
    /// σ ≥ 0, the diffusion coefficient of dX = u dt + σ dW (ε = σ² is the noise variance; POT/OTT's reg = 2σ²).
    /// Used by <see cref="CostKind.SchrodingerBridge"/> and <see cref="CostKind.EntropicTransport"/>; σ = 0 is the W2 limit.
    /// </summary>
    public double Noise { get; init; }

    /// <summary>Which Schrödinger-bridge number enters the LP (the plan is the same for either at a fixed σ).</summary>
    public SchrodingerCostVariant CostVariant { get; init; } = SchrodingerCostVariant.KineticEnergy;

    /// <summary>Exact LP (default) or entropic Sinkhorn.</summary>
    public CouplingMethod Coupling { get; init; } = CouplingMethod.ExactLp;

    /// <summary>
    /// Sinkhorn temperature τ in cost units; null picks 1e-2 × the largest pair cost. Ignored by the LP.
    /// </summary>
    public double? SinkhornTemperature { get; init; }

    /// <summary>Sinkhorn tolerance and iteration cap (null: defaults of <see cref="SinkhornOptions"/>).</summary>
    public SinkhornOptions? Sinkhorn { get; init; }

    /// <summary>
    /// Sinkhorn plans are dense; entries below this fraction of the largest are not made active pairs (their mass
    /// is reported in <see cref="TransportPlan.DroppedMass"/>, never silently lost).
    /// </summary>
    public double SinkhornPruneRatio { get; init; } = 1e-9;

    internal void Validate()
    {
        if (!double.IsFinite(Noise) || Noise < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Noise), Noise, "noise σ must be finite and ≥ 0.");
        }
        SupportedRange.CheckNoise(Noise, nameof(Noise));
        if (SinkhornTemperature is { } tau && (!double.IsFinite(tau) || tau <= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(SinkhornTemperature), tau, "the Sinkhorn temperature τ must be finite and > 0.");
        }
        if (!(SinkhornPruneRatio >= 0 && SinkhornPruneRatio < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(SinkhornPruneRatio), SinkhornPruneRatio, "must be in [0, 1).");
        }
    }
}

/// <summary>How <see cref="TransportPlan.Transport"/> integrates particles.</summary>
public sealed record TransportRunOptions
{
    /// <summary>
    /// Fixed number of equal time steps from t = 0 to 1, or null (the default) to let the accuracy control choose them
    /// (docs/theory/transport-accuracy.md): adaptive Dormand–Prince steps for deterministic fields and, for
    /// Euler–Maruyama, the stiffness rule that keeps |λ(gain)|·h ≤ <see cref="StiffnessBound"/>. Heun and RK4 take
    /// 100 steps when this is null.
    /// </summary>
    public int? Steps { get; init; }

    /// <summary>Scheme; <see cref="Integrator.Auto"/> picks Euler–Maruyama for a noisy SB drift, Dormand–Prince (fixed steps: Heun) otherwise.</summary>
    public Integrator Integrator { get; init; } = Integrator.Auto;

    /// <summary>
    /// Relative error tolerance per step of the adaptive integrator (default 1e-5); the absolute tolerance is this
    /// times the plan's length scale (the largest component standard deviation).
    /// </summary>
    public double Tolerance { get; init; } = 1e-5;

    /// <summary>
    /// The SDE step rule's bound on max |λ(gain)|·h over each step (default 0.01): Euler–Maruyama's weak error on a
    /// direction contracting at rate λ is about λh/2 of its variance.
    /// </summary>
    public double StiffnessBound { get; init; } = 0.01;

    /// <summary>Whether <see cref="TransportPlan.TransportAndCheck"/> computes the log-likelihood check (default true).</summary>
    public bool Check { get; init; } = true;

    /// <summary>
    /// For a Schrödinger bridge with σ &gt; 0: the SDE drift (stochastic paths, Euler–Maruyama) or the probability-flow
    /// ODE field (deterministic paths, same marginals). Other bridges have one field.
    /// </summary>
    public BridgeField Field { get; init; } = BridgeField.Drift;

    /// <summary>Seed of the Brownian increments (results do not depend on thread count).</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Index of the first sample in the whole set (default 0): sample i of this call uses random stream FirstStream + i,
    /// so a set transported in chunks, each with its starting index and the same seed, gives what one call gives
    /// (with fixed <see cref="Steps"/> or the SDE's automatic steps, which depend on the plan only).
    /// </summary>
    public ulong FirstStream { get; init; }

    /// <summary>
    /// Save a snapshot every k-th step (0: no trajectory); see <see cref="TransportPlan.TrajectorySnapshots"/>. Without
    /// fixed <see cref="Steps"/> the steps counted are those of a nominal grid of 100 equal steps, which the automatic
    /// schemes land on exactly.
    /// </summary>
    public int SaveEvery { get; init; }

    /// <summary>Progress in [0, 1] for long runs.</summary>
    public IProgress<double>? Progress { get; init; }

    public CancellationToken CancellationToken { get; init; }

    internal void Validate()
    {
        if (Steps is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Steps must be at least 1 (or null for automatic steps).");
        }
        if (!(Tolerance > 0 && Tolerance < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The tolerance must be in (0, 1).");
        }
        if (!(StiffnessBound > 0 && StiffnessBound <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(StiffnessBound), StiffnessBound, "The stiffness bound must be in (0, 1].");
        }
        if (Steps is not null && Integrator == Integrator.DormandPrince)
        {
            throw new ArgumentException("Dormand–Prince chooses its own steps: leave Steps null and set Tolerance, or pick a fixed-step integrator.", "options");
        }
    }
}

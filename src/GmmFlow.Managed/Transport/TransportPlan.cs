using GmmFlow.Native;

namespace GmmFlow;

/// <summary>
/// A training-free transport between two Gaussian mixtures (GMMflow, Theorem 1; docs/theory.md#mixture-policy):
/// a coupling λ of the components and one Gaussian bridge per active pair (i, j). The mixture policy
/// u(x, t) = Σ_p λ_p N(x; m_p(t), Σ_p(t)) u_p(x, t) / Σ_p λ_p N(x; m_p(t), Σ_p(t)) moves the source mixture
/// onto the target, and its marginal at time t is exactly ρ_t = Σ_p λ_p N(m_p(t), Σ_p(t)).
/// </summary>
/// <remarks>
/// Immutable once built and safe to share: the velocity helpers keep per-thread scratch. Create with
/// <see cref="Create"/> (solves the coupling) or <see cref="FromCoupling"/> (e.g. a plan read from a file).
/// </remarks>
public sealed partial class TransportPlan
{
    private readonly GaussianBridge[] _bridges;
    private readonly CouplingEntry[] _pairs;
    // Single-point evaluation cache: one field per thread and field kind, for the plan used last on that thread.
    // Bounded (it never keeps more than one plan per thread alive, unlike a ThreadLocal per plan would).
    [ThreadStatic]
    private static PlanVelocityField? t_pointDrift;
    [ThreadStatic]
    private static PlanVelocityField? t_pointFlow;

    private TransportPlan(GaussianMixture source, GaussianMixture target, TransportOptions options,
        CouplingEntry[] pairs, double objective, double droppedMass, double[]? costMatrix)
    {
        Source = source;
        Target = target;
        Options = options;
        _pairs = pairs;
        Objective = objective;
        DroppedMass = droppedMass;
        CostMatrix = costMatrix;
        var sourceFactors = GaussianFactors.FromMixture(source, "source");
        var targetFactors = GaussianFactors.FromMixture(target, "target");
        _bridges = new GaussianBridge[pairs.Length];
        for (int p = 0; p < pairs.Length; p++)
        {
            _bridges[p] = GaussianBridge.Create(BridgeKind(options.Cost), sourceFactors, pairs[p].Source, targetFactors, pairs[p].Target, options.Noise);
        }
    }

    /// <summary>The source mixture (t = 0).</summary>
    public GaussianMixture Source { get; }

    /// <summary>The target mixture (t = 1).</summary>
    public GaussianMixture Target { get; }

    /// <summary>How the plan was built (cost kind, noise σ, coupling method).</summary>
    public TransportOptions Options { get; }

    /// <summary>Dimension d of the points.</summary>
    public int Dimension => Source.Dimension;

    /// <summary>The active component pairs (i, j, λ_ij), λ_ij &gt; 0.</summary>
    public IReadOnlyList<CouplingEntry> Pairs => _pairs;

    /// <summary>The pair bridges, in the order of <see cref="Pairs"/>.</summary>
    public IReadOnlyList<GaussianBridge> Bridges => _bridges;

    /// <summary>Σ λ_ij C_ij with the plan's pair cost (for Sinkhorn: the transport part, without the entropy).</summary>
    public double Objective { get; }

    /// <summary>Coupling mass not made into active pairs (Sinkhorn pruning); 0 for the LP.</summary>
    public double DroppedMass { get; }

    /// <summary>
    /// False when the Sinkhorn coupling stopped at its iteration cap before meeting its tolerance: the plan's marginals
    /// are then off by <see cref="CouplingMarginalError"/>. Always true for the LP.
    /// </summary>
    public bool CouplingConverged { get; private init; } = true;

    /// <summary>Largest marginal violation of the Sinkhorn coupling when it stopped (0 for the LP, met to 1e-12).</summary>
    public double CouplingMarginalError { get; private init; }

    /// <summary>Sinkhorn iterations used (0 for the LP).</summary>
    public int CouplingIterations { get; private init; }

    /// <summary>The K0×K1 pair-cost matrix the coupling was solved on (null when built from a given coupling).</summary>
    public double[]? CostMatrix { get; }

    /// <summary>
    /// Fits nothing: computes the pair costs between <paramref name="source"/> and <paramref name="target"/>
    /// components, solves the coupling, and builds one bridge per active pair.
    /// </summary>
    public static TransportPlan Create(GaussianMixture source, GaussianMixture target, TransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        options ??= new TransportOptions();
        options.Validate();
        CheckDimensions(source, target);
        int k0 = source.ComponentCount, k1 = target.ComponentCount;
        var costs = new double[k0 * k1];
        GaussianCosts.Compute(options.Cost, GaussianFactors.FromMixture(source, "source"), GaussianFactors.FromMixture(target, "target"), costs,
            options.Noise, options.CostVariant);

        if (options.Coupling == CouplingMethod.ExactLp)
        {
            Coupling lp = Couplings.ExactLp(source.Weights, target.Weights, costs);
            if (lp.Status != LpStatus.Optimal)
            {
                // Validated marginals of equal mass always admit a plan; anything else is a solver failure.
                throw new InvalidOperationException($"The component coupling LP ended with status {lp.Status}.");
            }
            return new TransportPlan(source, target, options, [.. lp.Entries], lp.Objective, 0, costs);
        }

        double max = 0;
        foreach (double c in costs)
        {
            max = Math.Max(max, Math.Abs(c));
        }
        double tau = options.SinkhornTemperature ?? 1e-2 * Math.Max(max, 1e-300);
        SinkhornResult sk = Couplings.Sinkhorn(source.Weights, target.Weights, costs, tau, options.Sinkhorn);
        ReadOnlySpan<double> plan = sk.Plan;
        double largest = 0;
        foreach (double w in plan)
        {
            largest = Math.Max(largest, w);
        }
        var entries = new List<CouplingEntry>();
        double dropped = 0, objective = 0;
        for (int i = 0; i < k0; i++)
        {
            for (int j = 0; j < k1; j++)
            {
                double w = plan[i * k1 + j];
                if (w > options.SinkhornPruneRatio * largest)
                {
                    entries.Add(new CouplingEntry(i, j, w));
                    objective += w * costs[i * k1 + j];
                }
                else
                {
                    dropped += w;
                }
            }
        }
        // A Sinkhorn run that hit its iteration cap is kept but flagged (CouplingConverged, CouplingMarginalError):
        // the caller decides, and the CLI warns.
        return new TransportPlan(source, target, options, [.. entries], objective, dropped, costs)
        {
            CouplingConverged = sk.Converged,
            CouplingMarginalError = sk.MarginalError,
            CouplingIterations = sk.Iterations,
        };
    }

    /// <summary>
    /// A plan from a given component coupling (e.g. read from a plan file): validates the entries (indices in
    /// range, finite positive weights, row and column sums equal to the mixture weights within
    /// <paramref name="marginalTolerance"/>) and builds the bridges; the coupling is not re-solved.
    /// </summary>
    public static TransportPlan FromCoupling(GaussianMixture source, GaussianMixture target, TransportOptions options,
        IReadOnlyList<CouplingEntry> pairs, double objective, double marginalTolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pairs);
        options.Validate();
        CheckDimensions(source, target);
        if (pairs.Count == 0)
        {
            throw new ArgumentException("The coupling has no entries.", nameof(pairs));
        }
        var rows = new double[source.ComponentCount];
        var cols = new double[target.ComponentCount];
        for (int p = 0; p < pairs.Count; p++)
        {
            var e = pairs[p];
            if ((uint)e.Source >= (uint)rows.Length || (uint)e.Target >= (uint)cols.Length)
            {
                throw new ArgumentException($"Coupling entry {p} pairs source component {e.Source} with target component {e.Target}, " +
                    $"but the mixtures have {rows.Length} and {cols.Length} components.", nameof(pairs));
            }
            if (!(e.Weight > 0) || !double.IsFinite(e.Weight))
            {
                throw new ArgumentException($"Coupling entry {p} ({e.Source}, {e.Target}) has weight {e.Weight}; weights must be finite and > 0.", nameof(pairs));
            }
            rows[e.Source] += e.Weight;
            cols[e.Target] += e.Weight;
        }
        CheckMarginal(rows, source.Weights, "source", marginalTolerance);
        CheckMarginal(cols, target.Weights, "target", marginalTolerance);
        return new TransportPlan(source, target, options, [.. pairs], objective, 0, null);
    }

    /// <summary>
    /// The mixture-policy field of this plan as an <see cref="IVelocityField"/> for the integrators. Each call
    /// returns a new field with its own per-time cache: use one per thread.
    /// </summary>
    public IVelocityField CreateField(BridgeField field = BridgeField.Drift) => new PlanVelocityField(this, field);

    /// <summary>
    /// u(x, t) at one point (allocation-free once warm; per-time data is cached per thread for the plan used last on
    /// that thread, so repeated calls at the same t cost one kernel evaluation — alternating plans on one thread
    /// rebuilds the cache). Returns log ρ_t(x), the log-density of the time-t mixture at x.
    /// </summary>
    public double Velocity(double t, ReadOnlySpan<double> x, Span<double> velocity, BridgeField field = BridgeField.Drift)
    {
        if (x.Length != Dimension || velocity.Length != Dimension)
        {
            ThrowHelper.ThrowArgument($"x and velocity must have length d = {Dimension} (got {x.Length} and {velocity.Length}).", nameof(x));
        }
        for (int k = 0; k < x.Length; k++)
        {
            if (!double.IsFinite(x[k]))
            {
                ThrowHelper.ThrowNonFinite("point", -1, k, x[k], nameof(x));
            }
        }
        return PointField(field).FrameAt(t).Evaluate(x, velocity);
    }

    /// <summary>Velocities at N points (N×d row-major), on all cores.</summary>
    public void Velocities(double t, ReadOnlySpan<double> points, Span<double> velocities, BridgeField field = BridgeField.Drift)
        => PointField(field).Evaluate(t, points, velocities);

    private PlanVelocityField PointField(BridgeField field)
    {
        ref PlanVelocityField? slot = ref field == BridgeField.Drift ? ref t_pointDrift : ref t_pointFlow;
        if (slot is null || !ReferenceEquals(slot.Plan, this))
        {
            slot = new PlanVelocityField(this, field);
        }
        return slot;
    }


    // Entropic transport shares the Schrödinger bridge's optimal coupling, hence its bridge (CostKind docs).
    private static CostKind BridgeKind(CostKind cost) => cost;

    private static void CheckDimensions(GaussianMixture source, GaussianMixture target)
    {
        if (source.Dimension != target.Dimension)
        {
            throw new ArgumentException($"The source mixture has dimension {source.Dimension} but the target has {target.Dimension}.");
        }
    }

    private static void CheckMarginal(double[] sums, ReadOnlySpan<double> weights, string side, double tolerance)
    {
        for (int k = 0; k < sums.Length; k++)
        {
            if (Math.Abs(sums[k] - weights[k]) > tolerance)
            {
                throw new ArgumentException($"The coupling's mass on {side} component {k} is {sums[k]:R}, but its weight is {weights[k]:R} " +
                    $"(tolerance {tolerance:g}).");
            }
        }
    }
}

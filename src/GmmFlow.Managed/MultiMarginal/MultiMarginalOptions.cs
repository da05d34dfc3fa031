namespace GmmFlow;

/// <summary>Settings of <see cref="MultiMarginalPlan.Create"/>.</summary>
public sealed class MultiMarginalOptions
{
    /// <summary>
    /// σ ≥ 0, the diffusion coefficient on the velocity (dv = u dt + σ dW); ε = σ² is the noise variance (the GMMflow
    /// paper's ε; POT/OTT reg = 2σ²). 0 is the deterministic limit.
    /// </summary>
    public double Noise { get; init; }

    /// <summary>
    /// Relative stopping tolerance of each tuple's covariance problem: L-BFGS stops when two successive iterations
    /// lower the cost by less than this fraction (default 1e-8), or when the gradient is below 1e-8 of the cost.
    /// Every iterate is a feasible set of knot laws, so a tuple cost is never below its exact value; at the default the
    /// 3 125 tuple costs of the 5-D benchmark are within 2e-6 (relative) of a 1e-13 solve
    /// (docs/theory/multimarginal.md#stopping-rule).
    /// </summary>
    public double TupleTolerance { get; init; } = 1e-8;

    /// <summary>Iteration cap per tuple (default 1500).</summary>
    public int MaxTupleIterations { get; init; } = 1500;

    /// <summary>Keep the full tuple-cost tensor on the plan (<see cref="MultiMarginalPlan.CostTensor"/>; default true).</summary>
    public bool KeepCostTensor { get; init; } = true;

    /// <summary>Receives the fraction of tuple costs done, in (0, 1], from worker threads (must be thread-safe).</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>Checked between tuples; cancellation throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; init; }

    internal TupleSolverSettings Settings => new(1e-8, TupleTolerance, MaxTupleIterations);

    internal void Validate()
    {
        if (!(Noise >= 0) || double.IsInfinity(Noise))
        {
            throw new ArgumentOutOfRangeException(nameof(Noise), Noise, "noise σ must be finite and ≥ 0.");
        }
        if (!(TupleTolerance >= 0) || double.IsInfinity(TupleTolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(TupleTolerance), TupleTolerance, "must be finite and ≥ 0.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTupleIterations, 1, nameof(MaxTupleIterations));
    }
}

/// <summary>Settings of <see cref="MultiMarginalPlan.Transport"/>.</summary>
public sealed class MomentumRunOptions
{
    /// <summary>Number of integration steps over [t_0, t_M] (default 400); event times (knots, requested times) are hit exactly.</summary>
    public int Steps { get; init; } = 400;

    /// <summary>Seed of the Brownian increments and of the initial-velocity draws (particle i uses stream i).</summary>
    public ulong Seed { get; init; }

    /// <summary>Run the particles on all cores (default); results are identical either way.</summary>
    public bool Parallel { get; init; } = true;

    /// <summary>Receives the completed fraction of the time grid.</summary>
    public IProgress<double>? Progress { get; init; }

    /// <summary>Checked before every step.</summary>
    public CancellationToken CancellationToken { get; init; }
}

namespace GmmFlow;

/// <summary>Stopping rule, warm start and schedule for <see cref="Couplings.Sinkhorn"/>.</summary>
public sealed class SinkhornOptions
{
    /// <summary>
    /// Stop when the plan's L1 marginal error Σ_i |Σ_j π_ij − a_i| is at most this times the total mass (column
    /// sums are exact after every iteration). Default 1e-9.
    /// </summary>
    public double Tolerance { get; init; } = 1e-9;

    /// <summary>Cap on Sinkhorn iterations (one row and one column update each), over all ε-scaling stages. Default 10 000.</summary>
    public int MaxIterations { get; init; } = 10_000;

    /// <summary>
    /// Starting source potential f (length K0, cost units), e.g. <see cref="SinkhornResult.SourcePotential"/> of a previous
    /// solve with similar data. Null starts from f = 0. A warm start disables ε-scaling: it is already close.
    /// </summary>
    public double[]? InitialSourcePotential { get; init; }

    /// <summary>Starting target potential g (length K1); see <see cref="InitialSourcePotential"/>.</summary>
    public double[]? InitialTargetPotential { get; init; }

    /// <summary>
    /// Solve a sequence of problems with temperature halving from the cost range down to τ, each warm-started from the
    /// previous (ε-scaling). At small τ plain Sinkhorn needs O(range(C)/τ) iterations to move the potentials that far;
    /// the schedule gets there in a few iterations per halving. Default true.
    /// </summary>
    public bool EpsilonScaling { get; init; } = true;
}

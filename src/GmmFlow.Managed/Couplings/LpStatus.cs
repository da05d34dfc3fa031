namespace GmmFlow;

/// <summary>
/// Outcome of an exact (linear-programming) coupling. Only <see cref="Optimal"/> carries a plan; the others are
/// answers, not errors (a solver failure is a <see cref="HighsException"/> instead).
/// </summary>
/// <remarks>
/// Transport LPs built from validated marginals are always feasible and bounded, so in practice the status is
/// <see cref="Optimal"/> unless a limit stopped the solver; the other values exist so that no state is hidden.
/// </remarks>
public enum LpStatus
{
    /// <summary>An optimal basic (vertex) solution was found.</summary>
    Optimal = 0,

    /// <summary>No plan satisfies the constraints.</summary>
    Infeasible = 1,

    /// <summary>The objective decreases without bound.</summary>
    Unbounded = 2,

    /// <summary>The solver proved one of the two but not which.</summary>
    InfeasibleOrUnbounded = 3,

    /// <summary>A time or iteration limit stopped the solver before optimality.</summary>
    LimitReached = 4,

    /// <summary>The solver stopped without a usable answer (numerical trouble).</summary>
    NotSolved = 5,
}

namespace GmmFlow.Native.Highs;

/// <summary>HiGHS model status after a solve (kHighsModelStatus* in highs_c_api.h; values are the native ones).</summary>
internal enum HighsModelStatus
{
    NotSet = 0,
    LoadError = 1,
    ModelError = 2,
    PresolveError = 3,
    SolveError = 4,
    PostsolveError = 5,
    ModelEmpty = 6,
    Optimal = 7,
    Infeasible = 8,
    UnboundedOrInfeasible = 9,
    Unbounded = 10,
    ObjectiveBound = 11,
    ObjectiveTarget = 12,
    TimeLimit = 13,
    IterationLimit = 14,
    Unknown = 15,
    SolutionLimit = 16,
    Interrupt = 17,
}

/// <summary>HiGHS option <c>presolve</c>.</summary>
internal enum HighsPresolve
{
    /// <summary>HiGHS decides ("choose", its default).</summary>
    Choose = 0,
    On = 1,
    Off = 2,
}

/// <summary>HiGHS option <c>solver</c> for LPs.</summary>
internal enum HighsSolver
{
    /// <summary>HiGHS decides ("choose", its default: simplex for most LPs).</summary>
    Choose = 0,
    Simplex = 1,

    /// <summary>Interior point, followed by crossover to a basic (vertex) solution unless run_crossover is off.</summary>
    Ipm = 2,
    Pdlp = 3,
}

/// <summary>HiGHS option <c>simplex_strategy</c> (values are the native ones).</summary>
internal enum HighsSimplexStrategy
{
    Choose = 0,
    Dual = 1,
    DualTasks = 2,
    DualMulti = 3,
    Primal = 4,
}

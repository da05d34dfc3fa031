namespace GmmFlow.Cli.Demo;

/// <summary>
/// One row of a case's table. Baseline rows (untransported source, samples of the fitted target mixture) have no plan,
/// so their plan columns are null.
/// </summary>
/// <param name="Label">Row name ("source (t = 0)", "W2", "SB σ=1", …).</param>
/// <param name="Plan">The plan behind the row, null for a baseline.</param>
/// <param name="ActivePairs">Nonzero λ_ij of the LP plan.</param>
/// <param name="Objective">LP objective Σ λ_ij C_ij with the plan's pair cost (for SB: the bridges' exact kinetic energy J).</param>
/// <param name="Kinetic">Monte-Carlo estimate of ∫₀¹ E|u(X_t, t)|² dt of the mixture policy, X_t ~ ρ_t sampled exactly.</param>
/// <param name="KineticStandardError">Its standard error.</param>
/// <param name="MmdSquared">Unbiased MMD² to fresh target samples (the case's fixed bandwidths).</param>
/// <param name="SlicedW2">Sliced W2² to the same fresh target samples.</param>
/// <param name="MassError">
/// Total-variation distance between the fraction of points nearest to each fitted target component and that component's
/// weight: ½ Σ_j |n_j/N − b_j|. 0 when every component receives its share.
/// </param>
/// <param name="LpSeconds">Pair costs, LP and bridges (TransportPlan.Create).</param>
/// <param name="TransportSeconds">Integration of the points from t = 0 to 1.</param>
/// <param name="MetricsSeconds">Kinetic cost, MMD², sliced W2² and mass error.</param>
internal sealed record DemoRow(
    string Label,
    DemoPlanSpec? Plan,
    int? ActivePairs,
    double? Objective,
    double? Kinetic,
    double? KineticStandardError,
    double MmdSquared,
    double SlicedW2,
    double MassError,
    double? LpSeconds,
    double? TransportSeconds,
    double MetricsSeconds);

/// <summary>A published number of the GMMflow toy recomputed on the exact (not fitted) mixtures.</summary>
/// <param name="Label">Which cost ("W2²", "ε = 0.1", …).</param>
/// <param name="Noise">σ (ε = σ²).</param>
/// <param name="Computed">LP objective computed here.</param>
/// <param name="Published">The value from the paper's notebook (docs/theory.md#reference-values).</param>
internal sealed record PublishedCheck(string Label, double Noise, double Computed, double Published);

/// <summary>A picture written by the demo.</summary>
/// <param name="FileName">Name inside the output folder.</param>
/// <param name="Caption">One line for the index.</param>
internal sealed record DemoFigure(string FileName, string Caption);

/// <summary>Everything the demo reports about one case.</summary>
internal sealed record DemoCaseResult(
    string Name,
    string Title,
    int SourceComponents,
    int TargetComponents,
    bool FitsConverged,
    double FitSeconds,
    double RegimeSeconds,
    double FigureSeconds,
    int RegimePairs,
    int RegimeSurrogateAccurate,
    double RegimeMaxRelativeGap,
    IReadOnlyList<double> Bandwidths,
    IReadOnlyList<DemoRow> Rows,
    IReadOnlyList<PublishedCheck> PublishedChecks,
    IReadOnlyList<DemoFigure> Figures)
{
    /// <summary>The untransported source row (the baseline every plan must beat).</summary>
    public DemoRow Baseline => Rows[0];

    /// <summary>The fitted-target-mixture row (the best a plan between fitted mixtures can do).</summary>
    public DemoRow FitFloor => Rows[1];
}

/// <summary>A whole demo run (with the momentum case under the double integrator).</summary>
internal sealed record DemoResult(DemoSettings Settings, string OutputDirectory, IReadOnlyList<DemoCaseResult> Cases, double TotalSeconds,
    MomentumResult? Momentum = null);

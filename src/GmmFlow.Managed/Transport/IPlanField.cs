namespace GmmFlow;

/// <summary>
/// A transport plan's mixture policy as the plan uses it internally: the integrators' batched
/// <see cref="IVelocityField.Evaluate"/>, plus single points and log-densities. Full plans use
/// <see cref="PlanVelocityField"/>, diagonal ones (d ≥ 8) <see cref="DiagonalPlanVelocityField"/>.
/// </summary>
internal interface IPlanField : IVelocityField
{
    TransportPlan Plan { get; }

    /// <summary>u(x, t) at one point (x already validated); returns log ρ_t(x).</summary>
    double EvaluatePoint(double t, ReadOnlySpan<double> x, Span<double> velocity);

    /// <summary>Velocities and, when <paramref name="logDensities"/> is not empty, log ρ_t at each point.</summary>
    void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities, Span<double> logDensities);
}

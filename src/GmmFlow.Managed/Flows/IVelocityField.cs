namespace GmmFlow;

/// <summary>
/// A time-dependent velocity (or drift) field on R^d, evaluated for a whole batch of points at one time.
/// The integrators in <see cref="FlowIntegrator"/> call <see cref="Evaluate"/> once per stage with every particle,
/// so an implementation does its per-time work (covariances, Cholesky factors, gains) once per call and may
/// spread the points over threads itself.
/// </summary>
/// <remarks>
/// For results that do not depend on thread count, the velocity of each point must depend only on t and that
/// point (not on how the batch is split). Integrators never call one field concurrently.
/// </remarks>
public interface IVelocityField
{
    /// <summary>The dimension d of the points.</summary>
    int Dimension { get; }

    /// <summary>
    /// Writes v(t, x_i) for every point: <paramref name="points"/> and <paramref name="velocities"/> are N×d row-major
    /// and of equal length.
    /// </summary>
    void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities);
}

namespace GmmFlow;

/// <summary>
/// The controllability Gramian M(T, 0) of a <see cref="LinearDynamics"/> is not positive definite (numerically): the
/// controls cannot steer the state between arbitrary Gaussians over the horizon, so no bridge exists.
/// </summary>
public sealed class UncontrollableSystemException : ArgumentException
{
    public UncontrollableSystemException(double horizon, double conditionEstimate, string detail)
        : base($"The linear system is not controllable over the horizon T = {horizon:R}: the controllability Gramian M(T, 0) " +
               $"is singular (condition estimate {conditionEstimate:g3}). {detail}")
    {
        Horizon = horizon;
        ConditionEstimate = conditionEstimate;
    }

    /// <summary>The horizon T the Gramian was computed for.</summary>
    public double Horizon { get; }

    /// <summary>Ratio of the largest to the smallest squared Cholesky pivot of M(T, 0) (∞ when the factorisation failed).</summary>
    public double ConditionEstimate { get; }
}

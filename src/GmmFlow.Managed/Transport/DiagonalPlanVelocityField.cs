using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// The mixture policy of a plan whose bridges are diagonal (diagonal or spherical mixtures on both sides, d ≥
/// <see cref="DiagonalVelocityFrame.MinimumDimension"/>): per time t each active pair's m_p(t), the d variances of
/// Σ_p(t), its diagonal gain and offset go into a <see cref="DiagonalVelocityFrame"/>, which evaluates every point in
/// O(P·d) (docs/theory/structured-covariances.md#field). Caches the frame of the last t, like
/// <see cref="FrameVelocityField"/>; not for concurrent calls at different times.
/// </summary>
internal sealed class DiagonalPlanVelocityField : IPlanField
{
    private readonly TransportPlan _plan;
    private readonly BridgeField _field;
    private readonly DiagonalVelocityFrame _frame;
    private readonly double[] _logWeights;
    private readonly double[] _mean, _variances, _gain, _offset;
    private double _preparedTime = double.NaN;

    public DiagonalPlanVelocityField(TransportPlan plan, BridgeField field)
    {
        _plan = plan;
        _field = field;
        int d = plan.Dimension;
        _frame = new DiagonalVelocityFrame(d, plan.Pairs.Count);
        _logWeights = new double[plan.Pairs.Count];
        for (int p = 0; p < _logWeights.Length; p++)
        {
            _logWeights[p] = Math.Log(plan.Pairs[p].Weight);
        }
        _mean = new double[d];
        _variances = new double[d];
        _gain = new double[d];
        _offset = new double[d];
    }

    public TransportPlan Plan => _plan;

    public int Dimension => _frame.Dimension;

    /// <summary>Whether batches may use all cores (default); results are bit-identical either way.</summary>
    public bool Parallel { get; init; } = true;

    /// <summary>The frame for time t, rebuilt only when t differs from the previous call's.</summary>
    public DiagonalVelocityFrame FrameAt(double t)
    {
        FiniteCheck.ThrowIfNonFinite(t, "time", nameof(t));
        if (t == _preparedTime)
        {
            return _frame;
        }
        if (!(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "The transport runs on t ∈ [0, 1].");
        }
        _preparedTime = double.NaN; // a throwing rebuild must not leave a half-built frame marked valid
        _frame.Reset();
        for (int p = 0; p < _logWeights.Length; p++)
        {
            _plan.Bridges[p].Evaluate(t, _mean, _variances, _gain, _offset, _field);
            for (int j = 0; j < _variances.Length; j++)
            {
                if (!(_variances[j] > 0))
                {
                    var e = _plan.Pairs[p];
                    throw new NotPositiveDefiniteException(
                        $"covariance at t = {t} of the bridge from source component {e.Source} to target component {e.Target}, pair", p, j + 1);
                }
            }
            _frame.SetPair(p, _logWeights[p], _mean, _variances, _gain, _offset);
        }
        if (_frame.TryFindNonFinite(out int pair, out int position, out double value))
        {
            ThrowHelper.ThrowNonFinite($"diagonal velocity-field parameters [c | m | w | k | b] at t = {t} of pair", pair, position, value, nameof(t));
        }
        _preparedTime = t;
        return _frame;
    }

    public double EvaluatePoint(double t, ReadOnlySpan<double> x, Span<double> velocity) => FrameAt(t).Evaluate(x, velocity);

    public void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities) => Evaluate(t, points, velocities, default);

    public void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities, Span<double> logDensities)
    {
        FiniteCheck.ThrowIfNonFinite(points, Dimension, "point", nameof(points));
        FrameAt(t).EvaluateBatch(points, velocities, logDensities, Parallel);
    }
}

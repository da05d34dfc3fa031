using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// Base for mixture-policy fields (docs/theory.md#mixture-policy): a subclass fills a <see cref="VelocityFrame"/> for a time t
/// (means, Cholesky factors, gains and offsets of the active pairs), and this class caches it for the last t,
/// validates the points and runs the batched kernel. The transport plan's field derives from it.
/// </summary>
/// <remarks>
/// Not safe for concurrent calls at different times (the cached frame is rebuilt in place); the integrators
/// never do that. Validation costs one pass over the points, small next to the O(P d²) per point of the kernel.
/// </remarks>
internal abstract class FrameVelocityField : IVelocityField
{
    private readonly VelocityFrame _frame;
    private double _preparedTime = double.NaN;

    protected FrameVelocityField(int dimension, int pairCapacity)
    {
        _frame = new VelocityFrame(dimension, pairCapacity);
    }

    public int Dimension => _frame.Dimension;

    /// <summary>Whether the kernel may use all cores (the default); results are bit-identical either way.</summary>
    public bool Parallel { get; init; } = true;

    /// <summary>Fills <paramref name="frame"/> (already <see cref="VelocityFrame.Reset"/>) with the active pairs at time t.</summary>
    protected abstract void Prepare(double t, VelocityFrame frame);

    /// <summary>The frame for time t, rebuilt only when t differs from the previous call's.</summary>
    public VelocityFrame FrameAt(double t)
    {
        FiniteCheck.ThrowIfNonFinite(t, "time", nameof(t));
        if (t != _preparedTime)
        {
            _preparedTime = double.NaN; // a throwing Prepare must not leave a half-built frame marked valid
            _frame.Reset();
            Prepare(t, _frame);
            if (_frame.TryFindNonFinite(out int pair, out int position, out double value))
            {
                // Position is the offset in the pair's packed block [c | m | W | K | b].
                ThrowHelper.ThrowNonFinite($"packed velocity-field parameters [c | m | W | K | b] at t = {t} of pair", pair, position,
                                           value, nameof(t));
            }
            _preparedTime = t;
        }
        return _frame;
    }

    public void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities)
        => Evaluate(t, points, velocities, default);

    /// <summary>Velocities and, when <paramref name="logDensities"/> is not empty, the log-density of the time-t mixture at each point.</summary>
    public void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities, Span<double> logDensities)
    {
        FiniteCheck.ThrowIfNonFinite(points, Dimension, "point", nameof(points));
        FrameAt(t).EvaluateBatch(points, velocities, logDensities, Parallel);
    }
}

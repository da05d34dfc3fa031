using GmmFlow.Native;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// The plan's mixture policy for the integrators: per time t, each active pair's m_p(t), Σ_p(t), gain and offset
/// come from its bridge and Σ_p(t) is factorised by LAPACK once, then the SIMD kernel evaluates every point.
/// Diagonal bridges in dimensions below <see cref="DiagonalVelocityFrame.MinimumDimension"/> come here too, as
/// diagonal matrices (their Cholesky factor is the elementwise square root): the fixed-d kernels suit them best.
/// </summary>
internal sealed class PlanVelocityField : FrameVelocityField, IPlanField
{
    private readonly TransportPlan _plan;
    private readonly BridgeField _field;
    private readonly double[] _logWeights;
    private readonly double[] _mean, _covariance, _gain, _offset;

    public PlanVelocityField(TransportPlan plan, BridgeField field) : base(plan.Dimension, plan.Pairs.Count)
    {
        _plan = plan;
        _field = field;
        int d = plan.Dimension;
        _logWeights = new double[plan.Pairs.Count];
        for (int p = 0; p < _logWeights.Length; p++)
        {
            _logWeights[p] = Math.Log(plan.Pairs[p].Weight);
        }
        _mean = new double[d];
        _covariance = new double[d * d];
        _gain = new double[d * d];
        _offset = new double[d];
    }

    public TransportPlan Plan => _plan;

    public double EvaluatePoint(double t, ReadOnlySpan<double> x, Span<double> velocity) => FrameAt(t).Evaluate(x, velocity);

    protected override void Prepare(double t, VelocityFrame frame)
    {
        if (!(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "The transport runs on t ∈ [0, 1].");
        }
        Lapack? lapack = null; // diagonal bridges need no LAPACK
        int d = _plan.Dimension;
        for (int p = 0; p < _logWeights.Length; p++)
        {
            var bridge = _plan.Bridges[p];
            bridge.Evaluate(t, _mean, _covariance, _gain, _offset, _field);
            int info = bridge.IsDiagonal ? ExpandDiagonal(d) : (lapack ??= Lapack.Default).TryCholesky(_covariance, d);
            if (info != 0)
            {
                var e = _plan.Pairs[p];
                throw new NotPositiveDefiniteException($"covariance at t = {t} of the bridge from source component {e.Source} to target component {e.Target}, pair",
                    p, info);
            }
            frame.SetPair(p, _logWeights[p], _mean, _covariance, TriangularFactor.Cholesky, _gain, _offset);
        }
    }

    /// <summary>
    /// Turns the d variances and the diagonal gain at the front of the buffers into the full d×d Cholesky factor and
    /// gain (in place, last entry first); returns 0 or 1 + the first non-positive variance, like a Cholesky's info.
    /// </summary>
    private int ExpandDiagonal(int d)
    {
        for (int j = d - 1; j >= 0; j--)
        {
            double variance = _covariance[j], gain = _gain[j];
            if (!(variance > 0))
            {
                return j + 1;
            }
            _covariance[j] = 0;
            _gain[j] = 0;
            _covariance[j * d + j] = Math.Sqrt(variance);
            _gain[j * d + j] = gain;
        }
        for (int r = 0; r < d; r++)
        {
            for (int c = 0; c < d; c++)
            {
                if (r != c)
                {
                    _covariance[r * d + c] = 0;
                    _gain[r * d + c] = 0;
                }
            }
        }
        return 0;
    }
}

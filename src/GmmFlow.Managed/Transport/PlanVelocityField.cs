using GmmFlow.Native;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// The plan's mixture policy for the integrators: per time t, each active pair's m_p(t), Σ_p(t), gain and offset
/// come from its bridge and Σ_p(t) is factorised by LAPACK once, then the SIMD kernel evaluates every point.
/// </summary>
internal sealed class PlanVelocityField : FrameVelocityField
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

    protected override void Prepare(double t, VelocityFrame frame)
    {
        if (!(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "The transport runs on t ∈ [0, 1].");
        }
        var lapack = Lapack.Default;
        int d = _plan.Dimension;
        for (int p = 0; p < _logWeights.Length; p++)
        {
            _plan.Bridges[p].Evaluate(t, _mean, _covariance, _gain, _offset, _field);
            int info = lapack.TryCholesky(_covariance, d);
            if (info != 0)
            {
                var e = _plan.Pairs[p];
                throw new NotPositiveDefiniteException($"covariance at t = {t} of the bridge from source component {e.Source} to target component {e.Target}, pair",
                    p, info);
            }
            frame.SetPair(p, _logWeights[p], _mean, _covariance, TriangularFactor.Cholesky, _gain, _offset);
        }
    }
}

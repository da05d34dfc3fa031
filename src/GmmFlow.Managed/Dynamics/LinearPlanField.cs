using GmmFlow.Native;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// The mixture policy of a <see cref="LinearTransportPlan"/> as a state field: per time t the dynamics frame
/// (Φ, M, A, B at t) is computed once, each active pair contributes m_p(t), the Cholesky factor of Σ_p(t), the gain
/// A + BK_p (plus ½ε BBᵀΣ_p⁻¹ for the probability flow) and the offset A m_p + B v_p, and the SIMD kernel forms the
/// λ-weighted (log-sum-exp) mixture f(x, t) = Σ_p w_p(x)(offset_p + gain_p(x − m_p)) for every point
/// (docs/theory/linear-dynamics.md#mixtures).
/// </summary>
internal sealed class LinearPlanField : FrameVelocityField
{
    private readonly LinearTransportPlan _plan;
    private readonly BridgeField _field;
    private readonly DynamicsFrame _frame;
    private readonly double[] _logWeights;
    private readonly double[] _mean, _covariance, _gain, _offset;

    public LinearPlanField(LinearTransportPlan plan, BridgeField field) : base(plan.Dimension, plan.Pairs.Count)
    {
        _plan = plan;
        _field = field;
        _frame = new DynamicsFrame(plan.Dynamics);
        int n = plan.Dimension;
        _logWeights = new double[plan.Pairs.Count];
        for (int p = 0; p < _logWeights.Length; p++)
        {
            _logWeights[p] = Math.Log(plan.Pairs[p].Weight);
        }
        _mean = new double[n];
        _covariance = new double[n * n];
        _gain = new double[n * n];
        _offset = new double[n];
    }

    protected override void Prepare(double t, VelocityFrame frame)
    {
        _plan.Dynamics.CheckTime(t, nameof(t));
        _frame.Fill(t);
        int n = _plan.Dimension;
        var ws = LinearGaussianBridge.Workspace.For(n, _plan.Dynamics.ControlDimension);
        for (int p = 0; p < _logWeights.Length; p++)
        {
            _plan.Bridges[p].EvaluateCore(_frame, _mean, _covariance, _gain, _offset, _field, ws);
            int info = Lapack.Default.TryCholesky(_covariance, n);
            if (info != 0)
            {
                var e = _plan.Pairs[p];
                throw new NotPositiveDefiniteException($"covariance at t = {t} of the linear bridge from source component {e.Source} to target component {e.Target}, pair",
                    p, info);
            }
            frame.SetPair(p, _logWeights[p], _mean, _covariance, TriangularFactor.Cholesky, _gain, _offset);
        }
    }
}

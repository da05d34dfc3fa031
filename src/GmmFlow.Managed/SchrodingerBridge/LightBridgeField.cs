using GmmFlow.Native;
using GmmFlow.Simd;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>
/// The closed-form SB drift of a <see cref="LightBridge"/> (docs/theory/exact-sb.md#drift):
/// u(x, t) = Σ_k β_k(x, t) (b_k + M_k x) with B_k = tS_k + (1 − t)I, M_k = B_k⁻¹(S_k − I), b_k = B_k⁻¹ r_k and
/// log β_k = log α_k − ½ log det B_k − t r_kᵀb_k/(2ε) + (xᵀM_k x + 2b_kᵀx)/(2ε) + const(x). Regular on all of [0, 1]:
/// at t = 0 it is E[X1 | X0 = x] − x.
/// </summary>
/// <remarks>Per call, the K factorisations of B_k run once; the points are split over all cores.</remarks>
internal sealed class LightBridgeField : IVelocityField
{
    private readonly LightBridge _bridge;
    private readonly double[] _gain, _offset, _constant, _b;
    private double[] _in = [], _out = [];

    public LightBridgeField(LightBridge bridge)
    {
        _bridge = bridge;
        int d = bridge.Dimension, k = bridge.ComponentCount;
        _gain = new double[k * d * d];
        _offset = new double[k * d];
        _constant = new double[k];
        _b = new double[d * d];
    }

    public int Dimension => _bridge.Dimension;

    public void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities)
    {
        if (!(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "The bridge runs on t ∈ [0, 1].");
        }
        int d = Dimension, k = _bridge.ComponentCount;
        if (points.Length % d != 0 || velocities.Length != points.Length)
        {
            throw new ArgumentException($"points ({points.Length}) and velocities ({velocities.Length}) must be equal multiples of d = {d}.", nameof(velocities));
        }
        Prepare(t);
        int n = points.Length / d;
        // The batch is copied into buffers kept between calls (a struct body cannot hold spans); no allocation once warm.
        if (_in.Length != points.Length)
        {
            _in = new double[points.Length];
            _out = new double[points.Length];
        }
        points.CopyTo(_in);
        var body = new Body { Field = this, Points = _in, Output = _out };
        ParallelRange.For(n, Math.Max(1, 8192 / Math.Max(1, k * d * d)), body);
        _out.CopyTo(velocities);
    }

    private void Prepare(double t)
    {
        int d = Dimension, k = _bridge.ComponentCount;
        double eps = _bridge.NoiseVariance;
        ReadOnlySpan<double> scales = _bridge.Scales, centers = _bridge.Centers;
        Lapack? lapack = _bridge.Lapack;
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> s = scales.Slice(c * d * d, d * d);
            Span<double> m = _gain.AsSpan(c * d * d, d * d);
            Span<double> off = _offset.AsSpan(c * d, d);
            double logDet = 0;
            if (_bridge.CovarianceType == CovarianceType.Diagonal)
            {
                m.Clear();
                for (int i = 0; i < d; i++)
                {
                    double si = s[i * d + i], bi = t * si + (1 - t);
                    m[i * d + i] = (si - 1) / bi;
                    off[i] = centers[c * d + i] / bi;
                    logDet += Math.Log(bi);
                }
            }
            else
            {
                for (int i = 0; i < d * d; i++)
                {
                    _b[i] = t * s[i];
                }
                for (int i = 0; i < d; i++)
                {
                    _b[i * d + i] += 1 - t;
                }
                // B = tS + (1 − t)I is SPD for t ∈ [0, 1] (S SPD): a convex combination of SPD matrices.
                lapack!.Cholesky(_b, d, "tS + (1 − t)I of potential component", c);
                for (int i = 0; i < d; i++)
                {
                    logDet += 2 * Math.Log(_b[i * d + i]);
                }
                for (int i = 0; i < d * d; i++)
                {
                    m[i] = s[i];
                }
                for (int i = 0; i < d; i++)
                {
                    m[i * d + i] -= 1;
                }
                centers.Slice(c * d, d).CopyTo(off);
                // M = L⁻ᵀL⁻¹(S − I) and b = L⁻ᵀL⁻¹r.
                lapack.SolveLower(_b, d, m, d, transpose: false);
                lapack.SolveLower(_b, d, m, d, transpose: true);
                lapack.SolveLower(_b, d, off, 1, transpose: false);
                lapack.SolveLower(_b, d, off, 1, transpose: true);
            }
            _constant[c] = _bridge.LogWeights[c] - 0.5 * logDet - t * DenseKernels.Dot(centers.Slice(c * d, d), off) / (2 * eps);
        }
    }

    private struct Body : IRangeBody
    {
        public LightBridgeField Field;
        public double[] Points, Output;

        public readonly void Execute(int start, int end)
        {
            var f = Field;
            int d = f.Dimension, k = f._bridge.ComponentCount;
            double eps = f._bridge.NoiseVariance;
            double[] scratch = BridgeScratch.Get(k * d + k);
            Span<double> drifts = scratch.AsSpan(0, k * d);
            Span<double> logits = scratch.AsSpan(k * d, k);
            for (int p = start; p < end; p++)
            {
                ReadOnlySpan<double> x = Points.AsSpan(p * d, d);
                double max = double.NegativeInfinity;
                for (int c = 0; c < k; c++)
                {
                    Span<double> u = drifts.Slice(c * d, d);
                    ReadOnlySpan<double> m = f._gain.AsSpan(c * d * d, d * d);
                    ReadOnlySpan<double> off = f._offset.AsSpan(c * d, d);
                    for (int i = 0; i < d; i++)
                    {
                        u[i] = DenseKernels.Dot(m.Slice(i * d, d), x);
                    }
                    double l = f._constant[c] + (DenseKernels.Dot(x, u) + 2 * DenseKernels.Dot(off, x)) / (2 * eps);
                    for (int i = 0; i < d; i++)
                    {
                        u[i] += off[i];
                    }
                    logits[c] = l;
                    max = Math.Max(max, l);
                }
                double sum = 0;
                for (int c = 0; c < k; c++)
                {
                    logits[c] = Math.Exp(logits[c] - max);
                    sum += logits[c];
                }
                Span<double> v = Output.AsSpan(p * d, d);
                v.Clear();
                for (int c = 0; c < k; c++)
                {
                    DenseKernels.Axpy(logits[c] / sum, drifts.Slice(c * d, d), v);
                }
            }
        }
    }
}

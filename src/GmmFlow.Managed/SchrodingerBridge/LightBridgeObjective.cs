using GmmFlow.Native;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// The LightSB objective F(θ) = mean_i log c(x_i) − mean_j log v(y_j) and its exact gradient on fixed sample sets
/// (docs/theory/exact-sb.md#gradients). θ = [log α (K) | r (K×d) | scale parameters]: per component the lower
/// triangle of L (S = LLᵀ) row by row with log L_ii on the diagonal (full), or the d values log L_ii (diagonal).
/// </summary>
/// <remarks>
/// Work: per evaluation and component two GEMMs per side over the samples (X L_k and Xᵀ(w ∘ X L_k); (Y − r_k) L_k⁻ᵀ and
/// Zᵀ(γ ∘ Z)), ≈ 4 N d² multiply-adds, split into fixed chunks of rows on all cores. Every chunk writes its own partial
/// sums and the chunks are added in index order, so the result does not depend on the thread count.
/// </remarks>
internal sealed class LightBridgeObjective
{
    private const int ChunkRows = 512;

    private readonly Lapack _lapack;
    private readonly double[] _x, _y;
    private readonly int _n0, _n1, _d, _k, _chunks0, _chunks1;
    private readonly double _eps;
    private readonly bool _diagonal;
    // Unpacked parameters: log α, r, L, A = L⁻¹, Σ log L_ii per component.
    private readonly double[] _logAlpha, _r, _l, _a, _logDetL;
    // Per chunk partial sums: value, Σ weight (K), Σ weight·vector (K×d), Σ weight·outer (K×d×d).
    private readonly double[] _partValue, _partWeight, _partVector, _partMatrix;

    public LightBridgeObjective(Lapack lapack, double[] source, int n0, double[] target, int n1, int d, int k, double noise, bool diagonal)
    {
        _lapack = lapack;
        _x = source;
        _y = target;
        _n0 = n0;
        _n1 = n1;
        _d = d;
        _k = k;
        _eps = noise * noise;
        _diagonal = diagonal;
        _chunks0 = (n0 + ChunkRows - 1) / ChunkRows;
        _chunks1 = (n1 + ChunkRows - 1) / ChunkRows;
        int chunks = _chunks0 + _chunks1;
        _logAlpha = new double[k];
        _r = new double[k * d];
        _l = new double[k * d * d];
        _a = new double[k * d * d];
        _logDetL = new double[k];
        _partValue = new double[chunks];
        _partWeight = new double[chunks * k];
        _partVector = new double[chunks * k * d];
        _partMatrix = new double[(long)chunks * k * d * d];
    }

    public int Dimension => _d;

    public int Components => _k;

    public bool Diagonal => _diagonal;

    public static int ParameterCount(int d, int k, bool diagonal) => k * (1 + d + (diagonal ? d : d * (d + 1) / 2));

    public int ParameterCount() => ParameterCount(_d, _k, _diagonal);

    /// <summary>Packs (log α, r, L) into θ.</summary>
    public static void Pack(ReadOnlySpan<double> logAlpha, ReadOnlySpan<double> r, ReadOnlySpan<double> l, int d, int k, bool diagonal, Span<double> theta)
    {
        logAlpha.CopyTo(theta);
        r.CopyTo(theta[k..]);
        int p = k + k * d;
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> lc = l.Slice(c * d * d, d * d);
            for (int i = 0; i < d; i++)
            {
                if (!diagonal)
                {
                    for (int j = 0; j < i; j++)
                    {
                        theta[p++] = lc[i * d + j];
                    }
                }
                theta[p++] = Math.Log(lc[i * d + i]);
            }
        }
    }

    /// <summary>Unpacks θ into log α, r and the lower factors L (upper triangles zero).</summary>
    public static void Unpack(ReadOnlySpan<double> theta, int d, int k, bool diagonal, Span<double> logAlpha, Span<double> r, Span<double> l)
    {
        theta[..k].CopyTo(logAlpha);
        theta.Slice(k, k * d).CopyTo(r);
        l.Clear();
        int p = k + k * d;
        for (int c = 0; c < k; c++)
        {
            Span<double> lc = l.Slice(c * d * d, d * d);
            for (int i = 0; i < d; i++)
            {
                if (!diagonal)
                {
                    for (int j = 0; j < i; j++)
                    {
                        lc[i * d + j] = theta[p++];
                    }
                }
                lc[i * d + i] = Math.Exp(theta[p++]);
            }
        }
    }

    /// <summary>F(θ); writes ∇F into <paramref name="gradient"/>. Returns +∞ (gradient untouched) when θ is not usable.</summary>
    public double Evaluate(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        int d = _d, k = _k;
        Unpack(theta, d, k, _diagonal, _logAlpha, _r, _l);
        for (int c = 0; c < k; c++)
        {
            Span<double> lc = _l.AsSpan(c * d * d, d * d);
            double logDet = 0;
            for (int i = 0; i < d; i++)
            {
                double v = lc[i * d + i];
                if (!(v > 0) || !double.IsFinite(v))
                {
                    return double.PositiveInfinity;
                }
                logDet += Math.Log(v);
            }
            foreach (double v in lc)
            {
                if (!double.IsFinite(v))
                {
                    return double.PositiveInfinity;
                }
            }
            _logDetL[c] = logDet;
            Span<double> ac = _a.AsSpan(c * d * d, d * d);
            lc.CopyTo(ac);
            _lapack.InvertLowerTriangular(ac, d);
        }
        var body = new Body { Objective = this };
        ParallelRange.For(_chunks0 + _chunks1, 1, body);
        return Reduce(gradient);
    }

    private double Reduce(Span<double> gradient)
    {
        int d = _d, k = _k, dd = d * d;
        double value = 0;
        for (int c = 0; c < _chunks0; c++)
        {
            value += _partValue[c];
        }
        value /= _n0;
        double target = 0;
        for (int c = _chunks0; c < _chunks0 + _chunks1; c++)
        {
            target += _partValue[c];
        }
        value -= target / _n1;
        if (!double.IsFinite(value))
        {
            return double.PositiveInfinity;
        }
        gradient.Clear();
        Span<double> gR = gradient.Slice(k, k * d);
        var src = new double[dd];
        var tgt = new double[dd];
        var tv = new double[d];
        var gl = new double[dd];
        int p = k + k * d;
        for (int comp = 0; comp < k; comp++)
        {
            double w0 = 0, w1 = 0;
            Array.Clear(src);
            Array.Clear(tgt);
            Array.Clear(tv);
            for (int c = 0; c < _chunks0 + _chunks1; c++)
            {
                bool isSource = c < _chunks0;
                double w = _partWeight[c * k + comp];
                ReadOnlySpan<double> vec = _partVector.AsSpan((c * k + comp) * d, d);
                ReadOnlySpan<double> mat = _partMatrix.AsSpan((int)(((long)c * k + comp) * dd), dd);
                if (isSource)
                {
                    w0 += w;
                    for (int i = 0; i < d; i++)
                    {
                        gR[comp * d + i] += vec[i];
                    }
                    for (int i = 0; i < dd; i++)
                    {
                        src[i] += mat[i];
                    }
                }
                else
                {
                    w1 += w;
                    for (int i = 0; i < d; i++)
                    {
                        tv[i] += vec[i];
                    }
                    for (int i = 0; i < dd; i++)
                    {
                        tgt[i] += mat[i];
                    }
                }
            }
            gradient[comp] = w0 / _n0 - w1 / _n1;
            ReadOnlySpan<double> a = _a.AsSpan(comp * dd, dd);
            // Source: ∂/∂r = Σ w x/(ε n0), ∂/∂L = Σ w x xᵀ L/(ε n0) (accumulated as Xᵀ(w ∘ XL)).
            // Target: ∂/∂r = −Aᵀ Σ γ z/(ε n1), ∂/∂L = −Aᵀ(Σ γ z zᵀ/ε − Σγ I)/n1 with z = A(y − r), A = L⁻¹.
            for (int i = 0; i < d; i++)
            {
                double s = 0;
                for (int j = i; j < d; j++)
                {
                    s += a[j * d + i] * tv[j];
                }
                gR[comp * d + i] = gR[comp * d + i] / (_eps * _n0) - s / (_eps * _n1);
            }
            for (int j = 0; j < d; j++)
            {
                tgt[j * d + j] -= w1 * _eps;
            }
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    // (Aᵀ T)[i, j] = Σ_m A[m, i] T[m, j], A lower: m ≥ i.
                    double s = 0;
                    for (int m = i; m < d; m++)
                    {
                        s += a[m * d + i] * tgt[m * d + j];
                    }
                    gl[i * d + j] = src[i * d + j] / (_eps * _n0) - s / (_eps * _n1);
                }
            }
            ReadOnlySpan<double> lc = _l.AsSpan(comp * dd, dd);
            for (int i = 0; i < d; i++)
            {
                if (!_diagonal)
                {
                    for (int j = 0; j < i; j++)
                    {
                        gradient[p++] = gl[i * d + j];
                    }
                }
                gradient[p++] = gl[i * d + i] * lc[i * d + i];
            }
        }
        return value;
    }

    private void SourceChunk(int chunk)
    {
        int d = _d, k = _k, dd = d * d;
        int start = chunk * ChunkRows, n = Math.Min(ChunkRows, _n0 - start);
        ReadOnlySpan<double> x = _x.AsSpan(start * d, n * d);
        double[] scratch = BridgeScratch.Get(k * n * d + n * k);
        Span<double> z = scratch.AsSpan(0, k * n * d);
        Span<double> logits = scratch.AsSpan(k * n * d, n * k);
        for (int c = 0; c < k; c++)
        {
            Span<double> zc = z.Slice(c * n * d, n * d);
            _lapack.Gemm(false, false, n, d, d, 1.0, x, _l.AsSpan(c * dd, dd), 0.0, zc);
            ReadOnlySpan<double> r = _r.AsSpan(c * d, d);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<double> zi = zc.Slice(i * d, d), xi = x.Slice(i * d, d);
                double q = 0, lin = 0;
                for (int j = 0; j < d; j++)
                {
                    q += zi[j] * zi[j];
                    lin += xi[j] * r[j];
                }
                logits[i * k + c] = _logAlpha[c] + (lin + 0.5 * q) / _eps;
            }
        }
        double value = Softmax(logits, n, k);
        Accumulate(chunk, x, z, logits, n, transformed: false);
        _partValue[chunk] = value;
    }

    private void TargetChunk(int chunk)
    {
        int d = _d, k = _k, dd = d * d;
        int slot = _chunks0 + chunk;
        int start = chunk * ChunkRows, n = Math.Min(ChunkRows, _n1 - start);
        ReadOnlySpan<double> y = _y.AsSpan(start * d, n * d);
        double[] scratch = BridgeScratch.Get(k * n * d + n * k + n * d);
        Span<double> z = scratch.AsSpan(0, k * n * d);
        Span<double> logits = scratch.AsSpan(k * n * d, n * k);
        Span<double> u = scratch.AsSpan(k * n * d + n * k, n * d);
        double constant = -0.5 * d * Math.Log(2 * Math.PI * _eps);
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> r = _r.AsSpan(c * d, d);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    u[i * d + j] = y[i * d + j] - r[j];
                }
            }
            Span<double> zc = z.Slice(c * n * d, n * d);
            _lapack.Gemm(false, true, n, d, d, 1.0, u, _a.AsSpan(c * dd, dd), 0.0, zc);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<double> zi = zc.Slice(i * d, d);
                double q = 0;
                for (int j = 0; j < d; j++)
                {
                    q += zi[j] * zi[j];
                }
                logits[i * k + c] = _logAlpha[c] + constant - _logDetL[c] - 0.5 * q / _eps;
            }
        }
        double value = Softmax(logits, n, k);
        Accumulate(slot, default, z, logits, n, transformed: true);
        _partValue[slot] = value;
    }

    /// <summary>Replaces each row of logits (n×k) by its softmax and returns Σ_rows log-sum-exp.</summary>
    private static double Softmax(Span<double> logits, int n, int k)
    {
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            Span<double> row = logits.Slice(i * k, k);
            double max = double.NegativeInfinity;
            foreach (double v in row)
            {
                max = Math.Max(max, v);
            }
            double sum = 0;
            for (int c = 0; c < k; c++)
            {
                row[c] = Math.Exp(row[c] - max);
                sum += row[c];
            }
            for (int c = 0; c < k; c++)
            {
                row[c] /= sum;
            }
            total += max + Math.Log(sum);
        }
        return total;
    }

    /// <summary>
    /// Partial sums of one chunk per component: Σw, and Σw x with Xᵀ(w ∘ Z) (source), or Σγ z with Zᵀ(γ ∘ Z) (target).
    /// Z is scaled by the weights in place.
    /// </summary>
    private void Accumulate(int slot, ReadOnlySpan<double> x, Span<double> z, ReadOnlySpan<double> weights, int n, bool transformed)
    {
        int d = _d, k = _k, dd = d * d;
        double[] extra = transformed ? ExtraScratch.Get(n * d) : [];
        for (int c = 0; c < k; c++)
        {
            Span<double> zc = z.Slice(c * n * d, n * d);
            Span<double> vec = _partVector.AsSpan((slot * k + c) * d, d);
            Span<double> mat = _partMatrix.AsSpan((int)(((long)slot * k + c) * dd), dd);
            vec.Clear();
            double sw = 0;
            Span<double> scaled = transformed ? extra.AsSpan(0, n * d) : zc;
            for (int i = 0; i < n; i++)
            {
                double w = weights[i * k + c];
                sw += w;
                ReadOnlySpan<double> v = transformed ? zc.Slice(i * d, d) : x.Slice(i * d, d);
                for (int j = 0; j < d; j++)
                {
                    vec[j] += w * v[j];
                    scaled[i * d + j] = w * zc[i * d + j];
                }
            }
            _partWeight[slot * k + c] = sw;
            if (transformed)
            {
                _lapack.Gemm(true, false, d, d, n, 1.0, zc, scaled, 0.0, mat);
            }
            else
            {
                _lapack.Gemm(true, false, d, d, n, 1.0, x, scaled, 0.0, mat);
            }
        }
    }

    private struct Body : IRangeBody
    {
        public LightBridgeObjective Objective;

        public readonly void Execute(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                if (c < Objective._chunks0)
                {
                    Objective.SourceChunk(c);
                }
                else
                {
                    Objective.TargetChunk(c - Objective._chunks0);
                }
            }
        }
    }

    private static class ExtraScratch
    {
        [ThreadStatic]
        private static double[]? t_buffer;

        public static double[] Get(int length)
        {
            double[]? b = t_buffer;
            if (b is null || b.Length < length)
            {
                b = new double[length];
                t_buffer = b;
            }
            return b;
        }
    }
}

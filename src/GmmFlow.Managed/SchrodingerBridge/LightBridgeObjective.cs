using GmmFlow.Native;
using System.Numerics.Tensors;
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
    private readonly double _shrinkage;
    // Unpacked parameters: log α, r, L, A = L⁻¹, Σ log L_ii per component.
    private readonly double[] _logAlpha, _r, _l, _a, _logDetL, _ldiag;
    // Per chunk partial sums: value, Σ weight (K), Σ weight·vector (K×d), Σ weight·outer (K×d×d).
    private readonly double[] _partValue, _partWeight, _partVector, _partMatrix;

    public LightBridgeObjective(Lapack lapack, double[] source, int n0, double[] target, int n1, int d, int k, double noise, bool diagonal,
        double shrinkage = 0)
    {
        _shrinkage = shrinkage;
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
        _ldiag = new double[k * d];
        _partValue = new double[chunks];
        _partWeight = new double[chunks * k];
        _partVector = new double[chunks * k * d];
        _partMatrix = new double[(long)chunks * k * (diagonal ? d : d * d)];
    }

    public int Dimension => _d;

    public int Components => _k;

    public bool Diagonal => _diagonal;

    public static int ParameterCount(int d, int k, bool diagonal) => k * (1 + d + (diagonal ? d : d * (d + 1) / 2));

    public int ParameterCount() => ParameterCount(_d, _k, _diagonal);

    /// <summary>Start offsets of the parameter blocks [log α], then per component [r_k], then per component [L_k].</summary>
    public int[] Blocks()
    {
        int block = _diagonal ? _d : _d * (_d + 1) / 2;
        var starts = new int[1 + 2 * _k];
        for (int c = 0; c < _k; c++)
        {
            starts[1 + c] = _k + c * _d;
            starts[1 + _k + c] = _k + _k * _d + c * block;
        }
        return starts;
    }

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
            double logDet = 0, min = double.PositiveInfinity, max = 0;
            for (int i = 0; i < d; i++)
            {
                double v = lc[i * d + i];
                if (!(v > 0) || !double.IsFinite(v))
                {
                    return double.PositiveInfinity;
                }
                logDet += Math.Log(v);
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            // S = LLᵀ with cond(S) ≥ (max L_ii / min L_ii)²: beyond 1e12 it is outside the domain (not numerically SPD).
            if (max > 1e6 * min)
            {
                return double.PositiveInfinity;
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
            if (_diagonal)
            {
                // The diagonal path keeps L_ii and 1/L_ii in the first d entries of the blocks.
                for (int i = 0; i < d; i++)
                {
                    ac[i] = 1.0 / lc[i * d + i];
                    _ldiag[c * d + i] = lc[i * d + i];
                }
            }
            else
            {
                lc.CopyTo(ac);
                _lapack.InvertLowerTriangular(ac, d);
            }
        }
        var body = new Body { Objective = this };
        ParallelRange.For(_chunks0 + _chunks1, 1, body);
        double value = _diagonal ? ReduceDiagonal(gradient) : Reduce(gradient);
        return _shrinkage > 0 && _k > 1 && double.IsFinite(value) ? value + Shrink(gradient) : value;
    }

    /// <summary>
    /// Adds the gradient of the shrinkage penalty (λ/2) Σ_k ‖S_k − S̄‖²_F, S̄ the mean of the S_k, and returns its value
    /// (docs/theory/exact-sb.md#shrinkage). ∂/∂L_k = 2λ(S_k − S̄)L_k (the S̄ terms cancel because Σ_k (S_k − S̄) = 0).
    /// </summary>
    private double Shrink(Span<double> gradient)
    {
        int d = _d, k = _k, dd = d * d;
        var s = new double[k * dd];
        var mean = new double[dd];
        for (int c = 0; c < k; c++)
        {
            Span<double> sc = s.AsSpan(c * dd, dd);
            ReadOnlySpan<double> lc = _l.AsSpan(c * dd, dd);
            _lapack.Gemm(false, true, d, d, d, 1.0, lc, lc, 0.0, sc);
            for (int i = 0; i < dd; i++)
            {
                mean[i] += sc[i] / k;
            }
        }
        double value = 0;
        var g = new double[dd];
        int p = k + k * d;
        for (int c = 0; c < k; c++)
        {
            Span<double> sc = s.AsSpan(c * dd, dd);
            for (int i = 0; i < dd; i++)
            {
                sc[i] -= mean[i];
                value += sc[i] * sc[i];
            }
            ReadOnlySpan<double> lc = _l.AsSpan(c * dd, dd);
            _lapack.Gemm(false, false, d, d, d, 2 * _shrinkage, sc, lc, 0.0, g);
            for (int i = 0; i < d; i++)
            {
                if (!_diagonal)
                {
                    for (int j = 0; j < i; j++)
                    {
                        gradient[p++] += g[i * d + j];
                    }
                }
                gradient[p++] += g[i * d + i] * lc[i * d + i];
            }
        }
        return 0.5 * _shrinkage * value;
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
    /// Rows whose weight is below <see cref="NegligibleWeight"/> are left out of the GEMM: at small ε the weights are
    /// nearly one-hot, so most rows of most components drop out (docs/theory/exact-sb.md#gradients).
    /// </summary>
    private void Accumulate(int slot, ReadOnlySpan<double> x, ReadOnlySpan<double> z, ReadOnlySpan<double> weights, int n, bool transformed)
    {
        int d = _d, k = _k, dd = d * d;
        double[] extra = ExtraScratch.Get(2 * n * d);
        Span<double> rows = extra.AsSpan(0, n * d), scaled = extra.AsSpan(n * d, n * d);
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> zc = z.Slice(c * n * d, n * d);
            ReadOnlySpan<double> source = transformed ? zc : x;
            Span<double> vec = _partVector.AsSpan((slot * k + c) * d, d);
            Span<double> mat = _partMatrix.AsSpan((int)(((long)slot * k + c) * dd), dd);
            vec.Clear();
            double sw = 0;
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                double w = weights[i * k + c];
                sw += w;
                if (w < NegligibleWeight)
                {
                    continue;
                }
                ReadOnlySpan<double> v = source.Slice(i * d, d);
                Span<double> row = scaled.Slice(m * d, d);
                TensorPrimitives.Multiply(zc.Slice(i * d, d), w, row);
                v.CopyTo(rows.Slice(m * d, d));
                TensorPrimitives.MultiplyAdd(v, w, vec, vec);
                m++;
            }
            _partWeight[slot * k + c] = sw;
            if (m == 0)
            {
                mat.Clear();
            }
            else
            {
                _lapack.Gemm(true, false, d, d, m, 1.0, rows[..(m * d)], scaled[..(m * d)], 0.0, mat);
            }
        }
    }

    /// <summary>Weights below this are dropped from the second-moment sums (they change them below rounding).</summary>
    private const double NegligibleWeight = 1e-17;

    /// <summary>The source chunk with diagonal scales: O(n K d) elementwise work, no GEMM.</summary>
    private void SourceChunkDiagonal(int chunk)
    {
        int d = _d, k = _k;
        int start = chunk * ChunkRows, n = Math.Min(ChunkRows, _n0 - start);
        ReadOnlySpan<double> x = _x.AsSpan(start * d, n * d);
        double[] scratch = BridgeScratch.Get(n * k + d);
        Span<double> logits = scratch.AsSpan(0, n * k);
        Span<double> tmp = scratch.AsSpan(n * k, d);
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> l = _ldiag.AsSpan(c * d, d), r = _r.AsSpan(c * d, d);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<double> xi = x.Slice(i * d, d);
                TensorPrimitives.Multiply(xi, l, tmp);
                logits[i * k + c] = _logAlpha[c] + (TensorPrimitives.Dot(xi, r) + 0.5 * TensorPrimitives.SumOfSquares(tmp)) / _eps;
            }
        }
        _partValue[chunk] = Softmax(logits, n, k);
        AccumulateDiagonal(chunk, x, 0, logits, n);
    }

    /// <summary>The target chunk with diagonal scales: z = (y − r_k) / L_k,ii elementwise.</summary>
    private void TargetChunkDiagonal(int chunk)
    {
        int d = _d, k = _k;
        int slot = _chunks0 + chunk;
        int start = chunk * ChunkRows, n = Math.Min(ChunkRows, _n1 - start);
        ReadOnlySpan<double> y = _y.AsSpan(start * d, n * d);
        double[] scratch = BridgeScratch.Get(k * n * d + n * k);
        Span<double> z = scratch.AsSpan(0, k * n * d);
        Span<double> logits = scratch.AsSpan(k * n * d, n * k);
        double constant = -0.5 * d * Math.Log(2 * Math.PI * _eps);
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> a = _a.AsSpan(c * d * d, d), r = _r.AsSpan(c * d, d);
            for (int i = 0; i < n; i++)
            {
                Span<double> zi = z.Slice((c * n + i) * d, d);
                TensorPrimitives.Subtract(y.Slice(i * d, d), r, zi);
                TensorPrimitives.Multiply(zi, a, zi);
                logits[i * k + c] = _logAlpha[c] + constant - _logDetL[c] - 0.5 * TensorPrimitives.SumOfSquares(zi) / _eps;
            }
        }
        _partValue[slot] = Softmax(logits, n, k);
        AccumulateDiagonal(slot, z, n * d, logits, n);
    }

    /// <summary>
    /// Diagonal partial sums per component: Σw, Σw v and Σw v∘v with v the rows of <paramref name="rows"/> (the source
    /// points, stride 0 between components; or the whitened target rows z, stride n·d).
    /// </summary>
    private void AccumulateDiagonal(int slot, ReadOnlySpan<double> rows, int componentStride, ReadOnlySpan<double> weights, int n)
    {
        int d = _d, k = _k;
        Span<double> tmp = ExtraScratch.Get(d).AsSpan(0, d);
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> v = rows.Slice(c * componentStride, n * d);
            Span<double> vec = _partVector.AsSpan((slot * k + c) * d, d);
            Span<double> sq = _partMatrix.AsSpan((slot * k + c) * d, d);
            vec.Clear();
            sq.Clear();
            double sw = 0;
            for (int i = 0; i < n; i++)
            {
                double w = weights[i * k + c];
                sw += w;
                if (w < NegligibleWeight)
                {
                    continue;
                }
                ReadOnlySpan<double> vi = v.Slice(i * d, d);
                TensorPrimitives.Multiply(vi, w, tmp);
                TensorPrimitives.Add(vec, tmp, vec);
                TensorPrimitives.MultiplyAdd(tmp, vi, sq, sq);
            }
            _partWeight[slot * k + c] = sw;
        }
    }

    /// <summary>
    /// <see cref="Reduce"/> for diagonal scales: ∂/∂log L_ii = L_ii² Σw x_i²/(ε n0) − (Σγ z_i² − ε Σγ)/(ε n1).
    /// </summary>
    private double ReduceDiagonal(Span<double> gradient)
    {
        int d = _d, k = _k;
        double value = 0, target = 0;
        for (int c = 0; c < _chunks0; c++)
        {
            value += _partValue[c];
        }
        for (int c = _chunks0; c < _chunks0 + _chunks1; c++)
        {
            target += _partValue[c];
        }
        value = value / _n0 - target / _n1;
        if (!double.IsFinite(value))
        {
            return double.PositiveInfinity;
        }
        gradient.Clear();
        Span<double> sums = ExtraScratch.Get(4 * d).AsSpan(0, 4 * d);
        Span<double> sv = sums[..d], ss = sums.Slice(d, d), tv = sums.Slice(2 * d, d), ts = sums.Slice(3 * d, d);
        int p = k + k * d;
        for (int comp = 0; comp < k; comp++)
        {
            sums.Clear();
            double w0 = 0, w1 = 0;
            for (int c = 0; c < _chunks0 + _chunks1; c++)
            {
                bool isSource = c < _chunks0;
                ReadOnlySpan<double> vec = _partVector.AsSpan((c * k + comp) * d, d), sq = _partMatrix.AsSpan((c * k + comp) * d, d);
                if (isSource)
                {
                    w0 += _partWeight[c * k + comp];
                    TensorPrimitives.Add(sv, vec, sv);
                    TensorPrimitives.Add(ss, sq, ss);
                }
                else
                {
                    w1 += _partWeight[c * k + comp];
                    TensorPrimitives.Add(tv, vec, tv);
                    TensorPrimitives.Add(ts, sq, ts);
                }
            }
            gradient[comp] = w0 / _n0 - w1 / _n1;
            ReadOnlySpan<double> a = _a.AsSpan(comp * d * d, d), l = _ldiag.AsSpan(comp * d, d);
            for (int i = 0; i < d; i++)
            {
                gradient[k + comp * d + i] = sv[i] / (_eps * _n0) - a[i] * tv[i] / (_eps * _n1);
                gradient[p++] = l[i] * l[i] * ss[i] / (_eps * _n0) - (ts[i] - w1 * _eps) / (_eps * _n1);
            }
        }
        return value;
    }

    private struct Body : IRangeBody
    {
        public LightBridgeObjective Objective;

        public readonly void Execute(int start, int end)
        {
            for (int c = start; c < end; c++)
            {
                if (Objective._diagonal)
                {
                    if (c < Objective._chunks0)
                    {
                        Objective.SourceChunkDiagonal(c);
                    }
                    else
                    {
                        Objective.TargetChunkDiagonal(c - Objective._chunks0);
                    }
                }
                else if (c < Objective._chunks0)
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

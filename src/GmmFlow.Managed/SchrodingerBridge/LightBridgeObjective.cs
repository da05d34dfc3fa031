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
/// Work per evaluation (docs/theory/exact-sb.md#gradients): per side one wide GEMM over the samples for all components
/// at once (X [L_1 … L_K], or Y [A_1ᵀ … A_Kᵀ] with A_k = L_k⁻¹ and the shift A_k r_k subtracted after), then per
/// component the lower triangle of the weighted second moments Xᵀ(w ∘ X L_k) or Zᵀ(γ ∘ Z) over the rows whose weight
/// is not negligible; ≈ 2 N K d² + N_eff d² multiply-adds, split into fixed chunks of rows on all cores. Every chunk
/// writes its own partial sums and the chunks are added in index order, so the result does not depend on the thread count.
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
    // Full path: the d×Kd right-hand sides [L_1 … L_K] and [A_1ᵀ … A_Kᵀ] of the wide GEMMs, and the shifts A_k r_k (K×d).
    private readonly double[] _wideL, _wideA, _shift;
    // The full path's gradient, written per component by the parallel reduction.
    private readonly double[] _reduced;
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
        _wideL = diagonal ? [] : new double[d * k * d];
        _wideA = diagonal ? [] : new double[d * k * d];
        _shift = diagonal ? [] : new double[k * d];
        _reduced = diagonal ? [] : new double[ParameterCount(d, k, false)];
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
                int kd = k * d;
                Span<double> shift = _shift.AsSpan(c * d, d);
                ReadOnlySpan<double> rc = _r.AsSpan(c * d, d);
                for (int i = 0; i < d; i++)
                {
                    lc.Slice(i * d, d).CopyTo(_wideL.AsSpan(i * kd + c * d, d));
                    // A lower: (A r)_i = A[i, 0..i]·r[0..i]; column block c of the wide A holds Aᵀ.
                    shift[i] = TensorPrimitives.Dot(ac.Slice(i * d, i + 1), rc[..(i + 1)]);
                    for (int j = 0; j < d; j++)
                    {
                        _wideA[i * kd + c * d + j] = ac[j * d + i];
                    }
                }
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
        // Components are independent here: one per work item (each summing its chunks in index order, so the result
        // does not depend on the thread count); they write disjoint blocks of _reduced.
        ParallelRange.For(k, 1, new ReduceBody { Objective = this });
        _reduced.CopyTo(gradient);
        return value;
    }

    /// <summary>The gradient blocks (log α_comp, r_comp, L_comp) of one component into <see cref="_reduced"/>.</summary>
    private void ReduceComponent(int comp)
    {
        int d = _d, k = _k, dd = d * d;
        Span<double> gradient = _reduced;
        Span<double> gR = gradient.Slice(k + comp * d, d);
        double[] buffer = ExtraScratch.Get(3 * dd + d);
        Span<double> src = buffer.AsSpan(0, dd), tgt = buffer.AsSpan(dd, dd), gl = buffer.AsSpan(2 * dd, dd), tv = buffer.AsSpan(3 * dd, d);
        int p = k + k * d + comp * d * (d + 1) / 2;
        double w0 = 0, w1 = 0;
        src.Clear();
        tgt.Clear();
        tv.Clear();
        gR.Clear();
        for (int c = 0; c < _chunks0 + _chunks1; c++)
        {
            bool isSource = c < _chunks0;
            double w = _partWeight[c * k + comp];
            ReadOnlySpan<double> vec = _partVector.AsSpan((c * k + comp) * d, d);
            ReadOnlySpan<double> mat = _partMatrix.AsSpan((int)(((long)c * k + comp) * dd), dd);
            // Only the lower triangles of the partial moments are meaningful (and used below).
            if (isSource)
            {
                w0 += w;
                TensorPrimitives.Add(gR, vec, gR);
                TensorPrimitives.Add(src, mat, src);
            }
            else
            {
                w1 += w;
                TensorPrimitives.Add(tv, vec, tv);
                TensorPrimitives.Add(tgt, mat, tgt);
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
            gR[i] = gR[i] / (_eps * _n0) - s / (_eps * _n1);
        }
        for (int j = 0; j < d; j++)
        {
            tgt[j * d + j] -= w1 * _eps;
            // T is symmetric: mirror its lower triangle for the product below.
            for (int i = 0; i < j; i++)
            {
                tgt[i * d + j] = tgt[j * d + i];
            }
        }
        // gl = src/(ε n0) − Aᵀ T/(ε n1), lower triangle used.
        _lapack.Gemm(true, false, d, d, d, -1.0 / (_eps * _n1), a, tgt, 0.0, gl);
        TensorPrimitives.MultiplyAdd(src, 1.0 / (_eps * _n0), gl, gl);
        ReadOnlySpan<double> lc = _l.AsSpan(comp * dd, dd);
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                gradient[p++] = gl[i * d + j];
            }
            gradient[p++] = gl[i * d + i] * lc[i * d + i];
        }
    }

    private struct ReduceBody : IRangeBody
    {
        public LightBridgeObjective Objective;

        public readonly void Execute(int start, int end)
        {
            for (int comp = start; comp < end; comp++)
            {
                Objective.ReduceComponent(comp);
            }
        }
    }

    private void SourceChunk(int chunk)
    {
        int d = _d, k = _k, kd = k * d;
        int start = chunk * ChunkRows, n = Math.Min(ChunkRows, _n0 - start);
        ReadOnlySpan<double> x = _x.AsSpan(start * d, n * d);
        double[] scratch = BridgeScratch.Get(n * kd + n * k);
        Span<double> z = scratch.AsSpan(0, n * kd);
        Span<double> logits = scratch.AsSpan(n * kd, n * k);
        // Row i of Z holds x_iᵀL_1, …, x_iᵀL_K.
        _lapack.Gemm(false, false, n, kd, d, 1.0, x, _wideL, 0.0, z);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> xi = x.Slice(i * d, d);
            for (int c = 0; c < k; c++)
            {
                double q = TensorPrimitives.SumOfSquares(z.Slice(i * kd + c * d, d));
                logits[i * k + c] = _logAlpha[c] + (TensorPrimitives.Dot(xi, _r.AsSpan(c * d, d)) + 0.5 * q) / _eps;
            }
        }
        double value = Softmax(logits, n, k);
        Accumulate(chunk, x, z, logits, n, transformed: false);
        _partValue[chunk] = value;
    }

    private void TargetChunk(int chunk)
    {
        int d = _d, k = _k, kd = k * d;
        int slot = _chunks0 + chunk;
        int start = chunk * ChunkRows, n = Math.Min(ChunkRows, _n1 - start);
        ReadOnlySpan<double> y = _y.AsSpan(start * d, n * d);
        double[] scratch = BridgeScratch.Get(n * kd + n * k);
        Span<double> z = scratch.AsSpan(0, n * kd);
        Span<double> logits = scratch.AsSpan(n * kd, n * k);
        double constant = -0.5 * d * Math.Log(2 * Math.PI * _eps);
        // Row i of Z holds A_1 y_i, …, A_K y_i; subtracting A_k r_k gives z = A_k(y_i − r_k).
        _lapack.Gemm(false, false, n, kd, d, 1.0, y, _wideA, 0.0, z);
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < k; c++)
            {
                Span<double> zi = z.Slice(i * kd + c * d, d);
                TensorPrimitives.Subtract(zi, _shift.AsSpan(c * d, d), zi);
                logits[i * k + c] = _logAlpha[c] + constant - _logDetL[c] - 0.5 * TensorPrimitives.SumOfSquares(zi) / _eps;
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
        int d = _d, k = _k, dd = d * d, kd = k * d;
        double[] extra = ExtraScratch.Get(2 * n * d);
        Span<double> rows = extra.AsSpan(0, n * d), scaled = extra.AsSpan(n * d, n * d);
        for (int c = 0; c < k; c++)
        {
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
                ReadOnlySpan<double> zi = z.Slice(i * kd + c * d, d);
                ReadOnlySpan<double> v = transformed ? zi : x.Slice(i * d, d);
                Span<double> row = scaled.Slice(m * d, d);
                TensorPrimitives.Multiply(zi, w, row);
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
                LowerProduct(_lapack, d, m, rows, scaled, mat);
            }
        }
    }

    /// <summary>Rows of output computed per GEMM by <see cref="LowerProduct"/> (below 2 blocks: one full GEMM).</summary>
    private const int ProductBlock = 32;

    /// <summary>
    /// The lower triangle (and the upper parts of the diagonal blocks) of C = Aᵀ B, A and B m×d: block row I of C needs
    /// only columns up to the block's last row, so blocks of 32 rows skip nearly half the multiply-adds of the full
    /// GEMM (docs/theory/exact-sb.md#gradients). Entries above the diagonal blocks are left as they were.
    /// </summary>
    internal static void LowerProduct(Lapack lapack, int d, int m, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c)
    {
        if (d < 2 * ProductBlock)
        {
            lapack.Gemm(true, false, d, d, m, 1.0, a[..(m * d)], b[..(m * d)], 0.0, c[..(d * d)]);
            return;
        }
        for (int i0 = 0; i0 < d; i0 += ProductBlock)
        {
            int rows = Math.Min(ProductBlock, d - i0);
            lapack.Gemm(true, false, rows, i0 + rows, m, 1.0, a[i0..], d, b, d, 0.0, c[(i0 * d)..], d);
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

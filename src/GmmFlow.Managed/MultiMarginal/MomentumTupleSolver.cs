using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>
/// Solves the Gaussian problem of one tuple of components (one Gaussian position law per knot) under the double
/// integrator dx = v dt, dv = u dt + σ dW with free knot velocities: the natural-cubic-spline mean part and the
/// knot phase-space covariances by L-BFGS on a smooth convex objective. A reusable per-thread workspace for fixed
/// knot times and dimension; <see cref="Solve"/> allocates nothing.
/// </summary>
/// <remarks>
/// docs/theory/multimarginal.md#tuple-problem. State order (x, v); every phase-space matrix is 2n×2n row-major.
/// Knot law k is N((μ_k, ν_k), P_k) with P_k = Q_k Q_kᵀ, Q_k = [[C_k, 0], [W_k, R_k]], C_k the Cholesky factor of
/// the position covariance Σ_k (fixed), W_k free, R_k lower triangular (log-diagonal for k ≥ 1, where −ε log det P_k
/// enters the cost). Segment k's cost is the Brownian bridge cost between Q-factored laws transformed by
/// T0 = L⁻¹Φ(τ) and T1 = L⁻¹ (M(τ) = L Lᵀ), all 2×2 ⊗ I_n for the double integrator.
/// </remarks>
internal sealed class MomentumTupleSolver
{
    private readonly int _n, _n2, _knots;
    private readonly double _eps;
    private readonly double[] _times;
    private readonly double[] _t0, _t1; // per segment 2×2 row-major
    private readonly double _constant;
    private readonly double[] _meanFactor; // tridiagonal Cholesky of the spline normal matrix: diag, sub
    private readonly double[] _meanRhs;
    // Workspace.
    private readonly double[] _q, _dq, _chol;
    private readonly double[] _f0, _f1, _w, _a, _vec, _val, _off, _x, _tmp;
    private readonly double[] _params;
    private readonly Lbfgs _lbfgs;

    public MomentumTupleSolver(ReadOnlySpan<double> times, int dimension, double noise)
    {
        _knots = times.Length;
        _n = dimension;
        _n2 = 2 * dimension;
        _eps = noise * noise;
        _times = times.ToArray();
        int segments = _knots - 1;
        _t0 = new double[4 * segments];
        _t1 = new double[4 * segments];
        double constant = 0.0;
        for (int s = 0; s < segments; s++)
        {
            double tau = times[s + 1] - times[s];
            // L = chol(M(τ)), M(τ) = [[τ³/3, τ²/2], [τ²/2, τ]]: ℓ11 = √(τ³/3), ℓ21 = (τ²/2)/ℓ11, ℓ22 = √τ / 2.
            double l11 = Math.Sqrt(tau * tau * tau / 3.0), l21 = 0.5 * tau * tau / l11, l22 = 0.5 * Math.Sqrt(tau);
            double i11 = 1.0 / l11, i21 = -l21 / (l11 * l22), i22 = 1.0 / l22;
            // T1 = L⁻¹; T0 = L⁻¹ Φ(τ), Φ = [[1, τ], [0, 1]].
            _t1[4 * s] = i11; _t1[4 * s + 1] = 0.0; _t1[4 * s + 2] = i21; _t1[4 * s + 3] = i22;
            _t0[4 * s] = i11; _t0[4 * s + 1] = i11 * tau; _t0[4 * s + 2] = i21; _t0[4 * s + 3] = i21 * tau + i22;
            // −ε log det Ŝ1 = −ε log det P + ε n log det M(τ) (det M = τ⁴/12); −2nε log 2 from the Brownian constant.
            if (_eps > 0)
            {
                constant += _eps * dimension * (Math.Log(Math.Pow(tau, 4) / 12.0) - 2.0 * Math.Log(2.0));
            }
        }
        _constant = constant;

        // Spline normal matrix H (tridiagonal): H_kk = Σ 8/τ, H_k,k+1 = 4/τ; factor once (it depends on the times only).
        _meanFactor = new double[2 * _knots];
        var diag = _meanFactor.AsSpan(0, _knots);
        var sub = _meanFactor.AsSpan(_knots, _knots);
        for (int s = 0; s < segments; s++)
        {
            double tau = times[s + 1] - times[s];
            diag[s] += 8.0 / tau;
            diag[s + 1] += 8.0 / tau;
            sub[s + 1] = 4.0 / tau;
        }
        for (int k = 0; k < _knots; k++)
        {
            if (k > 0)
            {
                sub[k] /= diag[k - 1];
                diag[k] -= sub[k] * sub[k] * diag[k - 1];
            }
        }
        _meanRhs = new double[_knots];

        int nn = _n2 * _n2;
        _q = new double[_knots * nn];
        _dq = new double[_knots * nn];
        _chol = new double[_knots * _n * _n];
        _f0 = new double[segments * nn];
        _f1 = new double[segments * nn];
        _w = new double[segments * nn];
        _a = new double[segments * nn];
        _vec = new double[segments * nn];
        _val = new double[segments * _n2];
        _x = new double[nn];
        _tmp = new double[nn];
        _off = new double[_n2];
        ParameterCount = _knots * (_n * _n + _n * (_n + 1) / 2);
        _params = new double[ParameterCount];
        _lbfgs = new Lbfgs(ParameterCount, ScalingBlocks(_knots, _n));
    }

    public int Dimension => _n;

    /// <summary>
    /// The three parameter kinds scaled separately by L-BFGS (docs/theory/multimarginal.md#optimiser): 0 the entries
    /// of W_k, 1 the entries of R_k stored as they are (off-diagonal, and R_0's diagonal), 2 the log-diagonals of R_k.
    /// </summary>
    internal static int[] ScalingBlocks(int knots, int n)
    {
        var blocks = new int[knots * (n * n + n * (n + 1) / 2)];
        int o = 0;
        for (int k = 0; k < knots; k++)
        {
            for (int i = 0; i < n * n; i++)
            {
                blocks[o++] = 0;
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    blocks[o++] = i == j && k > 0 ? 2 : 1;
                }
            }
        }
        return blocks;
    }

    public int KnotCount => _knots;

    public int ParameterCount { get; }

    /// <summary>Current parameters (after <see cref="Solve"/>: the minimiser).</summary>
    internal Span<double> Parameters => _params;

    /// <summary>The fixed position Cholesky factors (K×n×n) the objective uses; tests set them directly.</summary>
    internal Span<double> CholeskyForTests() => _chol;

    /// <summary>ε = σ².</summary>
    public double Variance => _eps;

    internal ReadOnlySpan<double> Times => _times;

    /// <summary>
    /// Solves one tuple. <paramref name="means"/> is K×n (knot k's position mean), <paramref name="choleskyFactors"/>
    /// K×n×n lower factors of the position covariances. Writes the knot phase-space means (K×2n) and covariances
    /// (K×2n×2n) when the spans are non-empty.
    /// </summary>
    public TupleCost Solve(ReadOnlySpan<double> means, ReadOnlySpan<double> choleskyFactors, Span<double> knotMeans, Span<double> knotCovariances,
        in TupleSolverSettings settings)
    {
        int n = _n, knots = _knots;
        double meanCost = MeanPart(means, knotMeans);
        choleskyFactors[..(knots * n * n)].CopyTo(_chol);
        // Always a cold start: a neighbouring tuple's optimum is a poor start (see docs/theory/multimarginal.md#tuple-tensor).
        InitialParameters(_params);
        var objective = new CovarianceObjective(this);
        var result = _lbfgs.Minimize(ref objective, _params, settings.GradientTolerance, settings.ValueTolerance, settings.MaxIterations);
        if (!knotCovariances.IsEmpty)
        {
            BuildFactors(_params);
            WriteCovariances(knotCovariances);
        }
        return new TupleCost(meanCost + result.Value, meanCost, result.Value, result.Iterations, result.Evaluations, result.Converged);
    }

    /// <summary>
    /// Mean part: per coordinate, the knot velocities ν minimise Σ_seg (4/τ)(ν_k² + ν_kν_{k+1} + ν_{k+1}²)
    /// − (12Δx/τ²)(ν_k + ν_{k+1}) + 12Δx²/τ³ (the cubic Hermite energy ∫|ẍ|²), i.e. the natural cubic spline slopes.
    /// </summary>
    internal double MeanPart(ReadOnlySpan<double> means, Span<double> knotMeans)
    {
        int n = _n, knots = _knots;
        var diag = _meanFactor.AsSpan(0, knots);
        var sub = _meanFactor.AsSpan(knots, knots);
        var nu = _meanRhs;
        double total = 0.0;
        for (int c = 0; c < n; c++)
        {
            Array.Clear(nu);
            for (int s = 0; s + 1 < knots; s++)
            {
                double tau = _times[s + 1] - _times[s];
                double dx = means[(s + 1) * n + c] - means[s * n + c];
                nu[s] += 12.0 * dx / (tau * tau);
                nu[s + 1] += 12.0 * dx / (tau * tau);
            }
            // L D Lᵀ solve of the tridiagonal system.
            for (int k = 1; k < knots; k++)
            {
                nu[k] -= sub[k] * nu[k - 1];
            }
            for (int k = 0; k < knots; k++)
            {
                nu[k] /= diag[k];
            }
            for (int k = knots - 2; k >= 0; k--)
            {
                nu[k] -= sub[k + 1] * nu[k + 1];
            }
            for (int s = 0; s + 1 < knots; s++)
            {
                double tau = _times[s + 1] - _times[s];
                double dx = means[(s + 1) * n + c] - means[s * n + c];
                double a = nu[s], b = nu[s + 1];
                total += 4.0 / tau * (a * a + a * b + b * b) - 12.0 * dx / (tau * tau) * (a + b) + 12.0 * dx * dx / (tau * tau * tau);
            }
            if (!knotMeans.IsEmpty)
            {
                for (int k = 0; k < knots; k++)
                {
                    knotMeans[k * _n2 + c] = means[k * n + c];
                    knotMeans[k * _n2 + n + c] = nu[k];
                }
            }
        }
        return total;
    }

    /// <summary>W_k = 0 (velocity independent of position), R_k = C_k / τ̄ (velocity spread of a position spread per mean segment).</summary>
    private void InitialParameters(Span<double> p)
    {
        int n = _n;
        double scale = (_times[^1] - _times[0]) / (_knots - 1);
        int o = 0;
        for (int k = 0; k < _knots; k++)
        {
            for (int i = 0; i < n * n; i++)
            {
                p[o++] = 0.0;
            }
            var c = _chol.AsSpan(k * n * n, n * n);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double r = c[i * n + j] / scale;
                    p[o++] = i == j && k > 0 ? Math.Log(r) : r;
                }
            }
        }
    }

    /// <summary>Q_k from the parameters (and the fixed C_k).</summary>
    private void BuildFactors(ReadOnlySpan<double> p)
    {
        int n = _n, n2 = _n2, nn = n2 * n2;
        int o = 0;
        for (int k = 0; k < _knots; k++)
        {
            var q = _q.AsSpan(k * nn, nn);
            q.Clear();
            var c = _chol.AsSpan(k * n * n, n * n);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    q[i * n2 + j] = c[i * n + j];
                }
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    q[(n + i) * n2 + j] = p[o++];
                }
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double r = p[o++];
                    q[(n + i) * n2 + n + j] = i == j && k > 0 ? Math.Exp(r) : r;
                }
            }
        }
    }

    private void WriteCovariances(Span<double> destination)
    {
        int n2 = _n2, nn = n2 * n2;
        for (int k = 0; k < _knots; k++)
        {
            var q = _q.AsSpan(k * nn, nn);
            var p = destination.Slice(k * nn, nn);
            for (int i = 0; i < n2; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double s = 0.0;
                    for (int m = 0; m <= j; m++)
                    {
                        s += q[i * n2 + m] * q[j * n2 + m];
                    }
                    p[i * n2 + j] = s;
                    p[j * n2 + i] = s;
                }
            }
        }
    }

    /// <summary>The covariance part of the tuple cost and its gradient (docs/theory/multimarginal.md#covariance-part).</summary>
    internal double Evaluate(ReadOnlySpan<double> p, Span<double> gradient)
    {
        int n = _n, n2 = _n2, nn = n2 * n2;
        BuildFactors(p);
        Array.Clear(_dq);
        double eps = _eps;
        double f = _constant;
        for (int k = 1; k < _knots; k++)
        {
            // −ε log det P_k = −2ε (Σ log C_ii + Σ ρ_ii).
            var q = _q.AsSpan(k * nn, nn);
            for (int i = 0; i < n2; i++)
            {
                f -= 2.0 * eps * Math.Log(q[i * n2 + i]);
            }
        }
        int segments = _knots - 1;
        for (int s = 0; s < segments; s++)
        {
            var f0 = _f0.AsSpan(s * nn, nn);
            var f1 = _f1.AsSpan(s * nn, nn);
            Apply(_t0.AsSpan(4 * s, 4), _q.AsSpan(s * nn, nn), f0, transpose: false);
            Apply(_t1.AsSpan(4 * s, 4), _q.AsSpan((s + 1) * nn, nn), f1, transpose: false);
            f += DenseKernels.Dot(f0, f0) + DenseKernels.Dot(f1, f1);
            // W = F1ᵀF0, A = WᵀW; Σ h(γ) over eig(A) with h(γ) = ε log(ε + δ) − δ, δ = √(ε² + 4γ).
            MultiplyTransposedLeft(f1, f0, _w.AsSpan(s * nn, nn), n2);
            MultiplyTransposedLeft(_w.AsSpan(s * nn, nn), _w.AsSpan(s * nn, nn), _a.AsSpan(s * nn, nn), n2);
        }
        if (!Eigen())
        {
            return double.NaN;
        }
        for (int s = 0; s < segments; s++)
        {
            var f0 = _f0.AsSpan(s * nn, nn);
            var f1 = _f1.AsSpan(s * nn, nn);
            var values = _val.AsSpan(s * n2, n2);
            var vt = _vec.AsSpan(s * nn, nn);
            for (int i = 0; i < n2; i++)
            {
                double gamma = Math.Max(values[i], 0.0);
                double delta = Math.Sqrt(eps * eps + 4.0 * gamma);
                f += (eps > 0 ? eps * Math.Log(eps + delta) : 0.0) - delta;
                // h'(γ) = −2 / (ε + δ); at ε = γ = 0 the limit of the nuclear norm's subgradient scale is used.
                values[i] = -2.0 / Math.Max(eps + delta, 1e-300);
            }
            // X = 2 W V diag(h') Vᵀ = ∂/∂W (Vᵀ stored: its rows are the eigenvectors); then ∂/∂F0 = 2F0 + F1 X, ∂/∂F1 = 2F1 + F0 Xᵀ.
            MultiplyTransposedRight(_w.AsSpan(s * nn, nn), vt, _tmp, n2);
            for (int i = 0; i < n2; i++)
            {
                for (int j = 0; j < n2; j++)
                {
                    _tmp[i * n2 + j] *= 2.0 * values[j];
                }
            }
            Multiply(_tmp, vt, _x, n2);
            Multiply(f1, _x, _tmp, n2);
            DenseKernels.Axpy(2.0, f0, _tmp);
            Apply(_t0.AsSpan(4 * s, 4), _tmp, _dq.AsSpan(s * nn, nn), transpose: true, accumulate: true);
            MultiplyTransposedRight(f0, _x, _tmp, n2);
            DenseKernels.Axpy(2.0, f1, _tmp);
            Apply(_t1.AsSpan(4 * s, 4), _tmp, _dq.AsSpan((s + 1) * nn, nn), transpose: true, accumulate: true);
        }

        int o = 0;
        for (int k = 0; k < _knots; k++)
        {
            var dq = _dq.AsSpan(k * nn, nn);
            var q = _q.AsSpan(k * nn, nn);
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    gradient[o++] = dq[(n + i) * n2 + j];
                }
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double g = dq[(n + i) * n2 + n + j];
                    if (i == j && k > 0)
                    {
                        // ρ_i = log R_ii: chain rule, and −2ε from −ε log det P_k.
                        g = g * q[(n + i) * n2 + n + i] - 2.0 * eps;
                    }
                    gradient[o++] = g;
                }
            }
        }
        return f;
    }

    /// <summary>Eigenvalues (_val, n2 per segment) and transposed eigenvectors (_vec, rows = eigenvectors) of every segment's A (_a).</summary>
    private bool Eigen()
    {
        for (int s = 0; s + 1 < _knots; s++)
        {
            if (!SegmentEigen(s))
            {
                return false;
            }
        }
        return true;
    }

    private bool SegmentEigen(int s)
    {
        int n2 = _n2, nn = n2 * n2;
        if (!SmallSymmetricEigen.Decompose(_a.AsSpan(s * nn, nn), n2, _val.AsSpan(s * n2, n2), _tmp, _off))
        {
            return false;
        }
        var vt = _vec.AsSpan(s * nn, nn);
        for (int i = 0; i < n2; i++)
        {
            for (int j = 0; j < n2; j++)
            {
                vt[j * n2 + i] = _tmp[i * n2 + j];
            }
        }
        return true;
    }

    /// <summary>out = (T ⊗ I_n) m, or (Tᵀ ⊗ I_n) m, for a 2×2 T and a 2n×2n m.</summary>
    private void Apply(ReadOnlySpan<double> t, ReadOnlySpan<double> m, Span<double> result, bool transpose, bool accumulate = false)
    {
        int n = _n, n2 = _n2, half = n * n2;
        double a = t[0], b = transpose ? t[2] : t[1], c = transpose ? t[1] : t[2], d = t[3];
        var top = m[..half];
        var bottom = m.Slice(half, half);
        var rTop = result[..half];
        var rBottom = result.Slice(half, half);
        if (!accumulate)
        {
            rTop.Clear();
            rBottom.Clear();
        }
        DenseKernels.Axpy(a, top, rTop);
        DenseKernels.Axpy(b, bottom, rTop);
        DenseKernels.Axpy(c, top, rBottom);
        DenseKernels.Axpy(d, bottom, rBottom);
    }

    /// <summary>c = a b (n×n).</summary>
    internal static void Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int n)
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count && n <= 2 * Vector512<double>.Count)
        {
            Product(a[..(n * n)], b[..(n * n)], c[..(n * n)], n, transposeA: false);
            return;
        }
        c[..(n * n)].Clear();
        for (int i = 0; i < n; i++)
        {
            var ci = c.Slice(i * n, n);
            for (int k = 0; k < n; k++)
            {
                DenseKernels.Axpy(a[i * n + k], b.Slice(k * n, n), ci);
            }
        }
    }

    /// <summary>c = aᵀ b (n×n).</summary>
    internal static void MultiplyTransposedLeft(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int n)
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count && n <= 2 * Vector512<double>.Count)
        {
            Product(a[..(n * n)], b[..(n * n)], c[..(n * n)], n, transposeA: true);
            return;
        }
        c[..(n * n)].Clear();
        for (int k = 0; k < n; k++)
        {
            var ak = a.Slice(k * n, n);
            var bk = b.Slice(k * n, n);
            for (int i = 0; i < n; i++)
            {
                DenseKernels.Axpy(ak[i], bk, c.Slice(i * n, n));
            }
        }
    }

    /// <summary>c = a bᵀ (n×n).</summary>
    internal static void MultiplyTransposedRight(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int n)
    {
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count && n <= 2 * Vector512<double>.Count)
        {
            Span<double> bt = stackalloc double[n * n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    bt[j * n + i] = b[i * n + j];
                }
            }
            Product(a[..(n * n)], bt, c[..(n * n)], n, transposeA: false);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            var ai = a.Slice(i * n, n);
            for (int j = 0; j < n; j++)
            {
                c[i * n + j] = DenseKernels.Dot(ai, b.Slice(j * n, n));
            }
        }
    }

    /// <summary>
    /// c = op(a) b for 8 ≤ n ≤ 16 (the phase-space matrices of 4- to 8-dimensional positions): each row of c is held
    /// in two 8-wide registers, the second covering columns n − 8 … n − 1 (overlapping the first when n &lt; 16, the
    /// shared columns being computed identically by both), so every load stays inside its row. Spans are exactly n·n.
    /// </summary>
    private static void Product(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int n, bool transposeA)
    {
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(b);
        ref double rc = ref MemoryMarshal.GetReference(c);
        nuint tail = (nuint)(n - Vector512<double>.Count);
        for (int i = 0; i < n; i++)
        {
            var low = Vector512<double>.Zero;
            var high = Vector512<double>.Zero;
            for (int k = 0; k < n; k++)
            {
                var aik = Vector512.Create(transposeA ? Unsafe.Add(ref ra, k * n + i) : Unsafe.Add(ref ra, i * n + k));
                ref double bk = ref Unsafe.Add(ref rb, k * n);
                low = Vector512.FusedMultiplyAdd(aik, Vector512.LoadUnsafe(ref bk), low);
                high = Vector512.FusedMultiplyAdd(aik, Vector512.LoadUnsafe(ref bk, tail), high);
            }
            ref double ci = ref Unsafe.Add(ref rc, i * n);
            high.StoreUnsafe(ref ci, tail);
            low.StoreUnsafe(ref ci);
        }
    }

    private readonly struct CovarianceObjective(MomentumTupleSolver solver) : IDifferentiableObjective
    {
        public double Evaluate(ReadOnlySpan<double> x, Span<double> gradient) => solver.Evaluate(x, gradient);
    }
}

/// <summary>Stopping rule of the per-tuple L-BFGS.</summary>
internal readonly record struct TupleSolverSettings(double GradientTolerance, double ValueTolerance, int MaxIterations)
{
    public static TupleSolverSettings Default => new(1e-8, 1e-8, 1500);
}

/// <summary>One tuple's cost: total = mean part (spline energy) + covariance part.</summary>
internal readonly record struct TupleCost(double Total, double MeanPart, double CovariancePart, int Iterations, int Evaluations, bool Converged);

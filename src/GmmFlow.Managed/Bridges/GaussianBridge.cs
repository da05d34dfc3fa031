using GmmFlow.Native;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>
/// The bridge between two Gaussians N(m0, Σ0) → N(m1, Σ1) that realises a <see cref="CostKind"/>: its mean m(t),
/// covariance Σ(t) and affine field v(x, t) = b(t) + A(t)(x − m(t)) at any t ∈ [0, 1], plus the static coupling
/// X1 | X0. Everything that does not depend on t is precomputed at creation; per-t calls allocate nothing and
/// the instance is immutable (safe to share across threads).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><see cref="CostKind.Surrogate"/>: linear path Σ_t = (1−t)Σ0 + tΣ1, A_t = ½ ΔΣ Σ_t⁻¹ (docs/theory.md#surrogate-path),
/// evaluated as A_t = P diag(½(μ_k − 1)/(1 − t + tμ_k)) P⁻¹ with P = L0 W, L0⁻¹Σ1L0⁻ᵀ = W diag(μ) Wᵀ.</item>
/// <item><see cref="CostKind.Wasserstein"/>: W2 geodesic Σ_t = S_t Σ0 S_t, S_t = (1−t)I + tT, A_t = (T − I)S_t⁻¹
/// (docs/theory.md#w2-geodesic), with T = L0⁻ᵀ (L0ᵀΣ1L0)^½ L0⁻¹ from one eigen-decomposition (no sqrtm)
/// and A_t from the eigenpairs of T.</item>
/// <item><see cref="CostKind.SchrodingerBridge"/> and <see cref="CostKind.EntropicTransport"/> with σ &gt; 0: the
/// Gaussian SB (docs/theory.md#sb-bridge), C = Cov(X0, X1) = ½(Σ0^½ D Σ0^-½ − εI) computed as L0 V diag(δ_k − ε) Vᵀ L0⁻¹ / 2
/// (Σ0^½ f(Σ0^½Σ1Σ0^½) Σ0^-½ = f(Σ0Σ1) = L0 f(L0ᵀΣ1L0) L0⁻¹, L0ᵀΣ1L0 = V diag(γ) Vᵀ, δ_k = √(4γ_k + ε²));
/// per t one Cholesky of Σ_t. With σ = 0 they are the W2 geodesic.</item>
/// </list>
/// Diagonal bridges (from diagonal <see cref="GaussianFactors"/>) store and return covariances and gains as
/// d-vectors (their diagonals); full bridges use d×d row-major matrices.
/// </remarks>
public sealed class GaussianBridge
{
    private enum Path { Linear, Geodesic, Schrodinger }

    private readonly Path _path;
    private readonly Lapack _lapack;
    private readonly double _eps;
    private readonly double[] _m0, _dm, _s0, _s1;
    // Linear path: Σ_t = (1−t)Σ0 + tΣ1, A_t = P diag(a_k(t)) Q, a_k(t) = ½(μ_k − 1)/(1 − t + tμ_k).
    // Geodesic: Σ_t = (1−t)²Σ0 + t²Σ1 + t(1−t)E with E = TΣ0 + Σ0T (uses TΣ0T = Σ1, so the endpoints are exact);
    //           A_t = P diag((θ_k − 1)/(1 − t + tθ_k)) Q with T = P diag(θ) Q, Q = Pᵀ orthogonal.
    // Schrödinger: E = C + Cᵀ + εI, and C itself for S_t.
    // Diagonal storage: every matrix is its diagonal, P/Q unused.
    private readonly double[] _p = [], _q = [], _e = [], _c = [];
    private readonly double[] _spectrum = [];
    private readonly double[] _couplingGain;

    private GaussianBridge(CostKind kind, Path path, int dimension, bool diagonal, double noise, Lapack lapack,
        double[] m0, double[] dm, double[] s0, double[] s1, double cost, double[] couplingGain,
        double[] p, double[] q, double[] e, double[] c, double[] spectrum)
    {
        Kind = kind;
        _path = path;
        Dimension = dimension;
        IsDiagonal = diagonal;
        Noise = noise;
        _eps = noise * noise;
        _lapack = lapack;
        _m0 = m0;
        _dm = dm;
        _s0 = s0;
        _s1 = s1;
        Cost = cost;
        _couplingGain = couplingGain;
        _p = p;
        _q = q;
        _e = e;
        _c = c;
        _spectrum = spectrum;
    }

    /// <summary>The cost kind this bridge realises.</summary>
    public CostKind Kind { get; }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>True for diagonal bridges: covariance and gain spans are d-vectors instead of d×d matrices.</summary>
    public bool IsDiagonal { get; }

    /// <summary>σ (ε = σ²); 0 for the deterministic bridges.</summary>
    public double Noise { get; }

    /// <summary>
    /// Kinetic energy of this bridge, ∫₀¹ E|u(X_t, t)|² dt with the <see cref="BridgeField.Drift"/> field: W2² for the
    /// geodesic, the surrogate cost for the linear path, J (<see cref="SchrodingerCostVariant.KineticEnergy"/>) for the SB.
    /// </summary>
    public double Cost { get; }

    private int MatrixLength => IsDiagonal ? Dimension : Dimension * Dimension;

    /// <summary>The bridge of pair (<paramref name="sourceIndex"/>, <paramref name="targetIndex"/>) from prepared factors.</summary>
    public static GaussianBridge Create(CostKind kind, GaussianFactors source, int sourceIndex, GaussianFactors target, int targetIndex, double noise = 0)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        GaussianCosts.CheckCompatible(source, target);
        GaussianCosts.CheckOptions(kind, noise, SchrodingerCostVariant.KineticEnergy);
        ArgumentOutOfRangeException.ThrowIfNegative(sourceIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sourceIndex, source.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(targetIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(targetIndex, target.Count);
        return source.IsDiagonal
            ? CreateDiagonal(kind, source, sourceIndex, target, targetIndex, noise)
            : CreateFull(kind, source, sourceIndex, target, targetIndex, noise);
    }

    /// <summary>The bridge between N(mean0, covariance0) and N(mean1, covariance1) (full d×d row-major covariances).</summary>
    public static GaussianBridge Create(CostKind kind, ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, int dimension, double noise = 0)
        => Create(Lapack.Default, kind, mean0, covariance0, mean1, covariance1, dimension, noise);

    internal static GaussianBridge Create(Lapack lapack, CostKind kind, ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, int dimension, double noise = 0)
    {
        var s = GaussianFactors.FromFull(lapack, mean0, covariance0, 1, dimension, "source");
        var t = GaussianFactors.FromFull(lapack, mean1, covariance1, 1, dimension, "target");
        return Create(kind, s, 0, t, 0, noise);
    }

    private static Path PathOf(CostKind kind, double noise) => kind switch
    {
        CostKind.Surrogate => Path.Linear,
        CostKind.Wasserstein => Path.Geodesic,
        _ => noise == 0 ? Path.Geodesic : Path.Schrodinger,
    };

    private static GaussianBridge CreateFull(CostKind kind, GaussianFactors s, int i, GaussianFactors t, int j, double noise)
    {
        int d = s.Dimension, dd = d * d;
        Lapack lapack = s.Lapack;
        Path path = PathOf(kind, noise);
        double eps = noise * noise;
        double[] m0 = s.Mean(i).ToArray(), dm = new double[d];
        for (int k = 0; k < d; k++)
        {
            dm[k] = t.Means[j * d + k] - m0[k];
        }
        double[] s0 = s.Covariance(i).ToArray(), s1 = t.Covariance(j).ToArray();
        ReadOnlySpan<double> l0 = s.Factor(i), l0Inverse = s.FactorInverse(i);
        var ws = PairWorkspace.ForThread(d);
        double cost = PairKernels.Cost(kind == CostKind.EntropicTransport ? CostKind.SchrodingerBridge : kind, eps,
            SchrodingerCostVariant.KineticEnergy, s, i, t, j, ws);
        var values = new double[d];
        var vectors = new double[dd];
        var gain = new double[dd];
        double[] p = new double[dd], q = new double[dd], e = [], c = [];
        if (path == Path.Linear)
        {
            // L0⁻¹ Σ1 L0⁻ᵀ = Σ_k μ_k w_k w_kᵀ (rows of `vectors`); P = L0 W, Q = P⁻¹ = Wᵀ L0⁻¹.
            DenseKernels.CongruenceLower(l0Inverse, s.FactorInverseTransposed(i), s1, ws.B, vectors, d);
            lapack.SymmetricEigenUnchecked(vectors, d, values, vectors: true);
            BasisProducts(l0, l0Inverse, vectors, p, q, d);
            // Flow map of the linear path: Φ = P diag(√μ) Q = (Σ1Σ0⁻¹)^½, since ∫₀¹ a_k(t) dt = ½ log μ_k.
            var roots = new double[d];
            for (int k = 0; k < d; k++)
            {
                roots[k] = Math.Sqrt(Math.Max(0, values[k]));
            }
            Spectral(p, roots, q, gain, d);
            return new GaussianBridge(kind, path, d, false, noise, lapack, m0, dm, s0, s1, cost, gain, p, q, e, c, values);
        }
        // L0ᵀ Σ1 L0 = Σ_k γ_k v_k v_kᵀ; with P = L0 V and Q = P⁻¹ = Vᵀ L0⁻¹:
        //   Σ0Σ1 = P diag(γ) Q, T = Qᵀ diag(√γ) Q (docs/theory.md#w2-geodesic), C = P diag(c) Q, G = Σ0⁻¹C = Qᵀ diag(c) Q (#sb-bridge).
        DenseKernels.CongruenceLowerTransposed(l0, s.FactorTransposed(i), s1, ws.B, vectors, d);
        lapack.SymmetricEigenUnchecked(vectors, d, values, vectors: true);
        BasisProducts(l0, l0Inverse, vectors, p, q, d);
        var qt = Transpose(q, d);
        var weights = new double[d];
        if (path == Path.Geodesic)
        {
            for (int k = 0; k < d; k++)
            {
                weights[k] = Math.Sqrt(Math.Max(0, values[k]));
            }
            Spectral(qt, weights, q, gain, d);
            Symmetrize(gain, d);
            // E = TΣ0 + Σ0T, then the eigenpairs of T for the per-t gain (T − I)((1−t)I + tT)⁻¹.
            e = new double[dd];
            AddProductAndTranspose(gain, s0, e, d);
            double[] theta = new double[d], u = (double[])gain.Clone();
            lapack.SymmetricEigenUnchecked(u, d, theta, vectors: true);
            return new GaussianBridge(kind, path, d, false, noise, lapack, m0, dm, s0, s1, cost, gain,
                Transpose(u, d), u, e, c, theta);
        }
        for (int k = 0; k < d; k++)
        {
            // c_k = (δ_k − ε)/2 = 2γ_k/(δ_k + ε): the second form has no cancellation when γ_k ≪ ε².
            double gamma = Math.Max(0, values[k]), delta = Math.Sqrt(4 * gamma + eps * eps);
            weights[k] = 2 * gamma / (delta + eps);
        }
        Spectral(qt, weights, q, gain, d);
        Symmetrize(gain, d);
        c = new double[dd];
        Spectral(p, weights, q, c, d);
        e = new double[dd];
        for (int r = 0; r < d; r++)
        {
            for (int k = 0; k < d; k++)
            {
                e[r * d + k] = c[r * d + k] + c[k * d + r] + (r == k ? eps : 0);
            }
        }
        return new GaussianBridge(kind, path, d, false, noise, lapack, m0, dm, s0, s1, cost, gain, [], [], e, c, []);
    }

    private static GaussianBridge CreateDiagonal(CostKind kind, GaussianFactors s, int i, GaussianFactors t, int j, double noise)
    {
        int d = s.Dimension;
        Path path = PathOf(kind, noise);
        double eps = noise * noise;
        double[] m0 = s.Mean(i).ToArray(), dm = new double[d];
        double[] s0 = s.Covariance(i).ToArray(), s1 = t.Covariance(j).ToArray();
        ReadOnlySpan<double> r0 = s.Factor(i), r1 = t.Factor(j);
        double[] gain = new double[d], e = new double[d], c = new double[d];
        for (int k = 0; k < d; k++)
        {
            dm[k] = t.Means[j * d + k] - m0[k];
            switch (path)
            {
                case Path.Linear:
                    gain[k] = r1[k] / r0[k]; // Φ = (Σ1Σ0⁻¹)^½
                    break;
                case Path.Geodesic:
                    gain[k] = r1[k] / r0[k]; // T = √(s1/s0)
                    e[k] = 2 * r0[k] * r1[k]; // TΣ0 + Σ0T = 2√(s0 s1)
                    break;
                default:
                    double gamma = s0[k] * s1[k], delta = Math.Sqrt(4 * gamma + eps * eps);
                    c[k] = 2 * gamma / (delta + eps);
                    gain[k] = c[k] / s0[k];
                    e[k] = 2 * c[k] + eps;
                    break;
            }
        }
        double cost = PairKernels.Cost(kind == CostKind.EntropicTransport ? CostKind.SchrodingerBridge : kind, eps,
            SchrodingerCostVariant.KineticEnergy, s, i, t, j, PairWorkspace.ForThread(d));
        return new GaussianBridge(kind, path, d, true, noise, s.Lapack, m0, dm, s0, s1, cost, gain, [], [], e, c, []);
    }

    /// <summary>m(t) = (1 − t) m0 + t m1 (every bridge kind has a linear mean path).</summary>
    public void Mean(double t, Span<double> destination)
    {
        CheckTime(t);
        CheckLength(destination, Dimension, nameof(destination));
        MeanCore(t, destination);
    }

    /// <summary>Σ(t): d×d row-major (d-vector for diagonal bridges).</summary>
    public void Covariance(double t, Span<double> destination)
    {
        CheckTime(t);
        CheckLength(destination, MatrixLength, nameof(destination));
        CovarianceCore(t, destination);
    }

    /// <summary>
    /// The affine field at time t, v(x, t) = offset + gain·(x − m(t)): <paramref name="gain"/> receives A(t)
    /// (d×d row-major, or its diagonal), <paramref name="offset"/> receives b(t) = m1 − m0 (the mean velocity).
    /// </summary>
    public void Field(double t, Span<double> gain, Span<double> offset, BridgeField field = BridgeField.Drift)
    {
        CheckTime(t);
        CheckLength(gain, MatrixLength, nameof(gain));
        CheckLength(offset, Dimension, nameof(offset));
        CheckField(field);
        var ws = PairWorkspace.ForThread(Dimension);
        Span<double> covariance = ws.C.AsSpan(0, MatrixLength);
        CovarianceCore(t, covariance);
        GainCore(t, covariance, gain, field, ws);
        _dm.CopyTo(offset);
    }

    /// <summary>
    /// m(t), Σ(t), gain A(t) and offset b(t) in one call (what a mixture field needs per active pair and time step).
    /// </summary>
    public void Evaluate(double t, Span<double> mean, Span<double> covariance, Span<double> gain, Span<double> offset,
        BridgeField field = BridgeField.Drift)
    {
        CheckTime(t);
        CheckLength(mean, Dimension, nameof(mean));
        CheckLength(covariance, MatrixLength, nameof(covariance));
        CheckLength(gain, MatrixLength, nameof(gain));
        CheckLength(offset, Dimension, nameof(offset));
        CheckField(field);
        MeanCore(t, mean);
        CovarianceCore(t, covariance);
        GainCore(t, covariance, gain, field, PairWorkspace.ForThread(Dimension));
        _dm.CopyTo(offset);
    }

    /// <summary>
    /// G of the static coupling X1 | X0 = x ~ N(m1 + G(x − m0), εG) (docs/theory.md#static-coupling): Σ0⁻¹C for the SB (SPD), the Monge
    /// matrix T for the W2 geodesic, and the linear path's flow map (Σ1Σ0⁻¹)^½ for the surrogate (ε = 0 for both).
    /// </summary>
    public void CouplingGain(Span<double> destination)
    {
        CheckLength(destination, MatrixLength, nameof(destination));
        _couplingGain.CopyTo(destination);
    }

    /// <summary>
    /// Cov(X0, X1) = Σ0 Gᵀ of the coupling: the SB's C of docs/theory.md#sb-bridge, Σ0T for the geodesic, Σ0Φᵀ for the surrogate's
    /// flow map Φ (the only non-symmetric G).
    /// </summary>
    public void CrossCovariance(Span<double> destination)
    {
        CheckLength(destination, MatrixLength, nameof(destination));
        int d = Dimension;
        if (IsDiagonal)
        {
            for (int k = 0; k < d; k++)
            {
                destination[k] = _s0[k] * _couplingGain[k];
            }
            return;
        }
        for (int r = 0; r < d; r++)
        {
            for (int c = 0; c < d; c++)
            {
                // (Σ0 Gᵀ)[r, c] = Σ_k Σ0[r, k] G[c, k]
                destination[r * d + c] = DenseKernels.Dot(_s0.AsSpan(r * d, d), _couplingGain.AsSpan(c * d, d));
            }
        }
    }

    /// <summary>The conditional law of X1 given X0 = <paramref name="x0"/>: mean m1 + G(x0 − m0), covariance εG (0 when σ = 0).</summary>
    public void Conditional(ReadOnlySpan<double> x0, Span<double> mean, Span<double> covariance)
    {
        int d = Dimension;
        CheckLength(x0, d, nameof(x0));
        CheckLength(mean, d, nameof(mean));
        CheckLength(covariance, MatrixLength, nameof(covariance));
        Span<double> centred = PairWorkspace.ForThread(d).Vector.AsSpan(0, d);
        for (int k = 0; k < d; k++)
        {
            centred[k] = x0[k] - _m0[k];
        }
        for (int r = 0; r < d; r++)
        {
            double g = IsDiagonal ? _couplingGain[r] * centred[r] : DenseKernels.Dot(_couplingGain.AsSpan(r * d, d), centred);
            mean[r] = _m0[r] + _dm[r] + g;
        }
        double eps = _path == Path.Schrodinger ? _eps : 0;
        for (int k = 0; k < MatrixLength; k++)
        {
            covariance[k] = eps * _couplingGain[k];
        }
    }

    private void MeanCore(double t, Span<double> mean)
    {
        for (int k = 0; k < Dimension; k++)
        {
            mean[k] = _m0[k] + t * _dm[k];
        }
    }

    private void CovarianceCore(double t, Span<double> covariance)
    {
        int n = MatrixLength;
        if (_path == Path.Linear)
        {
            for (int k = 0; k < n; k++)
            {
                covariance[k] = (1 - t) * _s0[k] + t * _s1[k];
            }
            return;
        }
        // Geodesic and SB: (1−t)²Σ0 + t²Σ1 + t(1−t)E (docs/theory.md#w2-geodesic expanded with TΣ0T = Σ1; #sb-bridge with E = C + Cᵀ + εI).
        double a = (1 - t) * (1 - t), b = t * t, c = t * (1 - t);
        for (int k = 0; k < n; k++)
        {
            covariance[k] = a * _s0[k] + b * _s1[k] + c * _e[k];
        }
    }

    private void GainCore(double t, ReadOnlySpan<double> covariance, Span<double> gain, BridgeField field, PairWorkspace ws)
    {
        int d = Dimension;
        if (_path == Path.Linear || _path == Path.Geodesic)
        {
            Span<double> diag = ws.Vector.AsSpan(0, d);
            if (IsDiagonal)
            {
                for (int k = 0; k < d; k++)
                {
                    // Linear: ½(s1 − s0)/Σ_t; geodesic: (θ − 1)/(1 − t + tθ), θ = √(s1/s0).
                    gain[k] = _path == Path.Linear
                        ? 0.5 * (_s1[k] - _s0[k]) / covariance[k]
                        : (_couplingGain[k] - 1) / (1 - t + t * _couplingGain[k]);
                }
                return;
            }
            for (int k = 0; k < d; k++)
            {
                double lambda = _spectrum[k];
                diag[k] = _path == Path.Linear ? 0.5 * (lambda - 1) / (1 - t + t * lambda) : (lambda - 1) / (1 - t + t * lambda);
            }
            Spectral(_p, diag, _q, gain, d);
            return;
        }
        // SB: S_t = t(Σ1 − Cᵀ) − (1−t)(Σ0 − C) − εtI; drift gain Sᵀ Σ_t⁻¹, probability flow (Sᵀ + ½εI) Σ_t⁻¹.
        double eps = _eps, shift = field == BridgeField.ProbabilityFlow ? 0.5 * eps : 0;
        if (IsDiagonal)
        {
            for (int k = 0; k < d; k++)
            {
                double st = t * (_s1[k] - _c[k]) - (1 - t) * (_s0[k] - _c[k]) - eps * t;
                gain[k] = (st + shift) / covariance[k];
            }
            return;
        }
        int dd = d * d;
        Span<double> l = ws.A.AsSpan(0, dd), x = ws.B.AsSpan(0, dd);
        covariance[..dd].CopyTo(l);
        int info = _lapack.CholeskyUnchecked(l, d);
        if (info > 0)
        {
            ThrowHelper.ThrowNotPositiveDefinite($"Schrödinger-bridge covariance at t = {t}", -1, info);
        }
        // X = S_t + shift·I (row-major); then Σ_t⁻¹ X = L⁻ᵀ L⁻¹ X = Kᵀ, and the gain is its transpose.
        for (int r = 0; r < d; r++)
        {
            for (int k = 0; k < d; k++)
            {
                int rk = r * d + k;
                double v = t * (_s1[rk] - _c[k * d + r]) - (1 - t) * (_s0[rk] - _c[rk]);
                x[rk] = r == k ? v - eps * t + shift : v;
            }
        }
        _lapack.SolveLower(l, d, x, d, transpose: false);
        _lapack.SolveLower(l, d, x, d, transpose: true);
        for (int r = 0; r < d; r++)
        {
            for (int k = 0; k < d; k++)
            {
                gain[r * d + k] = x[k * d + r];
            }
        }
    }

    /// <summary>P = L0 Vᵀ-columns and Q = P⁻¹ for eigenvectors stored as rows of <paramref name="rows"/>: P[r,k] = (L0 v_k)_r, Q[k,c] = (L0⁻ᵀ v_k)_c.</summary>
    private static void BasisProducts(ReadOnlySpan<double> l0, ReadOnlySpan<double> l0Inverse, ReadOnlySpan<double> rows, Span<double> p, Span<double> q, int d)
    {
        for (int k = 0; k < d; k++)
        {
            ReadOnlySpan<double> v = rows.Slice(k * d, d);
            for (int r = 0; r < d; r++)
            {
                p[r * d + k] = DenseKernels.Dot(l0.Slice(r * d, r + 1), v);
            }
            Span<double> qk = q.Slice(k * d, d);
            qk.Clear();
            for (int r = 0; r < d; r++)
            {
                // (L0⁻ᵀ v)_c = Σ_{r ≥ c} L0⁻¹[r, c] v_r: accumulate row r of L0⁻¹ (nonzero in columns 0..r) scaled by v_r.
                DenseKernels.Axpy(v[r], l0Inverse.Slice(r * d, r + 1), qk);
            }
        }
    }

    /// <summary>out = left · diag(x) · right (all d×d row-major).</summary>
    private static void Spectral(ReadOnlySpan<double> left, ReadOnlySpan<double> x, ReadOnlySpan<double> right, Span<double> result, int d)
    {
        result[..(d * d)].Clear();
        for (int r = 0; r < d; r++)
        {
            Span<double> row = result.Slice(r * d, d);
            for (int k = 0; k < d; k++)
            {
                DenseKernels.Axpy(left[r * d + k] * x[k], right.Slice(k * d, d), row);
            }
        }
    }

    private static double[] Transpose(ReadOnlySpan<double> a, int d)
    {
        var t = new double[d * d];
        for (int r = 0; r < d; r++)
        {
            for (int k = 0; k < d; k++)
            {
                t[k * d + r] = a[r * d + k];
            }
        }
        return t;
    }

    private static void Symmetrize(Span<double> a, int d)
    {
        for (int r = 0; r < d; r++)
        {
            for (int k = 0; k < r; k++)
            {
                double m = 0.5 * (a[r * d + k] + a[k * d + r]);
                a[r * d + k] = a[k * d + r] = m;
            }
        }
    }

    /// <summary>e = A B + (A B)ᵀ for symmetric A and B (= AB + BA).</summary>
    private static void AddProductAndTranspose(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> e, int d)
    {
        Spectral(a, OnesFor(d), b, e, d);
        for (int r = 0; r < d; r++)
        {
            for (int k = 0; k <= r; k++)
            {
                double m = e[r * d + k] + e[k * d + r];
                e[r * d + k] = e[k * d + r] = m;
            }
        }
    }

    private static double[] OnesFor(int d)
    {
        var ones = new double[d];
        ones.AsSpan().Fill(1);
        return ones;
    }

    private static void CheckTime(double t)
    {
        if (!(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "Bridge time must lie in [0, 1].");
        }
    }

    private static void CheckField(BridgeField field)
    {
        if (field is not (BridgeField.Drift or BridgeField.ProbabilityFlow))
        {
            ThrowHelper.ThrowArgument($"Unknown bridge field {(int)field}.", nameof(field));
        }
    }

    private static void CheckLength(ReadOnlySpan<double> span, int length, string name)
    {
        if (span.Length < length)
        {
            ThrowHelper.ThrowSize(name, length, span.Length);
        }
    }
}

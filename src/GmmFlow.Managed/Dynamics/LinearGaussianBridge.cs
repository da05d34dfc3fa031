using GmmFlow.Simd;
using System.Numerics;
using System.Numerics.Tensors;

namespace GmmFlow;

/// <summary>
/// The optimal Gaussian bridge N(m0, Σ0) at t = 0 → N(m1, Σ1) at t = T under linear prior dynamics
/// dX = A(t)X dt + B(t)(u dt + σ dW): the control u(t, x) = K(t)(x − m_t) + v_t with K = BᵀΠ minimises
/// E∫₀ᵀ|u|² dt among all controls that move the first Gaussian onto the second. Closed form, no SDP: the pair is
/// mapped onto a Brownian Schrödinger bridge through Φ(T, 0) and the Cholesky factor of the Gramian M(T, 0).
/// See docs/theory/linear-dynamics.md#pair.
/// </summary>
/// <remarks>
/// Immutable and thread-safe; per-t calls use per-thread scratch and allocate nothing once warm (they recompute the
/// dynamics at t unless the thread's last call used the same dynamics and t). The time runs on [0, T] with T the
/// dynamics' horizon. σ = 0 is the deterministic (optimal-transport) limit and works exactly.
/// </remarks>
public sealed partial class LinearGaussianBridge
{
    // m0 | m1 | δ = m1 − Φm0 | M⁻¹δ | Σ1 | l0 | Cov(X0, X_T) | Π(T/2): one uninitialised allocation per bridge, every
    // entry written by the constructor (a batch builds thousands of bridges; zeroing and eight arrays each cost more).
    private readonly double[] _store;
    private readonly double _eps;
    private readonly double[]? _noiseMatrix, _noiseCovariance;
    private readonly NoiseShooting? _shooting;

    [ThreadStatic]
    private static Workspace? t_workspace;
    [ThreadStatic]
    private static DynamicsFrame? t_frame;

    // s0, s1 come validated with their Cholesky factors l0, l1 (Σ0 = l0 l0ᵀ, Σ1 = l1 l1ᵀ).
    private LinearGaussianBridge(LinearDynamics dynamics, double noise, ReadOnlySpan<double> m0, ReadOnlySpan<double> s0, ReadOnlySpan<double> m1,
        ReadOnlySpan<double> s1,
        ReadOnlySpan<double> l0, ReadOnlySpan<double> l1, double[]? noiseMatrix = null, int noiseColumns = 0,
        ReadOnlySpan<double> eigenValues = default, ReadOnlySpan<double> eigenVectors = default)
    {
        Dynamics = dynamics;
        Noise = noise;
        _eps = noise * noise;
        DiffusionColumns = noiseMatrix is null ? dynamics.ControlDimension : noiseColumns;
        int n = dynamics.StateDimension, nn = n * n;
        _store = GC.AllocateUninitializedArray<double>(4 * n + 4 * nn);
        m0[..n].CopyTo(M0);
        m1[..n].CopyTo(M1);
        s1[..nn].CopyTo(S1);
        l0[..nn].CopyTo(L0);
        ReadOnlySpan<double> l = dynamics.GramianFactor;
        var ws = Workspace.For(n, dynamics.ControlDimension);

        // Mean part (docs/theory/linear-dynamics.md#reduction): δ = m1 − Φm0, MeanCost = |L⁻¹δ|², and M⁻¹δ for the
        // feed-forward v_t = BᵀΦ(T, t)ᵀM(T, 0)⁻¹δ.
        Span<double> gramInvDelta = GramInvDelta;
        MeanCost = MeanPart(dynamics, m0, m1, Delta, gramInvDelta);
        SmallDense.BackwardSolveTransposed(l, gramInvDelta, n, 1);
        (Cost, PairDependentCost) = ReducedBridge(dynamics, s0, s1, l0, l1, MeanCost, _eps, ws, eigenValues, eigenVectors, Cross);

        // Π at the anchor t_a = T/2 by the closed form; later times propagate it by the Hamiltonian flow.
        Core(dynamics.AnchorFrame, ws.Mean, ws.Cov, PiAnchor, ws.V, ws, anchor: true);
        if (noiseMatrix is null)
        {
            return;
        }

        // Noise outside the control channel (docs/theory/linear-dynamics.md#shooting): the σ = 0 bridge above gives the
        // mean part and the starting Π(0) of the Newton shooting.
        _noiseMatrix = noiseMatrix;
        _noiseCovariance = new double[nn];
        SmallDense.Multiply(noiseMatrix, false, noiseMatrix, true, _noiseCovariance, n, noiseColumns, n);
        var frame = new DynamicsFrame(dynamics);
        frame.Fill(0);
        var start = new double[nn];
        Core(frame, ws.Mean, ws.Cov, start, ws.V, ws, anchor: false);
        _shooting = new NoiseShooting(dynamics, _noiseCovariance, s0, s1, start);
        Cost = MeanCost + _shooting.CovariancePart;
        PairDependentCost = Cost;
        SmallDense.Multiply(s0, false, _shooting.ClosedLoopAtHorizon, true, Cross, n, n, n);
    }

    private Span<double> M0 => _store.AsSpan(0, Dimension);
    private Span<double> M1 => _store.AsSpan(Dimension, Dimension);
    private Span<double> Delta => _store.AsSpan(2 * Dimension, Dimension);
    private Span<double> GramInvDelta => _store.AsSpan(3 * Dimension, Dimension);
    private Span<double> S1 => _store.AsSpan(4 * Dimension, Dimension * Dimension);
    private Span<double> L0 => _store.AsSpan(4 * Dimension + Dimension * Dimension, Dimension * Dimension);
    private Span<double> Cross => _store.AsSpan(4 * Dimension + 2 * Dimension * Dimension, Dimension * Dimension);
    private Span<double> PiAnchor => _store.AsSpan(4 * Dimension + 3 * Dimension * Dimension, Dimension * Dimension);

    /// <summary>The prior dynamics (its horizon T is the bridge's time span).</summary>
    public LinearDynamics Dynamics { get; }

    /// <summary>State dimension n.</summary>
    public int Dimension => Dynamics.StateDimension;

    /// <summary>Control dimension m.</summary>
    public int ControlDimension => Dynamics.ControlDimension;

    /// <summary>σ ≥ 0: the noise enters as σ B(t) dW (ε = σ²).</summary>
    public double Noise { get; }

    /// <summary>Columns of the diffusion matrix: m for σB, p for a noise matrix D (n×p).</summary>
    public int DiffusionColumns { get; }

    /// <summary>True when the noise is a matrix D outside the control channel (Π(0) from Newton shooting).</summary>
    public bool HasNoiseMatrix => _noiseMatrix is not null;

    /// <summary>For a noise matrix: max |Σ(T) − Σ1| the shooting reached (0 for the closed form).</summary>
    public double ShootingResidual => _shooting?.Residual ?? 0;

    /// <summary>The exact kinetic energy J = E∫₀ᵀ|u(t, X_t)|² dt of the optimal control (mean part + covariance part).</summary>
    public double Cost { get; }

    /// <summary>The mean part of <see cref="Cost"/>: |L⁻¹(m1 − Φ(T, 0)m0)|², the minimum energy of steering the means.</summary>
    public double MeanCost { get; }

    /// <summary>
    /// <see cref="Cost"/> without the terms that depend on one endpoint only (tr Σ̂0 + tr Σ̂1 − ε log det Σ̂1 + nε(1 + log ε/2)
    /// in the reduced coordinates): the LP gives the same coupling with either.
    /// </summary>
    public double PairDependentCost { get; }

    /// <summary>The bridge between N(mean0, covariance0) and N(mean1, covariance1) (n-vectors, n×n row-major SPD).</summary>
    public static LinearGaussianBridge Create(LinearDynamics dynamics, ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, double noise = 0)
    {
        ArgumentNullException.ThrowIfNull(dynamics);
        if (!double.IsFinite(noise) || noise < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(noise), noise, "noise σ must be finite and ≥ 0.");
        }
        int n = dynamics.StateDimension;
        CheckFinite(mean0, n, "source mean", nameof(mean0));
        CheckFinite(mean1, n, "target mean", nameof(mean1));
        var ws = Workspace.For(n, dynamics.ControlDimension);
        // The checked copies live in this thread's scratch: the bridge keeps what it needs in its own store.
        CheckCovariance(covariance0, n, "source covariance Σ0", nameof(covariance0), ws.S0, ws.L0);
        CheckCovariance(covariance1, n, "target covariance Σ1", nameof(covariance1), ws.S1, ws.L1);
        return new LinearGaussianBridge(dynamics, noise, mean0, ws.S0, mean1, ws.S1, ws.L0, ws.L1);
    }

    /// <summary>
    /// The bridge for dX = (AX + Bu)dt + D dW with a general noise matrix D (n×<paramref name="noiseColumns"/> row-major),
    /// DDᵀ ≠ εBBᵀ: the mean part is closed-form, Π(0) comes from Newton shooting so that the covariance reaches Σ1
    /// (docs/theory/linear-dynamics.md#shooting). <see cref="Cost"/> is then J by quadrature (about 1e-12 relative);
    /// <see cref="PairDependentCost"/> equals it.
    /// </summary>
    public static LinearGaussianBridge CreateWithNoiseMatrix(LinearDynamics dynamics, ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, ReadOnlySpan<double> noiseMatrix, int noiseColumns)
    {
        ArgumentNullException.ThrowIfNull(dynamics);
        int n = dynamics.StateDimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(noiseColumns, 1);
        CheckFinite(noiseMatrix, n * noiseColumns, $"noise matrix D (n×p = {n}×{noiseColumns})", nameof(noiseMatrix));
        var d = noiseMatrix.ToArray();
        CheckFinite(mean0, n, "source mean", nameof(mean0));
        CheckFinite(mean1, n, "target mean", nameof(mean1));
        var ws = Workspace.For(n, dynamics.ControlDimension);
        // The checked copies live in this thread's scratch: the bridge keeps what it needs in its own store.
        CheckCovariance(covariance0, n, "source covariance Σ0", nameof(covariance0), ws.S0, ws.L0);
        CheckCovariance(covariance1, n, "target covariance Σ1", nameof(covariance1), ws.S1, ws.L1);
        return new LinearGaussianBridge(dynamics, 0, mean0, ws.S0, mean1, ws.S1, ws.L0, ws.L1, d, noiseColumns);
    }

    /// <summary>Cov(X0, X_T) of the optimal coupling (n×n row-major).</summary>
    public void CrossCovariance(Span<double> destination)
    {
        CheckLength(destination, Dimension * Dimension, nameof(destination));
        Cross.CopyTo(destination);
    }

    /// <summary>m_t = Φ(t, 0)m0 + G_t δ.</summary>
    public void Mean(double t, Span<double> destination)
    {
        CheckLength(destination, Dimension, nameof(destination));
        var ws = Prepare(t, out var frame);
        Core(frame, destination, ws.Cov, ws.Pi, ws.V, ws, anchor: false, needPi: false);
    }

    /// <summary>Σ_t (n×n row-major).</summary>
    public void Covariance(double t, Span<double> destination)
    {
        CheckLength(destination, Dimension * Dimension, nameof(destination));
        var ws = Prepare(t, out var frame);
        Core(frame, ws.Mean, destination, ws.Pi, ws.V, ws, anchor: false, needPi: false);
    }

    /// <summary>Π(t) (n×n symmetric): the solution of the Riccati equation Π̇ = −AᵀΠ − ΠA − ΠBBᵀΠ of this pair.</summary>
    public void Riccati(double t, Span<double> destination)
    {
        CheckLength(destination, Dimension * Dimension, nameof(destination));
        var ws = Prepare(t, out var frame);
        Core(frame, ws.Mean, ws.Cov, destination, ws.V, ws, anchor: false);
    }

    /// <summary>The feedback gain K(t) = B(t)ᵀΠ(t) (m×n row-major).</summary>
    public void Gain(double t, Span<double> destination)
    {
        int n = Dimension, m = ControlDimension;
        CheckLength(destination, m * n, nameof(destination));
        var ws = Prepare(t, out var frame);
        Core(frame, ws.Mean, ws.Cov, ws.Pi, ws.V, ws, anchor: false);
        SmallDense.Multiply(frame.B, true, ws.Pi, false, destination, m, n, n);
    }

    /// <summary>The feed-forward v_t = B(t)ᵀΦ(T, t)ᵀM(T, 0)⁻¹(m1 − Φ(T, 0)m0) (m-vector): the control at x = m_t.</summary>
    public void FeedForward(double t, Span<double> destination)
    {
        CheckLength(destination, ControlDimension, nameof(destination));
        var ws = Prepare(t, out var frame);
        Core(frame, ws.Mean, ws.Cov, ws.Pi, destination, ws, anchor: false, needPi: false);
    }

    /// <summary>The optimal control u(t, x) = K(t)(x − m_t) + v_t (m-vector).</summary>
    public void Control(double t, ReadOnlySpan<double> x, Span<double> control)
    {
        int n = Dimension, m = ControlDimension;
        CheckLength(x, n, nameof(x));
        CheckLength(control, m, nameof(control));
        var ws = Prepare(t, out var frame);
        Core(frame, ws.Mean, ws.Cov, ws.Pi, ws.V, ws, anchor: false);
        for (int i = 0; i < n; i++)
        {
            ws.X[i] = x[i] - ws.Mean[i];
        }
        SmallDense.MultiplyVector(ws.Pi, false, ws.X, ws.Y, n, n);
        SmallDense.MultiplyVector(frame.B, true, ws.Y, control, n, m);
        for (int i = 0; i < m; i++)
        {
            control[i] += ws.V[i];
        }
    }

    /// <summary>
    /// m_t, Σ_t and the affine state field f(t, x) = offset + gain·(x − m_t) in one call: for
    /// <see cref="BridgeField.Drift"/> the SDE drift A x + B u (gain A + BK, offset A m_t + B v_t, diffusion σB); for
    /// <see cref="BridgeField.ProbabilityFlow"/> the deterministic field with the same marginals (gain plus
    /// ½ε BBᵀΣ_t⁻¹). Spans: n, n×n, n×n, n.
    /// </summary>
    public void Evaluate(double t, Span<double> mean, Span<double> covariance, Span<double> gain, Span<double> offset,
        BridgeField field = BridgeField.Drift)
    {
        int n = Dimension;
        CheckLength(mean, n, nameof(mean));
        CheckLength(covariance, n * n, nameof(covariance));
        CheckLength(gain, n * n, nameof(gain));
        CheckLength(offset, n, nameof(offset));
        var ws = Prepare(t, out var frame);
        EvaluateCore(frame, mean, covariance, gain, offset, field, ws);
    }

    /// <summary>
    /// The diffusion matrix of the SDE dX = (AX + Bu)dt + (diffusion) dW: σB(t) (n×m row-major), or the noise matrix D
    /// (n×p) of <see cref="CreateWithNoiseMatrix"/>; <see cref="DiffusionColumns"/> columns.
    /// </summary>
    public void Diffusion(double t, Span<double> destination)
    {
        int n = Dimension, m = ControlDimension;
        CheckLength(destination, n * DiffusionColumns, nameof(destination));
        Dynamics.CheckTime(t, nameof(t));
        if (_noiseMatrix is not null)
        {
            _noiseMatrix.CopyTo(destination);
            return;
        }
        var a = new double[n * n];
        Dynamics.SystemMatrices(t, a, destination);
        for (int i = 0; i < n * m; i++)
        {
            destination[i] *= Noise;
        }
    }

    /// <summary>
    /// <paramref name="count"/> exact samples of the time-t marginal N(m_t, Σ_t) (count×n row-major); sample i uses
    /// random stream i of <paramref name="seed"/>.
    /// </summary>
    public double[] SampleMarginal(double t, int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int n = Dimension;
        var mean = new double[n];
        var cov = new double[n * n];
        Mean(t, mean);
        Covariance(t, cov);
        var l = new double[n * n];
        if (!SmallDense.TryCholesky(cov, l, n))
        {
            throw new NotPositiveDefiniteException($"bridge covariance Σ_t at t = {t:R}", -1, 0);
        }
        var rng = new CounterRng(seed);
        var output = new double[count * n];
        var z = new double[n];
        for (int i = 0; i < count; i++)
        {
            rng.FillNormal((ulong)i, 0, z);
            for (int r = 0; r < n; r++)
            {
                double s = mean[r];
                for (int c = 0; c <= r; c++)
                {
                    s += l[r * n + c] * z[c];
                }
                output[i * n + r] = s;
            }
        }
        return output;
    }

    // ----------------------------------------------------------------------------------------------------------------

    /// <summary>The field for a frame already filled at t (shared by all pairs of a mixture).</summary>
    internal void EvaluateCore(DynamicsFrame frame, Span<double> mean, Span<double> covariance, Span<double> gain, Span<double> offset,
        BridgeField field, Workspace ws)
    {
        int n = Dimension, m = ControlDimension, nn = n * n;
        Core(frame, mean, covariance, ws.Pi, ws.V, ws, anchor: false);
        ReadOnlySpan<double> a = frame.A, b = frame.B;
        // gain = A + B Bᵀ Π; offset = A m_t + B v_t.
        SmallDense.Multiply(b, false, b, true, ws.T1, n, m, n);
        SmallDense.Multiply(ws.T1, ws.Pi, ws.T2, n);
        TensorPrimitives.Add(a[..nn], ws.T2.AsSpan(0, nn), gain);
        SmallDense.MultiplyVector(a, false, mean, offset, n, n);
        SmallDense.MultiplyVector(b, false, ws.V, ws.X, n, m);
        for (int i = 0; i < n; i++)
        {
            offset[i] += ws.X[i];
        }
        if (field == BridgeField.ProbabilityFlow && (_eps > 0 || _noiseCovariance is not null))
        {
            // + ½ε BBᵀ Σ_t⁻¹ (½ DDᵀ Σ_t⁻¹): (Σ_t⁻¹ BBᵀ)ᵀ from two triangular solves.
            if (!SmallDense.TryCholesky(covariance, ws.L, n))
            {
                throw new NotPositiveDefiniteException($"bridge covariance Σ_t at t = {frame.Time:R}", -1, 0);
            }
            double scale = 0.5 * _eps;
            if (_noiseCovariance is not null)
            {
                _noiseCovariance.CopyTo(ws.T2.AsSpan());
                scale = 0.5;
            }
            else
            {
                ws.T1.AsSpan(0, nn).CopyTo(ws.T2);
            }
            SmallDense.ForwardSolve(ws.L, ws.T2, n, n);
            SmallDense.BackwardSolveTransposed(ws.L, ws.T2, n, n);
            Span<double> t2 = ws.T2;
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    gain[r * n + c] += scale * t2[c * n + r];
                }
            }
        }
        else if (field is not (BridgeField.Drift or BridgeField.ProbabilityFlow))
        {
            ThrowHelper.ThrowArgument($"Unknown bridge field {(int)field}.", nameof(field));
        }
    }

    private Workspace Prepare(double t, out DynamicsFrame frame)
    {
        Dynamics.CheckTime(t, nameof(t));
        frame = t_frame is { } f && ReferenceEquals(f.Dynamics, Dynamics) ? f : (t_frame = new DynamicsFrame(Dynamics));
        frame.Fill(t);
        return Workspace.For(Dimension, ControlDimension);
    }

    // m_t, Σ_t, Π(t), v_t at the frame's time (docs/theory/linear-dynamics.md#marginals).
    private void Core(DynamicsFrame f, Span<double> mean, Span<double> cov, Span<double> pi, Span<double> v, Workspace w,
        bool anchor, bool needPi = true)
    {
        int n = Dimension, m = ControlDimension, nn = n * n;
        // m_t = Φ(t,0)m0 + G_t δ (not needed for Π_a at set-up).
        if (!anchor)
        {
            SmallDense.MultiplyVector(f.PhiT0, false, M0, mean, n, n);
            SmallDense.MultiplyVector(f.G, false, Delta, w.X, n, n);
            for (int i = 0; i < n; i++)
            {
                mean[i] += w.X[i];
            }
        }
        if (_shooting is not null && !anchor)
        {
            SmallDense.MultiplyVector(f.PhiHt, true, GramInvDelta, w.X, n, n);
            SmallDense.MultiplyVector(f.B, true, w.X, v, n, m);
            _shooting.Evaluate(f, pi, cov);
            return;
        }
        // Σ_t = FΣ0Fᵀ + GΣ1Gᵀ + X + Xᵀ + ε(M(t,0) − G Φ(T,t) M(t,0)) with X = F S01 Gᵀ, as UᵀU + GΣ1Gᵀ + 2X + εN
        // symmetrised (the symmetric part of 2X is X + Xᵀ), U = L0ᵀFᵀ; Cov(X_t, X_T) = F S01 + GΣ1 goes to T1 for Π.
        SmallDense.Multiply(f.F, Cross, w.T4, n);
        SmallDense.Multiply(f.G, S1, w.T1, n);
        SmallDense.Multiply(w.T1, f.GTransposed, w.T3, n);
        TensorPrimitives.Add(w.T1.AsSpan(0, nn), w.T4.AsSpan(0, nn), w.T1);
        SmallDense.Multiply(L0, true, f.FTransposed, false, w.T2, n, n, n);
        SmallDense.Multiply(w.T2, true, w.T2, false, cov, n, n, n);
        SmallDense.Multiply(w.T4, f.GTransposed, w.T2, n);
        TensorPrimitives.MultiplyAdd(w.T2.AsSpan(0, nn), 2.0, cov[..nn], cov);
        TensorPrimitives.Add(cov[..nn], w.T3.AsSpan(0, nn), cov);
        if (_eps > 0)
        {
            TensorPrimitives.MultiplyAdd(f.NoiseTerm.AsSpan(0, nn), _eps, cov[..nn], cov);
        }
        SmallDense.Symmetrize(cov, n);
        // v_t = B(t)ᵀ Φ(T,t)ᵀ M⁻¹δ.
        if (!anchor)
        {
            SmallDense.MultiplyVector(f.PhiHt, true, GramInvDelta, w.X, n, n);
            SmallDense.MultiplyVector(f.B, true, w.X, v, n, m);
        }
        if (!needPi)
        {
            return;
        }
        if (!f.PastAnchor || anchor)
        {
            ClosedFormPi(f, cov, pi, w);
        }
        else
        {
            HamiltonianPi(f, pi, w);
        }
    }

    // Π(t) = Φ(T,t)ᵀ M(T,t)⁻¹ (Cov(X_T, X_t) Σ_t⁻¹ − Φ(T,t)) = H (Σ_t⁻¹ Cov(X_t, X_T))ᵀ − HΦ(T,t) with the frame's
    // H = Φ(T,t)ᵀM(T,t)⁻¹ (t ≤ t_a only); w.T1 holds Cov(X_t, X_T) from Core.
    private void ClosedFormPi(DynamicsFrame f, ReadOnlySpan<double> cov, Span<double> pi, Workspace w)
    {
        int n = Dimension;
        if (!SmallDense.TryCholesky(cov, w.L, n))
        {
            throw new NotPositiveDefiniteException($"bridge covariance Σ_t at t = {f.Time:R}", -1, 0);
        }
        if (!f.GramHtFactored)
        {
            throw new UncontrollableSystemException(Dynamics.Horizon, double.PositiveInfinity,
                $"The Gramian M(T, t) at t = {f.Time:R} is not positive definite.");
        }
        SmallDense.ForwardSolve(w.L, w.T1, n, n);
        SmallDense.BackwardSolveTransposed(w.L, w.T1, n, n);
        // Π is symmetric, so its symmetric part from Z Hᵀ − HΦ = (H Zᵀ − HΦ)ᵀ, Z = Σ_t⁻¹ Cov(X_t, X_T).
        SmallDense.Multiply(w.T1, f.PiMapTransposed, pi, n);
        TensorPrimitives.Subtract(pi[..(n * n)], f.PiOffset.AsSpan(0, n * n), pi);
        SmallDense.Symmetrize(pi, n);
    }

    // [X; Y](t) = Ψ(t, t_a)[I; Π_a], Ψ = [[Φ, MΦ⁻ᵀ], [0, Φ⁻ᵀ]] with Φ = Φ(t, t_a), M = M(t, t_a); Π = Y X⁻¹
    // (docs/theory/linear-dynamics.md#near-horizon).
    private void HamiltonianPi(DynamicsFrame f, Span<double> pi, Workspace w)
    {
        int n = Dimension, nn = n * n;
        // Z = Φ⁻ᵀ Π_a.
        SmallDense.Multiply(f.PhiAnchorInverseTransposed, PiAnchor, w.T2, n);
        // X = Φ + M Z.
        SmallDense.Multiply(f.GramAnchor, w.T2, w.T3, n);
        TensorPrimitives.Add(w.T3.AsSpan(0, nn), f.PhiAnchor.AsSpan(0, nn), w.T3);
        // Π = Z X⁻¹ ⇔ Xᵀ Πᵀ = Zᵀ.
        SmallDense.Transpose(w.T3, w.T1, n, n);
        SmallDense.Transpose(w.T2, w.T3, n, n);
        if (!SmallDense.TrySolve(w.T1, w.T3, n, n))
        {
            throw new InvalidOperationException($"The closed-loop transition from T/2 to t = {f.Time:R} is numerically singular.");
        }
        SmallDense.Transpose(w.T3, pi, n, n);
        SmallDense.Symmetrize(pi, n);
    }

    /// <summary>
    /// The Gaussian Schrödinger bridge on [0, 1] between the reduced endpoints N(·, Σ̂0 = RΣ0Rᵀ), N(·, Σ̂1 = L⁻¹Σ1L⁻ᵀ),
    /// R = L⁻¹Φ, through the factor R l0 of Σ̂0 (docs/theory/linear-dynamics.md#pair-algebra): with
    /// K = YᵀY = V diag(γ) Vᵀ, Y = l1ᵀ(M⁻¹Φ) l0, and c_k = 2γ_k/(δ_k + ε), δ_k = √(4γ_k + ε²),
    /// J = |Δm̂|² + tr Σ̂0 + tr Σ̂1 − ε(Σ(g_k − log g_k) + log det Σ̂1) + nε(1 + log ε/2), g_k = 1 + √(1 + 4γ_k/ε²)
    /// (ε = 0: J = |Δm̂|² + tr Σ̂0 + tr Σ̂1 − 2Σ√γ_k), and Cov(X0, X_T) = l0 V diag(c) Vᵀ l0⁻¹ (Φ⁻¹M).
    /// Also returns J without the one-endpoint terms; Cov(X0, X_T) goes into <paramref name="cross"/>.
    /// </summary>
    /// <remarks>
    /// <paramref name="eigenValues"/> and <paramref name="eigenVectors"/> (V row-major, eigenvectors in its columns), when
    /// given, are K's decomposition already solved by a lockstep group (<see cref="BuildRange{TInputs}"/>).
    /// </remarks>
    private static (double Cost, double PairDependent) ReducedBridge(LinearDynamics dynamics, ReadOnlySpan<double> s0,
        ReadOnlySpan<double> s1, ReadOnlySpan<double> l0, ReadOnlySpan<double> l1, double meanCost, double eps, Workspace w,
        ReadOnlySpan<double> eigenValues, ReadOnlySpan<double> eigenVectors, Span<double> cross)
    {
        int n = dynamics.StateDimension, nn = n * n;
        if (eigenValues.IsEmpty)
        {
            ReducedMatrix(dynamics, l0, l1, w.T3, w);
            if (!SmallSymmetricEigen.DecomposeRowOriented(w.T3, n, w.Values, w.Vectors, w.Off))
            {
                throw new InvalidOperationException("The eigenvalue iteration of the reduced Schrödinger-bridge pair did not converge.");
            }
        }
        ReadOnlySpan<double> values = eigenValues.IsEmpty ? w.Values : eigenValues;
        ReadOnlySpan<double> vectors = eigenVectors.IsEmpty ? w.Vectors : eigenVectors;
        Span<double> c = w.C;
        var (cost, pairDependent) = CostFromSpectrum(dynamics, s0, s1, l1, meanCost, eps, values, c, w.Off);
        // Cov(X0, X_T) = (l0 V diag(c)) (Vᵀ (l0⁻¹ Φ⁻¹M)).
        SmallDense.Multiply(l0, vectors, w.T1, n);
        for (int r = 0; r < n; r++)
        {
            Span<double> row = w.T1.AsSpan(r * n, n);
            TensorPrimitives.Multiply(row, c[..n], row);
        }
        dynamics.TransitionSolvedGramian.AsSpan(0, nn).CopyTo(w.T2);
        SmallDense.ForwardSolve(l0, w.T2, n, n);
        SmallDense.Multiply(vectors, true, w.T2, false, w.T3, n, n, n);
        SmallDense.Multiply(w.T1, w.T3, cross, n);
        return (cost, pairDependent);
    }

    /// <summary>δ = m1 − Φm0 into <paramref name="delta"/>, L⁻¹δ into <paramref name="whitened"/>; returns |L⁻¹δ|² (the mean part of J).</summary>
    private static double MeanPart(LinearDynamics dynamics, ReadOnlySpan<double> m0, ReadOnlySpan<double> m1, Span<double> delta, Span<double> whitened)
    {
        int n = dynamics.StateDimension;
        SmallDense.MultiplyVector(dynamics.PhiHorizon, false, m0, delta, n, n);
        for (int i = 0; i < n; i++)
        {
            delta[i] = m1[i] - delta[i];
        }
        delta[..n].CopyTo(whitened);
        SmallDense.ForwardSolve(dynamics.GramianFactor, whitened, n, 1);
        double meanCost = 0;
        for (int i = 0; i < n; i++)
        {
            meanCost += whitened[i] * whitened[i];
        }
        return meanCost;
    }

    /// <summary>
    /// J and J without the one-endpoint terms from K's eigenvalues γ (formulas in <see cref="ReducedBridge"/>); c_k into
    /// <paramref name="c"/> (n-scratch <paramref name="scratch"/>).
    /// </summary>
    private static (double Cost, double PairDependent) CostFromSpectrum(LinearDynamics dynamics, ReadOnlySpan<double> s0, ReadOnlySpan<double> s1,
        ReadOnlySpan<double> l1, double meanCost, double eps, ReadOnlySpan<double> values, Span<double> c, Span<double> scratch)
    {
        int n = dynamics.StateDimension, nn = n * n;
        // tr Σ̂0 = ⟨ΦᵀM⁻¹Φ, Σ0⟩, tr Σ̂1 = ⟨M⁻¹, Σ1⟩ (Frobenius).
        ReadOnlySpan<double> reducedGram = dynamics.ReducedGram, gramInverse = dynamics.GramianInverse;
        double trace = TensorPrimitives.Dot(reducedGram[..nn], s0[..nn]) + TensorPrimitives.Dot(gramInverse[..nn], s1[..nn]), sum = 0;
        for (int j = 0; j < n; j++)
        {
            double g = Math.Max(0, values[j]), delta = Math.Sqrt(4 * g + eps * eps);
            c[j] = 2 * g / (delta + eps); // = (δ − ε)/2 without cancellation when γ ≪ ε²
            if (eps > 0)
            {
                double gj = 1 + Math.Sqrt(1 + 4 * g / (eps * eps));
                sum += gj;
                scratch[j] = gj;
            }
            else
            {
                sum += 2 * Math.Sqrt(g);
            }
        }
        if (eps > 0)
        {
            sum -= SmallDense.SumOfLogs(scratch[..n]);
        }
        double single = trace, cost;
        if (eps > 0)
        {
            // log det Σ̂1 = log det Σ1 − log det M.
            double logDet = SmallDense.LogDetFromCholesky(l1, n) - dynamics.LogDetGramian, constant = n * eps * (1 + Math.Log(eps / 2));
            cost = meanCost + trace - eps * (sum + logDet) + constant;
            single += -eps * logDet + constant;
        }
        else
        {
            cost = meanCost + trace - sum;
        }
        return (cost, cost - single);
    }

    /// <summary>K = YᵀY, Y = l1ᵀ(M⁻¹Φ)l0: the reduced pair's matrix whose spectrum gives J (symmetric, into <paramref name="k"/>).</summary>
    internal static void ReducedMatrix(LinearDynamics dynamics, ReadOnlySpan<double> l0, ReadOnlySpan<double> l1, Span<double> k, Workspace w)
    {
        int n = dynamics.StateDimension;
        SmallDense.Multiply(dynamics.GramianSolvedTransition, l0, w.T1, n);
        SmallDense.Multiply(l1, true, w.T1, false, w.T2, n, n, n);
        SmallDense.Multiply(w.T2, true, w.T2, false, k, n, n, n);
        SmallDense.Symmetrize(k, n);
    }

    private static void CheckFinite(ReadOnlySpan<double> v, int n, string what, string paramName)
    {
        if (v.Length != n)
        {
            throw new ArgumentException($"The {what} has length {v.Length}; the state dimension is {n}.", paramName);
        }
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(v[i]))
            {
                ThrowHelper.ThrowNonFinite(what + ", entry", -1, i, v[i], paramName);
            }
        }
    }

    /// <summary>
    /// Checks Σ (length n², finite, symmetric to 1e-10 relative, positive definite) into <paramref name="destination"/> =
    /// (Σ + Σᵀ)/2 and its Cholesky factor. One vector pass over (Σ, Σᵀ) checks and averages; the entry-by-entry loops run
    /// only to name the culprit.
    /// </summary>
    private static void CheckCovariance(ReadOnlySpan<double> s, int n, string what, string paramName, Span<double> destination, Span<double> factor)
    {
        int nn = n * n;
        if (s.Length != nn)
        {
            throw new ArgumentException($"The {what} has length {s.Length}; the state dimension is {n}.", paramName);
        }
        SmallDense.Transpose(s, destination, n, n);
        if (!SymmetrizeChecked(s, destination[..nn]))
        {
            for (int i = 0; i < nn; i++)
            {
                if (!double.IsFinite(s[i]))
                {
                    ThrowHelper.ThrowNonFinite(what + ", entry", -1, i, s[i], paramName);
                }
            }
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < r; c++)
                {
                    double x = s[r * n + c], y = s[c * n + r];
                    if (!SymmetricEnough(x, y))
                    {
                        throw new ArgumentException($"The {what} is not symmetric: entries ({r}, {c}) = {x:R} and ({c}, {r}) = {y:R}.", paramName);
                    }
                }
            }
        }
        if (!SmallDense.TryCholesky(destination, factor, n))
        {
            throw new NotPositiveDefiniteException(what, -1, 0, paramName);
        }
    }

    private static bool SymmetricEnough(double x, double y) => Math.Abs(x - y) <= 1e-10 * Math.Max(1, Math.Max(Math.Abs(x), Math.Abs(y)));

    /// <summary>t := (s + t)/2 (t holding sᵀ) if every s is finite and every |s − t| ≤ 1e-10·max(1, |s|, |t|); else false.</summary>
    private static bool SymmetrizeChecked(ReadOnlySpan<double> s, Span<double> t)
    {
        int k = 0, width = Vector<double>.Count;
        var bad = Vector<long>.Zero;
        for (; k <= t.Length - width; k += width)
        {
            var x = new Vector<double>(s[k..]);
            var y = new Vector<double>(t[k..]);
            var bound = new Vector<double>(1e-10) * Vector.Max(Vector<double>.One, Vector.Max(Vector.Abs(x), Vector.Abs(y)));
            // x − x is 0 only for finite x (NaN for ±∞ and NaN), and a NaN difference fails the bound.
            bad |= ~(Vector.Equals(x - x, Vector<double>.Zero) & Vector.LessThanOrEqual(Vector.Abs(x - y), bound));
            ((x + y) * 0.5).CopyTo(t[k..]);
        }
        if (bad != Vector<long>.Zero)
        {
            return false;
        }
        for (; k < t.Length; k++)
        {
            double x = s[k], y = t[k];
            if (!double.IsFinite(x) || !SymmetricEnough(x, y))
            {
                return false;
            }
            t[k] = 0.5 * (x + y);
        }
        return true;
    }

    private static void CheckLength(ReadOnlySpan<double> span, int length, string name)
    {
        if (span.Length < length)
        {
            ThrowHelper.ThrowSize(name, length, span.Length);
        }
    }

    /// <summary>Per-thread scratch (n×n matrices, n- and m-vectors).</summary>
    internal sealed class Workspace
    {
        private Workspace(int n, int m)
        {
            N = n;
            M = m;
            int nn = n * n;
            T1 = CacheLines.AlignedDoubles(nn);
            T2 = CacheLines.AlignedDoubles(nn);
            T3 = CacheLines.AlignedDoubles(nn);
            T4 = CacheLines.AlignedDoubles(nn);
            L = CacheLines.AlignedDoubles(nn);
            L0 = CacheLines.AlignedDoubles(nn);
            L1 = CacheLines.AlignedDoubles(nn);
            S0 = new double[nn];
            S1 = new double[nn];
            Vectors = CacheLines.AlignedDoubles(nn);
            Values = new double[n];
            Off = new double[n];
            C = new double[n];
            Pi = CacheLines.AlignedDoubles(nn);
            Cov = CacheLines.AlignedDoubles(nn);
            Mean = new double[n];
            X = new double[n];
            Y = new double[n];
            V = new double[m];
        }

        public int N { get; }
        public int M { get; }
        // n×n scratch on 64-byte boundaries: the small products load whole rows as vectors.
        public readonly ArraySegment<double> T1, T2, T3, T4, L, L0, L1, Vectors, Pi, Cov;
        // Create's checked covariances (the bridge copies Σ1; Σ0 is read during construction only).
        public readonly double[] S0, S1;
        public readonly double[] Values, Off, C, Mean, X, Y, V;


        public static Workspace For(int n, int m)
        {
            var w = t_workspace;
            if (w is null || w.N != n || w.M != m)
            {
                w = t_workspace = new Workspace(n, m);
            }
            return w;
        }
    }
}

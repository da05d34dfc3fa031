namespace GmmFlow;

/// <summary>How a <see cref="LinearDynamics"/> was specified.</summary>
public enum LinearDynamicsKind
{
    /// <summary>Constant A, B (Φ and M from one matrix exponential of the Van Loan block).</summary>
    TimeInvariant,

    /// <summary>The double integrator on positions and velocities (analytic Φ and M).</summary>
    DoubleIntegrator,

    /// <summary>A(t), B(t) given on a time grid, linear between grid points (Φ and M by ODE integration).</summary>
    PiecewiseLinear,

    /// <summary>A(t), B(t) from a delegate (Φ and M by ODE integration).</summary>
    Function,
}

/// <summary>Writes A(t) (n×n row-major) and B(t) (n×m row-major) for time t ∈ [0, T].</summary>
public delegate void SystemMatricesFunction(double t, Span<double> a, Span<double> b);

/// <summary>
/// Linear prior dynamics dX = A(t)X dt + B(t)(u dt + σ dW) on t ∈ [0, T], X ∈ Rⁿ, u ∈ Rᵐ (m ≤ n): the
/// state-transition matrix Φ(t, s) and the controllability Gramian M(t, s) = ∫ₛᵗ Φ(t, r)B(r)B(r)ᵀΦ(t, r)ᵀ dr that the
/// Gaussian bridges of <see cref="LinearGaussianBridge"/> are built from. See docs/theory/linear-dynamics.md#dynamics.
/// </summary>
/// <remarks>
/// Immutable and thread-safe. Construction checks that M(T, 0) ≻ 0 (controllability over the horizon) and throws
/// <see cref="UncontrollableSystemException"/> otherwise. Time-varying systems are integrated once at construction
/// (RK4 on a uniform sub-grid of every grid interval, step halved until the Richardson estimate of the error of
/// (Φ(T, 0), M(T, 0)) is below the requested tolerance, see <see cref="IntegrationError"/>).
/// </remarks>
public sealed class LinearDynamics
{
    private readonly double[] _a = [], _b = [];          // LTI: A (n×n), B (n×m)
    private readonly double[] _times = [];               // grid (PiecewiseLinear)
    private readonly double[] _aGrid = [], _bGrid = [];  // grid values, K×n×n and K×n×m
    private readonly SystemMatricesFunction? _function;
    private readonly bool _zeroDrift;                    // LTI with A = 0: Φ = I, M = τBBᵀ exactly
    // Time-varying: Φ(t_k, 0) and M(t_k, 0) at the integration nodes t_k (every grid point is a node).
    private readonly double[] _nodes = [], _nodePhi = [], _nodeGramian = [];
    private readonly double[] _phiT = [], _gramianT = [], _gramianFactor = [];

    private LinearDynamics(LinearDynamicsKind kind, int n, int m, double horizon, int positions, double[] a, double[] b,
        double[] times, double[] aGrid, double[] bGrid, SystemMatricesFunction? function, double tolerance)
    {
        Kind = kind;
        StateDimension = n;
        ControlDimension = m;
        Horizon = horizon;
        PositionDimension = positions;
        _a = a;
        _b = b;
        _times = times;
        _aGrid = aGrid;
        _bGrid = bGrid;
        _function = function;
        if (kind == LinearDynamicsKind.TimeInvariant)
        {
            _zeroDrift = Array.TrueForAll(a, x => x == 0);
        }
        if (kind is LinearDynamicsKind.PiecewiseLinear or LinearDynamicsKind.Function)
        {
            (_nodes, _nodePhi, _nodeGramian, IntegrationError) = Integrate(tolerance);
        }
        int nn = n * n;
        _phiT = new double[nn];
        _gramianT = new double[nn];
        Propagator(horizon, _phiT, _gramianT);
        _gramianFactor = new double[nn];
        CheckControllable();
        // L⁻¹Φ(T, 0) and its inverse Φ(T, 0)⁻¹L: the reduction's maps (docs/theory/linear-dynamics.md#reduction).
        ReducedTransition = (double[])_phiT.Clone();
        SmallDense.ForwardSolve(_gramianFactor, ReducedTransition, n, n);
        InverseReducedTransition = new double[nn];
        if (!SmallDense.TryInvert(ReducedTransition, InverseReducedTransition, n))
        {
            throw new InvalidOperationException("The state-transition matrix Φ(T, 0) is numerically singular.");
        }
        // Pair-independent maps of the pair set-up (docs/theory/linear-dynamics.md#pair-algebra): M⁻¹, M⁻¹Φ, ΦᵀM⁻¹Φ,
        // Φ⁻¹M and log det M.
        GramianInverse = new double[nn];
        SmallDense.Identity(GramianInverse, n);
        SmallDense.ForwardSolve(_gramianFactor, GramianInverse, n, n);
        SmallDense.BackwardSolveTransposed(_gramianFactor, GramianInverse, n, n);
        SmallDense.Symmetrize(GramianInverse, n);
        GramianSolvedTransition = new double[nn];
        SmallDense.Multiply(GramianInverse, _phiT, GramianSolvedTransition, n);
        ReducedGram = new double[nn];
        SmallDense.Multiply(ReducedTransition, true, ReducedTransition, false, ReducedGram, n, n, n);
        SmallDense.Symmetrize(ReducedGram, n);
        TransitionSolvedGramian = new double[nn];
        SmallDense.Multiply(InverseReducedTransition, false, _gramianFactor, true, TransitionSolvedGramian, n, n, n);
        LogDetGramian = SmallDense.LogDetFromCholesky(_gramianFactor, n);
        AnchorFrame = new DynamicsFrame(this);
        AnchorFrame.Fill(0.5 * horizon);
    }

    /// <summary>M(T, 0)⁻¹.</summary>
    internal double[] GramianInverse { get; }

    /// <summary>M(T, 0)⁻¹Φ(T, 0).</summary>
    internal double[] GramianSolvedTransition { get; }

    /// <summary>Φ(T, 0)ᵀM(T, 0)⁻¹Φ(T, 0) (tr Σ̂0 = ⟨this, Σ0⟩).</summary>
    internal double[] ReducedGram { get; }

    /// <summary>Φ(T, 0)⁻¹M(T, 0).</summary>
    internal double[] TransitionSolvedGramian { get; }

    /// <summary>log det M(T, 0).</summary>
    internal double LogDetGramian { get; }

    /// <summary>L⁻¹Φ(T, 0) with M(T, 0) = LLᵀ.</summary>
    internal double[] ReducedTransition { get; }

    /// <summary>Φ(T, 0)⁻¹L.</summary>
    internal double[] InverseReducedTransition { get; }

    /// <summary>The dynamics at the anchor time T/2, shared read-only by every bridge's set-up (never refilled).</summary>
    internal DynamicsFrame AnchorFrame { get; }

    /// <summary>How the dynamics were specified.</summary>
    public LinearDynamicsKind Kind { get; }

    /// <summary>State dimension n.</summary>
    public int StateDimension { get; }

    /// <summary>Control dimension m ≤ n.</summary>
    public int ControlDimension { get; }

    /// <summary>Horizon T: bridges run on t ∈ [0, T].</summary>
    public double Horizon { get; }

    /// <summary>For the double integrator, the number of positions (n = 2 × positions; state (x, v)); 0 otherwise.</summary>
    public int PositionDimension { get; }

    /// <summary>
    /// Estimated largest absolute error of Φ(T, 0) and M(T, 0) relative to max(1, their largest entry), for the
    /// ODE-integrated (time-varying) kinds; 0 for the analytic and matrix-exponential kinds (rounding only).
    /// </summary>
    public double IntegrationError { get; }

    /// <summary>The grid times of a piecewise-linear system (empty otherwise).</summary>
    public ReadOnlySpan<double> GridTimes => _times;

    /// <summary>Stored matrices for serialisation: A and B of a constant system, or the stacked grid values.</summary>
    internal ReadOnlySpan<double> StoredA => Kind == LinearDynamicsKind.PiecewiseLinear ? _aGrid : _a;

    internal ReadOnlySpan<double> StoredB => Kind == LinearDynamicsKind.PiecewiseLinear ? _bGrid : _b;

    /// <summary>Constant (A, B): A is n×n row-major, B n×m row-major.</summary>
    public static LinearDynamics TimeInvariant(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int stateDimension, int controlDimension,
        double horizon = 1)
    {
        CheckShape(stateDimension, controlDimension, horizon);
        CheckMatrix(a, stateDimension * stateDimension, "A", nameof(a));
        CheckMatrix(b, stateDimension * controlDimension, "B", nameof(b));
        return new LinearDynamics(LinearDynamicsKind.TimeInvariant, stateDimension, controlDimension, horizon, 0,
            a[..(stateDimension * stateDimension)].ToArray(), b[..(stateDimension * controlDimension)].ToArray(), [], [], [], null, 0);
    }

    /// <summary>Brownian motion: A = 0, B = I (n×n); with T = 1 the bridges are the classical Gaussian Schrödinger bridges.</summary>
    public static LinearDynamics Brownian(int dimension, double horizon = 1)
    {
        CheckShape(dimension, dimension, horizon);
        var b = new double[dimension * dimension];
        SmallDense.Identity(b, dimension);
        return TimeInvariant(new double[dimension * dimension], b, dimension, dimension, horizon);
    }

    /// <summary>
    /// The double integrator on <paramref name="positions"/> coordinates: state (x, v) ∈ R^(2p), dx = v dt,
    /// dv = u dt + σ dW (A = [[0, I], [0, 0]], B = [0; I]).
    /// </summary>
    public static LinearDynamics DoubleIntegrator(int positions, double horizon = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(positions, 1);
        int n = 2 * positions;
        CheckShape(n, positions, horizon);
        var a = new double[n * n];
        var b = new double[n * positions];
        for (int i = 0; i < positions; i++)
        {
            a[i * n + positions + i] = 1;
            b[(positions + i) * positions + i] = 1;
        }
        return new LinearDynamics(LinearDynamicsKind.DoubleIntegrator, n, positions, horizon, positions, a, b, [], [], [], null, 0);
    }

    /// <summary>
    /// A(t), B(t) given at grid times 0 = t_0 &lt; … &lt; t_K = T (<paramref name="a"/>: K+1 stacked n×n matrices,
    /// <paramref name="b"/>: K+1 stacked n×m), linear in between. <paramref name="tolerance"/> is the target of the
    /// integration error of (Φ, M) (<see cref="IntegrationError"/> reports the one reached).
    /// </summary>
    public static LinearDynamics PiecewiseLinear(ReadOnlySpan<double> times, ReadOnlySpan<double> a, ReadOnlySpan<double> b,
        int stateDimension, int controlDimension, double tolerance = 1e-11)
    {
        if (times.Length < 2)
        {
            throw new ArgumentException($"A time grid needs at least 2 times (got {times.Length}).", nameof(times));
        }
        for (int k = 0; k < times.Length; k++)
        {
            if (!double.IsFinite(times[k]) || (k == 0 ? times[k] != 0 : times[k] <= times[k - 1]))
            {
                throw new ArgumentException($"Grid time {k} is {times[k]:R}: the grid must start at 0 and increase strictly.", nameof(times));
            }
        }
        double horizon = times[^1];
        CheckShape(stateDimension, controlDimension, horizon);
        CheckTolerance(tolerance);
        int count = times.Length, nn = stateDimension * stateDimension, nm = stateDimension * controlDimension;
        CheckMatrix(a, count * nn, $"A (grid of {count} n×n matrices)", nameof(a));
        CheckMatrix(b, count * nm, $"B (grid of {count} n×m matrices)", nameof(b));
        return new LinearDynamics(LinearDynamicsKind.PiecewiseLinear, stateDimension, controlDimension, horizon, 0, [], [],
            times.ToArray(), a[..(count * nn)].ToArray(), b[..(count * nm)].ToArray(), null, tolerance);
    }

    /// <summary>
    /// A(t), B(t) from <paramref name="function"/>, which must be a pure function of t that may be called from any
    /// thread (the bridges and their fields call it per time). It should be smooth on [0, T] for the integration to
    /// reach <paramref name="tolerance"/>.
    /// </summary>
    public static LinearDynamics FromFunction(SystemMatricesFunction function, int stateDimension, int controlDimension, double horizon,
        double tolerance = 1e-11)
    {
        ArgumentNullException.ThrowIfNull(function);
        CheckShape(stateDimension, controlDimension, horizon);
        CheckTolerance(tolerance);
        return new LinearDynamics(LinearDynamicsKind.Function, stateDimension, controlDimension, horizon, 0, [], [], [], [], [], function, tolerance);
    }

    /// <summary>A(t) (n×n) and B(t) (n×m), row-major.</summary>
    public void SystemMatrices(double t, Span<double> a, Span<double> b)
    {
        CheckTime(t, nameof(t));
        CheckLength(a, StateDimension * StateDimension, nameof(a));
        CheckLength(b, StateDimension * ControlDimension, nameof(b));
        MatricesCore(t, a, b);
    }

    /// <summary>Φ(t, s) (n×n), 0 ≤ s, t ≤ T (either order).</summary>
    public void Transition(double t, double s, Span<double> phi)
    {
        CheckTime(t, nameof(t));
        CheckTime(s, nameof(s));
        CheckLength(phi, StateDimension * StateDimension, nameof(phi));
        int nn = StateDimension * StateDimension;
        Span<double> m = new double[nn];
        if (IsTimeVarying)
        {
            Span<double> ps = new double[nn];
            TimeVaryingPair(t, s, phi, m, ps);
            return;
        }
        Propagator(t - s, phi, m);
    }

    /// <summary>M(t, s) = ∫ₛᵗ Φ(t, r)B(r)B(r)ᵀΦ(t, r)ᵀ dr (n×n), 0 ≤ s ≤ t ≤ T.</summary>
    public void Gramian(double t, double s, Span<double> gramian)
    {
        CheckTime(t, nameof(t));
        CheckTime(s, nameof(s));
        if (s > t)
        {
            throw new ArgumentOutOfRangeException(nameof(s), s, $"The Gramian M(t, s) needs s ≤ t (t = {t:R}).");
        }
        CheckLength(gramian, StateDimension * StateDimension, nameof(gramian));
        int nn = StateDimension * StateDimension;
        Span<double> phi = new double[nn];
        if (IsTimeVarying)
        {
            TimeVaryingPair(t, s, phi, gramian, new double[nn]);
            return;
        }
        Propagator(t - s, phi, gramian);
    }

    internal bool IsTimeVarying => Kind is LinearDynamicsKind.PiecewiseLinear or LinearDynamicsKind.Function;

    /// <summary>Φ(T, 0).</summary>
    internal ReadOnlySpan<double> PhiHorizon => _phiT;

    /// <summary>M(T, 0).</summary>
    internal ReadOnlySpan<double> GramianHorizon => _gramianT;

    /// <summary>Cholesky factor L of M(T, 0) = L Lᵀ.</summary>
    internal ReadOnlySpan<double> GramianFactor => _gramianFactor;

    /// <summary>
    /// Φ(t, s) and M(t, s) for t ≥ s, or for t &lt; s the backward Φ(t, s) = Φ(s, t)⁻¹ with M left undefined.
    /// <paramref name="scratch"/> holds n².
    /// </summary>
    internal void Pair(double t, double s, Span<double> phi, Span<double> gramian, Span<double> scratch)
    {
        if (IsTimeVarying)
        {
            TimeVaryingPair(t, s, phi, gramian, scratch);
        }
        else
        {
            Propagator(t - s, phi, gramian);
        }
    }

    // Φ(t, s) = Φ(t, 0)Φ(s, 0)⁻¹, M(t, s) = M(t, 0) − Φ(t, s)M(s, 0)Φ(t, s)ᵀ (docs/theory/linear-dynamics.md#dynamics).
    private void TimeVaryingPair(double t, double s, Span<double> phi, Span<double> gramian, Span<double> scratch)
    {
        int n = StateDimension, nn = n * n;
        var w = PropagatorScratch.For(n, ControlDimension);
        Span<double> phiT = w.PhiT, mT = w.GramT, phiS = w.PhiS, mS = w.GramS, lhs = w.Lhs;
        Propagator(t, phiT, mT);
        Propagator(s, phiS, mS);
        // phi = Φ(t,0)Φ(s,0)⁻¹: solve Φ(s,0)ᵀ phiᵀ = Φ(t,0)ᵀ.
        SmallDense.Transpose(phiS, lhs, n, n);
        SmallDense.Transpose(phiT, scratch, n, n);
        if (!SmallDense.TrySolve(lhs, scratch, n, n))
        {
            throw new InvalidOperationException($"The state-transition matrix Φ({s:R}, 0) is numerically singular.");
        }
        SmallDense.Transpose(scratch, phi, n, n);
        SmallDense.Congruence(phi, mS, gramian, scratch, n, n);
        for (int k = 0; k < nn; k++)
        {
            gramian[k] = mT[k] - gramian[k];
        }
        SmallDense.Symmetrize(gramian, n);
    }

    /// <summary>
    /// Time-invariant kinds: Φ(τ) and M(τ) for a lag τ (negative τ gives Φ(τ) = Φ(−τ)⁻¹ and M(τ) = −Φ(τ)M(−τ)Φ(τ)ᵀ,
    /// consistent with the Van Loan exponential). Time-varying kinds: Φ(τ, 0) and M(τ, 0) for τ ∈ [0, T].
    /// </summary>
    internal void Propagator(double tau, Span<double> phi, Span<double> gramian)
    {
        int n = StateDimension, m = ControlDimension, nn = n * n;
        switch (Kind)
        {
            case LinearDynamicsKind.DoubleIntegrator:
            {
                // Φ = [[I, τI], [0, I]], M = [[τ³/3 I, τ²/2 I], [τ²/2 I, τI]] (docs/theory/linear-dynamics.md#double-integrator).
                int p = PositionDimension;
                phi[..nn].Clear();
                gramian[..nn].Clear();
                for (int i = 0; i < p; i++)
                {
                    phi[i * n + i] = 1;
                    phi[(p + i) * n + p + i] = 1;
                    phi[i * n + p + i] = tau;
                    gramian[i * n + i] = tau * tau * tau / 3;
                    gramian[i * n + p + i] = gramian[(p + i) * n + i] = tau * tau / 2;
                    gramian[(p + i) * n + p + i] = tau;
                }
                return;
            }
            case LinearDynamicsKind.TimeInvariant when _zeroDrift:
                SmallDense.Identity(phi, n);
                SmallDense.Multiply(_b, false, _b, true, gramian, n, m, n);
                for (int k = 0; k < nn; k++)
                {
                    gramian[k] *= tau;
                }
                return;
            case LinearDynamicsKind.TimeInvariant:
            {
                // Van Loan: exp([[A, BBᵀ], [0, −Aᵀ]]τ) = [[F11, F12], [0, F22]], Φ = F11, M = F12 F11ᵀ.
                int w = 2 * n;
                var scratch = PropagatorScratch.For(n, m);
                Span<double> block = scratch.Block, bbt = scratch.Bbt, f = scratch.Exponential, f12 = scratch.F12;
                block.Clear();
                SmallDense.Multiply(_b, false, _b, true, bbt, n, m, n);
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        block[i * w + j] = _a[i * n + j] * tau;
                        block[i * w + n + j] = bbt[i * n + j] * tau;
                        block[(n + i) * w + n + j] = -_a[j * n + i] * tau;
                    }
                }
                MatrixExponential.Compute(block, f, w, scratch.ExpmWork, scratch.Pivots);
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        phi[i * n + j] = f[i * w + j];
                        f12[i * n + j] = f[i * w + n + j];
                    }
                }
                SmallDense.Multiply(f12, false, phi, true, gramian, n, n, n);
                SmallDense.Symmetrize(gramian, n);
                return;
            }
            default:
                DenseOutput(tau, phi, gramian);
                return;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Time-varying systems (docs/theory/linear-dynamics.md#time-varying)

    private void MatricesCore(double t, Span<double> a, Span<double> b)
    {
        int nn = StateDimension * StateDimension, nm = StateDimension * ControlDimension;
        switch (Kind)
        {
            case LinearDynamicsKind.PiecewiseLinear:
            {
                int k = Math.Max(0, Math.Min(UpperInterval(_times, t), _times.Length - 2));
                double w = (t - _times[k]) / (_times[k + 1] - _times[k]);
                for (int i = 0; i < nn; i++)
                {
                    a[i] = (1 - w) * _aGrid[k * nn + i] + w * _aGrid[(k + 1) * nn + i];
                }
                for (int i = 0; i < nm; i++)
                {
                    b[i] = (1 - w) * _bGrid[k * nm + i] + w * _bGrid[(k + 1) * nm + i];
                }
                return;
            }
            case LinearDynamicsKind.Function:
                a[..nn].Clear();
                b[..nm].Clear();
                _function!(t, a[..nn], b[..nm]);
                for (int i = 0; i < nn; i++)
                {
                    if (!double.IsFinite(a[i]))
                    {
                        ThrowHelper.ThrowNonFinite($"A(t) at t = {t:R} from the system function, entry", -1, i, a[i]);
                    }
                }
                for (int i = 0; i < nm; i++)
                {
                    if (!double.IsFinite(b[i]))
                    {
                        ThrowHelper.ThrowNonFinite($"B(t) at t = {t:R} from the system function, entry", -1, i, b[i]);
                    }
                }
                return;
            default:
                _a.CopyTo(a);
                _b.CopyTo(b);
                return;
        }
    }

    /// <summary>Index k of the interval [x_k, x_{k+1}) holding t (last interval for t = x_K).</summary>
    private static int UpperInterval(double[] x, double t)
    {
        int lo = 0, hi = x.Length - 1;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) >> 1;
            if (x[mid] <= t)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    private (double[] Nodes, double[] Phi, double[] Gramian, double Error) Integrate(double tolerance)
    {
        double[] breaks = Kind == LinearDynamicsKind.PiecewiseLinear ? _times : [0, Horizon];
        int pieces = breaks.Length - 1;
        const int MaxSteps = 1 << 16;
        int perPiece = Math.Max(4, 64 / pieces);
        var previous = Run(breaks, perPiece);
        double error = double.PositiveInfinity;
        while (true)
        {
            var next = Run(breaks, 2 * perPiece);
            int n = StateDimension, nn = n * n, last = next.Nodes.Length - 1, lastPrev = previous.Nodes.Length - 1;
            double scale = 1, diff = 0;
            for (int i = 0; i < nn; i++)
            {
                double p1 = next.Phi[last * nn + i], m1 = next.Gramian[last * nn + i];
                scale = Math.Max(scale, Math.Max(Math.Abs(p1), Math.Abs(m1)));
                diff = Math.Max(diff, Math.Max(Math.Abs(p1 - previous.Phi[lastPrev * nn + i]), Math.Abs(m1 - previous.Gramian[lastPrev * nn + i])));
            }
            // RK4: the error of the finer run is about (coarse − fine)/15.
            error = diff / 15 / scale;
            perPiece *= 2;
            previous = next;
            if (error <= tolerance || (long)perPiece * pieces > MaxSteps)
            {
                break;
            }
        }
        // Rounding floor: below ~1e-16 the estimate measures rounding, not truncation.
        return (previous.Nodes, previous.Phi, previous.Gramian, Math.Max(error, 1e-16));
    }

    private sealed record Trajectory(double[] Nodes, double[] Phi, double[] Gramian);

    // RK4 for Φ̇ = AΦ, Ṁ = AM + MAᵀ + BBᵀ from (I, 0), `perPiece` equal steps per grid interval.
    private Trajectory Run(double[] breaks, int perPiece)
    {
        int n = StateDimension, m = ControlDimension, nn = n * n, nm = n * m;
        int pieces = breaks.Length - 1, count = pieces * perPiece + 1;
        var nodes = new double[count];
        var phi = new double[count * nn];
        var gram = new double[count * nn];
        SmallDense.Identity(phi.AsSpan(0, nn), n);
        var scratch = new StepScratch(n, m);
        for (int p = 0; p < pieces; p++)
        {
            double t0 = breaks[p], h = (breaks[p + 1] - t0) / perPiece;
            for (int s = 0; s < perPiece; s++)
            {
                int k = p * perPiece + s;
                double t = s == 0 ? t0 : t0 + s * h;
                double tNext = s == perPiece - 1 ? breaks[p + 1] : t0 + (s + 1) * h;
                nodes[k] = t;
                nodes[k + 1] = tNext;
                Step(t, tNext, phi.AsSpan(k * nn, nn), gram.AsSpan(k * nn, nn), phi.AsSpan((k + 1) * nn, nn),
                    gram.AsSpan((k + 1) * nn, nn), scratch);
            }
        }
        return new Trajectory(nodes, phi, gram);
    }

    private sealed class StepScratch(int n, int m)
    {
        public readonly double[] A = new double[n * n], B = new double[n * m], Bbt = new double[n * n];
        public readonly double[][] KPhi = [new double[n * n], new double[n * n], new double[n * n], new double[n * n]];
        public readonly double[][] KGram = [new double[n * n], new double[n * n], new double[n * n], new double[n * n]];
        public readonly double[] PhiStage = new double[n * n], GramStage = new double[n * n], Tmp = new double[n * n];
    }

    // One classical RK4 step; the stage times are t, t + h/2, t + h with A, B evaluated there (piecewise-linear
    // systems: within one grid interval, so the integrand is smooth on the step).
    private void Step(double t, double tNext, ReadOnlySpan<double> phi0, ReadOnlySpan<double> gram0, Span<double> phi1, Span<double> gram1,
        StepScratch s)
    {
        int n = StateDimension, m = ControlDimension, nn = n * n;
        double h = tNext - t;
        ReadOnlySpan<double> c = [0, 0.5, 0.5, 1];
        for (int stage = 0; stage < 4; stage++)
        {
            double ts = stage == 3 ? tNext : t + c[stage] * h;
            if (stage == 0)
            {
                phi0.CopyTo(s.PhiStage);
                gram0.CopyTo(s.GramStage);
            }
            else
            {
                double f = c[stage] * h;
                for (int i = 0; i < nn; i++)
                {
                    s.PhiStage[i] = phi0[i] + f * s.KPhi[stage - 1][i];
                    s.GramStage[i] = gram0[i] + f * s.KGram[stage - 1][i];
                }
            }
            if (stage != 2)
            {
                // Stages 1 and 2 share the midpoint matrices.
                MatricesCore(ts, s.A, s.B);
                SmallDense.Multiply(s.B, false, s.B, true, s.Bbt, n, m, n);
            }
            SmallDense.Multiply(s.A, s.PhiStage, s.KPhi[stage], n);
            SmallDense.Multiply(s.A, s.GramStage, s.Tmp, n);
            Span<double> kg = s.KGram[stage];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    kg[i * n + j] = s.Tmp[i * n + j] + s.Tmp[j * n + i] + s.Bbt[i * n + j];
                }
            }
        }
        for (int i = 0; i < nn; i++)
        {
            phi1[i] = phi0[i] + h / 6 * (s.KPhi[0][i] + 2 * s.KPhi[1][i] + 2 * s.KPhi[2][i] + s.KPhi[3][i]);
            gram1[i] = gram0[i] + h / 6 * (s.KGram[0][i] + 2 * s.KGram[1][i] + 2 * s.KGram[2][i] + s.KGram[3][i]);
        }
    }

    // Φ(t, 0), M(t, 0) between nodes: one RK4 step from the node below (same local order as the stored trajectory).
    private void DenseOutput(double t, Span<double> phi, Span<double> gramian)
    {
        int n = StateDimension, nn = n * n;
        int k = Math.Max(0, Math.Min(UpperInterval(_nodes, t), _nodes.Length - 2));
        if (t == _nodes[k] || t == _nodes[k + 1])
        {
            int j = t == _nodes[k] ? k : k + 1;
            _nodePhi.AsSpan(j * nn, nn).CopyTo(phi);
            _nodeGramian.AsSpan(j * nn, nn).CopyTo(gramian);
            return;
        }
        Step(_nodes[k], t, _nodePhi.AsSpan(k * nn, nn), _nodeGramian.AsSpan(k * nn, nn), phi, gramian,
            PropagatorScratch.For(n, ControlDimension).Step);
    }

    /// <summary>Per-thread scratch of <see cref="Pair"/> and <see cref="Propagator"/>, so per-time-step calls allocate nothing.</summary>
    private sealed class PropagatorScratch
    {
        [ThreadStatic]
        private static PropagatorScratch? t_scratch;

        private PropagatorScratch(int n, int m)
        {
            N = n;
            M = m;
            int nn = n * n, ww = 4 * nn;
            PhiT = new double[nn];
            GramT = new double[nn];
            PhiS = new double[nn];
            GramS = new double[nn];
            Lhs = new double[nn];
            Block = new double[ww];
            Bbt = new double[nn];
            Exponential = new double[ww];
            F12 = new double[nn];
            ExpmWork = new double[MatrixExponential.WorkLength(2 * n)];
            Pivots = new int[2 * n];
            Step = new StepScratch(n, m);
        }

        public int N { get; }
        public int M { get; }
        public readonly double[] PhiT, GramT, PhiS, GramS, Lhs, Block, Bbt, Exponential, F12, ExpmWork;
        public readonly int[] Pivots;
        public readonly StepScratch Step;

        public static PropagatorScratch For(int n, int m)
        {
            var s = t_scratch;
            if (s is null || s.N != n || s.M != m)
            {
                s = t_scratch = new PropagatorScratch(n, m);
            }
            return s;
        }
    }

    // ------------------------------------------------------------------------------------------------------------

    private void CheckControllable()
    {
        int n = StateDimension;
        // Scale-aware test: Cholesky of M(T, 0) must succeed with squared pivots above 1e-13 × the largest diagonal
        // entry; below that the reduction's L⁻¹ would amplify rounding by more than ~1e6.
        double largest = 0;
        for (int i = 0; i < n; i++)
        {
            largest = Math.Max(largest, _gramianT[i * n + i]);
        }
        bool ok = largest > 0 && SmallDense.TryCholesky(_gramianT, _gramianFactor, n);
        double smallest = double.PositiveInfinity;
        if (ok)
        {
            for (int i = 0; i < n; i++)
            {
                double d = _gramianFactor[i * n + i];
                smallest = Math.Min(smallest, d * d);
            }
        }
        double condition = ok ? largest / smallest : double.PositiveInfinity;
        if (!ok || condition > 1e13)
        {
            string detail = ControlDimension < n && Kind == LinearDynamicsKind.TimeInvariant
                ? "Check the rank of [B, AB, …, A^(n−1)B] (Kalman) or lengthen the horizon."
                : "The controls do not reach every state direction over [0, T].";
            throw new UncontrollableSystemException(Horizon, condition, detail);
        }
    }

    private static void CheckShape(int n, int m, double horizon)
    {
        if (n < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(n), n, "The state dimension n must be at least 1.");
        }
        if (m < 1 || m > n)
        {
            throw new ArgumentOutOfRangeException(nameof(m), m, $"The control dimension m must be in [1, n = {n}].");
        }
        if (!(horizon > 0) || !double.IsFinite(horizon))
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "The horizon T must be finite and > 0.");
        }
    }

    private static void CheckTolerance(double tolerance)
    {
        if (!(tolerance > 0) || !double.IsFinite(tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "The integration tolerance must be finite and > 0.");
        }
    }

    private static void CheckMatrix(ReadOnlySpan<double> a, int length, string name, string paramName)
    {
        if (a.Length != length)
        {
            throw new ArgumentException($"{name} has {a.Length} entries; expected {length}.", paramName);
        }
        for (int i = 0; i < length; i++)
        {
            if (!double.IsFinite(a[i]))
            {
                ThrowHelper.ThrowNonFinite(name + ", entry", -1, i, a[i], paramName);
            }
        }
    }

    internal void CheckTime(double t, string paramName)
    {
        if (!(t >= 0 && t <= Horizon))
        {
            throw new ArgumentOutOfRangeException(paramName, t, $"Time must lie in [0, T = {Horizon:R}].");
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

using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// Training-free transport between two Gaussian mixtures in the state space of linear prior dynamics
/// dX = A(t)X dt + B(t)(u dt + σ dW) on [0, T]: the pair costs J_ij of <see cref="LinearGaussianBridge"/>, the exact
/// component coupling λ by the HiGHS LP, and the mixture policy u(x, t) = Σ λ_p N(x; m_p(t), Σ_p(t)) u_p(x, t) /
/// Σ λ_p N(x; m_p(t), Σ_p(t)), whose marginal at t is exactly Σ λ_p N(m_p(t), Σ_p(t)). The sibling of
/// <see cref="TransportPlan"/> (docs/theory/linear-dynamics.md#mixtures).
/// </summary>
/// <remarks>
/// The mixtures live in the full state space (n = 2 × positions for the double integrator; see
/// <see cref="PhaseSpace"/> to lift position-only mixtures and samples). Immutable and thread-safe.
/// </remarks>
public sealed class LinearTransportPlan
{
    private readonly LinearGaussianBridge[] _bridges;
    private readonly CouplingEntry[] _pairs;

    private LinearTransportPlan(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics, LinearTransportOptions options,
        CouplingEntry[] pairs, LinearGaussianBridge[] bridges, double objective, double[]? costMatrix)
    {
        Source = source;
        Target = target;
        Dynamics = dynamics;
        Options = options;
        _pairs = pairs;
        _bridges = bridges;
        Objective = objective;
        CostMatrix = costMatrix;
    }

    /// <summary>The source mixture (t = 0), n-dimensional.</summary>
    public GaussianMixture Source { get; }

    /// <summary>The target mixture (t = T).</summary>
    public GaussianMixture Target { get; }

    /// <summary>The prior dynamics; the transport runs on [0, <see cref="LinearDynamics.Horizon"/>].</summary>
    public LinearDynamics Dynamics { get; }

    /// <summary>Noise σ or matrix D.</summary>
    public LinearTransportOptions Options { get; }

    /// <summary>State dimension n.</summary>
    public int Dimension => Dynamics.StateDimension;

    /// <summary>The active component pairs (i, j, λ_ij).</summary>
    public IReadOnlyList<CouplingEntry> Pairs => _pairs;

    /// <summary>The pair bridges, in the order of <see cref="Pairs"/>.</summary>
    public IReadOnlyList<LinearGaussianBridge> Bridges => _bridges;

    /// <summary>Σ λ_ij J_ij: the kinetic energy of the mixture of pair bridges.</summary>
    public double Objective { get; }

    /// <summary>The K0×K1 matrix of pair costs J_ij the LP was solved on (null when built from a given coupling).</summary>
    public double[]? CostMatrix { get; }

    /// <summary>
    /// The K0×K1 matrix of exact pair costs J_ij (row-major) on all cores: in closed form from each pair's eigenvalues
    /// (lockstep groups for n ≥ 4), or from every pair's shooting bridge for a noise matrix.
    /// </summary>
    public static double[] ComputeCosts(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics, LinearTransportOptions? options = null)
    {
        options ??= new LinearTransportOptions();
        Check(source, target, dynamics, options);
        return AllCosts(source, target, dynamics, options, out _);
    }

    /// <summary>Computes the pair costs, solves the coupling LP and keeps the bridges of the active pairs.</summary>
    public static LinearTransportPlan Create(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics, LinearTransportOptions? options = null)
    {
        options ??= new LinearTransportOptions();
        Check(source, target, dynamics, options);
        var costs = AllCosts(source, target, dynamics, options, out var all);
        int k1 = target.ComponentCount;
        Coupling lp = Couplings.ExactLp(source.Weights, target.Weights, costs);
        if (lp.Status != LpStatus.Optimal)
        {
            throw new InvalidOperationException($"The component coupling LP ended with status {lp.Status}.");
        }
        CouplingEntry[] pairs = [.. lp.Entries];
        // Only the active pairs (at most K0 + K1 − 1) need their coupling and policy.
        var bridges = all is not null ? [.. pairs.Select(e => all[e.Source * k1 + e.Target])] : BuildPairs(source, target, dynamics, options, pairs);
        return new LinearTransportPlan(source, target, dynamics, options, pairs, bridges, lp.Objective, costs);
    }

    /// <summary>
    /// A plan from a given coupling (e.g. a plan file): validates the entries against the mixture weights and builds
    /// the active pairs' bridges; the LP is not re-solved.
    /// </summary>
    public static LinearTransportPlan FromCoupling(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics,
        LinearTransportOptions options, IReadOnlyList<CouplingEntry> pairs, double objective, double marginalTolerance = 1e-9)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(pairs);
        Check(source, target, dynamics, options);
        TransportPlan.CheckCoupling(source, target, pairs, marginalTolerance);
        var bridges = pairs.Select(e => Build(source, e.Source, target, e.Target, dynamics, options)).ToArray();
        return new LinearTransportPlan(source, target, dynamics, options, [.. pairs], bridges, objective, null);
    }

    /// <summary>The mixture state field (SDE drift A x + B u, or the probability-flow field) for the integrators; one per thread.</summary>
    public IVelocityField CreateField(BridgeField field = BridgeField.Drift) => new LinearPlanField(this, field);

    /// <summary>The diffusion matrix of the transport SDE at t: σB(t) (n×m) or the noise matrix D (n×p).</summary>
    public void Diffusion(double t, Span<double> destination) => _bridges[0].Diffusion(t, destination);

    /// <summary>Columns of <see cref="Diffusion"/>.</summary>
    public int DiffusionColumns => _bridges[0].DiffusionColumns;

    /// <summary>
    /// Moves source states (N×n row-major) from t = 0 to T: Euler–Maruyama with the matrix diffusion for a noisy drift
    /// (<see cref="Integrator.Auto"/> or <see cref="Integrator.EulerMaruyama"/>), Heun or RK4 for deterministic fields
    /// (σ = 0, or <see cref="BridgeField.ProbabilityFlow"/>). The run options' steps span [0, T].
    /// </summary>
    public double[] Transport(ReadOnlySpan<double> samples, TransportRunOptions? options = null, Span<double> trajectory = default)
    {
        options ??= new TransportRunOptions();
        int n = Dimension;
        if (samples.Length % n != 0)
        {
            ThrowHelper.ThrowArgument($"samples has length {samples.Length}, not a multiple of n = {n}.", nameof(samples));
        }
        var states = samples.ToArray();
        var field = new LinearPlanField(this, options.Field);
        var integration = new IntegrationOptions
        {
            EndTime = Dynamics.Horizon,
            Steps = options.Steps ?? TransportPlan.NominalSteps, // linear plans integrate on a fixed grid
            SaveEvery = options.SaveEvery,
            Progress = options.Progress,
            CancellationToken = options.CancellationToken,
            FirstStream = options.FirstStream,
        };
        bool noisy = Options.IsNoisy && options.Field == BridgeField.Drift;
        Integrator scheme = options.Integrator == Integrator.Auto ? (noisy ? Integrator.EulerMaruyama : Integrator.Heun) : options.Integrator;
        if (noisy && scheme != Integrator.EulerMaruyama)
        {
            throw new ArgumentException("The SDE drift of a noisy linear bridge needs Euler–Maruyama; use BridgeField.ProbabilityFlow " +
                "for Heun or RK4 (same marginals, deterministic paths).", nameof(options));
        }
        switch (scheme)
        {
            case Integrator.EulerMaruyama when noisy:
                LinearSdeIntegrator.EulerMaruyama(field, states, Diffusion, DiffusionColumns, options.Seed, integration, trajectory);
                break;
            case Integrator.EulerMaruyama:
                FlowIntegrator.Euler(field, states, integration, trajectory);
                break;
            case Integrator.Heun:
                FlowIntegrator.Heun(field, states, integration, trajectory);
                break;
            default:
                FlowIntegrator.RungeKutta4(field, states, integration, trajectory);
                break;
        }
        return states;
    }

    /// <summary>
    /// <paramref name="count"/> exact samples of ρ_t = Σ_p λ_p N(m_p(t), Σ_p(t)) (count×n), without simulation; sample i
    /// uses random stream i of <paramref name="seed"/>.
    /// </summary>
    public double[] SampleMarginal(double t, int count, ulong seed)
    {
        Dynamics.CheckTime(t, nameof(t));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int n = Dimension, pairs = _pairs.Length;
        var means = new double[pairs * n];
        var factors = new double[pairs * n * n];
        var cumulative = new double[pairs];
        var cov = new double[n * n];
        double total = 0;
        for (int p = 0; p < pairs; p++)
        {
            _bridges[p].Mean(t, means.AsSpan(p * n, n));
            _bridges[p].Covariance(t, cov);
            if (!SmallDense.TryCholesky(cov, factors.AsSpan(p * n * n, n * n), n))
            {
                throw new NotPositiveDefiniteException($"covariance at t = {t:R} of linear bridge pair", p, 0);
            }
            total += _pairs[p].Weight;
            cumulative[p] = total;
        }
        var rng = new CounterRng(seed);
        var output = new double[count * n];
        var z = new double[n];
        for (int i = 0; i < count; i++)
        {
            double u = rng.Uniform((ulong)i, 0) * total;
            int p = Math.Min(TransportPlan.LowerBound(cumulative, u), pairs - 1);
            rng.FillNormal((ulong)i, 1, z);
            TransportPlan.AffineSample(means.AsSpan(p * n, n), factors.AsSpan(p * n * n, n * n), z, output.AsSpan(i * n, n));
        }
        return output;
    }

    private static void Check(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics, LinearTransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(dynamics);
        ArgumentNullException.ThrowIfNull(options);
        int n = dynamics.StateDimension;
        if (source.Dimension != n || target.Dimension != n)
        {
            string hint = dynamics.Kind == LinearDynamicsKind.DoubleIntegrator && source.Dimension == dynamics.PositionDimension
                ? " (position-only mixtures: lift them to (position, velocity) with PhaseSpace.Lift)" : "";
            throw new ArgumentException($"The mixtures have dimensions {source.Dimension} and {target.Dimension}; the dynamics' state " +
                $"dimension is {n}{hint}.");
        }
        options.Validate(n);
    }

    private static LinearGaussianBridge Build(GaussianMixture s, int i, GaussianMixture t, int j, LinearDynamics dynamics, LinearTransportOptions options)
        => options.NoiseMatrix is { } d
            ? LinearGaussianBridge.CreateWithNoiseMatrix(dynamics, s.Mean(i), s.Covariance(i), t.Mean(j), t.Covariance(j), d, options.NoiseColumns)
            : LinearGaussianBridge.Create(dynamics, s.Mean(i), s.Covariance(i), t.Mean(j), t.Covariance(j), options.Noise);

    // The pair costs: closed-form ones without building bridges (bridges = null), shooting ones from every pair's bridge.
    private static double[] AllCosts(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics, LinearTransportOptions options,
        out LinearGaussianBridge[]? bridges)
    {
        if (options.NoiseMatrix is not null)
        {
            bridges = BuildAll(source, target, dynamics, options);
            return [.. bridges.Select(b => b.Cost)];
        }
        bridges = null;
        int k1 = target.ComponentCount, count = source.ComponentCount * k1;
        var costs = new double[count];
        var errors = new Exception?[count];
        ParallelRange.ForBlocks(count, LinearGaussianBridge.BatchGrain, LinearGaussianBridge.BatchBlock,
            new CostBody { Inputs = new MixturePairs(source, target), Dynamics = dynamics, Noise = options.Noise, Costs = costs, Errors = errors },
            options.Progress, options.CancellationToken);
        ThrowFirst(errors, k1);
        return costs;
    }

    // The active pairs' bridges (lockstep groups for n ≥ 4).
    private static LinearGaussianBridge[] BuildPairs(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics, LinearTransportOptions options,
        CouplingEntry[] pairs)
    {
        var bridges = new LinearGaussianBridge?[pairs.Length];
        var errors = new Exception?[pairs.Length];
        LinearGaussianBridge.BuildRange(dynamics, options.Noise, new ListedPairs(source, target, pairs), 0, pairs.Length, bridges, errors);
        for (int p = 0; p < pairs.Length; p++)
        {
            if (errors[p] is { } e)
            {
                throw e is ArgumentException or InvalidOperationException ? WithPair(e, pairs[p].Source, pairs[p].Target) : e;
            }
        }
        return bridges!;
    }

    private static void ThrowFirst(Exception?[] errors, int k1)
    {
        for (int p = 0; p < errors.Length; p++)
        {
            if (errors[p] is { } e)
            {
                throw e is ArgumentException or InvalidOperationException ? WithPair(e, p / k1, p % k1) : e;
            }
        }
    }

    // Every pair's shooting bridge (noise matrix), on all cores: a pair costs milliseconds.
    private static LinearGaussianBridge[] BuildAll(GaussianMixture source, GaussianMixture target, LinearDynamics dynamics, LinearTransportOptions options)
    {
        int k1 = target.ComponentCount, count = source.ComponentCount * k1;
        var bridges = new LinearGaussianBridge[count];
        var errors = new Exception?[count];
        const int Grain = 4;
        ParallelRange.ForBlocks(count, Grain, 64 * Grain,
            new BuildBody { Source = source, Target = target, Dynamics = dynamics, Options = options, Bridges = bridges, Errors = errors },
            options.Progress, options.CancellationToken);
        ThrowFirst(errors, k1);
        return bridges;
    }

    private static Exception WithPair(Exception e, int i, int j) => e switch
    {
        UncontrollableSystemException => e,
        ArgumentException a => new ArgumentException($"Pair (source {i}, target {j}): {a.Message}", a),
        _ => new InvalidOperationException($"Pair (source {i}, target {j}): {e.Message}", e),
    };

    private struct CostBody : IRangeBody
    {
        public MixturePairs Inputs;
        public LinearDynamics Dynamics;
        public double Noise;
        public double[] Costs;
        public Exception?[] Errors;

        public readonly void Execute(int start, int end) =>
            LinearGaussianBridge.CostRange(Dynamics, Noise, Inputs, start, end, Costs, Errors);
    }

    private readonly struct ListedPairs(GaussianMixture source, GaussianMixture target, CouplingEntry[] pairs) : ILinearPairInputs
    {
        public ReadOnlySpan<double> Mean0(int p) => source.Mean(pairs[p].Source);
        public ReadOnlySpan<double> Covariance0(int p) => source.Covariance(pairs[p].Source);
        public ReadOnlySpan<double> Mean1(int p) => target.Mean(pairs[p].Target);
        public ReadOnlySpan<double> Covariance1(int p) => target.Covariance(pairs[p].Target);
    }

    private readonly struct MixturePairs(GaussianMixture source, GaussianMixture target) : ILinearPairInputs
    {
        public ReadOnlySpan<double> Mean0(int p) => source.Mean(p / target.ComponentCount);
        public ReadOnlySpan<double> Covariance0(int p) => source.Covariance(p / target.ComponentCount);
        public ReadOnlySpan<double> Mean1(int p) => target.Mean(p % target.ComponentCount);
        public ReadOnlySpan<double> Covariance1(int p) => target.Covariance(p % target.ComponentCount);
    }

    private struct BuildBody : IRangeBody
    {
        public GaussianMixture Source, Target;
        public LinearDynamics Dynamics;
        public LinearTransportOptions Options;
        public LinearGaussianBridge[] Bridges;
        public Exception?[] Errors;

        public readonly void Execute(int start, int end)
        {
            int k1 = Target.ComponentCount;
            for (int p = start; p < end; p++)
            {
                try
                {
                    Bridges[p] = Build(Source, p / k1, Target, p % k1, Dynamics, Options);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    Errors[p] = e;
                }
            }
        }
    }
}

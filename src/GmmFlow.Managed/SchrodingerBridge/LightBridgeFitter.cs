using GmmFlow.Native;

namespace GmmFlow;

/// <summary>Starting points of <see cref="LightBridgeFitter"/> (docs/theory/exact-sb.md#fitting).</summary>
public enum LightBridgeInitialization
{
    /// <summary>An EM fit of the target; per component the Gaussian entropic-OT plan from the whole source.</summary>
    TargetMixture,

    /// <summary>
    /// The GMMflow plan: EM fits of both sides coupled by the exact LP with the SB cost; per active pair (i, j) the
    /// Gaussian entropic-OT plan from source component i to target component j (the K heaviest pairs).
    /// </summary>
    TransportPlan,

    /// <summary>Both, each optimised; the lower objective wins (twice the work).</summary>
    Best,
}

/// <summary>Settings of <see cref="LightBridgeFitter"/>.</summary>
public sealed record LightBridgeFitOptions
{
    /// <summary>K; null chooses it among <see cref="ComponentCandidates"/> by the held-out objective.</summary>
    public int? Components { get; init; }

    /// <summary>The K tried when <see cref="Components"/> is null.</summary>
    public IReadOnlyList<int> ComponentCandidates { get; init; } = [1, 2, 4, 8];

    /// <summary>Fraction of each sample set held out to choose K (0 &lt; f &lt; 1).</summary>
    public double HoldOutFraction { get; init; } = 0.2;

    /// <summary>Full or diagonal scales S_k.</summary>
    public CovarianceType CovarianceType { get; init; } = CovarianceType.Full;

    /// <summary>
    /// Scale families to choose from by the held-out objective (e.g. Full and Diagonal); null fits
    /// <see cref="CovarianceType"/> only.
    /// </summary>
    public IReadOnlyList<CovarianceType>? CovarianceCandidates { get; init; }

    /// <summary>
    /// Strength λ ≥ 0 of the shrinkage penalty (λ/2) Σ_k ‖S_k − S̄‖²_F added to the objective (S̄ the mean scale;
    /// docs/theory/exact-sb.md#shrinkage); null chooses λ among <see cref="ShrinkageCandidates"/> by the held-out objective.
    /// </summary>
    public double? Shrinkage { get; init; } = 0;

    /// <summary>The λ tried when <see cref="Shrinkage"/> is null.</summary>
    public IReadOnlyList<double> ShrinkageCandidates { get; init; } = [0, 0.003, 0.01, 0.03, 0.1];

    /// <summary>L-BFGS iteration cap per fit.</summary>
    public int MaxIterations { get; init; } = 500;

    /// <summary>Stop when the objective fell by less than this (relative, at least 1 absolute) over 5 iterations.</summary>
    public double Tolerance { get; init; } = 1e-7;

    /// <summary>How the potential is initialised (ignored when <see cref="Initial"/> is given).</summary>
    public LightBridgeInitialization Initialization { get; init; } = LightBridgeInitialization.TargetMixture;

    /// <summary>
    /// Extra starting points (target EM fits with seeds Seed + 1 … Seed + Restarts), each optimised; the lowest objective on
    /// the fitting samples wins (the objective is not convex; docs/theory/exact-sb.md#fitting).
    /// </summary>
    public int Restarts { get; init; }

    /// <summary>Seeds the target EM fit of the initialisation and the held-out split.</summary>
    public ulong Seed { get; init; }

    /// <summary>A bridge to start from instead of the target-mixture initialisation (its K and type are used).</summary>
    public LightBridge? Initial { get; init; }

    /// <summary>Reports the objective after every L-BFGS iteration.</summary>
    public IProgress<double>? Progress { get; init; }

    internal void Validate()
    {
        if (Components is { } k && k < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Components), k, "The number of potential components must be ≥ 1.");
        }
        if (Components is null && (ComponentCandidates is null || ComponentCandidates.Count == 0 || ComponentCandidates.Any(c => c < 1)))
        {
            throw new ArgumentOutOfRangeException(nameof(ComponentCandidates), "Component candidates must be a non-empty list of K ≥ 1.");
        }
        if (!(HoldOutFraction > 0 && HoldOutFraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(HoldOutFraction), HoldOutFraction, "The held-out fraction must lie in (0, 1).");
        }
        if (CovarianceType is not (CovarianceType.Full or CovarianceType.Diagonal))
        {
            throw new ArgumentOutOfRangeException(nameof(CovarianceType), CovarianceType, "Bridge scales are Full or Diagonal.");
        }
        if (CovarianceCandidates is { } families && (families.Count == 0 || families.Any(f => f is not (CovarianceType.Full or CovarianceType.Diagonal))))
        {
            throw new ArgumentOutOfRangeException(nameof(CovarianceCandidates), "Covariance candidates must be a non-empty list of Full and Diagonal.");
        }
        if (Shrinkage is { } lambda && !(lambda >= 0 && double.IsFinite(lambda)))
        {
            throw new ArgumentOutOfRangeException(nameof(Shrinkage), lambda, "The shrinkage strength must be finite and ≥ 0.");
        }
        if (Shrinkage is null && (ShrinkageCandidates is null || ShrinkageCandidates.Count == 0 || ShrinkageCandidates.Any(v => !(v >= 0 && double.IsFinite(v)))))
        {
            throw new ArgumentOutOfRangeException(nameof(ShrinkageCandidates), "Shrinkage candidates must be a non-empty list of finite λ ≥ 0.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxIterations, 1, nameof(MaxIterations));
        ArgumentOutOfRangeException.ThrowIfNegative(Restarts, nameof(Restarts));
        if (!(Tolerance >= 0) || !double.IsFinite(Tolerance))
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "The tolerance must be finite and ≥ 0.");
        }
    }
}

/// <summary>One model tried by the held-out choice of <see cref="LightBridgeFitter"/>.</summary>
/// <param name="Components">K.</param>
/// <param name="CovarianceType">Full or diagonal scales.</param>
/// <param name="Shrinkage">The shrinkage strength λ.</param>
/// <param name="HeldOutObjective">The (unpenalised) objective on the held-out samples; lower is better.</param>
public readonly record struct LightBridgeCandidate(int Components, CovarianceType CovarianceType, double Shrinkage, double HeldOutObjective);

/// <summary>A fitted <see cref="LightBridge"/> and how the fit went.</summary>
public sealed class LightBridgeFit
{
    internal LightBridgeFit(LightBridge bridge, double objective, int iterations, int evaluations, bool converged,
        IReadOnlyList<LightBridgeCandidate> candidates, double shrinkage)
    {
        Bridge = bridge;
        Objective = objective;
        Iterations = iterations;
        Evaluations = evaluations;
        Converged = converged;
        Candidates = candidates;
        Shrinkage = shrinkage;
    }

    /// <summary>The fitted bridge.</summary>
    public LightBridge Bridge { get; }

    /// <summary>
    /// The LightSB objective on the fitting samples, plus the shrinkage penalty when λ &gt; 0 (lower is better;
    /// docs/theory/exact-sb.md#objective).
    /// </summary>
    public double Objective { get; }

    /// <summary>L-BFGS iterations of the final fit.</summary>
    public int Iterations { get; }

    /// <summary>Objective-and-gradient evaluations of the final fit.</summary>
    public int Evaluations { get; }

    /// <summary>Whether the final fit met the tolerance within the iteration cap.</summary>
    public bool Converged { get; }

    /// <summary>Every model tried and its held-out objective (empty when nothing was chosen).</summary>
    public IReadOnlyList<LightBridgeCandidate> Candidates { get; }

    /// <summary>The shrinkage strength λ of the final fit.</summary>
    public double Shrinkage { get; }
}

/// <summary>
/// Fits a <see cref="LightBridge"/> to unpaired source and target samples by minimising the LightSB objective
/// E_{p0}[log c(X0)] − E_{p1}[log v(X1)] with exact gradients and L-BFGS on all cores (docs/theory/exact-sb.md#fitting).
/// </summary>
public static class LightBridgeFitter
{
    /// <summary>
    /// Fits the bridge with noise σ between the N0×d <paramref name="source"/> and N1×d <paramref name="target"/> samples.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">σ not finite and &gt; 0, d below 1, or an invalid option.</exception>
    /// <exception cref="ArgumentException">Lengths that are not multiples of d, too few points for the components, a warm start of the wrong shape.</exception>
    /// <exception cref="NonFiniteValueException">A sample has a NaN or infinite coordinate (point and coordinate named).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static LightBridgeFit Fit(ReadOnlySpan<double> source, ReadOnlySpan<double> target, int dimension, double noise,
        LightBridgeFitOptions? options = null, CancellationToken cancellationToken = default)
        => Fit(Lapack.Default, source, target, dimension, noise, options, cancellationToken);

    /// <summary>
    /// Fits the bridge between two mixtures given as models only, to <paramref name="samplesPerSide"/> samples of each
    /// (source: <see cref="GaussianMixture.Sample(int, ulong)"/> with seed <see cref="LightBridgeFitOptions.Seed"/>, target: with
    /// seed <see cref="LightBridgeFitOptions.Seed"/> + 1), as the LightSB objective is an expectation under the two laws.
    /// </summary>
    /// <exception cref="ArgumentException">The mixtures' dimensions differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="samplesPerSide"/> below 1, or as for the sample overload.</exception>
    public static LightBridgeFit Fit(GaussianMixture source, GaussianMixture target, double noise, int samplesPerSide = 10_000,
        LightBridgeFitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerSide, 1);
        if (source.Dimension != target.Dimension)
        {
            throw new ArgumentException($"The source mixture has dimension {source.Dimension} and the target mixture {target.Dimension}.", nameof(target));
        }
        ulong seed = options?.Seed ?? 0;
        double[] x = source.Sample(samplesPerSide, seed), y = target.Sample(samplesPerSide, seed + 1);
        return Fit(Lapack.Default, x, y, source.Dimension, noise, options, cancellationToken);
    }

    internal static LightBridgeFit Fit(Lapack lapack, ReadOnlySpan<double> source, ReadOnlySpan<double> target, int dimension, double noise,
        LightBridgeFitOptions? options, CancellationToken cancellationToken)
    {
        options ??= new LightBridgeFitOptions();
        options.Validate();
        LightBridge.CheckNoise(noise);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        int n0 = CheckSamples(source, dimension, nameof(source));
        int n1 = CheckSamples(target, dimension, nameof(target));
        if (options.Initial is { } init && (init.Dimension != dimension || init.CovarianceType != options.CovarianceType))
        {
            throw new ArgumentException($"The initial bridge has d = {init.Dimension} and {init.CovarianceType} scales; the fit needs d = {dimension} and {options.CovarianceType}.", nameof(options));
        }
        double[] x = source.ToArray(), y = target.ToArray();
        int? fixedK = options.Initial?.ComponentCount ?? options.Components;
        bool chooseFamily = options.Initial is null && options.CovarianceCandidates is { Count: > 1 };
        if (fixedK is { } k && options.Shrinkage is not null && !chooseFamily)
        {
            CheckCount(k, n0, n1);
            var (bridge, result) = FitOne(lapack, x, n0, y, n1, dimension, k, noise, options, options.Initial, cancellationToken);
            return new LightBridgeFit(bridge, result.Value, result.Iterations, result.Evaluations, result.Converged, [], options.Shrinkage.Value);
        }
        // Held-out choice of family, K and λ: a seeded split of each side, fit on the rest, compare the (unpenalised)
        // objective on the held-out part (docs/theory/exact-sb.md#fitting).
        var (x0Train, x0Held) = Split(x, n0, dimension, options.HoldOutFraction, options.Seed);
        var (x1Train, x1Held) = Split(y, n1, dimension, options.HoldOutFraction, options.Seed ^ 0x9E3779B97F4A7C15UL);
        int t0 = x0Train.Length / dimension, t1 = x1Train.Length / dimension;
        var candidates = new List<LightBridgeCandidate>();
        LightBridge? best = null;
        LightBridgeFitOptions bestOptions = options;
        double bestValue = double.PositiveInfinity;
        IEnumerable<CovarianceType> families = chooseFamily ? options.CovarianceCandidates!.Distinct() : [options.CovarianceType];
        IEnumerable<int> ks = fixedK is { } given ? [given] : options.ComponentCandidates.Distinct().Order();
        double[] lambdas = options.Shrinkage is { } fixedLambda ? [fixedLambda] : options.ShrinkageCandidates.Distinct().Order().ToArray();
        foreach (CovarianceType family in families)
        {
            foreach (int candidate in ks)
            {
                if (candidate > Math.Min(t0, t1) / 2)
                {
                    continue;
                }
                // λ ascending, each fit started from the previous one (the path of shrinkage strengths is smooth).
                LightBridge? previous = options.Initial;
                foreach (double lambda in lambdas)
                {
                    var trial = options with { CovarianceType = family, Shrinkage = lambda };
                    var (bridge, _) = FitOne(lapack, x0Train, t0, x1Train, t1, dimension, candidate, noise, trial, previous, cancellationToken);
                    previous = bridge;
                    double held = bridge.Objective(x0Held, x1Held);
                    candidates.Add(new LightBridgeCandidate(candidate, family, lambda, held));
                    if (held < bestValue)
                    {
                        bestValue = held;
                        best = bridge;
                        bestOptions = trial;
                    }
                }
            }
        }
        if (best is null)
        {
            throw new ArgumentException($"Too few samples ({n0} source, {n1} target) for any of the component candidates.", nameof(source));
        }
        var (final, finalResult) = FitOne(lapack, x, n0, y, n1, dimension, best.ComponentCount, noise, bestOptions, best, cancellationToken);
        return new LightBridgeFit(final, finalResult.Value, finalResult.Iterations, finalResult.Evaluations, finalResult.Converged, candidates,
            bestOptions.Shrinkage!.Value);
    }

    private static void CheckCount(int k, int n0, int n1)
    {
        if (k > Math.Min(n0, n1))
        {
            throw new ArgumentException($"{k} potential components need at least {k} source and target points ({n0} and {n1} given).", "source");
        }
    }

    private static int CheckSamples(ReadOnlySpan<double> points, int d, string name)
    {
        if (points.Length == 0 || points.Length % d != 0)
        {
            throw new ArgumentException($"{name} has {points.Length} values, which is not N×d for some N ≥ 1 and d = {d}.", name);
        }
        for (int i = 0; i < points.Length; i++)
        {
            if (!double.IsFinite(points[i]))
            {
                ThrowHelper.ThrowNonFinite($"{name} sample", i / d, i % d, points[i], name);
            }
        }
        return points.Length / d;
    }

    private static (double[] Train, double[] Held) Split(double[] points, int n, int d, double fraction, ulong seed)
    {
        int held = Math.Clamp((int)Math.Round(n * fraction), 1, n - 1);
        var rng = new CounterRng(seed);
        var order = new int[n];
        var keys = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
            keys[i] = rng.NextBits(0, (ulong)i);
        }
        Array.Sort(keys, order);
        var train = new double[(n - held) * d];
        var hold = new double[held * d];
        for (int i = 0; i < n; i++)
        {
            Span<double> dst = i < held ? hold.AsSpan(i * d, d) : train.AsSpan((i - held) * d, d);
            points.AsSpan(order[i] * d, d).CopyTo(dst);
        }
        return (train, hold);
    }

    private static (LightBridge, BacktrackingLbfgsResult) FitOne(Lapack lapack, double[] x, int n0, double[] y, int n1, int d, int k, double noise,
        LightBridgeFitOptions options, LightBridge? start, CancellationToken cancellationToken)
    {
        bool diagonal = options.CovarianceType == CovarianceType.Diagonal;
        if (start is null && options.Restarts > 0)
        {
            var single = options with { Restarts = 0 };
            var best = FitOne(lapack, x, n0, y, n1, d, k, noise, single, null, cancellationToken);
            int iterations = best.Item2.Iterations, evaluations = best.Item2.Evaluations;
            for (int r = 1; r <= options.Restarts; r++)
            {
                var other = FitOne(lapack, x, n0, y, n1, d, k, noise, single with { Seed = options.Seed + (ulong)r }, null, cancellationToken);
                iterations += other.Item2.Iterations;
                evaluations += other.Item2.Evaluations;
                if (other.Item2.Value < best.Item2.Value)
                {
                    best = other;
                }
            }
            return (best.Item1, best.Item2 with { Iterations = iterations, Evaluations = evaluations });
        }
        if (start is null && options.Initialization == LightBridgeInitialization.Best)
        {
            var a = FitOne(lapack, x, n0, y, n1, d, k, noise, options with { Initialization = LightBridgeInitialization.TargetMixture }, null, cancellationToken);
            var b = FitOne(lapack, x, n0, y, n1, d, k, noise, options with { Initialization = LightBridgeInitialization.TransportPlan }, null, cancellationToken);
            return a.Item2.Value <= b.Item2.Value
                ? (a.Item1, a.Item2 with { Iterations = a.Item2.Iterations + b.Item2.Iterations, Evaluations = a.Item2.Evaluations + b.Item2.Evaluations })
                : (b.Item1, b.Item2 with { Iterations = a.Item2.Iterations + b.Item2.Iterations, Evaluations = a.Item2.Evaluations + b.Item2.Evaluations });
        }
        start ??= options.Initialization == LightBridgeInitialization.TransportPlan
            ? InitializeFromPlan(lapack, x, n0, y, n1, d, k, noise, options, cancellationToken)
            : Initialize(lapack, x, n0, y, n1, d, k, noise, options, cancellationToken);
        k = start.ComponentCount;
        var objective = new LightBridgeObjective(lapack, x, n0, y, n1, d, k, noise, diagonal, options.Shrinkage ?? 0);
        int[] blocks = objective.Blocks();
        var theta = new double[objective.ParameterCount()];
        var logAlpha = new double[k];
        for (int c = 0; c < k; c++)
        {
            logAlpha[c] = Math.Log(start.Weights[c]);
        }
        LightBridgeObjective.Pack(logAlpha, start.Centers, start.ScaleFactors, d, k, diagonal, theta);
        var result = BacktrackingLbfgs.Minimize(objective.Evaluate, theta, options.MaxIterations, options.Tolerance,
            progress: options.Progress, cancellationToken: cancellationToken, memory: LbfgsMemory, blocks: blocks);
        LightBridge bridge = ToBridge(lapack, theta, d, k, noise, diagonal);
        // Split-merge moves (docs/theory/exact-sb.md#fitting): a dead component (no source mass left, hence no gradient)
        // or, when none is dead, the lighter of the two most similar components is replaced by a split of the heaviest
        // component; the move is kept only when the objective decreases.
        var backup = new double[theta.Length];
        for (int round = 0; round < MaxMoves && k > 1; round++)
        {
            double[] mass = SourceMasses(bridge, x, n0);
            int[] dead = Enumerable.Range(0, k).Where(c => mass[c] < DeadMass).ToArray();
            bool revival = dead.Length > 0;
            if (!revival)
            {
                // Only near-duplicates are merged: the pair's symmetric KL is below one nat, or (K ≥ 3) below half the
                // median over all pairs, i.e. the pair stands out as a duplicate against how far apart components
                // typically are (at ε = 10 every pair is a few nats apart, at ε = 0.1 thousands).
                var (i, j, divergence, median) = MostSimilarPair(lapack, theta, d, k, diagonal, noise * noise);
                if (!(divergence < DuplicateDivergence || (k >= 3 && divergence < RelativeDuplicateDivergence * median)))
                {
                    break;
                }
                dead = [mass[i] <= mass[j] ? i : j];
            }
            int heavy = -1;
            for (int c = 0; c < k; c++)
            {
                if (!dead.Contains(c) && (heavy < 0 || mass[c] > mass[heavy]))
                {
                    heavy = c;
                }
            }
            theta.CopyTo(backup, 0);
            Split(theta, d, k, diagonal, heavy, dead, SplitDirection(lapack, bridge, y, n1, heavy));
            // A move on a live component is tried for a bounded number of iterations first: most are rejected.
            int cap = revival ? options.MaxIterations : Math.Min(options.MaxIterations, TrialIterations);
            var again = BacktrackingLbfgs.Minimize(objective.Evaluate, theta, cap, options.Tolerance,
                progress: options.Progress, cancellationToken: cancellationToken, memory: LbfgsMemory, blocks: blocks);
            if (!(again.Value < result.Value - 1e-9 * Math.Max(1, Math.Abs(result.Value))))
            {
                backup.CopyTo(theta, 0);
                result = result with { Iterations = result.Iterations + again.Iterations, Evaluations = result.Evaluations + again.Evaluations };
                break;
            }
            if (!again.Converged && again.Iterations == cap && cap < options.MaxIterations)
            {
                var rest = BacktrackingLbfgs.Minimize(objective.Evaluate, theta, options.MaxIterations - cap, options.Tolerance,
                    progress: options.Progress, cancellationToken: cancellationToken, memory: LbfgsMemory, blocks: blocks);
                again = rest with { Iterations = again.Iterations + rest.Iterations, Evaluations = again.Evaluations + rest.Evaluations };
            }
            result = again with { Iterations = result.Iterations + again.Iterations, Evaluations = result.Evaluations + again.Evaluations };
            bridge = ToBridge(lapack, theta, d, k, noise, diagonal);
        }
        return (bridge, result);
    }

    /// <summary>
    /// The pair (i, j) of potential components N(r, εS) with the smallest symmetric KL divergence
    /// ½[tr(S_j⁻¹S_i) + tr(S_i⁻¹S_j) + (r_i − r_j)ᵀ(S_i⁻¹ + S_j⁻¹)(r_i − r_j)/ε] − d, that divergence, and the median
    /// divergence over all pairs.
    /// </summary>
    private static (int, int, double, double) MostSimilarPair(Lapack lapack, ReadOnlySpan<double> theta, int d, int k, bool diagonal, double eps)
    {
        var logAlpha = new double[k];
        var r = new double[k * d];
        var l = new double[k * d * d];
        LightBridgeObjective.Unpack(theta, d, k, diagonal, logAlpha, r, l);
        int dd = d * d;
        var inv = new double[k * dd];
        l.CopyTo(inv, 0);
        for (int c = 0; c < k; c++)
        {
            lapack.InvertLowerTriangular(inv.AsSpan(c * dd, dd), d);
        }
        var product = new double[dd];
        var diff = new double[d];
        var z = new double[d];
        // ½ tr(S_b⁻¹S_a) + ½|L_b⁻¹(r_a − r_b)|²/ε, with S_b⁻¹S_a traced as |L_b⁻¹L_a|_F².
        double Half(int a, int b)
        {
            lapack.Gemm(false, false, d, d, d, 1.0, inv.AsSpan(b * dd, dd), l.AsSpan(a * dd, dd), 0.0, product);
            double t = 0;
            foreach (double v in product)
            {
                t += v * v;
            }
            for (int i = 0; i < d; i++)
            {
                diff[i] = r[a * d + i] - r[b * d + i];
            }
            lapack.Gemm(false, false, d, 1, d, 1.0, inv.AsSpan(b * dd, dd), diff, 0.0, z);
            double q = 0;
            foreach (double v in z)
            {
                q += v * v;
            }
            return 0.5 * (t + q / eps);
        }
        (int, int) best = (0, 1);
        double bestValue = double.PositiveInfinity;
        var all = new List<double>();
        for (int i = 0; i < k; i++)
        {
            for (int j = i + 1; j < k; j++)
            {
                double v = Half(i, j) + Half(j, i) - d;
                all.Add(v);
                if (v < bestValue)
                {
                    bestValue = v;
                    best = (i, j);
                }
            }
        }
        all.Sort();
        double median = all.Count % 2 == 1 ? all[all.Count / 2] : 0.5 * (all[all.Count / 2 - 1] + all[all.Count / 2]);
        return (best.Item1, best.Item2, bestValue, median);
    }

    private const int MaxMoves = 3;
    // Longer L-BFGS memory than the usual 10: the two-loop recursion is O(m·p), negligible beside one evaluation
    // (O(N K d²)), and at d = 64, ε = 0.1 memory 30 needs 22 % fewer iterations.
    private const int LbfgsMemory = 30;
    private const int TrialIterations = 60;
    private const double DuplicateDivergence = 1.0;
    private const double RelativeDuplicateDivergence = 0.5;
    private const double DeadMass = 1e-3;

    /// <summary>E_{p0}[w_k(X)] per component on (at most 4096 of) the source samples.</summary>
    private static double[] SourceMasses(LightBridge bridge, double[] x, int n0)
    {
        int d = bridge.Dimension, k = bridge.ComponentCount, step = Math.Max(1, n0 / 4096), count = 0;
        var mass = new double[k];
        var logw = new double[k];
        var means = new double[k * d];
        for (int i = 0; i < n0; i += step, count++)
        {
            bridge.ConditionalComponents(x.AsSpan(i * d, d), logw, means);
            for (int c = 0; c < k; c++)
            {
                mass[c] += Math.Exp(logw[c]);
            }
        }
        for (int c = 0; c < k; c++)
        {
            mass[c] /= count;
        }
        return mass;
    }

    /// <summary>
    /// The principal axis of the target samples that component <paramref name="heavy"/> of v explains: the top eigenvector
    /// of their covariance under the responsibilities γ_h(y) ∝ α_h N(y; r_h, εS_h), scaled by its standard deviation
    /// (at most 4096 target samples are used). When one component covers two target clusters, this axis joins them.
    /// </summary>
    private static double[] SplitDirection(Lapack lapack, LightBridge bridge, double[] y, int n1, int heavy)
    {
        int d = bridge.Dimension, k = bridge.ComponentCount, dd = d * d, step = Math.Max(1, n1 / 4096), m = (n1 + step - 1) / step;
        // γ_h(y) are the responsibilities of v read as the mixture Σ α_c N(r_c, εS_c).
        var covariances = bridge.Scales.ToArray();
        System.Numerics.Tensors.TensorPrimitives.Multiply(covariances, bridge.NoiseVariance, covariances);
        var potential = new GaussianMixture(bridge.Weights, bridge.Centers, covariances);
        var ys = new double[m * d];
        for (int q = 0; q < m; q++)
        {
            y.AsSpan(q * step * d, d).CopyTo(ys.AsSpan(q * d, d));
        }
        var responsibilities = new double[m * k];
        potential.Responsibilities(ys, responsibilities);
        var mean = new double[d];
        var second = new double[dd];
        double total = 0;
        for (int q = 0; q < m; q++)
        {
            ReadOnlySpan<double> yp = ys.AsSpan(q * d, d);
            double gamma = responsibilities[q * k + heavy];
            if (gamma < 1e-12)
            {
                continue;
            }
            total += gamma;
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(yp, gamma, mean, mean);
            for (int i = 0; i < d; i++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(yp, gamma * yp[i], second.AsSpan(i * d, d), second.AsSpan(i * d, d));
            }
        }
        var axis = new double[d];
        if (!(total > 0))
        {
            return axis;
        }
        for (int i = 0; i < d; i++)
        {
            mean[i] /= total;
        }
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                second[i * d + j] = second[i * d + j] / total - mean[i] * mean[j];
            }
        }
        var eig = new double[d];
        lapack.SymmetricEigen(second, d, eig, vectors: true);
        // Ascending eigenvalues: row d − 1 is the top eigenvector.
        double scale = Math.Sqrt(Math.Max(eig[d - 1], 0));
        for (int i = 0; i < d; i++)
        {
            axis[i] = scale * second[(d - 1) * d + i];
        }
        return axis;
    }

    /// <summary>
    /// Replaces every dead component by a copy of the heavy one; the copies and the heavy component are spread evenly
    /// along <paramref name="axis"/> from −axis to +axis (centres r moved, scales copied), the heavy component's α
    /// shared among them.
    /// </summary>
    private static void Split(Span<double> theta, int d, int k, bool diagonal, int heavy, int[] dead, double[] axis)
    {
        int block = diagonal ? d : d * (d + 1) / 2, scaleStart = k + k * d, m = dead.Length;
        theta[heavy] -= Math.Log(m + 1.0);
        var center = theta.Slice(k + heavy * d, d).ToArray();
        for (int j = 0; j <= m; j++)
        {
            int c = j == 0 ? heavy : dead[j - 1];
            double t = 2.0 * j / m - 1;
            theta[c] = theta[heavy];
            for (int i = 0; i < d; i++)
            {
                theta[k + c * d + i] = center[i] + t * axis[i];
            }
            if (c != heavy)
            {
                theta.Slice(scaleStart + heavy * block, block).CopyTo(theta.Slice(scaleStart + c * block, block));
            }
        }
    }

    internal static LightBridge ToBridge(Lapack lapack, ReadOnlySpan<double> theta, int d, int k, double noise, bool diagonal)
    {
        var logAlpha = new double[k];
        var r = new double[k * d];
        var l = new double[k * d * d];
        LightBridgeObjective.Unpack(theta, d, k, diagonal, logAlpha, r, l);
        double max = logAlpha.Max();
        var alpha = new double[k];
        for (int c = 0; c < k; c++)
        {
            // Weights far below the largest (e^-700) are floored: the plan gives them no mass either way.
            alpha[c] = Math.Max(Math.Exp(logAlpha[c] - max), 1e-300);
        }
        double[] scales;
        if (diagonal)
        {
            scales = new double[k * d];
            for (int c = 0; c < k; c++)
            {
                for (int i = 0; i < d; i++)
                {
                    double v = l[c * d * d + i * d + i];
                    scales[c * d + i] = v * v;
                }
            }
        }
        else
        {
            scales = new double[k * d * d];
            for (int c = 0; c < k; c++)
            {
                ReadOnlySpan<double> lc = l.AsSpan(c * d * d, d * d);
                Span<double> sc = scales.AsSpan(c * d * d, d * d);
                // S = L Lᵀ, lower triangle computed and mirrored so S is exactly symmetric.
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        double s = Simd.LinearAlgebra.DenseKernels.Dot(lc.Slice(i * d, j + 1), lc.Slice(j * d, j + 1));
                        sc[i * d + j] = s;
                        sc[j * d + i] = s;
                    }
                }
            }
        }
        return new LightBridge(noise, alpha, r, scales, diagonal ? CovarianceType.Diagonal : CovarianceType.Full, lapack);
    }

    /// <summary>
    /// The starting potential (docs/theory/exact-sb.md#fitting): an EM fit of the target with K components, and per
    /// component j the Gaussian entropic-OT plan from the source's Gaussian moments to N(m_j, Σ_j): S_j = G_j,
    /// r_j = m_j − G_j m0; α_j makes E_{p0}[α_j e^{⟨x, r_j⟩/ε + xᵀS_j x/(2ε)}] = π_j.
    /// </summary>
    internal static LightBridge Initialize(Lapack lapack, double[] x, int n0, double[] y, int n1, int d, int k, double noise,
        LightBridgeFitOptions options, CancellationToken cancellationToken)
    {
        bool diagonal = options.CovarianceType == CovarianceType.Diagonal;
        var (m0, s0) = Moments(lapack, x, n0, d);
        var fit = GaussianMixtureFitter.Fit(y, d, k, new GaussianMixtureFitOptions
        {
            CovarianceType = diagonal ? CovarianceType.Diagonal : CovarianceType.Full,
            Seed = options.Seed,
            RegCovar = 1e-6,
        }, cancellationToken: cancellationToken);
        GaussianMixture target = fit.Mixture;
        double eps = noise * noise;
        var centers = new double[k * d];
        var scales = new double[diagonal ? k * d : k * d * d];
        ReadOnlySpan<double> covariances = target.Covariances;
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> mj = target.Mean(c);
            if (diagonal)
            {
                for (int i = 0; i < d; i++)
                {
                    // The one-dimensional Gaussian plan per coordinate: G = (√(4 s0 s1 + ε²) − ε)/(2 s0).
                    double a = s0[i * d + i], b = covariances[c * d * d + i * d + i];
                    double g = (Math.Sqrt(4 * a * b + eps * eps) - eps) / (2 * a);
                    scales[c * d + i] = g;
                    centers[c * d + i] = mj[i] - g * m0[i];
                }
            }
            else
            {
                var (r, g) = LightBridge.GaussianPlan(lapack, m0, s0, mj, covariances.Slice(c * d * d, d * d), d, noise);
                r.CopyTo(centers.AsSpan(c * d, d));
                g.CopyTo(scales.AsSpan(c * d * d, d * d));
            }
        }
        return Normalized(lapack, x, n0, d, k, noise, diagonal, target.Weights, centers, scales);
    }

    /// <summary>
    /// α_j such that E_{p0}[α_j e^{⟨x, r_j⟩/ε + xᵀS_j x/(2ε)}] = π_j (the mass the start gives component j).
    /// </summary>
    private static LightBridge Normalized(Lapack lapack, double[] x, int n0, int d, int k, double noise, bool diagonal,
        ReadOnlySpan<double> masses, double[] centers, double[] scales)
    {
        var logAlpha = new double[k];
        var single = new double[n0];
        for (int c = 0; c < k; c++)
        {
            int block = diagonal ? d : d * d;
            var one = new LightBridge(noise, [1.0], centers.AsSpan(c * d, d), scales.AsSpan(c * block, block),
                diagonal ? CovarianceType.Diagonal : CovarianceType.Full, lapack);
            one.LogNormalizer(x, single);
            double max = single.Max(), sum = 0;
            foreach (double v in single)
            {
                sum += Math.Exp(v - max);
            }
            logAlpha[c] = Math.Log(masses[c]) - (max + Math.Log(sum / n0));
        }
        double top = logAlpha.Max();
        var alpha = logAlpha.Select(v => Math.Max(Math.Exp(v - top), 1e-300)).ToArray();
        return new LightBridge(noise, alpha, centers, scales, diagonal ? CovarianceType.Diagonal : CovarianceType.Full, lapack);
    }

    /// <summary>
    /// The GMMflow-plan start (docs/theory/exact-sb.md#fitting): EM fits with K components on each side, the exact LP with
    /// the SB cost, and per active pair (i, j) the Gaussian entropic-OT plan from N(m_i, Σ_i) to N(m_j, Σ_j), which has the
    /// LightSB component form S = G_ij, r = m_j − G_ij m_i. The K heaviest pairs are kept.
    /// </summary>
    internal static LightBridge InitializeFromPlan(Lapack lapack, double[] x, int n0, double[] y, int n1, int d, int k, double noise,
        LightBridgeFitOptions options, CancellationToken cancellationToken)
    {
        bool diagonal = options.CovarianceType == CovarianceType.Diagonal;
        var em = new GaussianMixtureFitOptions { CovarianceType = CovarianceType.Full, Seed = options.Seed, RegCovar = 1e-6 };
        GaussianMixture source = GaussianMixtureFitter.Fit(x, d, k, em, cancellationToken: cancellationToken).Mixture;
        GaussianMixture target = GaussianMixtureFitter.Fit(y, d, k, em, cancellationToken: cancellationToken).Mixture;
        var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = noise });
        var pairs = plan.Pairs.Select((e, p) => (e, p)).OrderByDescending(v => v.e.Weight).Take(k).ToArray();
        int kk = pairs.Length;
        var centers = new double[kk * d];
        var scales = new double[diagonal ? kk * d : kk * d * d];
        var masses = new double[kk];
        var g = new double[d * d];
        for (int c = 0; c < kk; c++)
        {
            var (e, p) = pairs[c];
            masses[c] = e.Weight;
            plan.Bridges[p].CouplingGain(g);
            ReadOnlySpan<double> mi = source.Mean(e.Source), mj = target.Mean(e.Target);
            for (int i = 0; i < d; i++)
            {
                double gm = 0;
                for (int j = 0; j < d; j++)
                {
                    // G is SPD in exact arithmetic: use its symmetric part.
                    double gij = 0.5 * (g[i * d + j] + g[j * d + i]);
                    gm += gij * mi[j];
                    if (!diagonal)
                    {
                        scales[c * d * d + i * d + j] = gij;
                    }
                }
                if (diagonal)
                {
                    scales[c * d + i] = g[i * d + i];
                }
                centers[c * d + i] = mj[i] - gm;
            }
        }
        // With fewer active pairs than K (an LP vertex has at least K), the fit continues with fewer components.
        return Normalized(lapack, x, n0, d, kk, noise, diagonal, masses, centers, scales);
    }

    internal static (double[] Mean, double[] Covariance) Moments(Lapack lapack, ReadOnlySpan<double> points, int n, int d)
    {
        var mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                mean[j] += points[i * d + j];
            }
        }
        for (int j = 0; j < d; j++)
        {
            mean[j] /= n;
        }
        var centred = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                centred[i * d + j] = points[i * d + j] - mean[j];
            }
        }
        var cov = new double[d * d];
        lapack.Gemm(true, false, d, d, n, 1.0 / Math.Max(1, n - 1), centred, centred, 0.0, cov);
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double s = 0.5 * (cov[i * d + j] + cov[j * d + i]);
                cov[i * d + j] = s;
                cov[j * d + i] = s;
            }
        }
        return (mean, cov);
    }
}

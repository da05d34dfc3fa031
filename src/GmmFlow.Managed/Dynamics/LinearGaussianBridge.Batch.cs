using System.Runtime.Intrinsics;
using GmmFlow.Simd;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>Where a batch of linear bridges reads pair p's endpoints (n-vectors and n×n row-major covariances).</summary>
internal interface ILinearPairInputs
{
    ReadOnlySpan<double> Mean0(int p);
    ReadOnlySpan<double> Covariance0(int p);
    ReadOnlySpan<double> Mean1(int p);
    ReadOnlySpan<double> Covariance1(int p);
}

public sealed partial class LinearGaussianBridge
{
    /// <summary>Below this state dimension the one-pair eigensolver is as fast as a lockstep group.</summary>
    internal const int BatchMinimumDimension = 4;

    /// <summary>
    /// The bridges of <c>count</c> pairs given stacked (pair p: row p of the count×n <paramref name="means0"/> and
    /// <paramref name="means1"/>, block p of the count·n×n <paramref name="covariances0"/> and <paramref name="covariances1"/>),
    /// built on all cores with the pairs' eigenproblems solved a SIMD vector of pairs at a time
    /// (docs/theory/linear-dynamics.md#batch). Each bridge equals <see cref="Create"/>'s to rounding.
    /// </summary>
    /// <param name="dynamics">The prior dynamics (shared by all pairs).</param>
    /// <param name="means0">count×n source means.</param>
    /// <param name="covariances0">count·n×n source covariances (SPD, row-major blocks).</param>
    /// <param name="means1">count×n target means.</param>
    /// <param name="covariances1">count·n×n target covariances.</param>
    /// <param name="noise">σ ≥ 0, as in <see cref="Create"/>.</param>
    /// <param name="progress">Receives the completed fraction after every 1 024 pairs.</param>
    /// <param name="cancellationToken">Checked between blocks of 1 024 pairs.</param>
    /// <exception cref="ArgumentException">A pair's input is invalid; the message names the pair.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (nothing is returned).</exception>
    public static LinearGaussianBridge[] CreateMany(LinearDynamics dynamics, ReadOnlySpan<double> means0, ReadOnlySpan<double> covariances0,
        ReadOnlySpan<double> means1, ReadOnlySpan<double> covariances1, double noise = 0, IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dynamics);
        if (!double.IsFinite(noise) || noise < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(noise), noise, "noise σ must be finite and ≥ 0.");
        }
        int n = dynamics.StateDimension;
        if (means0.Length % n != 0)
        {
            throw new ArgumentException($"The source means have length {means0.Length}, not a multiple of the state dimension {n}.", nameof(means0));
        }
        int count = means0.Length / n;
        long nn = (long)n * n;
        if (means1.Length != means0.Length)
        {
            throw new ArgumentException($"The target means have length {means1.Length}; {count} pairs need {means0.Length}.", nameof(means1));
        }
        if (covariances0.Length != count * nn)
        {
            throw new ArgumentException($"The source covariances have length {covariances0.Length}; {count} pairs need {count * nn}.", nameof(covariances0));
        }
        if (covariances1.Length != count * nn)
        {
            throw new ArgumentException($"The target covariances have length {covariances1.Length}; {count} pairs need {count * nn}.", nameof(covariances1));
        }
        var inputs = new StackedPairs(n, means0.ToArray(), covariances0.ToArray(), means1.ToArray(), covariances1.ToArray());
        var bridges = new LinearGaussianBridge?[count];
        var errors = new Exception?[count];
        ParallelRange.ForBlocks(count, BatchGrain, BatchBlock,
            new StackedBody { Dynamics = dynamics, Noise = noise, Inputs = inputs, Bridges = bridges, Errors = errors }, progress, cancellationToken);
        for (int p = 0; p < count; p++)
        {
            if (errors[p] is { } e)
            {
                throw e is ArgumentException a ? new ArgumentException($"Pair {p}: {a.Message}", a) : e;
            }
        }
        return bridges!;
    }

    /// <summary>Pairs per parallel work item: two AVX-512 groups.</summary>
    internal const int BatchGrain = 16;

    /// <summary>Pairs between cancellation checks and progress reports of long batches.</summary>
    internal const int BatchBlock = 64 * BatchGrain;

    /// <summary>
    /// Builds the bridges of pairs [start, end) into <paramref name="bridges"/>, an input or numerical error of pair p into
    /// <paramref name="errors"/>[p] instead (ArgumentException, InvalidOperationException). With SIMD and n ≥
    /// <see cref="BatchMinimumDimension"/>, the matrices K of a vector's width of pairs go through the lockstep
    /// eigensolver together; a lane it gives back is solved alone.
    /// </summary>
    internal static void BuildRange<TInputs>(LinearDynamics dynamics, double noise, in TInputs inputs, int start, int end,
        LinearGaussianBridge?[] bridges, Exception?[] errors)
        where TInputs : struct, ILinearPairInputs
        => RunRange(dynamics, noise, inputs, start, end, bridges, null, errors);

    // The width dispatch of BuildRange (bridges) and CostRange (costs): lockstep groups, or one pair at a time.
    private static void RunRange<TInputs>(LinearDynamics dynamics, double noise, in TInputs inputs, int start, int end,
        LinearGaussianBridge?[]? bridges, double[]? costs, Exception?[] errors)
        where TInputs : struct, ILinearPairInputs
    {
        if (dynamics.StateDimension >= BatchMinimumDimension)
        {
            switch (SimdDispatch.Best)
            {
                case SimdWidth.V512:
                    Groups<Simd512, Vector512<double>, TInputs>(dynamics, noise, inputs, start, end, bridges, costs, errors);
                    return;
                case SimdWidth.V256:
                    Groups<Simd256, Vector256<double>, TInputs>(dynamics, noise, inputs, start, end, bridges, costs, errors);
                    return;
                case SimdWidth.V128:
                    Groups<Simd128, Vector128<double>, TInputs>(dynamics, noise, inputs, start, end, bridges, costs, errors);
                    return;
            }
        }
        for (int p = start; p < end; p++)
        {
            try
            {
                var bridge = Create(dynamics, inputs.Mean0(p), inputs.Covariance0(p), inputs.Mean1(p), inputs.Covariance1(p), noise);
                if (bridges is not null)
                {
                    bridges[p] = bridge;
                }
                else
                {
                    costs![p] = bridge.Cost;
                }
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                errors[p] = e;
            }
        }
    }

    private static void Groups<TOps, TV, TInputs>(LinearDynamics dynamics, double noise, in TInputs inputs, int start, int end,
        LinearGaussianBridge?[]? bridges, double[]? costs, Exception?[] errors)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TInputs : struct, ILinearPairInputs
    {
        if (bridges is not null)
        {
            BuildGroups<TOps, TV, TInputs>(dynamics, noise, inputs, start, end, bridges, errors);
        }
        else
        {
            CostGroups<TOps, TV, TInputs>(dynamics, noise, inputs, start, end, costs!, errors);
        }
    }

    private static void BuildGroups<TOps, TV, TInputs>(LinearDynamics dynamics, double noise, in TInputs inputs, int start, int end,
        LinearGaussianBridge?[] bridges, Exception?[] errors)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TInputs : struct, ILinearPairInputs
    {
        int n = dynamics.StateDimension, nn = n * n, lanes = TOps.Count;
        var g = BatchWorkspace.For(n, lanes);
        var w = Workspace.For(n, dynamics.ControlDimension);
        Span<double> a = g.A, b = g.B, values = g.Values;
        for (int first = start; first < end; first += lanes)
        {
            int count = Math.Min(lanes, end - first);
            FillGroup(dynamics, inputs, first, count, lanes, g, w, a, errors);
            // B = I: the solver returns Wᵀ, row k the unit eigenvector of eigenvalue k.
            b.Clear();
            for (int r = 0; r < n; r++)
            {
                b.Slice((r * n + r) * lanes, lanes).Fill(1);
            }
            int failed = LockstepSymmetricEigen.SolveSpread<TOps, TV>(a, b, values, g.Scratch, n);
            for (int q = 0; q < count; q++)
            {
                if (!g.Valid[q])
                {
                    continue;
                }
                int p = first + q;
                bool solved = (failed >> q & 1) == 0;
                if (solved)
                {
                    for (int j = 0; j < n; j++)
                    {
                        g.PairValues[j] = values[j * lanes + q];
                        for (int r = 0; r < n; r++)
                        {
                            g.PairVectors[r * n + j] = b[(j * n + r) * lanes + q];
                        }
                    }
                }
                try
                {
                    // A lane the lockstep solver gave back (iteration cap, non-finite) is decomposed alone.
                    bridges[p] = new LinearGaussianBridge(dynamics, noise, inputs.Mean0(p), g.S0.AsSpan(q * nn, nn), inputs.Mean1(p), g.S1.AsSpan(q * nn, nn),
                        g.L0.AsSpan(q * nn, nn), g.L1.AsSpan(q * nn, nn), null, 0,
                        solved ? g.PairValues : default, solved ? g.PairVectors : default);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    errors[p] = e;
                }
            }
        }
    }

    /// <summary>
    /// The costs J (<see cref="Cost"/>) of pairs [start, end) into <paramref name="costs"/>, without building the bridges:
    /// the same checks, K and formulas, with K's eigenvalues alone (the lockstep root-free QL for n ≥
    /// <see cref="BatchMinimumDimension"/>, no eigenvectors, no coupling, no Riccati matrix). An input or numerical error
    /// of pair p goes to <paramref name="errors"/>[p].
    /// </summary>
    internal static void CostRange<TInputs>(LinearDynamics dynamics, double noise, in TInputs inputs, int start, int end,
        double[] costs, Exception?[] errors)
        where TInputs : struct, ILinearPairInputs
        => RunRange(dynamics, noise, inputs, start, end, null, costs, errors);

    private static void CostGroups<TOps, TV, TInputs>(LinearDynamics dynamics, double noise, in TInputs inputs, int start, int end,
        double[] costs, Exception?[] errors)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TInputs : struct, ILinearPairInputs
    {
        int n = dynamics.StateDimension, nn = n * n, lanes = TOps.Count;
        var g = BatchWorkspace.For(n, lanes);
        var w = Workspace.For(n, dynamics.ControlDimension);
        Span<double> a = g.A, values = g.Values;
        for (int first = start; first < end; first += lanes)
        {
            int count = Math.Min(lanes, end - first);
            FillGroup(dynamics, inputs, first, count, lanes, g, w, a, errors);
            int failed = LockstepSymmetricEigen.Solve<TOps, TV>(a, default, values, g.Scratch, n);
            for (int q = 0; q < count; q++)
            {
                if (!g.Valid[q])
                {
                    continue;
                }
                int p = first + q;
                if ((failed >> q & 1) != 0)
                {
                    // A lane the lockstep solver gave back is decomposed alone.
                    try
                    {
                        costs[p] = Create(dynamics, inputs.Mean0(p), inputs.Covariance0(p), inputs.Mean1(p), inputs.Covariance1(p), noise).Cost;
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                    {
                        errors[p] = e;
                    }
                    continue;
                }
                for (int j = 0; j < n; j++)
                {
                    g.PairValues[j] = values[j * lanes + q];
                }
                double meanCost = MeanPart(dynamics, inputs.Mean0(p), inputs.Mean1(p), w.X, w.Y);
                costs[p] = CostFromSpectrum(dynamics, g.S0.AsSpan(q * nn, nn), g.S1.AsSpan(q * nn, nn), g.L1.AsSpan(q * nn, nn), meanCost,
                    noise * noise, g.PairValues, w.C, w.Off).Cost;
            }
        }
    }

    /// <summary>
    /// Checks the pairs first … first + count − 1 into the group's lanes (symmetrised covariances, factors) and
    /// interleaves their K into <paramref name="a"/>; a lane without a valid pair holds the identity.
    /// </summary>
    private static void FillGroup<TInputs>(LinearDynamics dynamics, in TInputs inputs, int first, int count, int lanes, BatchWorkspace g,
        Workspace w, Span<double> a, Exception?[] errors)
        where TInputs : struct, ILinearPairInputs
    {
        int n = dynamics.StateDimension, nn = n * n;
        for (int q = 0; q < lanes; q++)
        {
            Span<double> k = g.K;
            g.Valid[q] = false;
            if (q < count)
            {
                int p = first + q;
                try
                {
                    CheckFinite(inputs.Mean0(p), n, "source mean", "mean0");
                    CheckFinite(inputs.Mean1(p), n, "target mean", "mean1");
                    CheckCovariance(inputs.Covariance0(p), n, "source covariance Σ0", "covariance0", g.S0.AsSpan(q * nn, nn), g.L0.AsSpan(q * nn, nn));
                    CheckCovariance(inputs.Covariance1(p), n, "target covariance Σ1", "covariance1", g.S1.AsSpan(q * nn, nn), g.L1.AsSpan(q * nn, nn));
                    ReducedMatrix(dynamics, g.L0.AsSpan(q * nn, nn), g.L1.AsSpan(q * nn, nn), k, w);
                    g.Valid[q] = true;
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException)
                {
                    errors[p] = e;
                }
            }
            if (!g.Valid[q])
            {
                SmallDense.Identity(k, n);
            }
            for (int e = 0; e < nn; e++)
            {
                a[e * lanes + q] = k[e];
            }
        }
    }

    /// <summary>Per-thread buffers of a lockstep group: interleaved K's and eigenvectors, the lanes' checked (symmetrised) covariances and their factors.</summary>
    private sealed class BatchWorkspace
    {
        [ThreadStatic]
        private static BatchWorkspace? t_batch;

        private BatchWorkspace(int n, int lanes)
        {
            N = n;
            Lanes = lanes;
            int nn = n * n;
            A = CacheLines.AlignedDoubles(nn * lanes);
            B = CacheLines.AlignedDoubles(nn * lanes);
            Values = CacheLines.AlignedDoubles(n * lanes);
            Scratch = CacheLines.AlignedDoubles(LockstepSymmetricEigen.ScratchLength(n, lanes));
            K = new double[nn];
            S0 = new double[nn * lanes];
            S1 = new double[nn * lanes];
            L0 = new double[nn * lanes];
            L1 = new double[nn * lanes];
            PairValues = new double[n];
            PairVectors = new double[nn];
            Valid = new bool[lanes];
        }

        public int N { get; }
        public int Lanes { get; }
        // On 64-byte boundaries: the lockstep solver loads and stores whole vectors.
        public readonly ArraySegment<double> A, B, Values, Scratch;
        public readonly double[] K, S0, S1, L0, L1, PairValues, PairVectors;
        public readonly bool[] Valid;

        public static BatchWorkspace For(int n, int lanes)
        {
            var w = t_batch;
            if (w is null || w.N != n || w.Lanes != lanes)
            {
                w = t_batch = new BatchWorkspace(n, lanes);
            }
            return w;
        }
    }

    internal readonly struct StackedPairs(int n, double[] means0, double[] covariances0, double[] means1, double[] covariances1) : ILinearPairInputs
    {
        public ReadOnlySpan<double> Mean0(int p) => means0.AsSpan(p * n, n);
        public ReadOnlySpan<double> Covariance0(int p) => covariances0.AsSpan(p * n * n, n * n);
        public ReadOnlySpan<double> Mean1(int p) => means1.AsSpan(p * n, n);
        public ReadOnlySpan<double> Covariance1(int p) => covariances1.AsSpan(p * n * n, n * n);
    }

    private struct StackedBody : IRangeBody
    {
        public LinearDynamics Dynamics;
        public double Noise;
        public StackedPairs Inputs;
        public LinearGaussianBridge?[] Bridges;
        public Exception?[] Errors;

        public readonly void Execute(int start, int end) => BuildRange(Dynamics, Noise, Inputs, start, end, Bridges, Errors);
    }
}

using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// The tuple-cost tensor of a multi-marginal momentum bridge: one Gaussian problem per tuple (i_0, …, i_M) of
/// components, on all cores.
/// </summary>
/// <remarks>docs/theory/multimarginal.md#tuple-tensor. Tuples are numbered row-major (i_M fastest).</remarks>
internal static class MomentumTupleCosts
{
    /// <summary>Component Cholesky factors of every marginal, K_k×n×n each.</summary>
    internal static double[][] Factors(IReadOnlyList<GaussianMixture> marginals)
    {
        var factors = new double[marginals.Count][];
        for (int k = 0; k < marginals.Count; k++)
        {
            factors[k] = marginals[k].CholeskyFactors.ToArray();
        }
        return factors;
    }

    /// <summary>Writes all Π N_k tuple costs (row-major) into <paramref name="destination"/>.</summary>
    internal static void Compute(double[] times, IReadOnlyList<GaussianMixture> marginals, double noise, double[] destination,
        IProgress<double>? progress, CancellationToken cancellationToken, TupleSolverSettings settings, out TupleStatistics statistics)
    {
        int knots = times.Length;
        var shape = new int[knots];
        long count = 1;
        for (int k = 0; k < knots; k++)
        {
            shape[k] = marginals[k].ComponentCount;
            count *= shape[k];
        }
        var means = new double[knots][];
        for (int k = 0; k < knots; k++)
        {
            means[k] = marginals[k].Means.ToArray();
        }
        var shared = new SharedState(times, marginals[0].Dimension, noise, shape, means, Factors(marginals), destination, progress, cancellationToken,
            settings, (int)count);
        var body = new TupleBody(shared);
        // Small chunks keep the cores balanced (tuples differ in iteration counts). Every tuple is solved from the same
        // cold start, so the costs do not depend on the chunking or the number of cores.
        int grain = Math.Clamp((int)count / (16 * ParallelRange.Concurrency), 1, 16);
        ParallelRange.For((int)count, grain, body);
        cancellationToken.ThrowIfCancellationRequested();
        if (shared.Failed >= 0)
        {
            throw new InvalidOperationException($"The covariance problem of tuple {shared.Failed} (row-major index) produced a non-finite cost; " +
                "check the input covariances for extreme conditioning.");
        }
        statistics = new TupleStatistics(shared.Evaluations, shared.Iterations, shared.Unconverged);
        progress?.Report(1.0);
    }

    /// <summary>Solves one tuple (multi-index <paramref name="index"/>) with a fresh solver; for the active tuples.</summary>
    internal static TupleCost SolveOne(MomentumTupleSolver solver, IReadOnlyList<GaussianMixture> marginals, ReadOnlySpan<int> index,
        Span<double> knotMeans, Span<double> knotCovariances, TupleSolverSettings settings)
    {
        int knots = index.Length, n = solver.Dimension;
        var mu = new double[knots * n];
        var chol = new double[knots * n * n];
        for (int k = 0; k < knots; k++)
        {
            marginals[k].Mean(index[k]).CopyTo(mu.AsSpan(k * n, n));
            marginals[k].CholeskyFactors.Slice(index[k] * n * n, n * n).CopyTo(chol.AsSpan(k * n * n, n * n));
        }
        return solver.Solve(mu, chol, knotMeans, knotCovariances, settings);
    }

    internal readonly record struct TupleStatistics(long Evaluations, long Iterations, int Unconverged);

    private sealed class SharedState(double[] times, int dimension, double noise, int[] shape, double[][] means, double[][] factors,
        double[] destination, IProgress<double>? progress, CancellationToken token, TupleSolverSettings settings, int count)
    {
        public readonly double[] Times = times;
        public readonly int Dimension = dimension;
        public readonly double Noise = noise;
        public readonly int[] Shape = shape;
        public readonly double[][] Means = means;
        public readonly double[][] Factors = factors;
        public readonly double[] Destination = destination;
        public readonly IProgress<double>? Progress = progress;
        public readonly CancellationToken Token = token;
        public readonly TupleSolverSettings Settings = settings;
        public readonly int Count = count;
        public int Done;
        public int LastReported;
        public long Evaluations, Iterations;
        public int Unconverged;
        public int Failed = -1;
    }

    [ThreadStatic]
    private static MomentumTupleSolver? t_solver;

    private static MomentumTupleSolver SolverFor(double[] times, int dimension, double noise)
    {
        var s = t_solver;
        if (s is null || s.Dimension != dimension || s.Variance != noise * noise || !s.Times.SequenceEqual(times))
        {
            t_solver = s = new MomentumTupleSolver(times, dimension, noise);
        }
        return s;
    }

    private readonly struct TupleBody(SharedState state) : IRangeBody
    {
        public void Execute(int start, int end)
        {
            var s = state;
            if (s.Token.IsCancellationRequested || s.Failed >= 0)
            {
                return;
            }
            int knots = s.Times.Length, n = s.Dimension;
            var solver = SolverFor(s.Times, n, s.Noise);
            Span<int> index = stackalloc int[knots];
            Span<double> mu = stackalloc double[knots * n];
            var chol = ChollScratch(knots * n * n);
            // Decode the first multi-index, then walk with an odometer.
            int rest = start;
            for (int k = knots - 1; k >= 0; k--)
            {
                index[k] = rest % s.Shape[k];
                rest /= s.Shape[k];
            }
            long evaluations = 0, iterations = 0;
            int unconverged = 0;
            for (int t = start; t < end; t++)
            {
                for (int k = 0; k < knots; k++)
                {
                    s.Means[k].AsSpan(index[k] * n, n).CopyTo(mu.Slice(k * n, n));
                    s.Factors[k].AsSpan(index[k] * n * n, n * n).CopyTo(chol.AsSpan(k * n * n, n * n));
                }
                var cost = solver.Solve(mu, chol, default, default, s.Settings);
                if (!double.IsFinite(cost.Total))
                {
                    Interlocked.CompareExchange(ref s.Failed, t, -1);
                    return;
                }
                s.Destination[t] = cost.Total;
                evaluations += cost.Evaluations;
                iterations += cost.Iterations;
                unconverged += cost.Converged ? 0 : 1;
                for (int k = knots - 1; k >= 0 && ++index[k] == s.Shape[k]; k--)
                {
                    index[k] = 0;
                }
            }
            Interlocked.Add(ref s.Evaluations, evaluations);
            Interlocked.Add(ref s.Iterations, iterations);
            Interlocked.Add(ref s.Unconverged, unconverged);
            int done = Interlocked.Add(ref s.Done, end - start);
            if (s.Progress is not null)
            {
                // At most ~100 reports; whichever thread crosses a percent reports it.
                int percent = (int)(100L * done / s.Count);
                int last = Volatile.Read(ref s.LastReported);
                if (percent > last && Interlocked.CompareExchange(ref s.LastReported, percent, last) == last && done < s.Count)
                {
                    s.Progress.Report((double)done / s.Count);
                }
            }
        }

        [ThreadStatic]
        private static double[]? t_chol;

        private static double[] ChollScratch(int length)
        {
            var c = t_chol;
            if (c is null || c.Length != length)
            {
                t_chol = c = new double[length];
            }
            return c;
        }
    }
}

using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// A multi-marginal momentum Schrödinger bridge between Gaussian-mixture position snapshots at knot times
/// t_0 &lt; … &lt; t_M: state (x, v) under dx = v dt, dv = u dt + σ dW, velocities free at every knot. One Gaussian
/// problem per tuple of components, a multi-marginal LP over the full tuple-cost tensor, and the λ-weighted mixture
/// of the active tuples' policies (GMMflow §3.2).
/// </summary>
/// <remarks>docs/theory/multimarginal.md. The plan is immutable and thread-safe.</remarks>
public sealed partial class MultiMarginalPlan
{
    private readonly double[] _times;
    private readonly GaussianMixture[] _marginals;
    private readonly MomentumTuple[] _tuples;
    private readonly double[] _logWeights;

    private MultiMarginalPlan(double[] times, GaussianMixture[] marginals, double noise, MomentumTuple[] tuples, double objective, double[]? costs)
    {
        _times = times;
        _marginals = marginals;
        Noise = noise;
        _tuples = tuples;
        Objective = objective;
        CostTensor = costs;
        _logWeights = tuples.Select(t => Math.Log(t.Weight)).ToArray();
    }

    /// <summary>Knot times t_0 &lt; … &lt; t_M.</summary>
    public IReadOnlyList<double> Times => _times;

    /// <summary>The position mixtures at the knots.</summary>
    public IReadOnlyList<GaussianMixture> Marginals => _marginals;

    /// <summary>σ (ε = σ²).</summary>
    public double Noise { get; }

    /// <summary>Position dimension n (the state has 2n coordinates).</summary>
    public int Dimension => _marginals[0].Dimension;

    /// <summary>Σ λ_i J_i over the active tuples.</summary>
    public double Objective { get; }

    /// <summary>The active tuples (nonzero LP weight).</summary>
    public IReadOnlyList<MomentumTuple> Tuples => _tuples;

    /// <summary>All tuple costs, row-major over (i_0, …, i_M), when computed and kept; else null.</summary>
    public double[]? CostTensor { get; }

    /// <summary>
    /// Solves the plan: all Π N_k tuple costs on all cores, the multi-marginal LP (HiGHS), and the bridges of the
    /// active tuples.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two knots, times not strictly increasing or not finite, mixtures of different dimensions.</exception>
    public static MultiMarginalPlan Create(ReadOnlySpan<double> times, IReadOnlyList<GaussianMixture> marginals, MultiMarginalOptions? options = null)
    {
        options ??= new MultiMarginalOptions();
        options.Validate();
        var t = CheckInputs(times, marginals);
        var costs = ComputeTupleCosts(t, marginals, options);
        var shape = marginals.Select(m => m.ComponentCount).ToArray();
        var weights = marginals.Select(m => m.Weights.ToArray()).ToArray();
        var coupling = Couplings.MultiMarginal(costs, shape, weights);
        if (coupling.Status != LpStatus.Optimal)
        {
            throw new InvalidOperationException($"The multi-marginal LP over {string.Join(" × ", shape)} tuples ended with status {coupling.Status}.");
        }
        var active = new List<(int[] Index, double Weight)>();
        for (int e = 0; e < coupling.Count; e++)
        {
            if (coupling.Weights[e] > 0)
            {
                active.Add((coupling.GetIndex(e).ToArray(), coupling.Weights[e]));
            }
        }
        return Build(t, [.. marginals], options.Noise, active, options.Settings, options.KeepCostTensor ? costs : null);
    }

    /// <summary>
    /// The plan for given active tuples and weights (e.g. read from a plan file): validates them, re-solves their
    /// Gaussian problems and builds the policies; the LP is not re-solved.
    /// </summary>
    public static MultiMarginalPlan FromTuples(ReadOnlySpan<double> times, IReadOnlyList<GaussianMixture> marginals, double noise,
        IReadOnlyList<(int[] Components, double Weight)> tuples, double marginalTolerance = 1e-6)
    {
        var options = new MultiMarginalOptions { Noise = noise };
        options.Validate();
        var t = CheckInputs(times, marginals);
        ArgumentNullException.ThrowIfNull(tuples);
        if (tuples.Count == 0)
        {
            throw new ArgumentException("The plan has no tuples.", nameof(tuples));
        }
        var sums = marginals.Select(m => new double[m.ComponentCount]).ToArray();
        for (int e = 0; e < tuples.Count; e++)
        {
            var (index, weight) = tuples[e];
            if (index is null || index.Length != t.Length)
            {
                throw new ArgumentException($"Tuple {e} has {index?.Length ?? 0} indices; the plan has {t.Length} knots.", nameof(tuples));
            }
            if (!(weight > 0) || !double.IsFinite(weight))
            {
                throw new ArgumentException($"Tuple {e} has weight {weight}; weights must be finite and > 0.", nameof(tuples));
            }
            for (int k = 0; k < t.Length; k++)
            {
                if ((uint)index[k] >= (uint)sums[k].Length)
                {
                    throw new ArgumentException($"Tuple {e} uses component {index[k]} at knot {k}, but that mixture has {sums[k].Length} components.", nameof(tuples));
                }
                sums[k][index[k]] += weight;
            }
        }
        for (int k = 0; k < t.Length; k++)
        {
            for (int i = 0; i < sums[k].Length; i++)
            {
                if (Math.Abs(sums[k][i] - marginals[k].Weights[i]) > marginalTolerance)
                {
                    throw new ArgumentException($"Tuple weights at knot {k} sum to {sums[k][i]:R} on component {i}, but its mixture weight is " +
                        $"{marginals[k].Weights[i]:R}.", nameof(tuples));
                }
            }
        }
        return Build(t, [.. marginals], noise, tuples, options.Settings, null);
    }

    /// <summary>All Π N_k tuple costs, row-major over (i_0, …, i_M), on all cores.</summary>
    public static double[] ComputeTupleCosts(ReadOnlySpan<double> times, IReadOnlyList<GaussianMixture> marginals, MultiMarginalOptions? options = null)
    {
        options ??= new MultiMarginalOptions();
        options.Validate();
        var t = CheckInputs(times, marginals);
        return ComputeTupleCosts(t, marginals, options);
    }

    private static double[] ComputeTupleCosts(double[] times, IReadOnlyList<GaussianMixture> marginals, MultiMarginalOptions options)
    {
        long count = 1;
        foreach (var m in marginals)
        {
            count *= m.ComponentCount;
        }
        if (count > int.MaxValue / 8)
        {
            throw new ArgumentException($"{count} tuples is more than the tuple-cost tensor supports.", nameof(marginals));
        }
        var costs = new double[count];
        MomentumTupleCosts.Compute(times, marginals, options.Noise, costs, options.Progress, options.CancellationToken, options.Settings, out _);
        return costs;
    }

    private static MultiMarginalPlan Build(double[] times, GaussianMixture[] marginals, double noise, IReadOnlyList<(int[] Index, double Weight)> active,
        TupleSolverSettings settings, double[]? costs)
    {
        int n = marginals[0].Dimension, knots = times.Length, n2 = 2 * n;
        var tuples = new MomentumTuple[active.Count];
        var body = new ActiveTupleBody(times, marginals, noise, active, settings, tuples);
        ParallelRange.For(active.Count, 1, body);
        double objective = 0;
        foreach (var tuple in tuples)
        {
            objective += tuple.Weight * tuple.Cost;
        }
        _ = n2 + knots;
        return new MultiMarginalPlan(times, marginals, noise, tuples, objective, costs);
    }

    private readonly struct ActiveTupleBody(double[] times, GaussianMixture[] marginals, double noise, IReadOnlyList<(int[] Index, double Weight)> active,
        TupleSolverSettings settings, MomentumTuple[] output) : IRangeBody
    {
        public void Execute(int start, int end)
        {
            int n = marginals[0].Dimension, knots = times.Length, n2 = 2 * n;
            var solver = new MomentumTupleSolver(times, n, noise);
            for (int e = start; e < end; e++)
            {
                var (index, weight) = active[e];
                var means = new double[knots * n2];
                var covs = new double[knots * n2 * n2];
                var cost = MomentumTupleCosts.SolveOne(solver, marginals, index, means, covs, settings);
                var segments = new MomentumSegment[knots - 1];
                for (int s = 0; s + 1 < knots; s++)
                {
                    segments[s] = new MomentumSegment(times[s], times[s + 1], n, noise, means.AsSpan(s * n2, n2), covs.AsSpan(s * n2 * n2, n2 * n2),
                        means.AsSpan((s + 1) * n2, n2), covs.AsSpan((s + 1) * n2 * n2, n2 * n2));
                }
                output[e] = new MomentumTuple([.. index], weight, cost.Total, cost.MeanPart, cost.CovariancePart, means, covs, segments, cost.Converged);
            }
        }
    }

    private static double[] CheckInputs(ReadOnlySpan<double> times, IReadOnlyList<GaussianMixture> marginals)
    {
        ArgumentNullException.ThrowIfNull(marginals);
        if (times.Length < 2)
        {
            throw new ArgumentException($"A momentum bridge needs at least 2 knot times; got {times.Length}.", nameof(times));
        }
        if (marginals.Count != times.Length)
        {
            throw new ArgumentException($"{times.Length} knot times but {marginals.Count} marginals.", nameof(marginals));
        }
        for (int k = 0; k < times.Length; k++)
        {
            if (!double.IsFinite(times[k]))
            {
                throw new ArgumentException($"Knot time {k} is {times[k]}; times must be finite.", nameof(times));
            }
            if (k > 0 && !(times[k] > times[k - 1]))
            {
                throw new ArgumentException($"Knot times must increase strictly: t[{k - 1}] = {times[k - 1]:R}, t[{k}] = {times[k]:R}.", nameof(times));
            }
            if (marginals[k] is null)
            {
                throw new ArgumentException($"Marginal {k} is null.", nameof(marginals));
            }
            if (marginals[k].Dimension != marginals[0].Dimension)
            {
                throw new ArgumentException($"Marginal {k} has dimension {marginals[k].Dimension}, marginal 0 has {marginals[0].Dimension}.", nameof(marginals));
            }
        }
        return times.ToArray();
    }

    /// <summary>Index of the segment used at time t (the one starting at or before t; the last one at t_M).</summary>
    internal int SegmentAt(double t)
    {
        int s = 0;
        while (s + 2 < _times.Length && t >= _times[s + 1])
        {
            s++;
        }
        return s;
    }

    internal void CheckTime(double t, string paramName)
    {
        if (!(t >= _times[0] && t <= _times[^1]))
        {
            throw new ArgumentOutOfRangeException(paramName, t, $"t must be in [{_times[0]:R}, {_times[^1]:R}].");
        }
    }
}

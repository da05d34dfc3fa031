namespace GmmFlow;

/// <summary>
/// An exact optimal multi-marginal coupling: a tensor λ over N_1 × … × N_M with one marginal per axis, stored
/// sparsely as (multi-index, weight) pairs.
/// </summary>
/// <remarks>
/// A basic optimal solution has at most Σ N_k − M + 1 nonzeros, against Π N_k entries of the full tensor, so the
/// sparse form is the only one that scales. Multi-indices are stored flat (entry e occupies
/// <c>Indices[e*M .. e*M+M)</c>) to avoid one small array per entry; <see cref="GetIndex"/> slices it.
/// </remarks>
public sealed class MultiMarginalCoupling
{
    private readonly int[] _shape;
    private readonly int[] _indices;
    private readonly double[] _weights;

    internal MultiMarginalCoupling(LpStatus status, double objective, int[] shape, int[] indices, double[] weights, int simplexIterations)
    {
        Status = status;
        Objective = objective;
        _shape = shape;
        _indices = indices;
        _weights = weights;
        SimplexIterations = simplexIterations;
    }

    /// <summary>Solver outcome; the coupling is empty unless this is <see cref="LpStatus.Optimal"/>.</summary>
    public LpStatus Status { get; }

    /// <summary>Σ λ C over the support, recomputed from the cleaned plan (NaN if not optimal).</summary>
    public double Objective { get; }

    /// <summary>N_1 … N_M.</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>M, the number of marginals (axes).</summary>
    public int MarginalCount => _shape.Length;

    /// <summary>Number of nonzero entries.</summary>
    public int Count => _weights.Length;

    /// <summary>Weights of the nonzero entries, in row-major order of their multi-indices.</summary>
    public IReadOnlyList<double> Weights => _weights;

    /// <summary>Simplex iterations HiGHS used (diagnostics).</summary>
    public int SimplexIterations { get; }

    /// <summary>All multi-indices, flat: entry e is <c>Indices[e*M .. e*M+M)</c>.</summary>
    public ReadOnlySpan<int> Indices => _indices;

    /// <summary>Multi-index (i_1, …, i_M) of entry <paramref name="entry"/>.</summary>
    public ReadOnlySpan<int> GetIndex(int entry)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(entry);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(entry, Count);
        return _indices.AsSpan(entry * _shape.Length, _shape.Length);
    }
}

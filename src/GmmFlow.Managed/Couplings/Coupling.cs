namespace GmmFlow;

/// <summary>
/// An exact optimal coupling λ between source weights a (K0) and target weights b (K1), stored sparsely.
/// </summary>
/// <remarks>
/// Sparse because an optimal basic solution of the transport LP has at most K0 + K1 − 1 nonzeros (its support is a
/// spanning forest of the bipartite graph), and the mixture flow only evaluates those active pairs (docs/theory.md#mixture-policy).
/// Entries are sorted by (Source, Target). After the solve, round-off is removed so that every row sums to a_i and
/// every column to b_j to within 1e-12 of the total mass (see <see cref="Couplings.ExactLp(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double})"/>).
/// </remarks>
public sealed class Coupling
{
    private readonly CouplingEntry[] _entries;

    internal Coupling(LpStatus status, double objective, CouplingEntry[] entries, int sourceCount, int targetCount, int simplexIterations)
    {
        Status = status;
        Objective = objective;
        _entries = entries;
        SourceCount = sourceCount;
        TargetCount = targetCount;
        SimplexIterations = simplexIterations;
    }

    /// <summary>Solver outcome; <see cref="Entries"/> is empty unless this is <see cref="LpStatus.Optimal"/>.</summary>
    public LpStatus Status { get; }

    /// <summary>Σ λ_ij C_ij, recomputed from the cleaned plan with the caller's costs (NaN if not optimal).</summary>
    public double Objective { get; }

    /// <summary>The nonzero λ_ij, sorted by (Source, Target).</summary>
    public IReadOnlyList<CouplingEntry> Entries => _entries;

    /// <summary>K0, the number of source weights.</summary>
    public int SourceCount { get; }

    /// <summary>K1, the number of target weights.</summary>
    public int TargetCount { get; }

    /// <summary>Simplex iterations HiGHS used (diagnostics).</summary>
    public int SimplexIterations { get; }

    /// <summary>The plan as a dense K0 × K1 row-major array (zeros off the support).</summary>
    public double[] ToDense()
    {
        var dense = new double[SourceCount * TargetCount];
        foreach (CouplingEntry e in _entries)
        {
            dense[(e.Source * TargetCount) + e.Target] = e.Weight;
        }

        return dense;
    }
}

namespace GmmFlow;

/// <summary>
/// Entropic optimal coupling π_ij = exp((f_i + g_j − C_ij) / τ) from <see cref="Couplings.Sinkhorn"/>, dense, with the
/// dual potentials that define it.
/// </summary>
public sealed class SinkhornResult
{
    private readonly double[] _plan;
    private readonly double[] _f;
    private readonly double[] _g;

    internal SinkhornResult(double[] plan, double[] f, double[] g, double temperature, bool converged, int iterations, double marginalError, double transportCost, double entropy)
    {
        _plan = plan;
        _f = f;
        _g = g;
        Temperature = temperature;
        Converged = converged;
        Iterations = iterations;
        MarginalError = marginalError;
        TransportCost = transportCost;
        Entropy = entropy;
    }

    /// <summary>π, K0 × K1 row-major; every entry is positive (entropic plans have full support).</summary>
    public ReadOnlySpan<double> Plan => _plan;

    /// <summary>Source potential f (length K0), in cost units; pass it back as a warm start.</summary>
    public ReadOnlySpan<double> SourcePotential => _f;

    /// <summary>Target potential g (length K1), in cost units; pass it back as a warm start.</summary>
    public ReadOnlySpan<double> TargetPotential => _g;

    /// <summary>τ the plan was computed for.</summary>
    public double Temperature { get; }

    /// <summary>Whether the marginal error reached the tolerance within the iteration cap.</summary>
    public bool Converged { get; }

    /// <summary>Iterations used (all ε-scaling stages).</summary>
    public int Iterations { get; }

    /// <summary>L1 marginal error of the returned plan, rows plus columns: Σ_i |Σ_j π_ij − a_i| + Σ_j |Σ_i π_ij − b_j|.</summary>
    public double MarginalError { get; }

    /// <summary>⟨π, C⟩. It decreases to the exact LP objective as τ → 0.</summary>
    public double TransportCost { get; }

    /// <summary>H(π) = −Σ π_ij log π_ij. The entropic objective is <see cref="TransportCost"/> − τ·H(π).</summary>
    public double Entropy { get; }
}

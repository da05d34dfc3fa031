namespace GmmFlow;

/// <summary>
/// One active tuple of a <see cref="MultiMarginalPlan"/>: a component index per knot, its LP weight λ, its optimal
/// phase-space knot laws N((μ_k, ν_k), P_k) and the segment bridges between consecutive knot laws.
/// </summary>
public sealed class MomentumTuple
{
    private readonly int[] _components;
    private readonly double[] _knotMeans;
    private readonly double[] _knotCovariances;

    internal MomentumTuple(int[] components, double weight, double cost, double meanCost, double covarianceCost, double[] knotMeans,
        double[] knotCovariances, MomentumSegment[] segments, bool converged)
    {
        _components = components;
        Weight = weight;
        Cost = cost;
        MeanCost = meanCost;
        CovarianceCost = covarianceCost;
        _knotMeans = knotMeans;
        _knotCovariances = knotCovariances;
        Segments = segments;
        Converged = converged;
    }

    /// <summary>Component index at each knot (i_0, …, i_M).</summary>
    public IReadOnlyList<int> Components => _components;

    /// <summary>LP weight λ of the tuple.</summary>
    public double Weight { get; }

    /// <summary>Tuple cost J = Σ segments of E∫|u|² dt (mean part + covariance part).</summary>
    public double Cost { get; }

    /// <summary>Mean part: the natural cubic spline's energy Σ_c ∫|ẍ_c|² dt through the knot means.</summary>
    public double MeanCost { get; }

    /// <summary>Covariance part of <see cref="Cost"/>.</summary>
    public double CovarianceCost { get; }

    /// <summary>Whether the tuple's L-BFGS met its tolerance.</summary>
    public bool Converged { get; }

    /// <summary>Knot phase-space means (position, velocity), (M+1)×2n row-major.</summary>
    public ReadOnlySpan<double> KnotMeans => _knotMeans;

    /// <summary>Knot phase-space covariances P_k, (M+1)×2n×2n row-major (the first may be singular).</summary>
    public ReadOnlySpan<double> KnotCovariances => _knotCovariances;

    internal MomentumSegment[] Segments { get; }
}

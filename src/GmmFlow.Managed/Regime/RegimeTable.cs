using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// <see cref="RegimeDiagnostics"/> for every (source i, target j) pair of two prepared sets of components, with a
/// summary: the table-level recommendation is <see cref="TransportRegime.SurrogateAccurate"/> only when every pair is.
/// </summary>
public sealed class RegimeTable
{
    private readonly RegimeDiagnostics[] _pairs;

    private RegimeTable(int sourceCount, int targetCount, RegimeDiagnostics[] pairs, double radius, double threshold)
    {
        SourceCount = sourceCount;
        TargetCount = targetCount;
        _pairs = pairs;
        Radius = radius;
        Threshold = threshold;
    }

    /// <summary>K0 (rows).</summary>
    public int SourceCount { get; }

    /// <summary>K1 (columns).</summary>
    public int TargetCount { get; }

    /// <summary>Locality radius r used for the segment counts.</summary>
    public double Radius { get; }

    /// <summary>Relative-gap threshold τ used for the labels.</summary>
    public double Threshold { get; }

    /// <summary>Pair (i, j).</summary>
    public RegimeDiagnostics this[int sourceIndex, int targetIndex]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfNegative(sourceIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sourceIndex, SourceCount);
            ArgumentOutOfRangeException.ThrowIfNegative(targetIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(targetIndex, TargetCount);
            return _pairs[sourceIndex * TargetCount + targetIndex];
        }
    }

    /// <summary>All pairs, row-major (K0×K1).</summary>
    public ReadOnlySpan<RegimeDiagnostics> Pairs => _pairs;

    /// <summary>Number of pairs labelled <see cref="TransportRegime.SurrogateAccurate"/>.</summary>
    public int SurrogateAccurateCount => _pairs.Count(p => p.Regime == TransportRegime.SurrogateAccurate);

    /// <summary>Largest relative gap over all pairs.</summary>
    public double MaxRelativeGap => _pairs.Max(p => p.RelativeGap);

    /// <summary>Largest absolute gap C_sur − W2² over all pairs.</summary>
    public double MaxGap => _pairs.Max(p => p.Gap);

    /// <summary>Whole-table recommendation: surrogate only if every pair is within the threshold.</summary>
    public TransportRegime Recommendation => SurrogateAccurateCount == _pairs.Length ? TransportRegime.SurrogateAccurate : TransportRegime.ExactPreferable;

    /// <summary>Diagnostics of all K0×K1 pairs (runs on all cores; each component's spectrum is computed once).</summary>
    public static RegimeTable Compute(GaussianFactors source, GaussianFactors target,
        double radius = RegimeDiagnostics.DefaultRadius, double threshold = RegimeDiagnostics.DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        GaussianCosts.CheckCompatible(source, target);
        RegimeDiagnostics.CheckParameters(radius, threshold);
        var extremes0 = new (double Min, double Max)[source.Count];
        var extremes1 = new (double Min, double Max)[target.Count];
        for (int i = 0; i < source.Count; i++)
        {
            extremes0[i] = RegimeDiagnostics.Extremes(source, i);
        }
        for (int j = 0; j < target.Count; j++)
        {
            extremes1[j] = RegimeDiagnostics.Extremes(target, j);
        }
        var pairs = new RegimeDiagnostics[source.Count * target.Count];
        ParallelRange.For(pairs.Length, 1, new Body(source, target, extremes0, extremes1, radius, threshold, pairs));
        return new RegimeTable(source.Count, target.Count, pairs, radius, threshold);
    }

    private readonly struct Body(GaussianFactors source, GaussianFactors target, (double Min, double Max)[] extremes0,
        (double Min, double Max)[] extremes1, double radius, double threshold, RegimeDiagnostics[] output) : IRangeBody
    {
        public void Execute(int start, int end)
        {
            var ws = PairWorkspace.ForThread(source.Dimension);
            for (int p = start; p < end; p++)
            {
                int i = p / target.Count, j = p - i * target.Count;
                output[p] = RegimeDiagnostics.Compute(source, i, target, j, extremes0[i].Min, extremes0[i].Max,
                    extremes1[j].Min, extremes1[j].Max, radius, threshold, ws);
            }
        }
    }
}

using GmmFlow.Native;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>Which pair construction the regime map recommends (docs/theory.md#regime-map).</summary>
public enum TransportRegime
{
    /// <summary>The surrogate (Method A) cost is within the relative-gap threshold of W2²: the cheap linear path is fine.</summary>
    SurrogateAccurate,

    /// <summary>The surrogate overestimates W2² by more than the threshold: use the exact W2 geodesic (Method B).</summary>
    ExactPreferable,
}

/// <summary>
/// The surrogate-vs-exact regime map for one Gaussian pair (docs/theory.md#regime-map): the geometric
/// indicators, the exact gap C_sur − W2², the path-splitting segment count and a regime label.
/// </summary>
/// <param name="WhitenedPerturbation">δ = ‖Σ0^-½ ΔΣ Σ0^-½‖₂ = max_k |μ_k − 1|, μ = eig(L0⁻¹ Σ1 L0⁻ᵀ) (docs/theory.md#regime-map).</param>
/// <param name="Commutator">‖Σ0Σ1 − Σ1Σ0‖_F / (‖Σ0‖_F ‖Σ1‖_F): 0 for commuting pairs (docs/theory.md#regime-map).</param>
/// <param name="SourceCondition">κ(Σ0) = λ_max/λ_min.</param>
/// <param name="TargetCondition">κ(Σ1).</param>
/// <param name="Wasserstein">W2² (docs/theory.md#exact-w2).</param>
/// <param name="Surrogate">C_sur (docs/theory.md#surrogate-cost).</param>
/// <param name="Gap">C_sur − W2² ≥ 0 (round-off below zero is reported as 0).</param>
/// <param name="RelativeGap">Gap / W2² (0 when both are 0).</param>
/// <param name="Segments">
/// n = ⌈‖ΔΣ‖₂ / (r λ_min)⌉ (at least 1), λ_min = min(λ_min(Σ0), λ_min(Σ1)): splitting the covariance path into n equal
/// pieces makes every piece's whitened perturbation ≤ r (docs/theory.md#path-splitting).
/// </param>
/// <param name="Regime">
/// <see cref="TransportRegime.SurrogateAccurate"/> when <paramref name="RelativeGap"/> ≤ the threshold. Why a relative-gap
/// threshold: W2² ≤ C_sur ≤ (1 + τ) W2² for every pair gives, for any coupling, W(π_sur) ≤ S(π_sur) ≤ S(π_W) ≤ (1 + τ) W(π_W),
/// so the plan optimised on surrogate costs is within a factor 1 + τ of the exact W2 optimum. τ = 1e-3 (the default) keeps
/// that loss below 0.1%, far under the sampling error of any fitted mixture.
/// </param>
public readonly record struct RegimeDiagnostics(
    double WhitenedPerturbation,
    double Commutator,
    double SourceCondition,
    double TargetCondition,
    double Wasserstein,
    double Surrogate,
    double Gap,
    double RelativeGap,
    int Segments,
    TransportRegime Regime)
{
    /// <summary>Default relative-gap threshold τ (see <see cref="Regime"/>).</summary>
    public const double DefaultThreshold = 1e-3;

    /// <summary>Default locality radius r for <see cref="Segments"/> (δ ≤ ½ keeps the gap's series in δ well inside convergence, docs/theory.md#regime-map).</summary>
    public const double DefaultRadius = 0.5;

    /// <summary>Diagnostics of pair (i, j) of two prepared sets of components.</summary>
    public static RegimeDiagnostics Compute(GaussianFactors source, int sourceIndex, GaussianFactors target, int targetIndex,
        double radius = DefaultRadius, double threshold = DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        GaussianCosts.CheckCompatible(source, target);
        CheckParameters(radius, threshold);
        ArgumentOutOfRangeException.ThrowIfNegative(sourceIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sourceIndex, source.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(targetIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(targetIndex, target.Count);
        var (min0, max0) = Extremes(source, sourceIndex);
        var (min1, max1) = Extremes(target, targetIndex);
        return Compute(source, sourceIndex, target, targetIndex, min0, max0, min1, max1, radius, threshold, PairWorkspace.ForThread(source.Dimension));
    }

    /// <summary>Diagnostics of the pair N(mean0, covariance0), N(mean1, covariance1) (full d×d row-major covariances).</summary>
    public static RegimeDiagnostics Compute(ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, int dimension,
        double radius = DefaultRadius, double threshold = DefaultThreshold)
    {
        var s = GaussianFactors.FromFull(mean0, covariance0, 1, dimension, "source");
        var t = GaussianFactors.FromFull(mean1, covariance1, 1, dimension, "target");
        return Compute(s, 0, t, 0, radius, threshold);
    }

    internal static void CheckParameters(double radius, double threshold)
    {
        if (!(radius > 0 && radius < 1))
        {
            ThrowHelper.ThrowArgument($"The locality radius r must lie in (0, 1) (path splitting needs δ_i ≤ r < 1), got {radius}.", nameof(radius));
        }
        if (!(threshold >= 0) || double.IsInfinity(threshold))
        {
            ThrowHelper.ThrowArgument($"The relative-gap threshold must be finite and ≥ 0, got {threshold}.", nameof(threshold));
        }
    }

    /// <summary>(λ_min, λ_max) of component k's covariance (LAPACK eigenvalues, or the variances).</summary>
    internal static (double Min, double Max) Extremes(GaussianFactors f, int k)
    {
        ReadOnlySpan<double> sigma = f.Covariance(k);
        int d = f.Dimension;
        if (f.IsDiagonal || d == 1)
        {
            double min = double.PositiveInfinity, max = 0;
            for (int i = 0; i < d; i++)
            {
                double v = sigma[f.IsDiagonal ? i : i * d + i];
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }
            return (min, max);
        }
        var ws = PairWorkspace.ForThread(d);
        Span<double> a = ws.A.AsSpan(0, d * d), values = ws.Values.AsSpan(0, d);
        sigma.CopyTo(a);
        f.Lapack.SymmetricEigenUnchecked(a, d, values, vectors: false);
        return (values[0], values[d - 1]);
    }

    internal static RegimeDiagnostics Compute(GaussianFactors s, int i, GaussianFactors t, int j,
        double min0, double max0, double min1, double max1, double radius, double threshold, PairWorkspace ws)
    {
        int d = s.Dimension;
        double w2 = PairKernels.Cost(CostKind.Wasserstein, 0, default, s, i, t, j, ws);
        double sur = PairKernels.Cost(CostKind.Surrogate, 0, default, s, i, t, j, ws);
        double delta, spectralChange, commutator = 0;
        ReadOnlySpan<double> s0 = s.Covariance(i), s1 = t.Covariance(j);
        if (s.IsDiagonal || d == 1)
        {
            delta = spectralChange = 0;
            for (int k = 0; k < d; k++)
            {
                int kk = s.IsDiagonal ? k : k * d + k;
                delta = Math.Max(delta, Math.Abs(s1[kk] / s0[kk] - 1));
                spectralChange = Math.Max(spectralChange, Math.Abs(s1[kk] - s0[kk]));
            }
        }
        else
        {
            int dd = d * d;
            Span<double> a = ws.A.AsSpan(0, dd), b = ws.B.AsSpan(0, dd), values = ws.Values.AsSpan(0, d);
            // δ: extreme eigenvalues of C = L0⁻¹ Σ1 L0⁻ᵀ (similar to I + M).
            DenseKernels.CongruenceLower(s.FactorInverse(i), s.FactorInverseTransposed(i), s1, b, a, d);
            s.Lapack.SymmetricEigenUnchecked(a, d, values, vectors: false);
            delta = Math.Max(Math.Abs(values[0] - 1), Math.Abs(values[d - 1] - 1));
            // ‖ΔΣ‖₂ = max |eig(Σ1 − Σ0)|.
            for (int k = 0; k < dd; k++)
            {
                a[k] = s1[k] - s0[k];
            }
            s.Lapack.SymmetricEigenUnchecked(a, d, values, vectors: false);
            spectralChange = Math.Max(Math.Abs(values[0]), Math.Abs(values[d - 1]));
            // Σ0Σ1 − Σ1Σ0 = P − Pᵀ with P = Σ0Σ1 (both symmetric).
            b.Clear();
            for (int r = 0; r < d; r++)
            {
                for (int k = 0; k < d; k++)
                {
                    DenseKernels.Axpy(s0[r * d + k], s1.Slice(k * d, d), b.Slice(r * d, d));
                }
            }
            double commutatorSquared = 0, norm0 = 0, norm1 = 0;
            for (int r = 0; r < d; r++)
            {
                for (int k = 0; k < d; k++)
                {
                    double e = b[r * d + k] - b[k * d + r];
                    commutatorSquared += e * e;
                    norm0 += s0[r * d + k] * s0[r * d + k];
                    norm1 += s1[r * d + k] * s1[r * d + k];
                }
            }
            commutator = Math.Sqrt(commutatorSquared) / Math.Sqrt(norm0 * norm1);
        }
        double gap = Math.Max(0, sur - w2);
        double relative = gap == 0 ? 0 : w2 > 0 ? gap / w2 : double.PositiveInfinity;
        double pieces = Math.Ceiling(spectralChange / (radius * Math.Min(min0, min1)));
        int segments = pieces >= int.MaxValue ? int.MaxValue : Math.Max(1, (int)pieces);
        var regime = relative <= threshold ? TransportRegime.SurrogateAccurate : TransportRegime.ExactPreferable;
        return new RegimeDiagnostics(delta, commutator, max0 / min0, max1 / min1, w2, sur, gap, relative, segments, regime);
    }
}

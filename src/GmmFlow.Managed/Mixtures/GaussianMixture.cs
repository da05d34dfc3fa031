using System.Globalization;
using GmmFlow.Mixtures;
using GmmFlow.Native;

namespace GmmFlow;

/// <summary>
/// An immutable Gaussian mixture Σₖ aₖ N(mₖ, Σₖ) in ℝᵈ, validated on construction, with its Cholesky
/// factors, inverse factors and log-determinants computed once. Batched evaluation (log-densities,
/// responsibilities, labels) runs on all cores with SIMD; sampling is reproducible from a seed for any
/// thread count; marginals and conditionals are mixtures again.
/// </summary>
/// <remarks>
/// Layout of every span accessor: row-major and component-major. Means are K×d; <see cref="Covariances"/>,
/// <see cref="CholeskyFactors"/> and <see cref="InverseCholeskyFactors"/> are K×d×d full matrices for
/// every covariance type (diagonal and spherical mixtures build them on first access);
/// <see cref="CompactCovariances"/> is the parametrisation itself (K×d×d, K×d or K values).
/// Thread safety: all members may be called concurrently.
/// </remarks>
public sealed partial class GaussianMixture
{
    /// <summary>Weights may differ from summing to 1 by this much without being renormalised (round-off).</summary>
    public const double WeightSumTolerance = 1e-9;

    private readonly MixtureFactors _f;
    private double[]? _fullCovariances;
    private double[]? _fullCholesky;
    private double[]? _fullInverseCholesky;

    /// <summary>
    /// Creates and validates a mixture. <paramref name="weights"/> has K entries, <paramref name="means"/> K×d
    /// (d is inferred), <paramref name="covariances"/> K×d×d (Full), K×d variances (Diagonal) or K variances (Spherical).
    /// </summary>
    /// <param name="weights">Positive component weights summing to 1 within <see cref="WeightSumTolerance"/>.</param>
    /// <param name="means">Component means, row-major K×d.</param>
    /// <param name="covariances">Covariances in the compact form of <paramref name="covarianceType"/>.</param>
    /// <param name="covarianceType">How <paramref name="covariances"/> is parametrised.</param>
    /// <param name="renormalizeWeights">
    /// When the weights' sum is further from 1 than round-off: false (default) throws; true divides them by
    /// their sum and records it in <see cref="WeightsRenormalized"/> and <see cref="GivenWeightSum"/>.
    /// </param>
    /// <exception cref="ArgumentException">Empty or inconsistent sizes, a non-positive weight, a weight sum off by more than 1e-9 (without <paramref name="renormalizeWeights"/>), a non-symmetric covariance.</exception>
    /// <exception cref="NonFiniteValueException">A NaN or infinite weight, mean or covariance entry (the component is named).</exception>
    /// <exception cref="NotPositiveDefiniteException">A covariance is not positive definite (its component index is <see cref="NotPositiveDefiniteException.Index"/>).</exception>
    public GaussianMixture(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> covariances,
        CovarianceType covarianceType = CovarianceType.Full, bool renormalizeWeights = false)
        : this(weights, means, covariances, covarianceType, renormalizeWeights, null)
    {
    }

    /// <summary>
    /// Same as the public constructor with an explicit LAPACK provider (tests run every provider); null means
    /// <c>Lapack.Default</c>, loaded only for full covariances (diagonal ones need no LAPACK).
    /// </summary>
    internal GaussianMixture(ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> covariances,
        CovarianceType covarianceType, bool renormalizeWeights, Lapack? lapack)
    {
        int k = weights.Length;
        if (k == 0)
        {
            throw new ArgumentException("A mixture needs at least one component (weights is empty).", nameof(weights));
        }
        if (means.Length == 0 || means.Length % k != 0)
        {
            throw new ArgumentException($"means has {means.Length} values, which is not K×d for K = {k} components and some d ≥ 1.", nameof(means));
        }
        if (!Enum.IsDefined(covarianceType))
        {
            throw new ArgumentOutOfRangeException(nameof(covarianceType), covarianceType, "Unknown covariance type.");
        }
        int d = means.Length / k;
        int expected = MixtureFactors.CompactLength(covarianceType, k, d);
        if (covariances.Length != expected)
        {
            string shape = covarianceType switch
            {
                CovarianceType.Full => $"K×d×d = {k}×{d}×{d}",
                CovarianceType.Diagonal => $"K×d = {k}×{d} variances",
                _ => $"K = {k} variances",
            };
            throw new ArgumentException($"covariances has {covariances.Length} values; a {covarianceType} mixture with {k} components in dimension {d} needs {shape}.", nameof(covariances));
        }

        var f = new MixtureFactors(k, d, covarianceType);
        GivenWeightSum = CheckWeights(weights, f.Weights, renormalizeWeights, out bool renormalized);
        WeightsRenormalized = renormalized;
        for (int c = 0; c < k; c++)
        {
            CheckFinite(means.Slice(c * d, d), "mean of component", c, nameof(means));
        }
        means.CopyTo(f.Means);
        covariances.CopyTo(f.Compact);
        int block = expected / k;
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> cov = covariances.Slice(c * block, block);
            CheckFinite(cov, "covariance of component", c, nameof(covariances));
            if (covarianceType == CovarianceType.Full)
            {
                CheckSymmetric(cov, d, c);
            }
            int info = f.TryFactor(c, lapack);
            if (info != 0)
            {
                throw new NotPositiveDefiniteException("covariance of component", c, info, nameof(covariances));
            }
        }
        f.RefreshWeights();
        _f = f;
    }

    /// <summary>Wraps already validated and factorised parameters (the fitter's result, conditionals).</summary>
    internal GaussianMixture(MixtureFactors factors)
    {
        _f = factors;
        GivenWeightSum = 0;
        foreach (double w in factors.Weights)
        {
            GivenWeightSum += w;
        }
    }

    /// <summary>Number of components K.</summary>
    public int ComponentCount => _f.Components;

    /// <summary>Dimension d of the space.</summary>
    public int Dimension => _f.Dimension;

    /// <summary>How the covariances are parametrised.</summary>
    public CovarianceType CovarianceType => _f.Type;

    /// <summary>Component weights (K), positive, summing to 1.</summary>
    public ReadOnlySpan<double> Weights => _f.Weights;

    /// <summary>Component means, row-major K×d.</summary>
    public ReadOnlySpan<double> Means => _f.Means;

    /// <summary>Covariances as K full d×d row-major matrices, for every covariance type.</summary>
    public ReadOnlySpan<double> Covariances => _f.Type == CovarianceType.Full ? _f.Compact : _fullCovariances ?? BuildFullCovariances();

    /// <summary>The covariance parametrisation itself: K×d×d (Full), K×d variances (Diagonal) or K variances (Spherical).</summary>
    public ReadOnlySpan<double> CompactCovariances => _f.Compact;

    /// <summary>Σₖ[j, j] read from the compact covariances, for any type (no full matrices are built).</summary>
    internal double Variance(int k, int j) => _f.Type switch
    {
        CovarianceType.Full => _f.Compact[(k * Dimension + j) * Dimension + j],
        CovarianceType.Diagonal => _f.Compact[k * Dimension + j],
        _ => _f.Compact[k],
    };

    /// <summary>Lower-triangular Cholesky factors Lₖ with Σₖ = Lₖ Lₖᵀ, K×d×d row-major (strict upper triangles zero).</summary>
    public ReadOnlySpan<double> CholeskyFactors => _f.Type == CovarianceType.Full ? _f.Cholesky : _fullCholesky ?? BuildFullCholesky();

    /// <summary>Lower-triangular Lₖ⁻¹ (so Σₖ⁻¹ = Lₖ⁻ᵀ Lₖ⁻¹), K×d×d row-major.</summary>
    public ReadOnlySpan<double> InverseCholeskyFactors => _f.Type == CovarianceType.Full ? _f.Terms.Precision : _fullInverseCholesky ?? BuildFullInverseCholesky();

    /// <summary>log det Σₖ for each component (K).</summary>
    public ReadOnlySpan<double> LogDeterminants => _f.LogDeterminants;

    /// <summary>The sum of the weights as given to the constructor (1 within round-off unless <see cref="WeightsRenormalized"/>).</summary>
    public double GivenWeightSum { get; }

    /// <summary>True when the given weights summed to more than round-off away from 1 and were divided by their sum on request.</summary>
    public bool WeightsRenormalized { get; }

    /// <summary>A sentence describing the renormalisation when <see cref="WeightsRenormalized"/>, otherwise null.</summary>
    public string? WeightWarning => WeightsRenormalized
        ? string.Create(CultureInfo.InvariantCulture, $"the component weights summed to {GivenWeightSum:G12} (not 1 within {WeightSumTolerance:0e0}); they were divided by that sum")
        : null;

    /// <summary>Free parameters (scikit-learn's counting): covariance parameters + K·d means + K − 1 weights.</summary>
    public int ParameterCount => MixtureFactors.ParameterCount(_f.Type, _f.Components, _f.Dimension);

    internal MixtureFactors Factors => _f;

    /// <summary>Mean of component <paramref name="component"/> (d values).</summary>
    public ReadOnlySpan<double> Mean(int component)
    {
        CheckComponent(component);
        return _f.Means.AsSpan(component * Dimension, Dimension);
    }

    /// <summary>Covariance of component <paramref name="component"/> as a full d×d row-major matrix.</summary>
    public ReadOnlySpan<double> Covariance(int component)
    {
        CheckComponent(component);
        int dd = Dimension * Dimension;
        return Covariances.Slice(component * dd, dd);
    }

    /// <inheritdoc />
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"GaussianMixture(K = {ComponentCount}, d = {Dimension}, {CovarianceType})");

    private void CheckComponent(int component)
    {
        if ((uint)component >= (uint)ComponentCount)
        {
            throw new ArgumentOutOfRangeException(nameof(component), component, $"The mixture has {ComponentCount} components.");
        }
    }

    private double[] BuildFullCovariances()
    {
        int d = Dimension, dd = d * d;
        var full = new double[ComponentCount * dd];
        for (int k = 0; k < ComponentCount; k++)
        {
            _f.FullCovariance(k, full.AsSpan(k * dd, dd));
        }
        return Interlocked.CompareExchange(ref _fullCovariances, full, null) ?? full;
    }

    private double[] BuildFullCholesky() => BuildDiagonalFactor(ref _fullCholesky, inverse: false);

    private double[] BuildFullInverseCholesky() => BuildDiagonalFactor(ref _fullInverseCholesky, inverse: true);

    // Diagonal and spherical factors are diagonal matrices: σ (or 1/σ, which the evaluation terms hold) on the diagonal.
    private double[] BuildDiagonalFactor(ref double[]? field, bool inverse)
    {
        int d = Dimension, dd = d * d;
        var full = new double[ComponentCount * dd];
        for (int k = 0; k < ComponentCount; k++)
        {
            for (int j = 0; j < d; j++)
            {
                double p = _f.Terms.Precision[k * d + j];
                full[k * dd + j * d + j] = inverse ? p : 1 / p;
            }
        }
        return Interlocked.CompareExchange(ref field, full, null) ?? full;
    }

    private static double CheckWeights(ReadOnlySpan<double> weights, Span<double> destination, bool renormalize, out bool renormalized)
    {
        double sum = 0;
        for (int k = 0; k < weights.Length; k++)
        {
            double w = weights[k];
            if (!double.IsFinite(w))
            {
                throw new NonFiniteValueException("weight of component", k, 0, w, nameof(weights));
            }
            if (!(w > 0))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"The weight of component {k} is {w:R}; weights must be positive (drop the component instead)."), nameof(weights));
            }
            sum += w;
        }
        renormalized = Math.Abs(sum - 1) > WeightSumTolerance;
        if (renormalized && !renormalize)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The component weights sum to {sum:G12}, not 1 (tolerance {WeightSumTolerance:0e0}); fix them or ask for renormalisation."), nameof(weights));
        }
        for (int k = 0; k < weights.Length; k++)
        {
            destination[k] = renormalized ? weights[k] / sum : weights[k];
        }
        return sum;
    }

    private static void CheckFinite(ReadOnlySpan<double> values, string what, int component, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new NonFiniteValueException(what, component, i, values[i], paramName);
            }
        }
    }

    private static void CheckSymmetric(ReadOnlySpan<double> cov, int d, int component)
    {
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double a = cov[i * d + j], b = cov[j * d + i];
                double scale = Math.Sqrt(Math.Abs(cov[i * d + i] * cov[j * d + j]));
                if (Math.Abs(a - b) > 1e-10 * scale)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"The covariance of component {component} is not symmetric: entry ({i}, {j}) is {a:R} but ({j}, {i}) is {b:R}."), "covariances");
                }
            }
        }
    }
}

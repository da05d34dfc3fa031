using System.Globalization;

namespace GmmFlow;

/// <summary>
/// The sufficient statistics of one EM E-step over a chunk of points, for EM over data that is split across
/// processes or machines: each worker computes the statistics of its chunk against the same current mixture,
/// the statistics are added (in any tree), and <see cref="Maximize"/> performs the M-step on the sums.
/// </summary>
/// <remarks>
/// Moments are taken about the current mixture's means (as <see cref="GaussianMixtureFitter"/> does), which
/// keeps the covariance update free of the cancellation of raw second moments: with responsibilities r_ik,
/// N_k = Σ r_ik w_i, S1_k = Σ r_ik w_i (x_i − m_k), S2_k = Σ r_ik w_i (x_i − m_k)(x_i − m_k)ᵀ (lower triangle and
/// diagonal for full covariances, the diagonal otherwise). The M-step is scikit-learn's (and the fitter's):
/// weights N_k/N, means m_k + S1_k/N_k, covariances S2_k/N_k − δδᵀ + reg_covar·I with δ = S1_k/N_k.
/// A component that received less than 1e-3 of an average point's weight cannot be re-seeded without the data;
/// <see cref="Maximize"/> refuses it with a message naming the component.
/// </remarks>
public sealed class EmStatistics
{
    /// <summary>Components below this share of an average point's weight are "empty" (as in the fitter).</summary>
    public const double EmptyFraction = 1e-3;

    /// <summary>Creates zeroed statistics for K components in d dimensions with the given covariance type.</summary>
    public EmStatistics(int components, int dimension, CovarianceType type)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(components, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        Components = components;
        Dimension = dimension;
        Type = type;
        Weights = new double[components];
        FirstMoments = new double[components * dimension];
        SecondMoments = new double[SecondMomentLength(type, components, dimension)];
    }

    /// <summary>K.</summary>
    public int Components { get; }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>The covariance type of the mixture being fitted (decides the layout of <see cref="SecondMoments"/>).</summary>
    public CovarianceType Type { get; }

    /// <summary>N_k, K entries.</summary>
    public double[] Weights { get; }

    /// <summary>S1_k = Σ r w (x − m_k), row-major K×d.</summary>
    public double[] FirstMoments { get; }

    /// <summary>S2_k: K×d×d (full; symmetric) or K×d (diagonal and spherical: the diagonal).</summary>
    public double[] SecondMoments { get; }

    /// <summary>Σ w_i log p(x_i) under the mixture the statistics were taken against.</summary>
    public double LogLikelihood { get; set; }

    /// <summary>Σ w_i (the number of points when unweighted).</summary>
    public double TotalWeight { get; set; }

    /// <summary>Number of points with positive weight.</summary>
    public long PositiveCount { get; set; }

    /// <summary>Length of <see cref="SecondMoments"/> for a covariance type.</summary>
    public static int SecondMomentLength(CovarianceType type, int components, int dimension) =>
        type == CovarianceType.Full ? checked(components * dimension * dimension) : checked(components * dimension);

    /// <summary>
    /// The E-step statistics of <paramref name="points"/> (row-major N×d) against <paramref name="mixture"/>;
    /// moments are about the mixture's means. <paramref name="sampleWeights"/> is empty (all 1) or one per point.
    /// </summary>
    /// <exception cref="ArgumentException">Sizes that do not match the mixture, or a negative or non-finite weight.</exception>
    /// <exception cref="NonFiniteValueException">A point has a NaN or infinite coordinate.</exception>
    public static EmStatistics Compute(GaussianMixture mixture, ReadOnlySpan<double> points, ReadOnlySpan<double> sampleWeights = default)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        int d = mixture.Dimension, k = mixture.ComponentCount;
        if (points.Length % d != 0)
        {
            throw new ArgumentException($"points has {points.Length} values, which is not a multiple of the mixture's dimension {d}.", nameof(points));
        }
        int n = points.Length / d;
        if (!sampleWeights.IsEmpty && sampleWeights.Length != n)
        {
            throw new ArgumentException($"sampleWeights has {sampleWeights.Length} values for {n} points.", nameof(sampleWeights));
        }
        GaussianMixture.ThrowIfNotFinite(points, d, nameof(points));
        var stats = new EmStatistics(k, d, mixture.CovarianceType);
        if (n == 0)
        {
            return stats;
        }
        var resp = new double[checked(n * k)];
        var logDensity = new double[n];
        mixture.Responsibilities(points, resp);
        mixture.LogDensity(points, logDensity);
        ReadOnlySpan<double> means = mixture.Means;
        var y = new double[d];
        bool full = stats.Type == CovarianceType.Full;
        for (int i = 0; i < n; i++)
        {
            double w = sampleWeights.IsEmpty ? 1 : sampleWeights[i];
            if (!double.IsFinite(w) || w < 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"The weight of point {i} is {w}; sample weights must be finite and non-negative."), nameof(sampleWeights));
            }
            if (w == 0)
            {
                continue;
            }
            stats.PositiveCount++;
            stats.TotalWeight += w;
            stats.LogLikelihood += w * logDensity[i];
            ReadOnlySpan<double> x = points.Slice(i * d, d);
            for (int c = 0; c < k; c++)
            {
                double r = resp[i * k + c] * w;
                if (r == 0)
                {
                    continue;
                }
                stats.Weights[c] += r;
                Span<double> s1 = stats.FirstMoments.AsSpan(c * d, d);
                ReadOnlySpan<double> m = means.Slice(c * d, d);
                for (int j = 0; j < d; j++)
                {
                    y[j] = x[j] - m[j];
                    s1[j] += r * y[j];
                }
                if (full)
                {
                    Span<double> s2 = stats.SecondMoments.AsSpan(c * d * d, d * d);
                    for (int a = 0; a < d; a++)
                    {
                        double ra = r * y[a];
                        for (int b = 0; b <= a; b++)
                        {
                            s2[a * d + b] += ra * y[b];
                        }
                    }
                }
                else
                {
                    Span<double> s2 = stats.SecondMoments.AsSpan(c * d, d);
                    for (int j = 0; j < d; j++)
                    {
                        s2[j] += r * y[j] * y[j];
                    }
                }
            }
        }
        if (full)
        {
            stats.Symmetrize();
        }
        return stats;
    }

    /// <summary>Adds <paramref name="other"/> (statistics of another chunk against the same mixture) to these.</summary>
    /// <exception cref="ArgumentException">The shapes or covariance types differ.</exception>
    public void Add(EmStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Components != Components || other.Dimension != Dimension || other.Type != Type)
        {
            throw new ArgumentException(
                $"Cannot add statistics of K = {other.Components}, d = {other.Dimension}, {other.Type} to K = {Components}, d = {Dimension}, {Type}.",
                nameof(other));
        }
        Accumulate(Weights, other.Weights);
        Accumulate(FirstMoments, other.FirstMoments);
        Accumulate(SecondMoments, other.SecondMoments);
        LogLikelihood += other.LogLikelihood;
        TotalWeight += other.TotalWeight;
        PositiveCount += other.PositiveCount;
    }

    /// <summary>
    /// The M-step: the mixture that maximises the expected log-likelihood given these statistics, which must have
    /// been taken against <paramref name="current"/> (the means are the moments' reference points).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ from <paramref name="current"/>, no weight at all, a negative reg_covar, or an empty component.</exception>
    /// <exception cref="NotPositiveDefiniteException">A new covariance is not positive definite (reg_covar too small for degenerate data).</exception>
    public GaussianMixture Maximize(GaussianMixture current, double regCovar = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (current.ComponentCount != Components || current.Dimension != Dimension || current.CovarianceType != Type)
        {
            throw new ArgumentException(
                $"The statistics are for K = {Components}, d = {Dimension}, {Type}; the mixture has K = {current.ComponentCount}, d = {current.Dimension}, {current.CovarianceType}.",
                nameof(current));
        }
        if (!(regCovar >= 0) || !double.IsFinite(regCovar))
        {
            throw new ArgumentOutOfRangeException(nameof(regCovar), regCovar, "reg_covar must be finite and non-negative.");
        }
        if (!(TotalWeight > 0) || PositiveCount == 0)
        {
            throw new ArgumentException("The statistics hold no weight: no point reached the M-step.");
        }
        int d = Dimension, k = Components;
        double emptyBelow = EmptyFraction * TotalWeight / PositiveCount;
        var weights = new double[k];
        var means = new double[k * d];
        var covariances = new double[Type switch { CovarianceType.Full => k * d * d, CovarianceType.Diagonal => k * d, _ => k }];
        ReadOnlySpan<double> oldMeans = current.Means;
        double weightSum = 0;
        for (int c = 0; c < k; c++)
        {
            double n = Weights[c];
            if (!(n >= emptyBelow))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Component {c} received a total responsibility of {n:G6} (below {emptyBelow:G3}); distributed EM cannot re-seed an empty component: start from a different initial mixture or fewer components."));
            }
            double inv = 1 / n;
            ReadOnlySpan<double> s1 = FirstMoments.AsSpan(c * d, d);
            int block = Type switch { CovarianceType.Full => d * d, CovarianceType.Diagonal => d, _ => 1 };
            int moments = Type == CovarianceType.Full ? d * d : d;
            Fitting.EmWorkspace.CovarianceFromMoments(Type, s1, SecondMoments.AsSpan(c * moments, moments), d, inv, regCovar,
                covariances.AsSpan(c * block, block), d);
            for (int j = 0; j < d; j++)
            {
                means[c * d + j] = oldMeans[c * d + j] + s1[j] * inv;
            }
            weights[c] = n / TotalWeight;
            weightSum += weights[c];
        }
        for (int c = 0; c < k; c++)
        {
            weights[c] /= weightSum;
        }
        return new GaussianMixture(weights, means, covariances, Type);
    }

    private void Symmetrize()
    {
        int d = Dimension;
        for (int c = 0; c < Components; c++)
        {
            Span<double> s2 = SecondMoments.AsSpan(c * d * d, d * d);
            for (int a = 0; a < d; a++)
            {
                for (int b = 0; b < a; b++)
                {
                    s2[b * d + a] = s2[a * d + b];
                }
            }
        }
    }

    private static void Accumulate(Span<double> destination, ReadOnlySpan<double> source) =>
        System.Numerics.Tensors.TensorPrimitives.Add(destination, source, destination);
}

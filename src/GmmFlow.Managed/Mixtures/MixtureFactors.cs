using GmmFlow.Native;
using GmmFlow.Simd.Mixtures;

namespace GmmFlow.Mixtures;

/// <summary>
/// A mixture's parameters and everything derived from them that evaluation needs: Cholesky factors,
/// their inverses, log-determinants, whitened means. <see cref="GaussianMixture"/> holds one and never
/// changes it; the EM fitter holds one per fit and refactors it after every M-step (no allocation).
/// </summary>
internal sealed class MixtureFactors
{
    private static readonly double s_log2Pi = Math.Log(2 * Math.PI);

    public MixtureFactors(int components, int dimension, CovarianceType type)
    {
        Components = components;
        Dimension = dimension;
        Type = type;
        Weights = new double[components];
        Means = new double[components * dimension];
        Compact = new double[CompactLength(type, components, dimension)];
        Cholesky = type == CovarianceType.Full ? new double[components * dimension * dimension] : [];
        LogDeterminants = new double[components];
        Terms = new MixtureTerms(components, dimension, full: type == CovarianceType.Full);
    }

    public int Components { get; }

    public int Dimension { get; }

    public CovarianceType Type { get; }

    public double[] Weights { get; }

    /// <summary>K×d row-major.</summary>
    public double[] Means { get; }

    /// <summary>Full: K×d×d; Diagonal: K×d variances; Spherical: K variances.</summary>
    public double[] Compact { get; }

    /// <summary>Full only: K×d×d lower-triangular L with Σ = L Lᵀ (empty otherwise).</summary>
    public double[] Cholesky { get; }

    public double[] LogDeterminants { get; }

    public MixtureTerms Terms { get; }

    public static int CompactLength(CovarianceType type, int components, int dimension) => type switch
    {
        CovarianceType.Full => components * dimension * dimension,
        CovarianceType.Diagonal => components * dimension,
        _ => components,
    };

    /// <summary>Parameters a fit estimates (scikit-learn's _n_parameters): covariances + means + K − 1 weights.</summary>
    public static int ParameterCount(CovarianceType type, int components, int dimension)
    {
        int covariance = type switch
        {
            CovarianceType.Full => components * dimension * (dimension + 1) / 2,
            CovarianceType.Diagonal => components * dimension,
            _ => components,
        };
        return covariance + components * dimension + components - 1;
    }

    /// <summary>
    /// Factorises component <paramref name="k"/> from <see cref="Compact"/> and <see cref="Means"/>.
    /// Returns 0, or the order of the first non-positive leading minor (full) / 1 + the index of the first
    /// non-positive variance (diagonal, spherical), leaving the component's derived values unspecified.
    /// The covariance must be finite. <paramref name="lapack"/> null means <c>Lapack.Default</c>, loaded
    /// only for full covariances.
    /// </summary>
    public int TryFactor(int k, Lapack? lapack)
    {
        int d = Dimension;
        ReadOnlySpan<double> mean = Means.AsSpan(k * d, d);
        Span<double> shift = Terms.Shift.AsSpan(k * d, d);
        double logDet;
        if (Type == CovarianceType.Full)
        {
            int dd = d * d;
            Span<double> l = Cholesky.AsSpan(k * dd, dd);
            Compact.AsSpan(k * dd, dd).CopyTo(l);
            lapack ??= Lapack.Default;
            int info = lapack.TryCholesky(l, d);
            if (info != 0)
            {
                return info;
            }
            Span<double> p = Terms.Precision.AsSpan(k * dd, dd);
            l.CopyTo(p);
            lapack.InvertLowerTriangular(p, d);
            logDet = 0;
            for (int j = 0; j < d; j++)
            {
                logDet += Math.Log(l[j * d + j]);
                double s = 0;
                for (int i = 0; i <= j; i++)
                {
                    s += p[j * d + i] * mean[i];
                }
                shift[j] = s;
            }
            logDet *= 2;
        }
        else
        {
            Span<double> p = Terms.Precision.AsSpan(k * d, d);
            logDet = 0;
            for (int j = 0; j < d; j++)
            {
                double variance = Type == CovarianceType.Diagonal ? Compact[k * d + j] : Compact[k];
                if (!(variance > 0))
                {
                    return j + 1;
                }
                p[j] = 1 / Math.Sqrt(variance);
                shift[j] = mean[j] * p[j];
                logDet += Math.Log(variance);
            }
        }
        LogDeterminants[k] = logDet;
        Terms.LogNormalizers[k] = -0.5 * (d * s_log2Pi + logDet);
        return 0;
    }

    /// <summary>Copies log aₖ into the evaluation terms (after <see cref="Weights"/> change).</summary>
    public void RefreshWeights()
    {
        for (int k = 0; k < Components; k++)
        {
            Terms.LogWeights[k] = Math.Log(Weights[k]);
        }
        Terms.RefreshWeighted();
    }

    /// <summary>Refreshes the weighted constants after factorisations changed the normalisers.</summary>
    public void RefreshConstants() => Terms.RefreshWeighted();

    /// <summary>Component <paramref name="k"/>'s covariance as a full d×d matrix, whatever the type.</summary>
    public void FullCovariance(int k, Span<double> destination)
    {
        int d = Dimension;
        if (Type == CovarianceType.Full)
        {
            Compact.AsSpan(k * d * d, d * d).CopyTo(destination);
            return;
        }
        destination[..(d * d)].Clear();
        for (int j = 0; j < d; j++)
        {
            destination[j * d + j] = Type == CovarianceType.Diagonal ? Compact[k * d + j] : Compact[k];
        }
    }
}

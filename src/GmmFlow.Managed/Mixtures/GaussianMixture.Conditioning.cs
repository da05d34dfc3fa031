using System.Numerics.Tensors;
using GmmFlow.Mixtures;
using GmmFlow.Native;

namespace GmmFlow;

// Marginals and conditionals for a split of the coordinates into A (kept) and B (given).
// Conditional of a Gaussian (e.g. Bishop, PRML eqs. 2.81–2.82; for mixtures eq. 2.3.9 applied per
// component with Bayes on the weights):
//   aₖ' ∝ aₖ N(x_B; m_kB, Σ_kBB),  m_k' = m_kA + Σ_kAB Σ_kBB⁻¹ (x_B − m_kB),  Σ_k' = Σ_kAA − Σ_kAB Σ_kBB⁻¹ Σ_kBA.
// With Σ_BB = L Lᵀ, y = L⁻¹(x_B − m_B) and G = L⁻¹ Σ_BA: m' = m_A + Gᵀ y and Σ' = Σ_AA − Gᵀ G.
public sealed partial class GaussianMixture
{
    /// <summary>
    /// The marginal mixture of the given coordinates (in the given order): same weights, means and
    /// covariance blocks restricted to them. The covariance type is kept.
    /// </summary>
    /// <exception cref="ArgumentException">Empty, repeated or out-of-range coordinates.</exception>
    public GaussianMixture Marginal(ReadOnlySpan<int> coordinates) => Marginal(coordinates, null);

    internal GaussianMixture Marginal(ReadOnlySpan<int> coordinates, Lapack? lapack)
    {
        int d = Dimension, a = coordinates.Length, kk = ComponentCount;
        CheckCoordinates(coordinates, d, nameof(coordinates));
        if (a == 0)
        {
            throw new ArgumentException("A marginal needs at least one coordinate.", nameof(coordinates));
        }
        var f = new MixtureFactors(kk, a, CovarianceType);
        _f.Weights.CopyTo(f.Weights, 0);
        for (int k = 0; k < kk; k++)
        {
            for (int i = 0; i < a; i++)
            {
                f.Means[k * a + i] = _f.Means[k * d + coordinates[i]];
                switch (CovarianceType)
                {
                    case CovarianceType.Full:
                        for (int j = 0; j < a; j++)
                        {
                            f.Compact[(k * a + i) * a + j] = _f.Compact[(k * d + coordinates[i]) * d + coordinates[j]];
                        }
                        break;
                    case CovarianceType.Diagonal:
                        f.Compact[k * a + i] = _f.Compact[k * d + coordinates[i]];
                        break;
                    default:
                        f.Compact[k] = _f.Compact[k];
                        break;
                }
            }
            int info = f.TryFactor(k, lapack);
            if (info != 0)
            {
                // A principal block of an SPD matrix is SPD; failure means the block is numerically singular.
                throw new NotPositiveDefiniteException("marginal covariance of component", k, info, nameof(coordinates));
            }
        }
        f.RefreshWeights();
        return new GaussianMixture(f);
    }

    /// <summary>
    /// The conditional mixture of the remaining coordinates (in increasing order) given
    /// x[<paramref name="givenCoordinates"/>] = <paramref name="givenValues"/>. Components whose posterior
    /// weight underflows to exactly 0 are dropped (at least the most likely one remains).
    /// </summary>
    /// <exception cref="ArgumentException">Repeated or out-of-range coordinates, mismatched lengths, or no coordinate left.</exception>
    /// <exception cref="NonFiniteValueException">A given value is NaN or infinite.</exception>
    public GaussianMixture Conditional(ReadOnlySpan<int> givenCoordinates, ReadOnlySpan<double> givenValues)
        => Conditional(givenCoordinates, givenValues, null);

    internal GaussianMixture Conditional(ReadOnlySpan<int> givenCoordinates, ReadOnlySpan<double> givenValues, Lapack? lapack)
    {
        // Only full covariances need LAPACK; diagonal and spherical mixtures work without it installed.
        if (CovarianceType == CovarianceType.Full)
        {
            lapack ??= Lapack.Default;
        }
        int d = Dimension, nb = givenCoordinates.Length, na = d - nb, kk = ComponentCount;
        CheckCoordinates(givenCoordinates, d, nameof(givenCoordinates));
        if (givenValues.Length != nb)
        {
            throw new ArgumentException($"givenValues has {givenValues.Length} values for {nb} given coordinates.", nameof(givenValues));
        }
        if (na == 0)
        {
            throw new ArgumentException("Every coordinate is given: the conditional has no coordinate left.", nameof(givenCoordinates));
        }
        ThrowIfNotFinite(givenValues, nb, nameof(givenValues));
        Span<bool> isGiven = d <= 256 ? stackalloc bool[d] : new bool[d];
        foreach (int c in givenCoordinates)
        {
            isGiven[c] = true;
        }
        var kept = new int[na];
        for (int j = 0, n = 0; j < d; j++)
        {
            if (!isGiven[j])
            {
                kept[n++] = j;
            }
        }

        // Per component: log aₖ N(x_B), conditional mean and covariance (in full temporary arrays).
        var logWeights = new double[kk];
        var means = new double[kk * na];
        var covs = new double[kk * MixtureFactors.CompactLength(CovarianceType, 1, na)];
        double logNorm = -0.5 * nb * Math.Log(2 * Math.PI);
        var lbb = new double[nb * nb];
        var g = new double[nb * na];
        var y = new double[nb];
        for (int k = 0; k < kk; k++)
        {
            ReadOnlySpan<double> m = Mean(k);
            for (int i = 0; i < nb; i++)
            {
                y[i] = givenValues[i] - m[givenCoordinates[i]];
            }
            double logDensity;
            if (CovarianceType == CovarianceType.Full)
            {
                ReadOnlySpan<double> s = _f.Compact.AsSpan(k * d * d, d * d);
                for (int i = 0; i < nb; i++)
                {
                    for (int j = 0; j < nb; j++)
                    {
                        lbb[i * nb + j] = s[givenCoordinates[i] * d + givenCoordinates[j]];
                    }
                    for (int j = 0; j < na; j++)
                    {
                        g[i * na + j] = s[givenCoordinates[i] * d + kept[j]];
                    }
                }
                int info = lapack!.TryCholesky(lbb, nb);
                if (info != 0)
                {
                    throw new NotPositiveDefiniteException("covariance block of the given coordinates of component", k, info, nameof(givenCoordinates));
                }
                lapack.SolveLower(lbb, nb, y, 1, transpose: false);
                lapack.SolveLower(lbb, nb, g, na, transpose: false);
                double q = 0, halfLogDet = 0;
                for (int i = 0; i < nb; i++)
                {
                    q += y[i] * y[i];
                    halfLogDet += Math.Log(lbb[i * nb + i]);
                }
                logDensity = logNorm - halfLogDet - 0.5 * q;
                for (int a = 0; a < na; a++)
                {
                    double mean = m[kept[a]];
                    for (int i = 0; i < nb; i++)
                    {
                        mean += g[i * na + a] * y[i];
                    }
                    means[k * na + a] = mean;
                    for (int b = 0; b <= a; b++)
                    {
                        double v = s[kept[a] * d + kept[b]];
                        for (int i = 0; i < nb; i++)
                        {
                            v -= g[i * na + a] * g[i * na + b];
                        }
                        covs[(k * na + a) * na + b] = v;
                        covs[(k * na + b) * na + a] = v;
                    }
                }
            }
            else
            {
                // Diagonal covariances: the coordinates are independent within a component, so only the weights change.
                ReadOnlySpan<double> p = _f.Terms.Precision.AsSpan(k * d, d);
                double q = 0, logDet = 0;
                for (int i = 0; i < nb; i++)
                {
                    double z = y[i] * p[givenCoordinates[i]];
                    q += z * z;
                    logDet -= 2 * Math.Log(p[givenCoordinates[i]]);
                }
                logDensity = logNorm - 0.5 * logDet - 0.5 * q;
                for (int a = 0; a < na; a++)
                {
                    means[k * na + a] = m[kept[a]];
                    if (CovarianceType == CovarianceType.Diagonal)
                    {
                        covs[k * na + a] = _f.Compact[k * d + kept[a]];
                    }
                }
                if (CovarianceType == CovarianceType.Spherical)
                {
                    covs[k] = _f.Compact[k];
                }
            }
            logWeights[k] = Math.Log(_f.Weights[k]) + logDensity;
        }

        // Posterior weights by a max-shifted softmax (no overflow whatever the log-densities), in place.
        TensorPrimitives.Subtract(logWeights, TensorPrimitives.Max(logWeights), logWeights);
        TensorPrimitives.Exp(logWeights, logWeights);
        TensorPrimitives.Divide(logWeights, TensorPrimitives.Sum(logWeights), logWeights);
        int survivors = 0;
        for (int k = 0; k < kk; k++)
        {
            survivors += logWeights[k] > 0 ? 1 : 0;
        }

        var f = new MixtureFactors(survivors, na, CovarianceType);
        int block = covs.Length / kk;
        for (int k = 0, t = 0; k < kk; k++)
        {
            if (!(logWeights[k] > 0))
            {
                continue;
            }
            f.Weights[t] = logWeights[k];
            means.AsSpan(k * na, na).CopyTo(f.Means.AsSpan(t * na, na));
            covs.AsSpan(k * block, block).CopyTo(f.Compact.AsSpan(t * block, block));
            int info = f.TryFactor(t, lapack);
            if (info != 0)
            {
                // The Schur complement of an SPD matrix is SPD; failure means it is numerically singular.
                throw new NotPositiveDefiniteException("conditional covariance of component", k, info, nameof(givenCoordinates));
            }
            t++;
        }
        f.RefreshWeights();
        return new GaussianMixture(f);
    }

    private static void CheckCoordinates(ReadOnlySpan<int> coordinates, int d, string paramName)
    {
        Span<bool> seen = d <= 256 ? stackalloc bool[d] : new bool[d];
        foreach (int c in coordinates)
        {
            if ((uint)c >= (uint)d)
            {
                throw new ArgumentException($"Coordinate {c} is out of range: the mixture has dimension {d}.", paramName);
            }
            if (seen[c])
            {
                throw new ArgumentException($"Coordinate {c} is listed twice.", paramName);
            }
            seen[c] = true;
        }
    }
}

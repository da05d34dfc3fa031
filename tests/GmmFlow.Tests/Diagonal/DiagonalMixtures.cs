using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Diagonal;

/// <summary>Seeded diagonal and spherical mixtures, their full-covariance twins, and normwise comparisons.</summary>
internal static class DiagonalMixtures
{
    /// <summary>
    /// K components in dimension d: weights 0.5–1.5 (normalised), means N(0, spread²), variances log-uniform on
    /// [varianceLow, varianceHigh] (one per component when spherical).
    /// </summary>
    public static GaussianMixture Random(int k, int d, int seed, CovarianceType type, double spread = 1.0,
                                         double varianceLow = 0.3, double varianceHigh = 3.0)
    {
        var rng = new Random(seed);
        var weights = new double[k];
        for (int i = 0; i < k; i++)
        {
            weights[i] = 0.5 + rng.NextDouble();
        }
        var means = new double[k * d];
        for (int i = 0; i < means.Length; i++)
        {
            means[i] = spread * TestMatrices.Normal(rng);
        }
        var variances = new double[type == CovarianceType.Spherical ? k : k * d];
        double logLow = Math.Log(varianceLow), logHigh = Math.Log(varianceHigh);
        for (int i = 0; i < variances.Length; i++)
        {
            variances[i] = Math.Exp(logLow + (logHigh - logLow) * rng.NextDouble());
        }
        return new GaussianMixture(weights, means, variances, type, renormalizeWeights: true);
    }

    /// <summary>The same mixture with its covariances stored as full d×d matrices.</summary>
    public static GaussianMixture Expanded(GaussianMixture m)
        => new(m.Weights, m.Means, m.Covariances, CovarianceType.Full);

    /// <summary>max |a − b| / max |b| (normwise relative difference; 0 when both are 0).</summary>
    public static double Relative(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Assert.Equal(b.Length, a.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs(a[i] - b[i]));
            scale = Math.Max(scale, Math.Abs(b[i]));
        }
        return diff == 0 ? 0 : diff / scale;
    }

    /// <summary>The diagonal of a d×d row-major matrix, and the largest off-diagonal magnitude.</summary>
    public static double[] Diagonal(ReadOnlySpan<double> full, int d, out double offDiagonal)
    {
        var diag = new double[d];
        offDiagonal = 0;
        for (int r = 0; r < d; r++)
        {
            for (int c = 0; c < d; c++)
            {
                if (r == c)
                {
                    diag[r] = full[r * d + c];
                }
                else
                {
                    offDiagonal = Math.Max(offDiagonal, Math.Abs(full[r * d + c]));
                }
            }
        }
        return diag;
    }

    /// <summary>
    /// The diagonal mixture policy at one point in plain loops (the independent reference for the kernels):
    /// ℓ_p = log λ_p + log N(x; m_p, diag s_p), v = Σ_p softmax(ℓ)_p (b_p + k_p ⊙ (x − m_p)); returns log Σ_p e^ℓ_p.
    /// Pair-major arrays: means, variances, gains, offsets P×d.
    /// </summary>
    public static double DirectField(ReadOnlySpan<double> x, double[] logWeights, double[] means, double[] variances, double[] gains,
                                     double[] offsets, Span<double> velocity)
    {
        int d = x.Length, pairs = logWeights.Length;
        var ell = new double[pairs];
        for (int p = 0; p < pairs; p++)
        {
            double q = 0, logDet = 0;
            for (int j = 0; j < d; j++)
            {
                double y = x[j] - means[p * d + j];
                q += y * y / variances[p * d + j];
                logDet += Math.Log(variances[p * d + j]);
            }
            ell[p] = logWeights[p] - 0.5 * (q + logDet + d * Math.Log(2 * Math.PI));
        }
        double max = ell.Max(), sum = 0;
        velocity.Clear();
        for (int p = 0; p < pairs; p++)
        {
            double w = Math.Exp(ell[p] - max);
            sum += w;
            for (int j = 0; j < d; j++)
            {
                velocity[j] += w * (offsets[p * d + j] + gains[p * d + j] * (x[j] - means[p * d + j]));
            }
        }
        for (int j = 0; j < d; j++)
        {
            velocity[j] /= sum;
        }
        return max + Math.Log(sum);
    }
}

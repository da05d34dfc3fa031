namespace GmmFlow.Tests.Mixtures;

/// <summary>
/// Textbook reference formulas, written independently of the library (own Cholesky, no LAPACK, no SIMD,
/// no log-sum-exp tricks beyond the max shift): what the optimised code must agree with.
/// </summary>
internal static class NaiveMixture
{
    /// <summary>log N(x; m, Σ) via an unblocked Cholesky–Banachiewicz factorisation and forward substitution.</summary>
    public static double LogGaussian(ReadOnlySpan<double> x, ReadOnlySpan<double> m, ReadOnlySpan<double> cov, int d)
    {
        var l = Cholesky(cov.ToArray(), d);
        var z = new double[d];
        for (int i = 0; i < d; i++)
        {
            double s = x[i] - m[i];
            for (int j = 0; j < i; j++)
            {
                s -= l[i * d + j] * z[j];
            }
            z[i] = s / l[i * d + i];
        }
        double q = 0, logDet = 0;
        for (int i = 0; i < d; i++)
        {
            q += z[i] * z[i];
            logDet += 2 * Math.Log(l[i * d + i]);
        }
        return -0.5 * (d * Math.Log(2 * Math.PI) + logDet + q);
    }

    public static double[] Cholesky(double[] a, int d)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = a[i * d + j];
                for (int k = 0; k < j; k++)
                {
                    s -= l[i * d + k] * l[j * d + k];
                }
                if (i == j)
                {
                    if (s <= 0)
                    {
                        throw new InvalidOperationException("reference Cholesky: not SPD");
                    }
                    l[i * d + i] = Math.Sqrt(s);
                }
                else
                {
                    l[i * d + j] = s / l[j * d + j];
                }
            }
        }
        return l;
    }

    /// <summary>Full d×d covariance of component k from the compact parameters of any type.</summary>
    public static double[] FullCovariance(double[] compact, CovarianceType type, int k, int d)
    {
        var c = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                c[i * d + j] = type switch
                {
                    CovarianceType.Full => compact[(k * d + i) * d + j],
                    CovarianceType.Diagonal => i == j ? compact[k * d + i] : 0,
                    _ => i == j ? compact[k] : 0,
                };
            }
        }
        return c;
    }

    /// <summary>Per component log aₖ + log Nₖ(x) for one point.</summary>
    public static double[] WeightedLogTerms(double[] weights, double[] means, double[] compact, CovarianceType type, int d, ReadOnlySpan<double> x)
    {
        int k = weights.Length;
        var terms = new double[k];
        for (int c = 0; c < k; c++)
        {
            terms[c] = Math.Log(weights[c]) + LogGaussian(x, means.AsSpan(c * d, d), FullCovariance(compact, type, c, d), d);
        }
        return terms;
    }

    public static double LogSumExp(ReadOnlySpan<double> v)
    {
        double max = double.NegativeInfinity;
        foreach (double x in v)
        {
            max = Math.Max(max, x);
        }
        double s = 0;
        foreach (double x in v)
        {
            s += Math.Exp(x - max);
        }
        return max + Math.Log(s);
    }

    public static double LogDensity(double[] weights, double[] means, double[] compact, CovarianceType type, int d, ReadOnlySpan<double> x)
        => LogSumExp(WeightedLogTerms(weights, means, compact, type, d, x));

    /// <summary>Random SPD matrix A Aᵀ/d + shift·I.</summary>
    public static double[] RandomSpd(Random rng, int d, double shift)
    {
        var a = new double[d * d];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = Normal(rng);
        }
        var s = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double v = 0;
                for (int k = 0; k < d; k++)
                {
                    v += a[i * d + k] * a[j * d + k];
                }
                s[i * d + j] = v / d + (i == j ? shift : 0);
            }
        }
        return s;
    }

    public static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A random valid mixture of the given shape (weights bounded away from 0, covariances well conditioned).</summary>
    public static (double[] W, double[] M, double[] C) RandomParameters(Random rng, int k, int d, CovarianceType type, double spread = 3)
    {
        var w = new double[k];
        double sum = 0;
        for (int c = 0; c < k; c++)
        {
            w[c] = 0.2 + rng.NextDouble();
            sum += w[c];
        }
        for (int c = 0; c < k; c++)
        {
            w[c] /= sum;
        }
        var m = new double[k * d];
        for (int i = 0; i < m.Length; i++)
        {
            m[i] = spread * Normal(rng);
        }
        double[] compact;
        switch (type)
        {
            case CovarianceType.Full:
                compact = new double[k * d * d];
                for (int c = 0; c < k; c++)
                {
                    RandomSpd(rng, d, 0.3).CopyTo(compact, c * d * d);
                }
                break;
            case CovarianceType.Diagonal:
                compact = new double[k * d];
                for (int i = 0; i < compact.Length; i++)
                {
                    compact[i] = 0.2 + 2 * rng.NextDouble();
                }
                break;
            default:
                compact = new double[k];
                for (int i = 0; i < compact.Length; i++)
                {
                    compact[i] = 0.2 + 2 * rng.NextDouble();
                }
                break;
        }
        return (w, m, compact);
    }

    public static double[] RandomPoints(Random rng, int n, int d, double scale)
    {
        var x = new double[n * d];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = scale * Normal(rng);
        }
        return x;
    }
}

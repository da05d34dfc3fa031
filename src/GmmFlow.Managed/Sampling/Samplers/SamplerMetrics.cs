namespace GmmFlow.Sampling;

/// <summary>
/// Metrics of weighted samples (docs/theory/samplers.md#metrics): ELBO, log Ẑ, normalised ESS, entropic mode coverage and
/// the Sinkhorn divergence against reference samples.
/// </summary>
public static class SamplerMetrics
{
    /// <summary>log((1/M) Σ exp(lᵢ)), stable; −∞ for all −∞.</summary>
    public static double LogMeanExp(ReadOnlySpan<double> logWeights)
    {
        if (logWeights.IsEmpty)
        {
            throw new ArgumentException("No weights.", nameof(logWeights));
        }
        double max = double.NegativeInfinity;
        foreach (double v in logWeights)
        {
            max = Math.Max(max, v);
        }
        if (double.IsNegativeInfinity(max))
        {
            return max;
        }
        double s = 0;
        foreach (double v in logWeights)
        {
            s += Math.Exp(v - max);
        }
        return max + Math.Log(s / logWeights.Length);
    }

    /// <summary>Arithmetic mean.</summary>
    public static double Mean(ReadOnlySpan<double> values)
    {
        double s = 0;
        foreach (double v in values)
        {
            s += v;
        }
        return s / values.Length;
    }

    /// <summary>Normalised ESS (Σw)² / (M Σw²) in (0, 1]; 0 when every weight is 0.</summary>
    public static double EffectiveSampleSize(ReadOnlySpan<double> logWeights)
    {
        double max = double.NegativeInfinity;
        foreach (double v in logWeights)
        {
            max = Math.Max(max, v);
        }
        if (double.IsNegativeInfinity(max))
        {
            return 0;
        }
        double s1 = 0, s2 = 0;
        foreach (double v in logWeights)
        {
            double w = Math.Exp(v - max);
            s1 += w;
            s2 += w * w;
        }
        return s1 * s1 / (logWeights.Length * s2);
    }

    /// <summary>
    /// Entropic mode coverage −Σₖ p̂ₖ log p̂ₖ / log K, p̂ₖ the fraction of samples whose most likely mode is k: 1 when all
    /// K modes get equal shares, 0 when one mode gets all.
    /// </summary>
    public static double EntropicModeCoverage(IKnownModes modes, ReadOnlySpan<double> samples, int dimension)
    {
        ArgumentNullException.ThrowIfNull(modes);
        int k = modes.ModeCount;
        int m = samples.Length / dimension;
        if (m == 0 || k < 2)
        {
            throw new ArgumentException("Need at least one sample and two modes.");
        }
        var counts = new int[k];
        for (int i = 0; i < m; i++)
        {
            counts[modes.MostLikelyMode(samples.Slice(i * dimension, dimension))]++;
        }
        double h = 0;
        foreach (int c in counts)
        {
            if (c > 0)
            {
                double p = (double)c / m;
                h -= p * Math.Log(p);
            }
        }
        return h / Math.Log(k);
    }

    /// <summary>
    /// Sinkhorn divergence S_ε(x, y) = OT_ε(x, y) − ½OT_ε(x, x) − ½OT_ε(y, y) between two uniformly weighted point clouds
    /// with squared Euclidean cost, OT_ε = min ⟨π, C⟩ + ε KL(π ‖ a⊗b), solved by the log-domain Sinkhorn of
    /// <see cref="Couplings.Sinkhorn"/> (ε-scaling). Returns the divergence and whether all three solves converged.
    /// </summary>
    public static (double Divergence, bool Converged) SinkhornDivergence(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, double epsilon = 1e-3, int maxIterations = 2000)
    {
        if (dimension < 1 || x.Length % dimension != 0 || y.Length % dimension != 0 || x.IsEmpty || y.IsEmpty)
        {
            throw new ArgumentException("Point clouds must be non-empty with a whole number of points of the given dimension.");
        }
        if (!(epsilon > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be positive.");
        }
        (double xy, bool c1) = EntropicCost(x, y, dimension, epsilon, maxIterations);
        (double xx, bool c2) = EntropicCost(x, x, dimension, epsilon, maxIterations);
        (double yy, bool c3) = EntropicCost(y, y, dimension, epsilon, maxIterations);
        return (xy - (0.5 * (xx + yy)), c1 && c2 && c3);
    }

    private static (double Value, bool Converged) EntropicCost(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int d, double epsilon, int maxIterations)
    {
        int m = x.Length / d, n = y.Length / d;
        var cost = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            ReadOnlySpan<double> xi = x.Slice(i * d, d);
            for (int j = 0; j < n; j++)
            {
                ReadOnlySpan<double> yj = y.Slice(j * d, d);
                double s = 0;
                for (int t = 0; t < d; t++)
                {
                    double diff = xi[t] - yj[t];
                    s += diff * diff;
                }
                cost[(i * n) + j] = s;
            }
        }
        var a = new double[m];
        var b = new double[n];
        Array.Fill(a, 1.0 / m);
        Array.Fill(b, 1.0 / n);
        SinkhornResult r = Couplings.Sinkhorn(a, b, cost, epsilon, new SinkhornOptions { MaxIterations = maxIterations, Tolerance = 1e-6 });
        // ⟨π, C⟩ + ε KL(π ‖ a⊗b) with KL = −H(π) − Σ π log(aᵢ bⱼ) = −H(π) + log m + log n for uniform marginals.
        double kl = -r.Entropy + Math.Log(m) + Math.Log(n);
        return (r.TransportCost + (epsilon * kl), r.Converged);
    }
}

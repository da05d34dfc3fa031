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
    /// with squared Euclidean cost, OT_ε = min ⟨π, C⟩ + ε KL(π ‖ a⊗b), evaluated through the dual potentials:
    /// S_ε = ⟨a, f_xy − f_xx⟩ + ⟨b, g_xy − g_yy⟩. The potentials come from symmetric log-domain Sinkhorn updates with
    /// ε annealed geometrically (ratio <paramref name="scaling"/>) from the clouds' squared diameter down to ε, then one
    /// extrapolation step at ε (Feydy et al. 2019, arXiv 1810.08278): about log(diam²/ε)/log(1/scaling) iterations,
    /// however small ε is. docs/theory/samplers.md#metrics
    /// </summary>
    public static double SinkhornDivergence(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, double epsilon = 1e-3, double scaling = 0.9)
    {
        if (dimension < 1 || x.Length % dimension != 0 || y.Length % dimension != 0 || x.IsEmpty || y.IsEmpty)
        {
            throw new ArgumentException("Point clouds must be non-empty with a whole number of points of the given dimension.");
        }
        if (!(epsilon > 0) || !double.IsFinite(epsilon))
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "ε must be positive and finite.");
        }
        if (!(scaling > 0 && scaling < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(scaling), scaling, "The ε ratio must be in (0, 1).");
        }
        int m = x.Length / dimension, n = y.Length / dimension;
        double[] cxy = SquaredDistances(x, y, dimension), cyx = SquaredDistances(y, x, dimension);
        double[] cxx = SquaredDistances(x, x, dimension), cyy = SquaredDistances(y, y, dimension);
        double diameter = 0;
        for (int t = 0; t < dimension; t++)
        {
            double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
            for (int i = 0; i < m; i++)
            {
                lo = Math.Min(lo, x[(i * dimension) + t]);
                hi = Math.Max(hi, x[(i * dimension) + t]);
            }
            for (int j = 0; j < n; j++)
            {
                lo = Math.Min(lo, y[(j * dimension) + t]);
                hi = Math.Max(hi, y[(j * dimension) + t]);
            }
            diameter += (hi - lo) * (hi - lo);
        }
        double logA = -Math.Log(m), logB = -Math.Log(n);
        var fxy = new double[m];
        var gxy = new double[n];
        var fxx = new double[m];
        var gyy = new double[n];
        var t1 = new double[m];
        var t2 = new double[n];
        var t3 = new double[m];
        var t4 = new double[n];
        double eps = Math.Max(diameter, epsilon);
        // Initial potentials: the c-transforms of zero.
        Softmin(cxy, m, n, gxy, logB, eps, fxy, zero: true);
        Softmin(cyx, n, m, fxy, logA, eps, gxy, zero: true);
        Softmin(cxx, m, m, fxx, logA, eps, fxx, zero: true);
        Softmin(cyy, n, n, gyy, logB, eps, gyy, zero: true);
        while (true)
        {
            Softmin(cxy, m, n, gxy, logB, eps, t1, zero: false);
            Softmin(cyx, n, m, fxy, logA, eps, t2, zero: false);
            Softmin(cxx, m, m, fxx, logA, eps, t3, zero: false);
            Softmin(cyy, n, n, gyy, logB, eps, t4, zero: false);
            Average(fxy, t1);
            Average(gxy, t2);
            Average(fxx, t3);
            Average(gyy, t4);
            if (eps <= epsilon)
            {
                break;
            }
            eps = Math.Max(epsilon, eps * scaling);
        }
        // Extrapolation at ε: the last c-transforms (Feydy et al.'s final step).
        Softmin(cxy, m, n, gxy, logB, epsilon, t1, zero: false);
        Softmin(cyx, n, m, fxy, logA, epsilon, t2, zero: false);
        Softmin(cxx, m, m, fxx, logA, epsilon, t3, zero: false);
        Softmin(cyy, n, n, gyy, logB, epsilon, t4, zero: false);
        double s = 0;
        for (int i = 0; i < m; i++)
        {
            s += (t1[i] - t3[i]) / m;
        }
        for (int j = 0; j < n; j++)
        {
            s += (t2[j] - t4[j]) / n;
        }
        return s;
    }

    private static void Average(double[] target, double[] update)
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] = 0.5 * (target[i] + update[i]);
        }
    }

    private static double[] SquaredDistances(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int d)
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
        return cost;
    }

    // out_i = −ε log Σ_j exp(logW + h_j/ε − C_ij/ε) (h = 0 when zero), in parallel over rows.
    private static void Softmin(double[] cost, int rows, int cols, double[] h, double logW, double eps, double[] output, bool zero)
    {
        var body = new SoftminBody { Cost = cost, Cols = cols, H = zero ? null : h, LogW = logW, Eps = eps, Output = output };
        GmmFlow.Simd.ParallelRange.For(rows, 16, body);
    }

    private struct SoftminBody : GmmFlow.Simd.IRangeBody
    {
        public double[] Cost;
        public int Cols;
        public double[]? H;
        public double LogW;
        public double Eps;
        public double[] Output;

        public readonly void Execute(int start, int end)
        {
            double inv = 1 / Eps;
            for (int i = start; i < end; i++)
            {
                ReadOnlySpan<double> row = Cost.AsSpan(i * Cols, Cols);
                double max = double.NegativeInfinity;
                for (int j = 0; j < Cols; j++)
                {
                    double v = ((H is null ? 0 : H[j]) - row[j]) * inv;
                    max = Math.Max(max, v);
                }
                double sum = 0;
                for (int j = 0; j < Cols; j++)
                {
                    sum += Math.Exp((((H is null ? 0 : H[j]) - row[j]) * inv) - max);
                }
                Output[i] = -Eps * (LogW + max + Math.Log(sum));
            }
        }
    }
}

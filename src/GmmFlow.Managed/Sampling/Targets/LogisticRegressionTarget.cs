namespace GmmFlow.Sampling;

/// <summary>
/// Bayesian logistic regression posterior (unnormalised): log ρ(w) = Σᵢ [yᵢ sᵢ − log(1 + e^{sᵢ})] + Σⱼ log N(wⱼ; 0, σ²),
/// sᵢ = ⟨xᵢ, w⟩, labels yᵢ ∈ {0, 1}; the design matrix already holds the intercept column. docs/theory/samplers.md#logistic
/// </summary>
public sealed class LogisticRegressionTarget : PointTarget
{
    private const double HalfLog2Pi = 0.91893853320467274178;
    private readonly double[] _x;
    private readonly double[] _y;
    private readonly double _priorVariance;
    private readonly double _priorConst;

    /// <param name="name">Name used in messages.</param>
    /// <param name="design">n×d design matrix (row-major, intercept included).</param>
    /// <param name="labels">n labels, each 0 or 1.</param>
    /// <param name="priorStd">Standard deviation σ of the isotropic Gaussian prior on the weights.</param>
    public LogisticRegressionTarget(string name, ReadOnlySpan<double> design, ReadOnlySpan<double> labels, double priorStd)
        : base(name, labels.Length == 0 ? 0 : design.Length / labels.Length)
    {
        int n = labels.Length;
        if (design.Length != n * Dimension)
        {
            throw new ArgumentException($"The design has {design.Length} values, not a multiple of the {n} labels.", nameof(design));
        }
        foreach (double v in design)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("The design matrix has a non-finite entry.", nameof(design));
            }
        }
        foreach (double v in labels)
        {
            if (v is not (0 or 1))
            {
                throw new ArgumentException($"Labels must be 0 or 1 (got {v}).", nameof(labels));
            }
        }
        if (!(priorStd > 0) || !double.IsFinite(priorStd))
        {
            throw new ArgumentOutOfRangeException(nameof(priorStd), priorStd, "The prior standard deviation must be positive.");
        }
        _x = design.ToArray();
        _y = labels.ToArray();
        _priorVariance = priorStd * priorStd;
        _priorConst = -Dimension * (HalfLog2Pi + Math.Log(priorStd));
        PriorStd = priorStd;
    }

    /// <summary>Number of observations n.</summary>
    public int Observations => _y.Length;

    public double PriorStd { get; }

    /// <summary>The design matrix (n×d, intercept first).</summary>
    public ReadOnlySpan<double> Design => _x;

    /// <summary>The labels (0 or 1).</summary>
    public ReadOnlySpan<double> Labels => _y;

    public override double LogDensity(ReadOnlySpan<double> w, Span<double> gradient)
    {
        int d = Dimension;
        bool g = !gradient.IsEmpty;
        double logp = _priorConst;
        for (int j = 0; j < d; j++)
        {
            logp -= w[j] * w[j] / (2 * _priorVariance);
            if (g)
            {
                gradient[j] = -w[j] / _priorVariance;
            }
        }
        ReadOnlySpan<double> x = _x;
        for (int i = 0; i < _y.Length; i++)
        {
            ReadOnlySpan<double> row = x.Slice(i * d, d);
            double s = Dot(row, w);
            // y s − log(1 + eˢ), with log(1 + eˢ) = max(s, 0) + log1p(e^{−|s|}) to avoid overflow.
            double softplus = Math.Max(s, 0) + Math.Log(1 + Math.Exp(-Math.Abs(s)));
            logp += (_y[i] * s) - softplus;
            if (g)
            {
                double residual = _y[i] - (1 / (1 + Math.Exp(-s)));
                for (int j = 0; j < d; j++)
                {
                    gradient[j] += residual * row[j];
                }
            }
        }
        return logp;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double s0 = 0, s1 = 0;
        int j = 0;
        for (; j + 1 < a.Length; j += 2)
        {
            s0 += a[j] * b[j];
            s1 += a[j + 1] * b[j + 1];
        }
        if (j < a.Length)
        {
            s0 += a[j] * b[j];
        }
        return s0 + s1;
    }
}

namespace GmmFlow.Sampling;

/// <summary>
/// A learnable Gaussian-mixture prior p_φ(x) = (1/K) Σₖ N(x; μₖ, Lₖ Lₖᵀ) with equal weights over its K active components,
/// diagonal (Lₖ = diag sₖ) or full (Lₖ lower triangular), parametrised for unconstrained optimisation: the scales and the
/// Cholesky diagonals are softplus(r) of raw parameters r. Components can be added (iterative model refinement) up to a
/// capacity. docs/theory/samplers.md#prior
/// </summary>
/// <remarks>
/// Parameter layout per component: μ (d values), then r (d values, Diagonal) or the packed lower triangle of L by rows
/// (d(d+1)/2 values, Full; diagonal entries raw, off-diagonal ones as they are). Evaluation members are thread-safe between
/// parameter updates; <see cref="Refresh"/> must follow any change of <see cref="Parameters"/>.
/// </remarks>
public sealed class MixturePrior
{
    private const double HalfLog2Pi = 0.91893853320467274178;
    private readonly double[] _params;
    private readonly double[] _factor; // K×d (diagonal scales) or K×d×d (full lower Cholesky factors)
    private readonly double[] _logDet; // Σ log diag L per component

    public MixturePrior(int dimension, int capacity, CovarianceType covarianceType)
    {
        if (dimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The dimension must be at least 1.");
        }
        if (capacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "The capacity must be at least 1.");
        }
        if (covarianceType is not (CovarianceType.Diagonal or CovarianceType.Full))
        {
            throw new ArgumentException("A mixture prior is Diagonal or Full.", nameof(covarianceType));
        }
        Dimension = dimension;
        Capacity = capacity;
        CovarianceType = covarianceType;
        ParametersPerComponent = dimension + (covarianceType == CovarianceType.Diagonal ? dimension : dimension * (dimension + 1) / 2);
        _params = new double[capacity * ParametersPerComponent];
        _factor = new double[capacity * (covarianceType == CovarianceType.Diagonal ? dimension : dimension * dimension)];
        _logDet = new double[capacity];
    }

    public int Dimension { get; }
    public int Capacity { get; }
    public CovarianceType CovarianceType { get; }

    /// <summary>Active components K (weights 1/K each).</summary>
    public int ComponentCount { get; private set; }

    public int ParametersPerComponent { get; }

    /// <summary>Raw parameters of the active components (layout in the class remarks); call <see cref="Refresh"/> after changing them.</summary>
    public Span<double> Parameters => _params.AsSpan(0, ComponentCount * ParametersPerComponent);

    /// <summary>Scratch doubles <see cref="LogDensity"/> needs: K·d + K for the full capacity.</summary>
    public int ScratchLength => (Capacity * Dimension) + Capacity;

    /// <summary>Mean of component k.</summary>
    public ReadOnlySpan<double> Mean(int k) => _params.AsSpan(k * ParametersPerComponent, Dimension);

    /// <summary>Lower Cholesky factor of component k (d×d, row-major), or its d diagonal scales for a diagonal prior.</summary>
    public ReadOnlySpan<double> Factor(int k) => CovarianceType == CovarianceType.Diagonal
        ? _factor.AsSpan(k * Dimension, Dimension)
        : _factor.AsSpan(k * Dimension * Dimension, Dimension * Dimension);

    /// <summary>softplus(r) = log(1 + eʳ), stable for any r.</summary>
    public static double Softplus(double r) => Math.Max(r, 0) + Math.Log(1 + Math.Exp(-Math.Abs(r)));

    /// <summary>The raw parameter whose softplus is <paramref name="s"/> &gt; 0.</summary>
    public static double InverseSoftplus(double s) => s > 30 ? s : s < 1e-6 ? Math.Log(s) : s + Math.Log(1 - Math.Exp(-s));

    /// <summary>Adds a component with the given mean and isotropic scale (Cholesky factor scale·I); returns its index.</summary>
    public int AddComponent(ReadOnlySpan<double> mean, double scale)
    {
        if (ComponentCount == Capacity)
        {
            throw new InvalidOperationException($"The prior already holds its capacity of {Capacity} components.");
        }
        if (mean.Length != Dimension)
        {
            throw new ArgumentException($"The mean has {mean.Length} values, the dimension is {Dimension}.", nameof(mean));
        }
        if (!(scale > 0) || !double.IsFinite(scale))
        {
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "The scale must be positive and finite.");
        }
        foreach (double v in mean)
        {
            if (!double.IsFinite(v))
            {
                throw new ArgumentException("The mean has a non-finite entry.", nameof(mean));
            }
        }
        int k = ComponentCount;
        int d = Dimension;
        Span<double> p = _params.AsSpan(k * ParametersPerComponent, ParametersPerComponent);
        mean.CopyTo(p);
        Span<double> cov = p[d..];
        cov.Clear();
        double raw = InverseSoftplus(scale);
        if (CovarianceType == CovarianceType.Diagonal)
        {
            cov.Fill(raw);
        }
        else
        {
            for (int i = 0; i < d; i++)
            {
                cov[PackedIndex(i, i)] = raw;
            }
        }
        ComponentCount = k + 1;
        RefreshComponent(k);
        return k;
    }

    /// <summary>Recomputes the factors and log-determinants from <see cref="Parameters"/>.</summary>
    public void Refresh()
    {
        for (int k = 0; k < ComponentCount; k++)
        {
            RefreshComponent(k);
        }
    }

    internal static int PackedIndex(int i, int j) => (i * (i + 1) / 2) + j;

    private void RefreshComponent(int k)
    {
        int d = Dimension;
        ReadOnlySpan<double> cov = _params.AsSpan((k * ParametersPerComponent) + d, ParametersPerComponent - d);
        double logDet = 0;
        if (CovarianceType == CovarianceType.Diagonal)
        {
            Span<double> s = _factor.AsSpan(k * d, d);
            for (int j = 0; j < d; j++)
            {
                s[j] = Math.Max(Softplus(cov[j]), 1e-300);
                logDet += Math.Log(s[j]);
            }
        }
        else
        {
            Span<double> l = _factor.AsSpan(k * d * d, d * d);
            l.Clear();
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    l[(i * d) + j] = cov[PackedIndex(i, j)];
                }
                double diag = Math.Max(Softplus(cov[PackedIndex(i, i)]), 1e-300);
                l[(i * d) + i] = diag;
                logDet += Math.Log(diag);
            }
        }
        _logDet[k] = logDet;
        for (int j = 0; j < cov.Length; j++)
        {
            if (!double.IsFinite(cov[j]))
            {
                throw new InvalidOperationException($"Prior component {k} has a non-finite parameter (the optimisation diverged; lower the learning rate).");
            }
        }
    }

    /// <summary>x = μₖ + Lₖ ξ (the reparameterisation).</summary>
    public void Transform(int k, ReadOnlySpan<double> xi, Span<double> x)
    {
        int d = Dimension;
        ReadOnlySpan<double> mu = Mean(k);
        ReadOnlySpan<double> f = Factor(k);
        if (CovarianceType == CovarianceType.Diagonal)
        {
            for (int j = 0; j < d; j++)
            {
                x[j] = mu[j] + (f[j] * xi[j]);
            }
        }
        else
        {
            for (int i = 0; i < d; i++)
            {
                double s = mu[i];
                ReadOnlySpan<double> row = f.Slice(i * d, i + 1);
                for (int j = 0; j <= i; j++)
                {
                    s += row[j] * xi[j];
                }
                x[i] = s;
            }
        }
    }

    /// <summary>
    /// log p(x); writes ∇ₓ log p(x) into <paramref name="score"/> unless it is empty. <paramref name="scratch"/> needs
    /// <see cref="ScratchLength"/> doubles.
    /// </summary>
    public double LogDensity(ReadOnlySpan<double> x, Span<double> score, Span<double> scratch)
    {
        int d = Dimension;
        int kCount = ComponentCount;
        Span<double> logTerms = scratch[..kCount];
        Span<double> z = scratch.Slice(Capacity, kCount * d);
        double max = double.NegativeInfinity;
        for (int k = 0; k < kCount; k++)
        {
            Span<double> zk = z.Slice(k * d, d);
            Whiten(k, x, zk);
            double q = 0;
            for (int j = 0; j < d; j++)
            {
                q += zk[j] * zk[j];
            }
            logTerms[k] = (-0.5 * q) - _logDet[k];
            max = Math.Max(max, logTerms[k]);
        }
        double sum = 0;
        for (int k = 0; k < kCount; k++)
        {
            logTerms[k] = Math.Exp(logTerms[k] - max);
            sum += logTerms[k];
        }
        double logp = max + Math.Log(sum) - Math.Log(kCount) - (d * HalfLog2Pi);
        if (!score.IsEmpty)
        {
            // ∇log p = Σₖ rₖ (−Lₖ⁻ᵀ zₖ), zₖ = Lₖ⁻¹(x − μₖ).
            score.Clear();
            for (int k = 0; k < kCount; k++)
            {
                double r = logTerms[k] / sum;
                if (r == 0)
                {
                    continue;
                }
                Span<double> zk = z.Slice(k * d, d);
                SolveTransposed(k, zk);
                for (int j = 0; j < d; j++)
                {
                    score[j] -= r * zk[j];
                }
            }
        }
        return logp;
    }

    // z = L⁻¹ (x − μ) (forward substitution; division for a diagonal factor).
    private void Whiten(int k, ReadOnlySpan<double> x, Span<double> z)
    {
        int d = Dimension;
        ReadOnlySpan<double> mu = Mean(k);
        ReadOnlySpan<double> f = Factor(k);
        if (CovarianceType == CovarianceType.Diagonal)
        {
            for (int j = 0; j < d; j++)
            {
                z[j] = (x[j] - mu[j]) / f[j];
            }
            return;
        }
        for (int i = 0; i < d; i++)
        {
            double s = x[i] - mu[i];
            ReadOnlySpan<double> row = f.Slice(i * d, i);
            for (int j = 0; j < i; j++)
            {
                s -= row[j] * z[j];
            }
            z[i] = s / f[(i * d) + i];
        }
    }

    // z ← L⁻ᵀ z in place (back substitution).
    private void SolveTransposed(int k, Span<double> z)
    {
        int d = Dimension;
        ReadOnlySpan<double> f = Factor(k);
        if (CovarianceType == CovarianceType.Diagonal)
        {
            for (int j = 0; j < d; j++)
            {
                z[j] /= f[j];
            }
            return;
        }
        for (int i = d - 1; i >= 0; i--)
        {
            double s = z[i];
            for (int j = i + 1; j < d; j++)
            {
                s -= f[(j * d) + i] * z[j];
            }
            z[i] = s / f[(i * d) + i];
        }
    }

    /// <summary>
    /// Adds the pathwise gradient of one reparameterised sample x = μₖ + Lₖ ξ to <paramref name="gradient"/> (the
    /// component's parameter block): ∂/∂μ = g, ∂/∂L_ij = gᵢ ξⱼ (i ≥ j), through softplus on the diagonal, for
    /// g = ∂f/∂x. docs/theory/samplers.md#elbo-gradient
    /// </summary>
    public void AccumulatePathwise(int k, ReadOnlySpan<double> g, ReadOnlySpan<double> xi, Span<double> gradient)
    {
        int d = Dimension;
        ReadOnlySpan<double> raw = _params.AsSpan((k * ParametersPerComponent) + d, ParametersPerComponent - d);
        for (int j = 0; j < d; j++)
        {
            gradient[j] += g[j];
        }
        Span<double> gc = gradient[d..];
        if (CovarianceType == CovarianceType.Diagonal)
        {
            for (int j = 0; j < d; j++)
            {
                gc[j] += g[j] * xi[j] * Sigmoid(raw[j]);
            }
            return;
        }
        for (int i = 0; i < d; i++)
        {
            int b = PackedIndex(i, 0);
            for (int j = 0; j < i; j++)
            {
                gc[b + j] += g[i] * xi[j];
            }
            gc[b + i] += g[i] * xi[i] * Sigmoid(raw[b + i]);
        }
    }

    private static double Sigmoid(double r) => 1 / (1 + Math.Exp(-r));

    /// <summary>Per-coordinate variance of the whole mixture (for a diagonal preconditioner).</summary>
    public double[] MarginalVariances()
    {
        int d = Dimension;
        int kc = ComponentCount;
        var mean = new double[d];
        var second = new double[d];
        for (int k = 0; k < kc; k++)
        {
            ReadOnlySpan<double> mu = Mean(k);
            ReadOnlySpan<double> f = Factor(k);
            for (int i = 0; i < d; i++)
            {
                double v;
                if (CovarianceType == CovarianceType.Diagonal)
                {
                    v = f[i] * f[i];
                }
                else
                {
                    v = 0;
                    for (int j = 0; j <= i; j++)
                    {
                        v += f[(i * d) + j] * f[(i * d) + j];
                    }
                }
                mean[i] += mu[i] / kc;
                second[i] += (v + (mu[i] * mu[i])) / kc;
            }
        }
        for (int i = 0; i < d; i++)
        {
            second[i] = Math.Max(second[i] - (mean[i] * mean[i]), 1e-300);
        }
        return second;
    }

    /// <summary>The prior as an immutable <see cref="GaussianMixture"/> (equal weights), e.g. to write it as mixture JSON.</summary>
    public GaussianMixture ToMixture()
    {
        int d = Dimension;
        int kc = ComponentCount;
        var weights = new double[kc];
        Array.Fill(weights, 1.0 / kc);
        var means = new double[kc * d];
        double[] cov;
        for (int k = 0; k < kc; k++)
        {
            Mean(k).CopyTo(means.AsSpan(k * d, d));
        }
        if (CovarianceType == CovarianceType.Diagonal)
        {
            cov = new double[kc * d];
            for (int k = 0; k < kc; k++)
            {
                ReadOnlySpan<double> s = Factor(k);
                for (int j = 0; j < d; j++)
                {
                    cov[(k * d) + j] = s[j] * s[j];
                }
            }
        }
        else
        {
            cov = new double[kc * d * d];
            for (int k = 0; k < kc; k++)
            {
                ReadOnlySpan<double> l = Factor(k);
                Span<double> c = cov.AsSpan(k * d * d, d * d);
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j <= i; j++)
                    {
                        double s = 0;
                        for (int m = 0; m <= j; m++)
                        {
                            s += l[(i * d) + m] * l[(j * d) + m];
                        }
                        c[(i * d) + j] = s;
                        c[(j * d) + i] = s;
                    }
                }
            }
        }
        return new GaussianMixture(weights, means, cov, CovarianceType);
    }
}

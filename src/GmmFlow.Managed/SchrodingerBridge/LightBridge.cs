using GmmFlow.Native;
using GmmFlow.Simd;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>
/// A Schrödinger bridge between a source law p0 and a target law p1 in the LightSB family
/// (docs/theory/exact-sb.md#parametrisation): the potential v(y) = Σ_k α_k N(y; r_k, εS_k), ε = σ², defines the
/// static plan π(y | x) ∝ exp(⟨x, y⟩/ε) v(y), which is a Gaussian mixture in closed form, and the SB drift
/// u(x, t) of dX = u dt + σ dW on [0, 1] is closed form too. Immutable; every method is safe to call concurrently.
/// </summary>
/// <remarks>
/// Fit one to unpaired samples with <see cref="LightBridgeFitter"/>; <see cref="FromGaussians"/> gives the one-component
/// bridge that is the closed-form Gaussian entropic-OT plan. Points are N×d row-major throughout.
/// </remarks>
public sealed class LightBridge
{
    private readonly double _eps;
    private readonly double[] _logWeights, _weights, _centers, _scales, _factors;

    /// <summary>
    /// A bridge from its potential's parameters.
    /// </summary>
    /// <param name="noise">σ &gt; 0, the diffusion coefficient (ε = σ² is the noise variance; POT/OTT's reg = 2σ²).</param>
    /// <param name="weights">α_k &gt; 0 (K values; renormalised to sum 1: the plan does not depend on their scale).</param>
    /// <param name="centers">r_k, K×d.</param>
    /// <param name="scales">S_k (SPD): K×d×d row-major for <see cref="CovarianceType.Full"/>, K×d diagonals for <see cref="CovarianceType.Diagonal"/>.</param>
    /// <param name="covarianceType">Full or Diagonal.</param>
    /// <exception cref="ArgumentOutOfRangeException">σ not finite and &gt; 0, or an unsupported covariance type.</exception>
    /// <exception cref="ArgumentException">Empty or inconsistent sizes, a weight ≤ 0, a non-symmetric scale.</exception>
    /// <exception cref="NonFiniteValueException">A NaN or infinite parameter (the component is named).</exception>
    /// <exception cref="NotPositiveDefiniteException">A scale matrix is not positive definite.</exception>
    public LightBridge(double noise, ReadOnlySpan<double> weights, ReadOnlySpan<double> centers, ReadOnlySpan<double> scales,
        CovarianceType covarianceType = CovarianceType.Full)
        : this(noise, weights, centers, scales, covarianceType, null)
    {
    }

    internal LightBridge(double noise, ReadOnlySpan<double> weights, ReadOnlySpan<double> centers, ReadOnlySpan<double> scales,
        CovarianceType covarianceType, Lapack? lapack)
    {
        CheckNoise(noise);
        if (covarianceType is not (CovarianceType.Full or CovarianceType.Diagonal))
        {
            throw new ArgumentOutOfRangeException(nameof(covarianceType), covarianceType, "A bridge potential has Full or Diagonal scales.");
        }
        int k = weights.Length;
        if (k == 0)
        {
            throw new ArgumentException("A bridge potential needs at least one component (weights is empty).", nameof(weights));
        }
        if (centers.Length == 0 || centers.Length % k != 0)
        {
            throw new ArgumentException($"centers has {centers.Length} values, which is not K×d for K = {k} components.", nameof(centers));
        }
        int d = centers.Length / k;
        int block = covarianceType == CovarianceType.Full ? d * d : d;
        if (scales.Length != k * block)
        {
            throw new ArgumentException($"scales has {scales.Length} values; {k} {covarianceType} components in dimension {d} need {k * block}.", nameof(scales));
        }
        Noise = noise;
        _eps = noise * noise;
        Dimension = d;
        ComponentCount = k;
        CovarianceType = covarianceType;
        double sum = 0;
        for (int c = 0; c < k; c++)
        {
            double w = weights[c];
            if (!double.IsFinite(w))
            {
                ThrowHelper.ThrowNonFinite("weight of component", c, 0, w, nameof(weights));
            }
            if (!(w > 0))
            {
                throw new ArgumentException($"weight of component {c} is {w}; potential weights must be > 0.", nameof(weights));
            }
            sum += w;
        }
        _weights = new double[k];
        _logWeights = new double[k];
        // Weights already normalised up to rounding are kept bit for bit, so a bridge read back from its JSON is the
        // same bridge (dividing by a sum of 1 ± 1 ulp would move them).
        double scale = Math.Abs(sum - 1) <= 1e-14 ? 1 : sum;
        for (int c = 0; c < k; c++)
        {
            _weights[c] = weights[c] / scale;
            _logWeights[c] = Math.Log(_weights[c]);
        }
        for (int c = 0; c < k; c++)
        {
            FiniteCheck(centers.Slice(c * d, d), "center of component", c, nameof(centers));
            FiniteCheck(scales.Slice(c * block, block), "scale of component", c, nameof(scales));
        }
        _centers = centers.ToArray();
        _scales = new double[k * d * d];
        _factors = new double[k * d * d];
        Lapack? la = covarianceType == CovarianceType.Full ? lapack ?? Lapack.Default : null;
        for (int c = 0; c < k; c++)
        {
            Span<double> s = _scales.AsSpan(c * d * d, d * d);
            Span<double> l = _factors.AsSpan(c * d * d, d * d);
            if (covarianceType == CovarianceType.Diagonal)
            {
                for (int i = 0; i < d; i++)
                {
                    double v = scales[c * d + i];
                    if (!(v > 0))
                    {
                        throw new NotPositiveDefiniteException("scale of component", c, i + 1, nameof(scales));
                    }
                    s[i * d + i] = v;
                    l[i * d + i] = Math.Sqrt(v);
                }
                continue;
            }
            ReadOnlySpan<double> given = scales.Slice(c * d * d, d * d);
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    double a = given[i * d + j], b = given[j * d + i];
                    if (Math.Abs(a - b) > 1e-9 * (Math.Abs(a) + Math.Abs(b)) + 1e-300)
                    {
                        throw new ArgumentException($"scale of component {c} is not symmetric (entries [{i},{j}] = {a} and [{j},{i}] = {b}).", nameof(scales));
                    }
                }
            }
            given.CopyTo(s);
            given.CopyTo(l);
            int info = la!.TryCholesky(l, d);
            if (info != 0)
            {
                throw new NotPositiveDefiniteException("scale of component", c, info, nameof(scales));
            }
        }
        Lapack = la;
    }

    /// <summary>The LAPACK provider of full scales (null for diagonal ones, which need none).</summary>
    internal Lapack? Lapack { get; }

    /// <summary>σ, the diffusion coefficient of dX = u dt + σ dW (ε = σ²).</summary>
    public double Noise { get; }

    /// <summary>ε = σ², the noise variance.</summary>
    public double NoiseVariance => _eps;

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>K, the number of potential components.</summary>
    public int ComponentCount { get; }

    /// <summary>Whether the scales S_k are full or diagonal.</summary>
    public CovarianceType CovarianceType { get; }

    /// <summary>α_k, normalised to sum 1.</summary>
    public ReadOnlySpan<double> Weights => _weights;

    /// <summary>r_k, K×d.</summary>
    public ReadOnlySpan<double> Centers => _centers;

    /// <summary>S_k as K×d×d row-major matrices (diagonal ones too).</summary>
    public ReadOnlySpan<double> Scales => _scales;

    /// <summary>Lower Cholesky factors L_k of S_k (S_k = L_k L_kᵀ), K×d×d row-major.</summary>
    public ReadOnlySpan<double> ScaleFactors => _factors;

    internal ReadOnlySpan<double> LogWeights => _logWeights;

    /// <summary>S_k in the storage of <see cref="CovarianceType"/>: K×d×d, or K×d diagonals.</summary>
    public double[] CompactScales()
    {
        if (CovarianceType == CovarianceType.Full)
        {
            return (double[])_scales.Clone();
        }
        int d = Dimension;
        var result = new double[ComponentCount * d];
        for (int c = 0; c < ComponentCount; c++)
        {
            for (int i = 0; i < d; i++)
            {
                result[c * d + i] = _scales[c * d * d + i * d + i];
            }
        }
        return result;
    }

    /// <summary>
    /// The one-component bridge whose plan is the closed-form entropic-OT plan between N(m0, Σ0) and N(m1, Σ1)
    /// (docs/theory/exact-sb.md#gaussian): S = G = Σ0⁻¹C, r = m1 − G m0, so X1 | X0 = x ~ N(m1 + G(x − m0), εG).
    /// </summary>
    /// <exception cref="NotPositiveDefiniteException">A covariance is not positive definite.</exception>
    public static LightBridge FromGaussians(ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, double noise)
    {
        CheckNoise(noise);
        int d = mean0.Length;
        var (center, scale) = GaussianPlan(Lapack.Default, mean0, covariance0, mean1, covariance1, d, noise);
        return new LightBridge(noise, [1.0], center, scale, CovarianceType.Full);
    }

    /// <summary>r = m1 − G m0 and S = G of the Gaussian entropic-OT plan (G from <see cref="GaussianBridge.CouplingGain"/>).</summary>
    internal static (double[] Center, double[] Scale) GaussianPlan(Lapack lapack, ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, int d, double noise)
    {
        var bridge = GaussianBridge.Create(lapack, CostKind.SchrodingerBridge, mean0, covariance0, mean1, covariance1, d, noise);
        var g = new double[d * d];
        bridge.CouplingGain(g);
        // G = Σ0⁻¹C is SPD in exact arithmetic; symmetrise the rounding.
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double s = 0.5 * (g[i * d + j] + g[j * d + i]);
                g[i * d + j] = s;
                g[j * d + i] = s;
            }
        }
        var r = new double[d];
        for (int i = 0; i < d; i++)
        {
            r[i] = mean1[i] - DenseKernels.Dot(g.AsSpan(i * d, d), mean0);
        }
        return (r, g);
    }

    internal static void CheckNoise(double noise)
    {
        if (!double.IsFinite(noise) || !(noise > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(noise), noise, "The bridge noise σ must be finite and > 0 (σ = 0 is optimal transport, not a Schrödinger bridge).");
        }
    }

    private static void FiniteCheck(ReadOnlySpan<double> values, string what, int index, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                ThrowHelper.ThrowNonFinite(what, index, i, values[i], paramName);
            }
        }
    }

    internal int CheckPoints(ReadOnlySpan<double> points, string name)
    {
        int d = Dimension;
        if (points.Length % d != 0)
        {
            throw new ArgumentException($"{name} has {points.Length} values, not a multiple of the dimension {d}.", name);
        }
        for (int i = 0; i < points.Length; i++)
        {
            if (!double.IsFinite(points[i]))
            {
                ThrowHelper.ThrowNonFinite($"{name}, point", i / d, i % d, points[i], name);
            }
        }
        return points.Length / d;
    }

    // ---- per-point kernels (docs/theory/exact-sb.md#conditional) ----

    /// <summary>
    /// log of the conditional component weights w_k(x) ∝ α_k exp(⟨x, r_k⟩/ε + xᵀS_k x/(2ε)) (normalised) and the
    /// component means r_k + S_k x; returns log c(x) = log Σ_k α_k exp(…).
    /// </summary>
    internal double ConditionalComponents(ReadOnlySpan<double> x, Span<double> logWeights, Span<double> means)
    {
        int d = Dimension, k = ComponentCount;
        double max = double.NegativeInfinity;
        for (int c = 0; c < k; c++)
        {
            Span<double> m = means.Slice(c * d, d);
            ReadOnlySpan<double> s = _scales.AsSpan(c * d * d, d * d);
            ReadOnlySpan<double> r = _centers.AsSpan(c * d, d);
            for (int i = 0; i < d; i++)
            {
                m[i] = DenseKernels.Dot(s.Slice(i * d, d), x);
            }
            double quad = DenseKernels.Dot(x, m), lin = DenseKernels.Dot(x, r);
            for (int i = 0; i < d; i++)
            {
                m[i] += r[i];
            }
            double l = _logWeights[c] + (lin + 0.5 * quad) / _eps;
            logWeights[c] = l;
            max = Math.Max(max, l);
        }
        double sum = 0;
        for (int c = 0; c < k; c++)
        {
            sum += Math.Exp(logWeights[c] - max);
        }
        double lse = max + Math.Log(sum);
        for (int c = 0; c < k; c++)
        {
            logWeights[c] -= lse;
        }
        return lse;
    }

    /// <summary>
    /// The exact moments of π(· | x) for each of N points x (N×d row-major; N = 1 for a single point): mean
    /// Σ_k w_k m_k, covariance Σ_k w_k (εS_k + m_k m_kᵀ) − mean meanᵀ, with m_k = r_k + S_k x
    /// (docs/theory/exact-sb.md#conditional). <paramref name="mean"/> receives N×d values, <paramref name="covariance"/>
    /// N×d×d (point i's d×d block at i·d²); the points run on all cores.
    /// </summary>
    /// <exception cref="ArgumentException">A span of the wrong length.</exception>
    /// <exception cref="NonFiniteValueException">A point has a NaN or infinite coordinate.</exception>
    public void ConditionalMoments(ReadOnlySpan<double> x, Span<double> mean, Span<double> covariance)
    {
        int d = Dimension;
        int n = CheckPoints(x, nameof(x));
        CheckLength(mean, n * d, nameof(mean));
        CheckLength(covariance, n * d * d, nameof(covariance));
        var body = new PointBody
        {
            Bridge = this, Points = x.ToArray(), Output = new double[n * d], Output2 = new double[n * d * d], Mode = PointMode.Moments,
        };
        ParallelRange.For(n, Grain(), body);
        body.Output.CopyTo(mean);
        body.Output2.CopyTo(covariance);
    }

    /// <summary>The moments of the mixture with log-weights <paramref name="logw"/> and component means <paramref name="means"/>.</summary>
    private void MixtureMoments(ReadOnlySpan<double> logw, ReadOnlySpan<double> means, Span<double> mean, Span<double> covariance)
    {
        int d = Dimension, k = ComponentCount;
        mean.Clear();
        covariance.Clear();
        for (int c = 0; c < k; c++)
        {
            double w = Math.Exp(logw[c]);
            ReadOnlySpan<double> m = means.Slice(c * d, d);
            for (int i = 0; i < d; i++)
            {
                mean[i] += w * m[i];
                for (int j = 0; j < d; j++)
                {
                    covariance[i * d + j] += w * (_eps * _scales[c * d * d + i * d + j] + m[i] * m[j]);
                }
            }
        }
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                covariance[i * d + j] -= mean[i] * mean[j];
            }
        }
    }

    /// <summary>The conditional plan π(· | x) as a Gaussian mixture: weights w_k(x), means r_k + S_k x, covariances εS_k.</summary>
    public GaussianMixture Conditional(ReadOnlySpan<double> x)
    {
        int d = Dimension, k = ComponentCount;
        CheckLength(x, d, nameof(x));
        CheckPoints(x, nameof(x));
        var logw = new double[k];
        var means = new double[k * d];
        ConditionalComponents(x, logw, means);
        var w = new double[k];
        for (int c = 0; c < k; c++)
        {
            // Components with weight below 1e-300 are kept at a tiny positive weight: a mixture needs w > 0.
            w[c] = Math.Max(Math.Exp(logw[c]), 1e-300);
        }
        var cov = new double[k * d * d];
        for (int i = 0; i < cov.Length; i++)
        {
            cov[i] = _eps * _scales[i];
        }
        return new GaussianMixture(w, means, cov, CovarianceType.Full, renormalizeWeights: true);
    }

    /// <summary>log c(x) = log Σ_k α_k exp(⟨x, r_k⟩/ε + xᵀS_k x/(2ε)) per point (α normalised).</summary>
    public void LogNormalizer(ReadOnlySpan<double> points, Span<double> destination) => PerPoint(points, destination, PointMode.LogNormalizer);

    /// <summary>log v(y) = log Σ_k α_k N(y; r_k, εS_k) per point (α normalised).</summary>
    public void LogPotential(ReadOnlySpan<double> points, Span<double> destination) => PerPoint(points, destination, PointMode.LogPotential);

    private void PerPoint(ReadOnlySpan<double> points, Span<double> destination, PointMode mode)
    {
        int n = CheckPoints(points, nameof(points));
        CheckLength(destination, n, nameof(destination));
        var body = new PointBody { Bridge = this, Points = points.ToArray(), Output = new double[n], Mode = mode };
        ParallelRange.For(n, Grain(), body);
        body.Output.CopyTo(destination);
    }

    /// <summary>
    /// The LightSB objective E_{p0}[log c(X0)] − E_{p1}[log v(X1)] on sample sets (docs/theory/exact-sb.md#objective):
    /// up to a constant that does not depend on the potential, KL(π* ‖ π) for the true SB plan π*; lower is better.
    /// </summary>
    public double Objective(ReadOnlySpan<double> source, ReadOnlySpan<double> target)
    {
        int n0 = CheckPoints(source, nameof(source)), n1 = CheckPoints(target, nameof(target));
        if (n0 == 0 || n1 == 0)
        {
            throw new ArgumentException("The objective needs at least one source and one target point.", n0 == 0 ? nameof(source) : nameof(target));
        }
        var a = new double[n0];
        var b = new double[n1];
        LogNormalizer(source, a);
        LogPotential(target, b);
        return a.Average() - b.Average();
    }

    /// <summary>
    /// Draws <paramref name="perPoint"/> samples of π(· | x) for every point x, without simulation: a component k with
    /// probability w_k(x), then r_k + S_k x + σ L_k ξ. The result is (N·M)×d, the M samples of point i in rows
    /// i·M … i·M + M − 1; sample j of point i uses the random stream i·M + j, so results do not depend on thread count.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="perPoint"/> below 1.</exception>
    public double[] SampleConditional(ReadOnlySpan<double> points, int perPoint, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perPoint, 1);
        int n = CheckPoints(points, nameof(points));
        long total = (long)n * perPoint * Dimension;
        if (total > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(perPoint), perPoint, $"{n} points × {perPoint} samples × d = {Dimension} exceed one array.");
        }
        var body = new PointBody
        {
            Bridge = this, Points = points.ToArray(), Output = new double[total], Mode = PointMode.Sample,
            PerPoint = perPoint, Rng = new CounterRng(seed),
        };
        ParallelRange.For(n, Math.Max(1, Grain() / perPoint), body);
        return body.Output;
    }

    /// <summary>
    /// Samples of the bridge marginal at time t from source points x0: X_t = (1 − t)x0 + t y + √(ε t(1 − t)) ξ with
    /// y ~ π(· | x0) (the reference process is a Brownian bridge between the coupled end points; docs/theory/exact-sb.md#marginals).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">t outside [0, 1].</exception>
    public double[] SampleMarginal(double t, ReadOnlySpan<double> sourcePoints, ulong seed)
    {
        if (!(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "t must lie in [0, 1].");
        }
        int d = Dimension;
        double[] y = SampleConditional(sourcePoints, 1, seed);
        var rng = new CounterRng(seed ^ 0x6A09E667F3BCC909UL);
        double scale = Math.Sqrt(_eps * t * (1 - t));
        var xi = new double[d];
        for (int i = 0; i < y.Length / d; i++)
        {
            rng.FillNormal((ulong)i, 0, xi);
            for (int j = 0; j < d; j++)
            {
                y[i * d + j] = (1 - t) * sourcePoints[i * d + j] + t * y[i * d + j] + scale * xi[j];
            }
        }
        return y;
    }

    /// <summary>The SB drift u(x, t) as a velocity field for <see cref="FlowIntegrator.EulerMaruyama"/> (docs/theory/exact-sb.md#drift).</summary>
    public IVelocityField CreateField() => new LightBridgeField(this);

    /// <summary>
    /// Transports source points to the target by Euler–Maruyama on dX = u(X, t) dt + σ dW with the closed-form drift.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 step.</exception>
    public double[] Transport(ReadOnlySpan<double> points, int steps, ulong seed, IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        CheckPoints(points, nameof(points));
        double[] states = points.ToArray();
        FlowIntegrator.EulerMaruyama(CreateField(), states, Noise, seed,
            new IntegrationOptions { Steps = steps, Progress = progress, CancellationToken = cancellationToken });
        return states;
    }

    private int Grain() => Math.Max(1, 16384 / Math.Max(1, ComponentCount * Dimension * Dimension));

    internal static void CheckLength(ReadOnlySpan<double> span, int expected, string name)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has {span.Length} values; expected {expected}.", name);
        }
    }

    internal double LogPotentialAt(ReadOnlySpan<double> y, Span<double> scratch)
    {
        // log N(y; r_k, εS_k) = −½ d log(2πε) − Σ log L_ii − |L⁻¹(y − r)|²/(2ε), by forward substitution.
        int d = Dimension, k = ComponentCount;
        double max = double.NegativeInfinity;
        Span<double> z = scratch[..d];
        Span<double> terms = scratch.Slice(d, k);
        double constant = -0.5 * d * Math.Log(2 * Math.PI * _eps);
        for (int c = 0; c < k; c++)
        {
            ReadOnlySpan<double> l = _factors.AsSpan(c * d * d, d * d);
            double logDet = 0, norm = 0;
            for (int i = 0; i < d; i++)
            {
                double s = y[i] - _centers[c * d + i] - DenseKernels.Dot(l.Slice(i * d, i), z[..i]);
                double lii = l[i * d + i];
                z[i] = s / lii;
                norm += z[i] * z[i];
                logDet += Math.Log(lii);
            }
            double v = _logWeights[c] + constant - logDet - 0.5 * norm / _eps;
            terms[c] = v;
            max = Math.Max(max, v);
        }
        double sum = 0;
        for (int c = 0; c < k; c++)
        {
            sum += Math.Exp(terms[c] - max);
        }
        return max + Math.Log(sum);
    }

    private enum PointMode { LogNormalizer, LogPotential, Sample, Moments }

    private struct PointBody : IRangeBody
    {
        public LightBridge Bridge;
        public double[] Points, Output, Output2;
        public PointMode Mode;
        public int PerPoint;
        public CounterRng Rng;

        public readonly void Execute(int start, int end)
        {
            int d = Bridge.Dimension, k = Bridge.ComponentCount;
            double[] scratch = BridgeScratch.Get(k * d + 2 * k + 2 * d);
            Span<double> logw = scratch.AsSpan(0, k);
            Span<double> means = scratch.AsSpan(k, k * d);
            Span<double> xi = scratch.AsSpan(k + k * d, d);
            for (int p = start; p < end; p++)
            {
                ReadOnlySpan<double> x = Points.AsSpan(p * d, d);
                switch (Mode)
                {
                    case PointMode.LogNormalizer:
                        Output[p] = Bridge.ConditionalComponents(x, logw, means);
                        break;
                    case PointMode.LogPotential:
                        Output[p] = Bridge.LogPotentialAt(x, scratch.AsSpan(k));
                        break;
                    case PointMode.Moments:
                        Bridge.ConditionalComponents(x, logw, means);
                        Bridge.MixtureMoments(logw, means, Output.AsSpan(p * d, d), Output2.AsSpan(p * d * d, d * d));
                        break;
                    default:
                        Bridge.ConditionalComponents(x, logw, means);
                        for (int j = 0; j < PerPoint; j++)
                        {
                            ulong stream = (ulong)p * (ulong)PerPoint + (ulong)j;
                            double u = Rng.Uniform(stream, 0);
                            int c = 0;
                            double acc = Math.Exp(logw[0]);
                            while (c < k - 1 && u > acc)
                            {
                                c++;
                                acc += Math.Exp(logw[c]);
                            }
                            Rng.FillNormal(stream, 1, xi);
                            Span<double> y = Output.AsSpan((int)(stream * (ulong)d), d);
                            ReadOnlySpan<double> l = Bridge._factors.AsSpan(c * d * d, d * d);
                            double sigma = Bridge.Noise;
                            for (int i = 0; i < d; i++)
                            {
                                // L is lower triangular: row i needs ξ_0 … ξ_i only.
                                y[i] = means[c * d + i] + sigma * DenseKernels.Dot(l.Slice(i * d, i + 1), xi[..(i + 1)]);
                            }
                        }
                        break;
                }
            }
        }
    }
}

/// <summary>Per-thread scratch buffers for the per-point kernels (grown on demand, never shrunk).</summary>
internal static class BridgeScratch
{
    [ThreadStatic]
    private static double[]? t_buffer;

    public static double[] Get(int length)
    {
        double[]? b = t_buffer;
        if (b is null || b.Length < length)
        {
            b = new double[Math.Max(length, 64)];
            t_buffer = b;
        }
        return b;
    }
}

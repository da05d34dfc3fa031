namespace GmmFlow.Sampling;

/// <summary>
/// Neal's funnel: x₁ ~ N(0, 3²), xᵢ | x₁ ~ N(0, e^{x₁}) for i ≥ 2 (normalised: log Z = 0). docs/theory/samplers.md#targets
/// </summary>
public sealed class FunnelTarget : PointTarget, IKnownNormalizer, IExactSampler
{
    private const double HalfLog2Pi = 0.91893853320467274178;
    private const double Scale = 3.0;

    public FunnelTarget(int dimension = 10)
        : base("funnel", dimension)
    {
        if (dimension < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The funnel needs d ≥ 2.");
        }
    }

    public double LogNormalizer => 0;

    public override double LogDensity(ReadOnlySpan<double> x, Span<double> gradient)
    {
        double v = x[0];
        double precision = Math.Exp(-v);
        double sum = 0;
        for (int i = 1; i < x.Length; i++)
        {
            sum += x[i] * x[i];
        }
        int m = x.Length - 1;
        double logp = -HalfLog2Pi - Math.Log(Scale) - (v * v / (2 * Scale * Scale))
            - (m * HalfLog2Pi) - (0.5 * m * v) - (0.5 * sum * precision);
        if (!gradient.IsEmpty)
        {
            gradient[0] = (-v / (Scale * Scale)) - (0.5 * m) + (0.5 * sum * precision);
            for (int i = 1; i < x.Length; i++)
            {
                gradient[i] = -x[i] * precision;
            }
        }
        return logp;
    }

    public void SampleExact(ulong seed, Span<double> destination)
    {
        int d = Dimension;
        var rng = new CounterRng(seed);
        for (int p = 0; p < destination.Length / d; p++)
        {
            Span<double> x = destination.Slice(p * d, d);
            rng.FillNormal((ulong)p, 0, x);
            x[0] *= Scale;
            double s = Math.Exp(0.5 * x[0]);
            for (int i = 1; i < d; i++)
            {
                x[i] *= s;
            }
        }
    }
}

/// <summary>
/// A mixture target ρ(x) = Σₖ exp(ℓₖ(x)) with known modes (its components): log ρ by log-sum-exp, ∇log ρ = Σₖ rₖ ∇ℓₖ
/// with responsibilities rₖ, and the most likely mode = argmaxₖ ℓₖ.
/// </summary>
public abstract class MixtureTarget(string name, int dimension) : PointTarget(name, dimension), IKnownModes
{
    /// <summary>Number of components K.</summary>
    protected abstract int Components { get; }

    public int ModeCount => Components;

    /// <summary>ℓₖ(x): log of weight × density of component k.</summary>
    protected abstract double ComponentLog(int c, ReadOnlySpan<double> x);

    /// <summary>Adds r · ∇ℓₖ(x) to <paramref name="gradient"/>.</summary>
    protected abstract void AddComponentGradient(int c, ReadOnlySpan<double> x, double responsibility, Span<double> gradient);

    public override double LogDensity(ReadOnlySpan<double> x, Span<double> gradient)
    {
        int k = Components;
        Span<double> terms = k <= 256 ? stackalloc double[k] : new double[k];
        double max = double.NegativeInfinity;
        for (int c = 0; c < k; c++)
        {
            terms[c] = ComponentLog(c, x);
            max = Math.Max(max, terms[c]);
        }
        double sum = 0;
        for (int c = 0; c < k; c++)
        {
            terms[c] = Math.Exp(terms[c] - max);
            sum += terms[c];
        }
        if (!gradient.IsEmpty)
        {
            gradient.Clear();
            for (int c = 0; c < k; c++)
            {
                if (terms[c] != 0)
                {
                    AddComponentGradient(c, x, terms[c] / sum, gradient);
                }
            }
        }
        return max + Math.Log(sum);
    }

    public int MostLikelyMode(ReadOnlySpan<double> point)
    {
        int best = 0;
        double bestValue = double.NegativeInfinity;
        for (int c = 0; c < Components; c++)
        {
            double v = ComponentLog(c, point);
            if (v > bestValue)
            {
                bestValue = v;
                best = c;
            }
        }
        return best;
    }
}

/// <summary>
/// ρ(x) = Z · Σₖ wₖ N(x; mₖ, diag vₖ): a Gaussian mixture target with a known normaliser Z (GMM40 is
/// <see cref="Gmm40"/>). Exact samples and modes (the components) are available.
/// </summary>
public sealed class GaussianMixtureTarget : MixtureTarget, IKnownNormalizer, IExactSampler
{
    private const double HalfLog2Pi = 0.91893853320467274178;
    private readonly double[] _logWeights;
    private readonly double[] _weights;
    private readonly double[] _means;
    private readonly double[] _precisions;
    private readonly double[] _sd;
    private readonly double[] _logNorm;

    /// <param name="name">Name used in messages.</param>
    /// <param name="weights">K positive weights (normalised here).</param>
    /// <param name="means">K×d means.</param>
    /// <param name="variances">K×d diagonal variances.</param>
    /// <param name="logNormalizer">log Z: the density is scaled by Z so that log Z is known and non-trivial.</param>
    public GaussianMixtureTarget(string name, ReadOnlySpan<double> weights, ReadOnlySpan<double> means, ReadOnlySpan<double> variances, double logNormalizer = 0)
        : base(name, weights.Length == 0 ? 0 : means.Length / weights.Length)
    {
        int k = weights.Length;
        int d = Dimension;
        if (means.Length != k * d || variances.Length != k * d)
        {
            throw new ArgumentException($"means and variances need K×d = {k}×{d} values (got {means.Length}, {variances.Length}).", nameof(means));
        }
        double total = 0;
        foreach (double w in weights)
        {
            if (!(w > 0) || !double.IsFinite(w))
            {
                throw new ArgumentException("Mixture weights must be positive and finite.", nameof(weights));
            }
            total += w;
        }
        foreach (double v in variances)
        {
            if (!(v > 0) || !double.IsFinite(v))
            {
                throw new ArgumentException("Variances must be positive and finite.", nameof(variances));
            }
        }
        if (!double.IsFinite(logNormalizer))
        {
            throw new ArgumentException("log Z must be finite.", nameof(logNormalizer));
        }
        _weights = new double[k];
        _logWeights = new double[k];
        _means = means.ToArray();
        _precisions = new double[k * d];
        _sd = new double[k * d];
        _logNorm = new double[k];
        for (int c = 0; c < k; c++)
        {
            _weights[c] = weights[c] / total;
            _logWeights[c] = Math.Log(_weights[c]);
            double logDet = 0;
            for (int j = 0; j < d; j++)
            {
                double v = variances[(c * d) + j];
                _precisions[(c * d) + j] = 1 / v;
                _sd[(c * d) + j] = Math.Sqrt(v);
                logDet += Math.Log(v);
            }
            _logNorm[c] = logNormalizer + _logWeights[c] - (d * HalfLog2Pi) - (0.5 * logDet);
        }
        LogNormalizer = logNormalizer;
    }

    /// <summary>GMM40 of the sampler benchmarks: 40 equally weighted unit-covariance components, means U[−40, 40]ᵈ drawn from <paramref name="seed"/>.</summary>
    public static GaussianMixtureTarget Gmm40(int dimension = 50, ulong seed = 0)
    {
        const int K = 40;
        var rng = new CounterRng(seed);
        var means = new double[K * dimension];
        for (int i = 0; i < means.Length; i++)
        {
            means[i] = -40 + (80 * rng.Uniform((ulong)i, 0));
        }
        var variances = new double[K * dimension];
        Array.Fill(variances, 1.0);
        var weights = new double[K];
        Array.Fill(weights, 1.0 / K);
        return new GaussianMixtureTarget("gmm40", weights, means, variances);
    }

    public double LogNormalizer { get; }
    public ReadOnlySpan<double> Means => _means;

    protected override int Components => _weights.Length;

    protected override void AddComponentGradient(int c, ReadOnlySpan<double> x, double responsibility, Span<double> gradient)
    {
        int d = Dimension;
        ReadOnlySpan<double> m = _means.AsSpan(c * d, d);
        ReadOnlySpan<double> p = _precisions.AsSpan(c * d, d);
        for (int j = 0; j < d; j++)
        {
            gradient[j] += responsibility * (m[j] - x[j]) * p[j];
        }
    }

    protected override double ComponentLog(int c, ReadOnlySpan<double> x)
    {
        int d = Dimension;
        ReadOnlySpan<double> m = _means.AsSpan(c * d, d);
        ReadOnlySpan<double> p = _precisions.AsSpan(c * d, d);
        double q = 0;
        for (int j = 0; j < d; j++)
        {
            double z = x[j] - m[j];
            q += z * z * p[j];
        }
        return _logNorm[c] - (0.5 * q);
    }

    public void SampleExact(ulong seed, Span<double> destination)
    {
        int d = Dimension;
        var rng = new CounterRng(seed);
        for (int p = 0; p < destination.Length / d; p++)
        {
            Span<double> x = destination.Slice(p * d, d);
            int c = PickComponent(_weights, rng.Uniform((ulong)p, ulong.MaxValue));
            rng.FillNormal((ulong)p, 0, x);
            for (int j = 0; j < d; j++)
            {
                x[j] = _means[(c * d) + j] + (_sd[(c * d) + j] * x[j]);
            }
        }
    }

    internal static int PickComponent(ReadOnlySpan<double> weights, double u)
    {
        double acc = 0;
        for (int c = 0; c < weights.Length - 1; c++)
        {
            acc += weights[c];
            if (u < acc)
            {
                return c;
            }
        }
        return weights.Length - 1;
    }
}

/// <summary>
/// Mixture of K product Student-t distributions with ν = 2: ρ(x) = Σₖ (1/K) Πᵢ t₂(xᵢ − lₖᵢ), lₖᵢ ~ U[−10, 10]
/// (normalised: log Z = 0). docs/theory/samplers.md#targets
/// </summary>
public sealed class StudentTMixtureTarget : MixtureTarget, IKnownNormalizer, IExactSampler
{
    // log t₂(z) = −(3/2) log 2 − (3/2) log(1 + z²/2).
    private static readonly double s_logT2Const = -1.5 * Math.Log(2);
    private readonly double[] _locations;
    private readonly int _k;

    public StudentTMixtureTarget(int dimension = 50, int components = 10, ulong seed = 0)
        : base("mos", dimension)
    {
        if (components < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(components), components, "At least one component.");
        }
        _k = components;
        _locations = new double[components * dimension];
        var rng = new CounterRng(seed);
        for (int i = 0; i < _locations.Length; i++)
        {
            _locations[i] = -10 + (20 * rng.Uniform((ulong)i, 1));
        }
    }

    public double LogNormalizer => 0;

    protected override int Components => _k;

    // Component densities include the 1/K weight, so the mixture is their log-sum-exp.
    protected override double ComponentLog(int c, ReadOnlySpan<double> x) => ProductLog(c, x) - Math.Log(_k);

    protected override void AddComponentGradient(int c, ReadOnlySpan<double> x, double responsibility, Span<double> gradient)
    {
        int d = Dimension;
        for (int j = 0; j < d; j++)
        {
            double z = x[j] - _locations[(c * d) + j];
            gradient[j] -= responsibility * 3 * z / (2 + (z * z));
        }
    }

    private double ProductLog(int c, ReadOnlySpan<double> x)
    {
        int d = Dimension;
        double s = 0;
        for (int j = 0; j < d; j++)
        {
            double z = x[j] - _locations[(c * d) + j];
            s += Math.Log(1 + (0.5 * z * z));
        }
        return (d * s_logT2Const) - (1.5 * s);
    }

    public void SampleExact(ulong seed, Span<double> destination)
    {
        int d = Dimension;
        var rng = new CounterRng(seed);
        for (int p = 0; p < destination.Length / d; p++)
        {
            Span<double> x = destination.Slice(p * d, d);
            int c = Math.Min(_k - 1, (int)(rng.Uniform((ulong)p, ulong.MaxValue) * _k));
            rng.FillNormal((ulong)p, 0, x);
            for (int j = 0; j < d; j++)
            {
                // t₂ = N / sqrt(χ²₂ / 2) and χ²₂ / 2 = −log U.
                double w = -Math.Log(rng.Uniform((ulong)p, (ulong)(1 << 20) + (ulong)j));
                x[j] = _locations[(c * d) + j] + (x[j] / Math.Sqrt(w));
            }
        }
    }
}

/// <summary>
/// Many-Well: log ρ(x) = −Σ_{i ≤ w} (xᵢ² − 2)² − ½ Σ_{i > w} xᵢ² with w = 5 double wells (2ʷ modes); log Z by quadrature.
/// docs/theory/samplers.md#targets
/// </summary>
public sealed class ManyWellTarget : PointTarget, IKnownNormalizer, IKnownModes
{
    private readonly int _wells;

    public ManyWellTarget(int dimension = 50, int wells = 5)
        : base("many-well", dimension)
    {
        if (wells < 1 || wells > dimension || wells > 30)
        {
            throw new ArgumentOutOfRangeException(nameof(wells), wells, $"Need 1 ≤ wells ≤ min(d, 30) (d = {dimension}).");
        }
        _wells = wells;
        LogNormalizer = (wells * Math.Log(DoubleWellIntegral())) + (0.5 * (dimension - wells) * Math.Log(2 * Math.PI));
    }

    public double LogNormalizer { get; }
    public int ModeCount => 1 << _wells;

    /// <summary>∫ exp(−(x² − 2)²) dx by the composite Simpson rule on [−6, 6] (the integrand is below 1e-500 outside).</summary>
    internal static double DoubleWellIntegral()
    {
        const int N = 20_000;
        const double A = -6, B = 6;
        double h = (B - A) / N;
        double s = 0;
        for (int i = 0; i <= N; i++)
        {
            double x = A + (i * h);
            double f = Math.Exp(-((x * x) - 2) * ((x * x) - 2));
            s += (i == 0 || i == N ? 1 : i % 2 == 1 ? 4 : 2) * f;
        }
        return s * h / 3;
    }

    public override double LogDensity(ReadOnlySpan<double> x, Span<double> gradient)
    {
        double logp = 0;
        bool g = !gradient.IsEmpty;
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            if (i < _wells)
            {
                double a = (v * v) - 2;
                logp -= a * a;
                if (g)
                {
                    gradient[i] = -4 * v * a;
                }
            }
            else
            {
                logp -= 0.5 * v * v;
                if (g)
                {
                    gradient[i] = -v;
                }
            }
        }
        return logp;
    }

    /// <summary>The mode is the sign pattern of the well coordinates.</summary>
    public int MostLikelyMode(ReadOnlySpan<double> point)
    {
        int m = 0;
        for (int i = 0; i < _wells; i++)
        {
            if (point[i] > 0)
            {
                m |= 1 << i;
            }
        }
        return m;
    }
}

/// <summary>
/// φ⁴ lattice field theory on an L×L periodic lattice: log ρ(φ) = −Σₓ[−2κ φₓ(φ_{x+e₁} + φ_{x+e₂}) + (1 − 2λ)φₓ² + λφₓ⁴],
/// κ = 0.3, λ = 0.022 by default (d = L² = 64 for L = 8; log Z unknown). docs/theory/samplers.md#targets
/// </summary>
public sealed class Phi4Target : PointTarget
{
    private readonly int _l;
    private readonly double _kappa;
    private readonly double _lambda;

    public Phi4Target(int side = 8, double kappa = 0.3, double lambda = 0.022)
        : base("phi4", side * side)
    {
        if (side < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(side), side, "The lattice side must be at least 2.");
        }
        _l = side;
        _kappa = kappa;
        _lambda = lambda;
    }

    public override double LogDensity(ReadOnlySpan<double> x, Span<double> gradient)
    {
        int l = _l;
        double action = 0;
        bool g = !gradient.IsEmpty;
        for (int r = 0; r < l; r++)
        {
            for (int c = 0; c < l; c++)
            {
                int i = (r * l) + c;
                double phi = x[i];
                double right = x[(r * l) + ((c + 1) % l)];
                double down = x[(((r + 1) % l) * l) + c];
                double phi2 = phi * phi;
                action += (-2 * _kappa * phi * (right + down)) + ((1 - (2 * _lambda)) * phi2) + (_lambda * phi2 * phi2);
                if (g)
                {
                    double left = x[(r * l) + ((c + l - 1) % l)];
                    double up = x[(((r + l - 1) % l) * l) + c];
                    double dS = (-2 * _kappa * (right + down + left + up)) + (2 * (1 - (2 * _lambda)) * phi) + (4 * _lambda * phi2 * phi);
                    gradient[i] = -dS;
                }
            }
        }
        return -action;
    }
}

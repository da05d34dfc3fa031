namespace GmmFlow.Sampling;

/// <summary>
/// An unnormalised target density ρ on ℝᵈ (π = ρ / Z), given by log ρ and its gradient for a batch of points.
/// </summary>
/// <remarks>
/// Contract: <see cref="Evaluate"/> is called concurrently on disjoint batches from several threads, so it must be
/// thread-safe, and it should allocate nothing (the samplers call it millions of times). Points are row-major n×d.
/// The samplers check every result: a NaN or +∞ log-density, or a non-finite gradient at a point of finite
/// log-density, is a <see cref="TargetEvaluationException"/> naming the target and the point.
/// docs/theory/samplers.md#targets
/// </remarks>
public interface ITarget
{
    /// <summary>Short name used in messages and reports.</summary>
    string Name { get; }

    /// <summary>Dimension d.</summary>
    int Dimension { get; }

    /// <summary>
    /// Writes log ρ(xᵢ) into <paramref name="logDensity"/> (n = its length) for the n points in <paramref name="points"/>
    /// (n×d) and, unless <paramref name="gradient"/> is empty, ∇log ρ(xᵢ) into it (n×d).
    /// </summary>
    void Evaluate(ReadOnlySpan<double> points, Span<double> logDensity, Span<double> gradient);
}

/// <summary>A target whose normalising constant is known (for ΔlogZ).</summary>
public interface IKnownNormalizer
{
    /// <summary>log Z = log ∫ ρ.</summary>
    double LogNormalizer { get; }
}

/// <summary>A target that can be sampled exactly (for sample-based metrics such as the Sinkhorn divergence).</summary>
public interface IExactSampler
{
    /// <summary>Fills <paramref name="destination"/> (n×d) with exact samples of π; reproducible from <paramref name="seed"/>.</summary>
    void SampleExact(ulong seed, Span<double> destination);
}

/// <summary>A multi-modal target with known modes (for the entropic mode coverage).</summary>
public interface IKnownModes
{
    /// <summary>Number of modes K.</summary>
    int ModeCount { get; }

    /// <summary>Index in [0, K) of the mode most likely to have generated <paramref name="point"/>.</summary>
    int MostLikelyMode(ReadOnlySpan<double> point);
}

/// <summary>
/// Base class for targets evaluated one point at a time: implements the batch <see cref="Evaluate"/> by a loop.
/// </summary>
public abstract class PointTarget : ITarget
{
    protected PointTarget(string name, int dimension)
    {
        if (dimension < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "The dimension must be at least 1.");
        }
        Name = name;
        Dimension = dimension;
    }

    public string Name { get; }
    public int Dimension { get; }

    /// <summary>log ρ(x); writes ∇log ρ(x) into <paramref name="gradient"/> unless it is empty.</summary>
    public abstract double LogDensity(ReadOnlySpan<double> x, Span<double> gradient);

    public void Evaluate(ReadOnlySpan<double> points, Span<double> logDensity, Span<double> gradient)
    {
        int d = Dimension;
        int n = logDensity.Length;
        TargetChecks.CheckBatch(this, points.Length, n, gradient.Length);
        bool withGradient = !gradient.IsEmpty;
        for (int i = 0; i < n; i++)
        {
            logDensity[i] = LogDensity(points.Slice(i * d, d), withGradient ? gradient.Slice(i * d, d) : Span<double>.Empty);
        }
    }
}

/// <summary>
/// A target from two user functions (log ρ and ∇log ρ on arrays): convenient, not allocation-free. The gradient
/// function's result is checked: a wrong length is a <see cref="TargetEvaluationException"/>.
/// </summary>
public sealed class FunctionTarget : PointTarget
{
    private readonly Func<double[], double> _logDensity;
    private readonly Func<double[], double[]> _gradient;

    public FunctionTarget(string name, int dimension, Func<double[], double> logDensity, Func<double[], double[]> gradient)
        : base(name, dimension)
    {
        _logDensity = logDensity ?? throw new ArgumentNullException(nameof(logDensity));
        _gradient = gradient ?? throw new ArgumentNullException(nameof(gradient));
    }

    public override double LogDensity(ReadOnlySpan<double> x, Span<double> gradient)
    {
        double[] point = x.ToArray();
        double value = _logDensity(point);
        if (!gradient.IsEmpty)
        {
            double[] g = _gradient(point) ?? throw new TargetEvaluationException(Name, -1, "the gradient function returned null.");
            if (g.Length != Dimension)
            {
                throw new TargetEvaluationException(Name, -1, $"the gradient function returned {g.Length} values, the dimension is {Dimension}.");
            }
            g.CopyTo(gradient);
        }
        return value;
    }
}

/// <summary>A target returned an unusable value (NaN, +∞, a gradient of the wrong length) or was called with inconsistent sizes.</summary>
public sealed class TargetEvaluationException : InvalidOperationException
{
    public TargetEvaluationException(string target, long pointIndex, string problem)
        : base($"target '{target}'" + (pointIndex >= 0 ? $" at point {pointIndex}" : "") + $": {problem}")
    {
        Target = target;
        PointIndex = pointIndex;
    }

    /// <summary>The target's name.</summary>
    public string Target { get; }

    /// <summary>Index of the offending point in its batch (−1 when not tied to a point).</summary>
    public long PointIndex { get; }
}

/// <summary>Checks of target calls and results shared by the samplers.</summary>
public static class TargetChecks
{
    /// <summary>Throws unless the buffer sizes are consistent with the target's dimension.</summary>
    public static void CheckBatch(ITarget target, int pointsLength, int count, int gradientLength)
    {
        int d = target.Dimension;
        if (pointsLength != (long)count * d)
        {
            throw new TargetEvaluationException(target.Name, -1, $"points hold {pointsLength} values, expected {count} × {d}.");
        }
        if (gradientLength != 0 && gradientLength != (long)count * d)
        {
            throw new TargetEvaluationException(target.Name, -1, $"gradient holds {gradientLength} values, expected {count} × {d} (or none).");
        }
    }

    /// <summary>
    /// Evaluates and checks the results: NaN or +∞ log-densities and non-finite gradients at finite log-densities throw.
    /// <paramref name="firstIndex"/> numbers the points in messages.
    /// </summary>
    public static void EvaluateChecked(ITarget target, ReadOnlySpan<double> points, Span<double> logDensity, Span<double> gradient, long firstIndex = 0)
    {
        CheckBatch(target, points.Length, logDensity.Length, gradient.Length);
        target.Evaluate(points, logDensity, gradient);
        int d = target.Dimension;
        for (int i = 0; i < logDensity.Length; i++)
        {
            double v = logDensity[i];
            if (double.IsNaN(v) || double.IsPositiveInfinity(v))
            {
                throw new TargetEvaluationException(target.Name, firstIndex + i, $"log-density is {v}.");
            }
            if (!gradient.IsEmpty && !double.IsNegativeInfinity(v))
            {
                ReadOnlySpan<double> g = gradient.Slice(i * d, d);
                for (int j = 0; j < d; j++)
                {
                    if (!double.IsFinite(g[j]))
                    {
                        throw new TargetEvaluationException(target.Name, firstIndex + i, $"gradient component {j} is {g[j]}.");
                    }
                }
            }
        }
    }
}

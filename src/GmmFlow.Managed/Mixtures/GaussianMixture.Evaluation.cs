using System.Numerics;
using GmmFlow.Simd.Mixtures;

namespace GmmFlow;

// Batched evaluation: points are row-major N×d; work is split into chunks of 256 points over all
// cores, each chunk transposed so the SIMD kernels run across points (see MixtureEvaluator).
public sealed partial class GaussianMixture
{
    /// <summary>log Nₖ(xᵢ; mₖ, Σₖ) for every point and component (weights not included), row-major N×K.</summary>
    /// <param name="points">Row-major N×d points.</param>
    /// <param name="destination">N×K values.</param>
    public void ComponentLogDensities(ReadOnlySpan<double> points, Span<double> destination)
    {
        int n = CheckPoints(points, nameof(points));
        CheckDestination(destination.Length, (long)n * ComponentCount, nameof(destination));
        MixtureEvaluator.Evaluate(_f.Terms, points, MixtureOutput.ComponentLogDensities, destination, default);
    }

    /// <summary>The mixture's log-density log Σₖ aₖ Nₖ(xᵢ) of each point (N values), by log-sum-exp (no underflow far from the data).</summary>
    public void LogDensity(ReadOnlySpan<double> points, Span<double> destination)
    {
        int n = CheckPoints(points, nameof(points));
        CheckDestination(destination.Length, n, nameof(destination));
        MixtureEvaluator.Evaluate(_f.Terms, points, MixtureOutput.LogDensity, destination, default);
    }

    /// <summary>Mean log-likelihood (1/N) Σᵢ log p(xᵢ) (scikit-learn's score). The same value for any thread count.</summary>
    /// <exception cref="ArgumentException">No points, or a length that is not a multiple of d.</exception>
    public double MeanLogLikelihood(ReadOnlySpan<double> points)
    {
        int n = CheckPoints(points, nameof(points));
        if (n == 0)
        {
            throw new ArgumentException("The mean log-likelihood of no points is undefined.", nameof(points));
        }
        return MixtureEvaluator.SumLogDensity(_f.Terms, points) / n;
    }

    /// <summary>Posterior component probabilities aₖ Nₖ(xᵢ) / p(xᵢ) (scikit-learn's predict_proba), row-major N×K; each row sums to 1.</summary>
    public void Responsibilities(ReadOnlySpan<double> points, Span<double> destination)
    {
        int n = CheckPoints(points, nameof(points));
        CheckDestination(destination.Length, (long)n * ComponentCount, nameof(destination));
        MixtureEvaluator.Evaluate(_f.Terms, points, MixtureOutput.Responsibilities, destination, default);
    }

    /// <summary>Hard assignments: the most probable component of each point (scikit-learn's predict).</summary>
    public void Predict(ReadOnlySpan<double> points, Span<int> labels)
    {
        int n = CheckPoints(points, nameof(points));
        if (labels.Length < n)
        {
            throw new ArgumentException($"labels has length {labels.Length}, expected at least {n}.", nameof(labels));
        }
        MixtureEvaluator.Evaluate(_f.Terms, points, MixtureOutput.Labels, default, labels);
    }

    /// <summary>Bayesian information criterion −2 N ℓ̄ + p log N (ℓ̄ the mean log-likelihood, p = <see cref="ParameterCount"/>), as scikit-learn computes it.</summary>
    public double Bic(ReadOnlySpan<double> points)
    {
        double mean = MeanLogLikelihood(points);
        int n = points.Length / Dimension;
        return -2 * mean * n + ParameterCount * Math.Log(n);
    }

    /// <summary>Akaike information criterion −2 N ℓ̄ + 2p.</summary>
    public double Aic(ReadOnlySpan<double> points)
    {
        double mean = MeanLogLikelihood(points);
        int n = points.Length / Dimension;
        return -2 * mean * n + 2.0 * ParameterCount;
    }

    /// <summary>Checks shape and finiteness; returns N. NaN would otherwise propagate silently into every output.</summary>
    private int CheckPoints(ReadOnlySpan<double> points, string paramName)
    {
        int d = Dimension;
        if (points.Length % d != 0)
        {
            throw new ArgumentException($"{paramName} has {points.Length} values, which is not a multiple of the dimension {d}.", paramName);
        }
        ThrowIfNotFinite(points, d, paramName);
        return points.Length / d;
    }

    /// <summary>Throws <see cref="NonFiniteValueException"/> naming the point and coordinate of the first NaN/±∞.</summary>
    internal static void ThrowIfNotFinite(ReadOnlySpan<double> points, int dimension, string paramName)
    {
        // x − x is 0 for finite x and NaN otherwise: one compare per vector on the fast path.
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            int w = Vector<double>.Count;
            for (; i + w <= points.Length; i += w)
            {
                var v = new Vector<double>(points.Slice(i, w));
                if (!Vector.EqualsAll(v - v, Vector<double>.Zero))
                {
                    break;
                }
            }
        }
        for (; i < points.Length; i++)
        {
            if (!double.IsFinite(points[i]))
            {
                throw new NonFiniteValueException("point", i / dimension, i % dimension, points[i], paramName);
            }
        }
    }

    private static void CheckDestination(int actual, long required, string paramName)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{paramName} has length {actual}, expected at least {required}.", paramName);
        }
    }
}

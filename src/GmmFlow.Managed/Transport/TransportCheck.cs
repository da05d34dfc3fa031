using System.Globalization;
using System.Numerics.Tensors;

namespace GmmFlow;

/// <summary>
/// The built-in check of a transport (docs/theory/transport-accuracy.md#check): the outputs' mean target log-likelihood
/// ℓ̄ = (1/N) Σ log p_target(y_i) against its exact expectation E_target[log p_target], which outputs distributed as the
/// target mixture (the plan's exact marginal at t = 1) must match up to Monte-Carlo error.
/// </summary>
/// <remarks>
/// The expectation is exact for a one-component target (−½(d log 2π + log det Σ + d), variance d/2) and otherwise a
/// Monte-Carlo mean over <see cref="ReferenceSamples"/> exact target samples. The standard error combines both
/// sample variances. The same statistic of the inputs against the source mixture (<see cref="SourceZScore"/>) tells an
/// integration error apart from inputs that are not distributed as the source mixture (e.g. data the mixture was fitted to).
/// </remarks>
public sealed record TransportCheck
{
    /// <summary>Warn when |z| exceeds this many standard errors (a false alarm rate of about 6e-5 for a correct run).</summary>
    public const double Threshold = 4;

    /// <summary>ℓ̄ of the transported points under the target mixture.</summary>
    public required double MeanLogLikelihood { get; init; }

    /// <summary>E_target[log p_target] (exact or Monte Carlo, see <see cref="ExpectedIsExact"/>).</summary>
    public required double Expected { get; init; }

    /// <summary>Standard error of ℓ̄ − E.</summary>
    public required double StandardError { get; init; }

    /// <summary>True when E is the closed form (one-component target), false for a Monte-Carlo estimate.</summary>
    public required bool ExpectedIsExact { get; init; }

    /// <summary>Target samples behind the Monte-Carlo E (0 when exact).</summary>
    public required int ReferenceSamples { get; init; }

    /// <summary>Number of transported points N.</summary>
    public required int Points { get; init; }

    /// <summary>The same z statistic for the inputs against the source mixture (null when not computed).</summary>
    public double? SourceZScore { get; init; }

    /// <summary>z = (ℓ̄ − E) / SE; −∞ when an output's log-likelihood is not finite.</summary>
    public double ZScore => double.IsFinite(MeanLogLikelihood) ? (MeanLogLikelihood - Expected) / StandardError : double.NegativeInfinity;

    /// <summary>|z| ≤ <see cref="Threshold"/>.</summary>
    public bool Passed => Math.Abs(ZScore) <= Threshold;

    /// <summary>Whether the inputs themselves look like samples of the source mixture (true when not computed).</summary>
    public bool InputsMatchSource => SourceZScore is not { } z || Math.Abs(z) <= Threshold;

    /// <summary>A one-line warning when the check fails, otherwise null.</summary>
    public string? Warning => Passed ? null : string.Create(CultureInfo.InvariantCulture,
        $"the outputs' mean target log-likelihood {MeanLogLikelihood:G6} is {ZScore:F1} standard errors from its exact expectation " +
        $"{Expected:G6} (SE {StandardError:G3}); ") + (InputsMatchSource
            ? "the transport is inaccurate: lower the tolerance or use more steps"
            : string.Create(CultureInfo.InvariantCulture, $"but the inputs are already {SourceZScore:F1} standard errors off the source ") +
              "mixture, so they are not samples of it and the check does not measure the integration");

    /// <summary>
    /// Mean log-likelihood of <paramref name="points"/> under <paramref name="mixture"/> against E_mixture[log p], with its
    /// z statistic: exact E for one component, otherwise E from <paramref name="referenceSamples"/> exact samples
    /// drawn with <paramref name="seed"/>.
    /// </summary>
    public static TransportCheck Compute(GaussianMixture mixture, ReadOnlySpan<double> points, ulong seed, int referenceSamples = 0)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        int d = mixture.Dimension;
        if (points.Length == 0 || points.Length % d != 0)
        {
            throw new ArgumentException($"points has length {points.Length}; it must be a positive multiple of d = {d}.", nameof(points));
        }
        int n = points.Length / d;
        (double mean, double variance) = LogLikelihoodMoments(mixture, points);
        double expected, referenceVariance;
        int m = 0;
        if (mixture.ComponentCount == 1)
        {
            // log p = −½(d log 2π + log det Σ + q), q ~ χ²_d: mean d, variance 2d.
            expected = -0.5 * (d * Math.Log(2 * Math.PI) + mixture.LogDeterminants[0] + d);
            referenceVariance = 0;
        }
        else
        {
            m = referenceSamples > 0 ? referenceSamples : Math.Clamp(4 * n, 20_000, 1_000_000);
            (expected, double sampleVariance) = LogLikelihoodMoments(mixture, mixture.Sample(m, seed));
            referenceVariance = sampleVariance / m;
        }
        double se = Math.Sqrt(variance / n + referenceVariance);
        // A degenerate spread (every output at one point of equal density) still needs a positive scale for z.
        se = Math.Max(se, 1e-300);
        return new TransportCheck
        {
            MeanLogLikelihood = mean, Expected = expected, StandardError = se, ExpectedIsExact = m == 0,
            ReferenceSamples = m, Points = n,
        };
    }

    /// <summary>Mean and sample variance of log p over the points.</summary>
    private static (double Mean, double Variance) LogLikelihoodMoments(GaussianMixture mixture, ReadOnlySpan<double> points)
    {
        int n = points.Length / mixture.Dimension;
        var logs = new double[n];
        mixture.LogDensity(points, logs);
        double mean = TensorPrimitives.Sum<double>(logs) / n;
        if (n < 2)
        {
            return (mean, 0);
        }
        TensorPrimitives.Subtract(logs, mean, logs);
        return (mean, TensorPrimitives.SumOfSquares<double>(logs) / (n - 1));
    }
}

/// <summary>What <see cref="TransportPlan.TransportAndCheck"/> returns: the moved points, how they were integrated, and the check.</summary>
public sealed record TransportResult
{
    /// <summary>The points at t = 1 (N×d row-major).</summary>
    public required double[] Points { get; init; }

    /// <summary>The scheme that ran (never <see cref="Integrator.Auto"/>).</summary>
    public required Integrator Integrator { get; init; }

    /// <summary>Steps (accepted and rejected) and field evaluations.</summary>
    public required IntegrationStats Stats { get; init; }

    /// <summary>The accuracy check, or null when <see cref="TransportRunOptions.Check"/> is off.</summary>
    public TransportCheck? Check { get; init; }

    /// <summary>Wall time of the integration.</summary>
    public TimeSpan IntegrationTime { get; init; }

    /// <summary>Wall time of the check (reference samples and log-densities).</summary>
    public TimeSpan CheckTime { get; init; }
}

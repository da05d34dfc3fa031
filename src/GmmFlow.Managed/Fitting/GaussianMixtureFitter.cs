using System.Diagnostics;
using System.Globalization;
using GmmFlow.Fitting;

namespace GmmFlow;

/// <summary>
/// Fits Gaussian mixtures to points by expectation–maximisation (scikit-learn's GaussianMixture
/// algorithm and defaults), on all cores with SIMD kernels and no allocation per iteration.
/// </summary>
/// <remarks>
/// Each iteration: E-step with the current parameters (its mean log-likelihood is recorded), M-step to new
/// parameters; EM stops when |Δ mean log-likelihood| &lt; tolerance. Results are identical for any
/// number of cores (fixed-order reductions, counter-based random numbers).
/// </remarks>
public static class GaussianMixtureFitter
{
    /// <summary>Fits a <paramref name="components"/>-component mixture to <paramref name="points"/> (row-major N×<paramref name="dimension"/>).</summary>
    /// <param name="points">The data, row-major N×d.</param>
    /// <param name="dimension">d ≥ 1.</param>
    /// <param name="components">K ≥ 1, at most the number of points with positive weight.</param>
    /// <param name="options">Settings; null means the defaults.</param>
    /// <param name="sampleWeights">Optional non-negative weight per point (empty: all 1). Responsibilities and the log-likelihood are weighted by them.</param>
    /// <param name="cancellationToken">Checked between iterations.</param>
    /// <exception cref="ArgumentException">No points, a length that is not a multiple of d, fewer points than components, bad sample weights, or a warm start of the wrong shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException">K or d below 1, or an invalid option.</exception>
    /// <exception cref="NonFiniteValueException">A point has a NaN or infinite coordinate (the point and coordinate are named).</exception>
    /// <exception cref="OperationCanceledException">Cancelled.</exception>
    public static GaussianMixtureFit Fit(ReadOnlySpan<double> points, int dimension, int components,
        GaussianMixtureFitOptions? options = null, ReadOnlySpan<double> sampleWeights = default,
        CancellationToken cancellationToken = default)
    {
        options ??= new GaussianMixtureFitOptions();
        EmData data = Prepare(points, dimension, sampleWeights, options);
        CheckComponents(components, data, options);
        return Fit(data, components, options, cancellationToken);
    }

    /// <summary>
    /// Fits every K in [<paramref name="minComponents"/>, <paramref name="maxComponents"/>] (K above the number of
    /// points is skipped) and returns the fit with the lowest BIC; <paramref name="candidates"/> lists every fit by K.
    /// </summary>
    public static GaussianMixtureFit FitBestByBic(ReadOnlySpan<double> points, int dimension, int minComponents, int maxComponents,
        out IReadOnlyList<GaussianMixtureFit> candidates, GaussianMixtureFitOptions? options = null,
        ReadOnlySpan<double> sampleWeights = default, CancellationToken cancellationToken = default)
    {
        options ??= new GaussianMixtureFitOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(minComponents, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxComponents, minComponents);
        if (options.InitialMixture is not null)
        {
            throw new ArgumentException("A warm start fixes K; it cannot be combined with choosing K by BIC.", nameof(options));
        }
        EmData data = Prepare(points, dimension, sampleWeights, options);
        CheckComponents(minComponents, data, options);
        var fits = new List<GaussianMixtureFit>();
        GaussianMixtureFit? best = null;
        for (int k = minComponents; k <= Math.Min(maxComponents, data.PositiveCount); k++)
        {
            var fit = Fit(data, k, options, cancellationToken);
            fits.Add(fit);
            if (best is null || fit.Bic < best.Bic)
            {
                best = fit;
            }
        }
        candidates = fits;
        return best!;
    }

    private static EmData Prepare(ReadOnlySpan<double> points, int dimension, ReadOnlySpan<double> sampleWeights, GaussianMixtureFitOptions options)
    {
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (points.IsEmpty)
        {
            throw new ArgumentException("There are no points to fit.", nameof(points));
        }
        if (points.Length % dimension != 0)
        {
            throw new ArgumentException($"points has {points.Length} values, which is not a multiple of the dimension {dimension}.", nameof(points));
        }
        GaussianMixture.ThrowIfNotFinite(points, dimension, nameof(points));
        int n = points.Length / dimension;
        if (!sampleWeights.IsEmpty)
        {
            if (sampleWeights.Length != n)
            {
                throw new ArgumentException($"sampleWeights has {sampleWeights.Length} values for {n} points.", nameof(sampleWeights));
            }
            for (int i = 0; i < n; i++)
            {
                if (!double.IsFinite(sampleWeights[i]) || sampleWeights[i] < 0)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"The weight of point {i} is {sampleWeights[i]}; sample weights must be finite and non-negative."), nameof(sampleWeights));
                }
            }
        }
        bool pointMajor = options.CovarianceType == CovarianceType.Full && dimension >= EmData.PointMajorFromDimension;
        var data = new EmData(points, dimension, sampleWeights, pointMajor);
        if (data.PositiveCount == 0)
        {
            throw new ArgumentException("Every sample weight is zero.", nameof(sampleWeights));
        }
        return data;
    }

    private static void CheckComponents(int components, EmData data, GaussianMixtureFitOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(components, 1);
        if (components > data.PositiveCount)
        {
            throw new ArgumentException(
                $"Cannot fit {components} components to {data.PositiveCount} points{(data.PositiveCount < data.Count ? " with positive weight" : "")}: K must not exceed N.",
                nameof(components));
        }
        if (options.InitialMixture is { } init && (init.Dimension != data.Dimension || init.ComponentCount != components))
        {
            throw new ArgumentException(
                $"The initial mixture has K = {init.ComponentCount}, d = {init.Dimension}; the fit needs K = {components}, d = {data.Dimension}.", nameof(options));
        }
    }

    private static GaussianMixtureFit Fit(EmData data, int components, GaussianMixtureFitOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var ws = new EmWorkspace(data, components, options.CovarianceType, options.RegCovar, options.Lapack, KMeansInitializer.Trials(components));
        var rng = new CounterRng(options.Seed);
        int inits = options.InitialMixture is null ? options.Initializations : 1;
        var history = new double[options.MaxIterations];
        var warnings = new List<string>();

        GaussianMixture? bestMixture = null;
        double bestLogLikelihood = double.NegativeInfinity;
        double[] bestHistory = [];
        bool bestConverged = false;
        int bestIterations = 0, bestInit = 0;
        for (int init = 0; init < inits; init++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ws.ResetWarnings();
            Initialize(ws, options, rng, (ulong)init, cancellationToken);
            (bool converged, int iterations) = Iterate(ws, options, history, init, cancellationToken);
            double logLikelihood = ws.Pass(EmWorkspace.PassKind.LogLikelihood);
            string prefix = inits > 1 ? $"initialisation {init}: " : "";
            foreach (string w in ws.Warnings)
            {
                warnings.Add(prefix + w);
            }
            if (bestMixture is null || logLikelihood > bestLogLikelihood)
            {
                bestMixture = Snapshot(ws);
                bestLogLikelihood = logLikelihood;
                bestHistory = history.AsSpan(0, iterations).ToArray();
                bestConverged = converged;
                bestIterations = iterations;
                bestInit = init;
            }
        }
        if (!bestConverged && options.MaxIterations > 0 && options.Tolerance > 0)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"EM did not converge in {options.MaxIterations} iterations (last change above tol = {options.Tolerance:G3}); raise the iteration limit or the tolerance"));
        }
        return new GaussianMixtureFit(bestMixture!, bestConverged, bestIterations, bestLogLikelihood, bestHistory,
            data.Count, bestInit, warnings, clock.Elapsed);
    }

    internal static void Initialize(EmWorkspace ws, GaussianMixtureFitOptions options, CounterRng rng, ulong stream, CancellationToken cancellationToken)
    {
        if (options.InitialMixture is { } initial)
        {
            ws.SetParameters(initial);
            return;
        }
        if (options.Initialization == MixtureInitialization.KMeansPlusPlus)
        {
            KMeansInitializer.KMeansPlusPlus(ws, rng, stream, cancellationToken);
        }
        else
        {
            KMeansInitializer.RandomFromData(ws, rng, stream);
        }
        ws.Pass(EmWorkspace.PassKind.FromLabels);
        ws.MStep(0);
    }

    /// <summary>The EM loop: returns (converged, iterations); history[i] is the mean log-likelihood at the start of iteration i + 1.</summary>
    internal static (bool Converged, int Iterations) Iterate(EmWorkspace ws, GaussianMixtureFitOptions options, double[] history, int init, CancellationToken cancellationToken)
    {
        double previous = double.NegativeInfinity;
        for (int iteration = 1; iteration <= options.MaxIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double logLikelihood = ws.Pass(EmWorkspace.PassKind.EStep);
            ws.MStep(iteration);
            history[iteration - 1] = logLikelihood;
            double change = logLikelihood - previous;
            previous = logLikelihood;
            options.Progress?.Report(new FitProgress(ws.K, init, iteration, logLikelihood, change));
            if (Math.Abs(change) < options.Tolerance)
            {
                return (true, iteration);
            }
        }
        return (false, options.MaxIterations);
    }

    /// <summary>An immutable mixture holding a copy of the workspace's current parameters.</summary>
    internal static GaussianMixture Snapshot(EmWorkspace ws)
    {
        var p = ws.Params;
        // Through the validating constructor: a fit never returns a mixture that could not be loaded back.
        return new GaussianMixture(p.Weights, p.Means, p.Compact, p.Type, renormalizeWeights: false, ws.Lapack);
    }
}

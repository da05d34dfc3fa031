namespace GmmFlow;

/// <summary>The outcome of an EM fit: the mixture and how the fit went.</summary>
public sealed class GaussianMixtureFit
{
    internal GaussianMixtureFit(GaussianMixture mixture, bool converged, int iterations, double meanLogLikelihood,
        double[] history, int sampleCount, int initialization, IReadOnlyList<string> warnings, TimeSpan elapsed)
    {
        Mixture = mixture;
        Converged = converged;
        Iterations = iterations;
        MeanLogLikelihood = meanLogLikelihood;
        LogLikelihoodHistory = history;
        SampleCount = sampleCount;
        Initialization = initialization;
        Warnings = warnings;
        Elapsed = elapsed;
        ParameterCount = mixture.ParameterCount;
        Bic = -2 * meanLogLikelihood * sampleCount + ParameterCount * Math.Log(sampleCount);
        Aic = -2 * meanLogLikelihood * sampleCount + 2.0 * ParameterCount;
    }

    /// <summary>The fitted mixture.</summary>
    public GaussianMixture Mixture { get; }

    /// <summary>True when the log-likelihood change fell below the tolerance before the iteration limit.</summary>
    public bool Converged { get; }

    /// <summary>EM iterations run by the kept initialisation.</summary>
    public int Iterations { get; }

    /// <summary>
    /// Mean log-likelihood of <see cref="Mixture"/> on the data (weighted by the sample weights when given).
    /// This is the returned mixture's own value, at least the last history entry (scikit-learn's lower_bound_
    /// is the value before the last M-step, i.e. that history entry).
    /// </summary>
    public double MeanLogLikelihood { get; }

    /// <summary>Mean log-likelihood at the start of each iteration (before its M-step); never decreases, up to round-off, unless a warning reports a re-seeded component.</summary>
    public IReadOnlyList<double> LogLikelihoodHistory { get; }

    /// <summary>Number of points N used in BIC and AIC.</summary>
    public int SampleCount { get; }

    /// <summary>Free parameters (scikit-learn's counting).</summary>
    public int ParameterCount { get; }

    /// <summary>−2 N ℓ̄ + p ln N, as scikit-learn's bic(X) (lower is better).</summary>
    public double Bic { get; }

    /// <summary>−2 N ℓ̄ + 2p, as scikit-learn's aic(X).</summary>
    public double Aic { get; }

    /// <summary>Which initialisation (0-based) produced the kept fit.</summary>
    public int Initialization { get; }

    /// <summary>What the fit had to repair: re-seeded empty components, regularised singular covariances.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Wall-clock time of the whole fit (all initialisations).</summary>
    public TimeSpan Elapsed { get; }
}

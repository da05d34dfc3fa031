using GmmFlow.Native;

namespace GmmFlow;

/// <summary>How EM chooses its starting point when no <see cref="GaussianMixtureFitOptions.InitialMixture"/> is given.</summary>
public enum MixtureInitialization
{
    /// <summary>
    /// k-means++ seeding (greedy, 2 + ⌊ln K⌋ candidates per centre, as scikit-learn) refined by Lloyd
    /// iterations to convergence (at most 100); the hard clusters then give the first weights, means and covariances.
    /// </summary>
    KMeansPlusPlus,

    /// <summary>
    /// K distinct data points drawn uniformly as means; every point joins its nearest mean for the first
    /// weights and covariances (scikit-learn uses the K points alone, which starts every covariance at reg_covar·I).
    /// </summary>
    RandomFromData,
}

/// <summary>Settings of <see cref="GaussianMixtureFitter"/>. Defaults follow scikit-learn's GaussianMixture.</summary>
public sealed record GaussianMixtureFitOptions
{
    /// <summary>Covariance parametrisation to fit (default Full).</summary>
    public CovarianceType CovarianceType { get; init; } = CovarianceType.Full;

    /// <summary>Initialisation when <see cref="InitialMixture"/> is null (default k-means++).</summary>
    public MixtureInitialization Initialization { get; init; } = MixtureInitialization.KMeansPlusPlus;

    /// <summary>
    /// Warm start: EM starts from this mixture (its dimension and component count must match the fit). Its
    /// covariances are converted to <see cref="CovarianceType"/> (diagonal: the variances; spherical: their mean).
    /// With a warm start every initialisation is the same, so <see cref="Initializations"/> is treated as 1.
    /// </summary>
    public GaussianMixture? InitialMixture { get; init; }

    /// <summary>Added to the diagonal of every covariance after each M-step so none becomes singular (default 1e-6).</summary>
    public double RegCovar { get; init; } = 1e-6;

    /// <summary>EM stops when the mean log-likelihood changes by less than this between iterations (default 1e-3). 0 runs <see cref="MaxIterations"/>.</summary>
    public double Tolerance { get; init; } = 1e-3;

    /// <summary>Maximum EM iterations per initialisation (default 100). 0 returns the initial mixture.</summary>
    public int MaxIterations { get; init; } = 100;

    /// <summary>Number of initialisations (scikit-learn's n_init, default 1); the one with the highest final log-likelihood is kept.</summary>
    public int Initializations { get; init; } = 1;

    /// <summary>Seed of the initialisation's random choices; the same seed gives the same fit on any number of cores.</summary>
    public ulong Seed { get; init; }

    /// <summary>Receives one report per EM iteration (on the fitting thread).</summary>
    public IProgress<FitProgress>? Progress { get; init; }

    /// <summary>LAPACK provider override (tests run each provider); null means <c>Lapack.Default</c>.</summary>
    internal Lapack? Lapack { get; init; }

    internal void Validate()
    {
        if (!Enum.IsDefined(CovarianceType))
        {
            throw new ArgumentOutOfRangeException(nameof(CovarianceType), CovarianceType, "Unknown covariance type.");
        }
        if (!Enum.IsDefined(Initialization))
        {
            throw new ArgumentOutOfRangeException(nameof(Initialization), Initialization, "Unknown initialisation.");
        }
        if (!double.IsFinite(RegCovar) || RegCovar < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(RegCovar), RegCovar, "RegCovar must be finite and non-negative.");
        }
        if (!double.IsFinite(Tolerance) || Tolerance < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "Tolerance must be finite and non-negative.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(MaxIterations);
        ArgumentOutOfRangeException.ThrowIfLessThan(Initializations, 1);
    }
}

/// <summary>One EM iteration's report.</summary>
/// <param name="Components">K of the fit (useful when selecting K by BIC).</param>
/// <param name="Initialization">Which initialisation (0-based) is running.</param>
/// <param name="Iteration">1-based iteration number.</param>
/// <param name="MeanLogLikelihood">Mean log-likelihood of the parameters this iteration started from.</param>
/// <param name="Change">Change from the previous iteration (+∞ on the first).</param>
public readonly record struct FitProgress(int Components, int Initialization, int Iteration, double MeanLogLikelihood, double Change);

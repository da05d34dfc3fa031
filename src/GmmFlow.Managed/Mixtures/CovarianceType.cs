namespace GmmFlow;

/// <summary>How a mixture's component covariances are parametrised (scikit-learn's covariance_type, minus "tied").</summary>
public enum CovarianceType
{
    /// <summary>Each component has its own symmetric positive definite d×d covariance (d(d+1)/2 parameters).</summary>
    Full,

    /// <summary>Each component has its own diagonal covariance: d variances (JSON "diag").</summary>
    Diagonal,

    /// <summary>Each component has a single variance shared by all coordinates: σ²I (JSON "spherical").</summary>
    Spherical,
}

namespace GmmFlow;

/// <summary>
/// Position-only data in the (position, velocity) state of the double integrator: a mixture on positions becomes one
/// on R^(2p) with every component given an independent velocity law N(0, s²I); samples get velocities drawn from it.
/// See docs/theory/linear-dynamics.md#phase-space.
/// </summary>
public static class PhaseSpace
{
    /// <summary>Components N(μ, Σ) on positions become N((μ, 0), blockdiag(Σ, s²I)); weights unchanged.</summary>
    public static GaussianMixture Lift(GaussianMixture positions, double velocityStd)
    {
        ArgumentNullException.ThrowIfNull(positions);
        CheckStd(velocityStd);
        int p = positions.Dimension, n = 2 * p, k = positions.ComponentCount;
        var means = new double[k * n];
        var covs = new double[k * n * n];
        for (int c = 0; c < k; c++)
        {
            positions.Mean(c).CopyTo(means.AsSpan(c * n, p));
            var s = positions.Covariance(c);
            for (int r = 0; r < p; r++)
            {
                for (int q = 0; q < p; q++)
                {
                    covs[c * n * n + r * n + q] = s[r * p + q];
                }
                covs[c * n * n + (p + r) * n + p + r] = velocityStd * velocityStd;
            }
        }
        return new GaussianMixture(positions.Weights, means, covs, CovarianceType.Full);
    }

    /// <summary>Position samples (N×p) with velocities drawn i.i.d. N(0, s²) (sample i uses stream i of the seed): N×2p states.</summary>
    public static double[] LiftSamples(ReadOnlySpan<double> positions, int positionDimension, double velocityStd, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(positionDimension, 1);
        CheckStd(velocityStd);
        int p = positionDimension;
        if (positions.Length % p != 0)
        {
            ThrowHelper.ThrowArgument($"positions has length {positions.Length}, not a multiple of p = {p}.", nameof(positions));
        }
        int count = positions.Length / p;
        var states = new double[count * 2 * p];
        var rng = new CounterRng(seed);
        var z = new double[p];
        for (int i = 0; i < count; i++)
        {
            positions.Slice(i * p, p).CopyTo(states.AsSpan(i * 2 * p, p));
            rng.FillNormal((ulong)i, 0, z);
            for (int r = 0; r < p; r++)
            {
                states[i * 2 * p + p + r] = velocityStd * z[r];
            }
        }
        return states;
    }

    /// <summary>The positions (first p coordinates) of N×2p states.</summary>
    public static double[] Positions(ReadOnlySpan<double> states, int positionDimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(positionDimension, 1);
        int n = 2 * positionDimension;
        if (states.Length % n != 0)
        {
            ThrowHelper.ThrowArgument($"states has length {states.Length}, not a multiple of 2p = {n}.", nameof(states));
        }
        int count = states.Length / n;
        var result = new double[count * positionDimension];
        for (int i = 0; i < count; i++)
        {
            states.Slice(i * n, positionDimension).CopyTo(result.AsSpan(i * positionDimension, positionDimension));
        }
        return result;
    }

    private static void CheckStd(double s)
    {
        if (!(s > 0) || !double.IsFinite(s))
        {
            throw new ArgumentOutOfRangeException(nameof(s), s, "The velocity standard deviation must be finite and > 0.");
        }
    }
}

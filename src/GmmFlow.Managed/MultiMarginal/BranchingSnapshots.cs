namespace GmmFlow;

/// <summary>
/// A synthetic snapshot data set of the kind multi-marginal momentum bridges are for: cells of a few populations
/// that drift with momentum and branch, observed (different cells each time, as in single-cell sequencing) at
/// several times.
/// </summary>
/// <remarks>
/// docs/theory/multimarginal.md#synthetic-data. Each population starts as a Gaussian cloud with a common velocity;
/// at its branch time every cell picks one of two branches, each with its own constant acceleration, so paths are
/// smooth (position C¹, piecewise quadratic) and curved: a piecewise-linear (Brownian, no-momentum) interpolation of
/// the snapshots misses the curvature that a spline through the snapshot means captures. Cells also carry a small
/// velocity diffusion (σ per unit time). Deterministic for a seed.
/// </remarks>
public static class BranchingSnapshots
{
    /// <summary>
    /// Generates <paramref name="pointsPerSnapshot"/> cells at each of <paramref name="times"/> (default 0, 1, 2, 3, 4)
    /// in <paramref name="dimension"/> (2–5) coordinates from <paramref name="populations"/> (1–4) branching
    /// populations. Returns one N×d row-major array per time.
    /// </summary>
    public static double[][] Generate(int dimension, int pointsPerSnapshot, ulong seed, int populations = 2, double[]? times = null, double noise = 0.05)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimension, 5);
        ArgumentOutOfRangeException.ThrowIfLessThan(populations, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(populations, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(pointsPerSnapshot, 1);
        if (!(noise >= 0) || double.IsInfinity(noise))
        {
            throw new ArgumentOutOfRangeException(nameof(noise), noise, "must be finite and ≥ 0.");
        }
        times ??= [0, 1, 2, 3, 4];
        for (int k = 1; k < times.Length; k++)
        {
            if (!(times[k] > times[k - 1]) || times[0] < 0)
            {
                throw new ArgumentException("times must be ≥ 0 and strictly increasing.", nameof(times));
            }
        }
        int d = dimension;
        var rng = new CounterRng(seed);
        // Population p: start mean, start velocity, branch time, two accelerations (fixed, seed-independent layout
        // so the geometry is the same for every seed; the seed drives the cells).
        var start = new double[populations * d];
        var velocity = new double[populations * d];
        var accel = new double[populations * 2 * d];
        var branch = new double[populations];
        for (int p = 0; p < populations; p++)
        {
            double angle = 2 * Math.PI * p / populations;
            start[p * d] = 3 * Math.Cos(angle);
            start[p * d + 1] = 3 * Math.Sin(angle);
            velocity[p * d] = 1.2 * Math.Cos(angle + 0.6);
            velocity[p * d + 1] = 1.2 * Math.Sin(angle + 0.6);
            branch[p] = 1.0 + 0.5 * p;
            for (int b = 0; b < 2; b++)
            {
                double sign = b == 0 ? 1 : -1;
                accel[(p * 2 + b) * d] = -0.6 * Math.Sin(angle + 0.6) * sign;
                accel[(p * 2 + b) * d + 1] = 0.6 * Math.Cos(angle + 0.6) * sign;
                for (int c = 2; c < d; c++)
                {
                    accel[(p * 2 + b) * d + c] = 0.3 * sign * (c % 2 == 0 ? 1 : -1);
                }
            }
            for (int c = 2; c < d; c++)
            {
                start[p * d + c] = 0.5 * (c - 2);
                velocity[p * d + c] = 0.2;
            }
        }
        var result = new double[times.Length][];
        var z = new double[2 * d + 2];
        for (int k = 0; k < times.Length; k++)
        {
            double t = times[k];
            var x = result[k] = new double[pointsPerSnapshot * d];
            for (int i = 0; i < pointsPerSnapshot; i++)
            {
                ulong stream = ((ulong)k << 32) | (uint)i;
                // Populations in turn: equal masses at every snapshot, so no mass has to jump between populations.
                int p = i % populations;
                int b = rng.Uniform(stream, 1) < 0.5 ? 0 : 1;
                rng.FillNormal(stream, 2, z);
                double after = Math.Max(0, t - branch[p]);
                // Velocity diffusion integrated exactly: position noise variance σ²t³/3, velocity σ²t, covariance σ²t²/2.
                double sx = noise * Math.Sqrt(t * t * t / 3);
                for (int c = 0; c < d; c++)
                {
                    double spread = 0.35 * z[c];
                    double vSpread = 0.15 * z[d + c];
                    x[i * d + c] = start[p * d + c] + spread + (velocity[p * d + c] + vSpread) * t + 0.5 * accel[(p * 2 + b) * d + c] * after * after
                        + sx * (c == 0 ? z[2 * d] : c == 1 ? z[2 * d + 1] : 0.5 * (z[2 * d] - z[2 * d + 1]));
                }
            }
        }
        return result;
    }
}

namespace GmmFlow;

/// <summary>Scores of one held-out snapshot: the momentum bridge against the Brownian piecewise baseline.</summary>
/// <param name="Time">Held-out time.</param>
/// <param name="MomentumSwd">Sliced W2 (50 directions) between the momentum prediction and the held-out data.</param>
/// <param name="MomentumMmd">5-kernel MMD² (sum of kernels) between them.</param>
/// <param name="BrownianSwd">Sliced W2 of the Brownian piecewise bridge's prediction.</param>
/// <param name="BrownianMmd">5-kernel MMD² of the Brownian prediction.</param>
public readonly record struct HeldOutScore(double Time, double MomentumSwd, double MomentumMmd, double BrownianSwd, double BrownianMmd);

/// <summary>
/// Held-out interpolation, as single-cell trajectory inference is scored: fit on every snapshot but one interior
/// one, predict that snapshot, and compare the prediction with it by sliced Wasserstein-2 and a multi-kernel MMD.
/// The baseline is the Brownian (no-momentum) Schrödinger bridge between the two neighbouring snapshots
/// (<see cref="TransportPlan"/>, time rescaled to the segment).
/// </summary>
/// <remarks>docs/theory/multimarginal.md#held-out.</remarks>
public static class MomentumHeldOut
{
    /// <summary>
    /// Leaves out snapshot <paramref name="heldOut"/> (0 &lt; heldOut &lt; M) of <paramref name="mixtures"/> (one per
    /// time), builds the momentum plan on the others and the Brownian bridge between its neighbours, draws
    /// <paramref name="predictions"/> exact samples of each prediction at the held-out time and scores them against
    /// <paramref name="data"/> (N×n samples of the held-out snapshot).
    /// </summary>
    public static HeldOutScore Evaluate(ReadOnlySpan<double> times, IReadOnlyList<GaussianMixture> mixtures, int heldOut, ReadOnlySpan<double> data,
        double noise, int predictions = 2000, ulong seed = 0, MultiMarginalOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mixtures);
        if (heldOut <= 0 || heldOut >= times.Length - 1)
        {
            throw new ArgumentOutOfRangeException(nameof(heldOut), heldOut, $"the held-out snapshot must be interior (1 … {times.Length - 2}).");
        }
        var keptTimes = new List<double>();
        var kept = new List<GaussianMixture>();
        for (int k = 0; k < times.Length; k++)
        {
            if (k != heldOut)
            {
                keptTimes.Add(times[k]);
                kept.Add(mixtures[k]);
            }
        }
        options ??= new MultiMarginalOptions { Noise = noise };
        var plan = MultiMarginalPlan.Create(keptTimes.ToArray(), kept, options);
        double t = times[heldOut];
        var momentum = plan.SampleMarginal(t, predictions, seed);
        int n = plan.Dimension;
        // Brownian baseline on [t_{k−1}, t_{k+1}] rescaled to [0, 1]: noise variance per unit time σ² becomes σ²Δ.
        double span = times[heldOut + 1] - times[heldOut - 1];
        var brownianPlan = TransportPlan.Create(mixtures[heldOut - 1], mixtures[heldOut + 1],
            new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = noise * Math.Sqrt(span) });
        var brownian = brownianPlan.SampleMarginal((t - times[heldOut - 1]) / span, predictions, seed + 1);
        return new HeldOutScore(t, Swd(momentum, data, n, seed), Mmd(momentum, data, n), Swd(brownian, data, n, seed), Mmd(brownian, data, n));
    }

    /// <summary>Sliced W2 (not squared) with 50 random directions.</summary>
    public static double Swd(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, ulong seed = 0)
        => Math.Sqrt(SampleMetrics.SlicedWasserstein2Squared(x, y, dimension, 50, seed));

    /// <summary>
    /// MMD² with the sum of 5 Gaussian kernels exp(−|x − y|²/b_i), b_i = β·2^i (i = −2 … 2), β a quarter of the mean
    /// squared distance between points of the pooled sample (at most 1 000 of each, evenly strided); unbiased estimate.
    /// </summary>
    public static double Mmd(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension)
    {
        double beta = MeanSquaredDistance(x, y, dimension) / 4;
        var h = new double[5];
        for (int i = 0; i < 5; i++)
        {
            // exp(−d²/b) = exp(−d²/(2h²)) with h = √(b/2); SampleMetrics averages the kernels, the sum is 5× that.
            h[i] = Math.Sqrt(beta * Math.Pow(2, i - 2) / 2);
        }
        return 5 * SampleMetrics.MmdSquared(x, y, dimension, h);
    }

    private static double MeanSquaredDistance(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int d)
    {
        var pool = new List<double[]>();
        void Take(ReadOnlySpan<double> s)
        {
            int count = s.Length / d, stride = Math.Max(1, count / 1000);
            for (int i = 0; i < count; i += stride)
            {
                pool.Add(s.Slice(i * d, d).ToArray());
            }
        }
        Take(x);
        Take(y);
        double sum = 0;
        long pairs = 0;
        for (int i = 0; i < pool.Count; i++)
        {
            for (int j = i + 1; j < pool.Count; j++)
            {
                double s = 0;
                for (int c = 0; c < d; c++)
                {
                    double e = pool[i][c] - pool[j][c];
                    s += e * e;
                }
                sum += s;
                pairs++;
            }
        }
        return pairs == 0 ? 1 : sum / pairs;
    }
}

using GmmFlow.Native;

namespace GmmFlow;

// Moving samples: integration of the mixture policy, exact sampling of the marginal ρ_t, the static maps,
// and the Monte-Carlo kinetic cost of the policy.
public sealed partial class TransportPlan
{
    /// <summary>Number of trajectory snapshots <see cref="Transport"/> writes for these options (0 without SaveEvery).</summary>
    public static int TrajectorySnapshots(TransportRunOptions options)
        => FlowIntegrator.SnapshotCount(ToIntegration(options ?? new TransportRunOptions()));

    /// <summary>
    /// Moves source samples (N×d row-major) along the mixture policy from t = 0 to 1 and returns their positions at
    /// t = 1. With a trajectory span (<see cref="TrajectorySnapshots"/> × N × d) the snapshots are saved too.
    /// Reproducible for a seed whatever the thread count. <see cref="TransportAndCheck"/> also reports the steps and
    /// the accuracy check.
    /// </summary>
    public double[] Transport(ReadOnlySpan<double> samples, TransportRunOptions? options = null, Span<double> trajectory = default)
        => TransportCore(samples, options ?? new TransportRunOptions(), trajectory, out _, out _);

    /// <summary>
    /// Draws <paramref name="count"/> exact samples of the time-t marginal ρ_t = Σ_p λ_p N(m_p(t), Σ_p(t)) without
    /// simulation (GMMflow Thm. 1). Sample i uses random stream i: reproducible for a seed.
    /// </summary>
    public double[] SampleMarginal(double t, int count, ulong seed)
    {
        if (!(t >= 0 && t <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(t), t, "t must be in [0, 1].");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int d = Dimension, pairs = _pairs.Length;
        // Diagonal plans: Σ_p(t) is its d variances and the factor their square roots (docs/theory/structured-covariances.md#sampling).
        bool diagonal = CovarianceType != CovarianceType.Full;
        int block = diagonal ? d : d * d;
        var means = new double[pairs * d];
        var factors = new double[pairs * block];
        var cumulative = new double[pairs];
        double total = 0;
        for (int p = 0; p < pairs; p++)
        {
            _bridges[p].Mean(t, means.AsSpan(p * d, d));
            Span<double> factor = factors.AsSpan(p * block, block);
            _bridges[p].Covariance(t, factor);
            if (diagonal)
            {
                DiagonalRoots(factor, "bridge covariance at t of pair", p);
            }
            else
            {
                Lapack.Default.Cholesky(factor, d, "bridge covariance at t of pair", p);
            }
            total += _pairs[p].Weight;
            cumulative[p] = total;
        }
        var rng = new CounterRng(seed);
        var output = new double[count * d];
        Span<double> z = d <= 256 ? stackalloc double[d] : new double[d];
        for (int i = 0; i < count; i++)
        {
            double u = rng.Uniform((ulong)i, 0) * total;
            int p = Math.Min(LowerBound(cumulative, u), pairs - 1);
            rng.FillNormal((ulong)i, 1, z);
            AffineSample(means.AsSpan(p * d, d), factors.AsSpan(p * block, block), z, output.AsSpan(i * d, d));
        }
        return output;
    }

    /// <summary>
    /// The barycentric map of the static coupling (POT's gmm_ot_apply_map 'bary'): E[X1 | X0 = x] =
    /// Σ_i p(i | x) Σ_j (λ_ij / a_i) (m_j + G_ij (x − m_i)), with p(i | x) the source responsibilities and G_ij the
    /// pair's coupling gain (the Monge matrix T for W2). Points are N×d row-major.
    /// </summary>
    public double[] MapBarycentric(ReadOnlySpan<double> points) => MapCore(points, random: false, seed: 0);

    /// <summary>
    /// The random-pair map (POT's 'rand'): for each point draw a source component i ~ p(i | x), a pair j ~ λ_ij / a_i,
    /// and sample X1 | X0 = x of that pair (deterministic m_j + G(x − m_i) for σ = 0; N(·, εG) for an SB with σ &gt; 0).
    /// </summary>
    public double[] MapRandom(ReadOnlySpan<double> points, ulong seed) => MapCore(points, random: true, seed);

    /// <summary>
    /// Monte-Carlo estimate of the kinetic cost E ∫₀¹ |u(X_t, t)|² dt of the mixture policy with X_t ~ ρ_t sampled
    /// exactly, by Gauss–Legendre quadrature over t. When the pair cost is the bridges' exact kinetic energy (W2,
    /// surrogate, SB kinetic variant) it cannot exceed <see cref="Objective"/> (Jensen on the mixture of drifts),
    /// up to Monte-Carlo error; the standard error is returned too.
    /// </summary>
    public (double Estimate, double StandardError) KineticCost(int samplesPerNode = 4096, int nodes = 12, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(samplesPerNode, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        (double[] ts, double[] ws) = GaussLegendre(nodes);
        int d = Dimension;
        var field = CreatePlanField(BridgeField.Drift);
        var v = new double[samplesPerNode * d];
        double estimate = 0, variance = 0;
        for (int q = 0; q < nodes; q++)
        {
            var x = SampleMarginal(ts[q], samplesPerNode, seed + (ulong)q * 0x9E3779B97F4A7C15UL);
            field.Evaluate(ts[q], x, v);
            double sum = 0, sumSq = 0;
            for (int i = 0; i < samplesPerNode; i++)
            {
                double s = 0;
                for (int k = 0; k < d; k++)
                {
                    s += v[i * d + k] * v[i * d + k];
                }
                sum += s;
                sumSq += s * s;
            }
            double mean = sum / samplesPerNode;
            double var = Math.Max(sumSq / samplesPerNode - mean * mean, 0) / (samplesPerNode - 1);
            estimate += ws[q] * mean;
            variance += ws[q] * ws[q] * var;
        }
        return (estimate, Math.Sqrt(variance));
    }

    private bool IsSchrodinger => Options.Cost is CostKind.SchrodingerBridge or CostKind.EntropicTransport;

    private double[] MapCore(ReadOnlySpan<double> points, bool random, ulong seed)
    {
        int d = Dimension, k0 = Source.ComponentCount;
        if (points.Length % d != 0)
        {
            ThrowHelper.ThrowArgument($"points has length {points.Length}, not a multiple of d = {d}.", nameof(points));
        }
        int n = points.Length / d;
        var responsibilities = new double[n * k0];
        Source.Responsibilities(points, responsibilities);
        int pairs = _pairs.Length;
        int block = CovarianceType != CovarianceType.Full ? d : d * d; // diagonal plans: gains are d-vectors
        var gains = new double[pairs * block];
        var chol = random && Options.Noise > 0 && IsSchrodinger ? new double[pairs * block] : null;
        for (int p = 0; p < pairs; p++)
        {
            _bridges[p].CouplingGain(gains.AsSpan(p * block, block));
            if (chol is not null)
            {
                // Conditional covariance εG (G SPD for the SB): its Cholesky factor scales the normals.
                var c = chol.AsSpan(p * block, block);
                gains.AsSpan(p * block, block).CopyTo(c);
                double eps = Options.Noise * Options.Noise;
                for (int k = 0; k < c.Length; k++)
                {
                    c[k] *= eps;
                }
                if (block == d)
                {
                    DiagonalRoots(c, "conditional covariance εG of pair", p); // diagonal, or d = 1 (the same thing)
                }
                else
                {
                    Lapack.Default.Cholesky(c, d, "conditional covariance εG of pair", p);
                }
            }
        }
        var output = new double[n * d];
        var rng = new CounterRng(seed);
        Span<double> mean = d <= 256 ? stackalloc double[d] : new double[d];
        Span<double> z = d <= 256 ? stackalloc double[d] : new double[d];
        for (int i = 0; i < n; i++)
        {
            var x = points.Slice(i * d, d);
            var y = output.AsSpan(i * d, d);
            if (!random)
            {
                for (int p = 0; p < pairs; p++)
                {
                    var e = _pairs[p];
                    double w = responsibilities[i * k0 + e.Source] * e.Weight / Source.Weights[e.Source];
                    if (w == 0)
                    {
                        continue;
                    }
                    PairMap(p, x, mean, gains);
                    for (int k = 0; k < d; k++)
                    {
                        y[k] += w * mean[k];
                    }
                }
                continue;
            }
            // Draw (i, j) with probability p(i | x) λ_ij / a_i by inverting the cumulative sum over active pairs.
            double u = rng.Uniform((ulong)i, 0), acc = 0;
            int chosen = pairs - 1;
            for (int p = 0; p < pairs; p++)
            {
                var e = _pairs[p];
                acc += responsibilities[i * k0 + e.Source] * e.Weight / Source.Weights[e.Source];
                if (u < acc)
                {
                    chosen = p;
                    break;
                }
            }
            PairMap(chosen, x, mean, gains);
            if (chol is null)
            {
                mean.CopyTo(y);
            }
            else
            {
                rng.FillNormal((ulong)i, 1, z);
                AffineSample(mean, chol.AsSpan(chosen * block, block), z, y);
            }
        }
        return output;
    }

    // m_j + G (x − m_i) for active pair p.
    private void PairMap(int p, ReadOnlySpan<double> x, Span<double> result, double[] gains)
    {
        int d = Dimension;
        var e = _pairs[p];
        var mi = Source.Mean(e.Source);
        var mj = Target.Mean(e.Target);
        if (CovarianceType != CovarianceType.Full)
        {
            var gd = gains.AsSpan(p * d, d);
            for (int r = 0; r < d; r++)
            {
                result[r] = mj[r] + gd[r] * (x[r] - mi[r]);
            }
            return;
        }
        var g = gains.AsSpan(p * d * d, d * d);
        for (int r = 0; r < d; r++)
        {
            double s = mj[r];
            for (int c = 0; c < d; c++)
            {
                s += g[r * d + c] * (x[c] - mi[c]);
            }
            result[r] = s;
        }
    }

    // Variances → standard deviations in place (the Cholesky factor of a diagonal matrix); names the pair if one is not > 0.
    private static void DiagonalRoots(Span<double> variances, string what, int pair)
    {
        for (int k = 0; k < variances.Length; k++)
        {
            if (!(variances[k] > 0))
            {
                throw new NotPositiveDefiniteException(what, pair, k + 1);
            }
            variances[k] = Math.Sqrt(variances[k]);
        }
    }

    // y = m + L z with L lower triangular (row-major), or L diagonal given as its d entries.
    internal static void AffineSample(ReadOnlySpan<double> mean, ReadOnlySpan<double> lower, ReadOnlySpan<double> z, Span<double> y)
    {
        int d = mean.Length;
        if (lower.Length == d)
        {
            for (int r = 0; r < d; r++)
            {
                y[r] = mean[r] + lower[r] * z[r];
            }
            return;
        }
        for (int r = 0; r < d; r++)
        {
            double s = mean[r];
            for (int c = 0; c <= r; c++)
            {
                s += lower[r * d + c] * z[c];
            }
            y[r] = s;
        }
    }

    internal static int LowerBound(double[] cumulative, double u)
    {
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (cumulative[mid] > u)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private static IntegrationOptions ToIntegration(TransportRunOptions options) => new()
    {
        Steps = options.Steps ?? NominalSteps,
        SaveEvery = options.SaveEvery,
        Progress = options.Progress,
        CancellationToken = options.CancellationToken,
    };

    /// <summary>Gauss–Legendre nodes and weights on [0, 1] (Newton on P_n; Golub–Welsch would need an eigensolver).</summary>
    internal static (double[] Nodes, double[] Weights) GaussLegendre(int n)
    {
        var x = new double[n];
        var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            double z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), dp = 0;
            for (int iter = 0; iter < 100; iter++)
            {
                double p0 = 1, p1 = z;
                for (int k = 2; k <= n; k++)
                {
                    double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n * (z * p1 - p0) / (z * z - 1);
                double dz = p1 / dp;
                z -= dz;
                if (Math.Abs(dz) < 1e-15)
                {
                    break;
                }
            }
            x[i] = 0.5 * (1 - z);
            w[i] = 1.0 / ((1 - z * z) * dp * dp);
        }
        return (x, w);
    }
}

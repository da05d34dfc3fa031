using GmmFlow.Native;

namespace GmmFlow;

/// <summary>
/// A continuous entropic-OT benchmark pair with a known Schrödinger bridge, after the construction of Gushchin et al.
/// (NeurIPS 2023, "Building the bridge of Schrödinger", arXiv 2306.10161; docs/theory/exact-sb.md#benchmark): a Gaussian
/// source N(0, I_d) and a Gaussian-mixture potential v*, whose plan π*(y | x) ∝ exp(⟨x, y⟩/ε) v*(y) is the entropic-OT
/// plan between the source and its own second marginal, the target. Target samples come from the exact conditional
/// plan; the metrics are cBW2-UVP and BW2-UVP in %.
/// </summary>
public sealed class EntropicBridgeBenchmark
{
    private EntropicBridgeBenchmark(LightBridge potential) => Potential = potential;

    /// <summary>The true potential (its plan is the ground-truth SB plan).</summary>
    public LightBridge Potential { get; }

    /// <summary>d.</summary>
    public int Dimension => Potential.Dimension;

    /// <summary>Mean of the target marginal (set by <see cref="EstimateTargetMoments"/>).</summary>
    public double[]? TargetMean { get; private set; }

    /// <summary>Covariance of the target marginal (set by <see cref="EstimateTargetMoments"/>).</summary>
    public double[]? TargetCovariance { get; private set; }

    /// <summary>Var(p1) = tr Cov(target), the normaliser of both UVP metrics.</summary>
    public double TargetVariance { get; private set; } = double.NaN;

    /// <summary>
    /// The benchmark pair for dimension d, noise σ and a seed: K potential components with weights 1/K, centres
    /// r_k ~ N(0, I) and scales S_k = Q_k diag(λ_k) Q_kᵀ, Q_k a random rotation, λ uniform in [0.5, 2] rescaled to mean 1
    /// (equal traces keep the component masses balanced by symmetry).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">d or K below 1, or σ not finite and &gt; 0.</exception>
    public static EntropicBridgeBenchmark Create(int dimension, double noise, ulong seed, int components = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(components, 1);
        LightBridge.CheckNoise(noise);
        int d = dimension, k = components;
        var rng = new CounterRng(seed);
        var lapack = Lapack.Default;
        var weights = Enumerable.Repeat(1.0 / k, k).ToArray();
        var centers = new double[k * d];
        rng.FillNormal(0, 0, centers);
        var scales = new double[k * d * d];
        var a = new double[d * d];
        var eig = new double[d];
        var lambda = new double[d];
        for (int c = 0; c < k; c++)
        {
            // A random orthogonal Q: the eigenvectors of a symmetric Gaussian matrix.
            rng.FillNormal((ulong)(1 + c), 0, a);
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    a[i * d + j] = a[j * d + i] = 0.5 * (a[i * d + j] + a[j * d + i]);
                }
            }
            lapack.SymmetricEigen(a, d, eig, vectors: true);
            double mean = 0;
            for (int i = 0; i < d; i++)
            {
                lambda[i] = 0.5 + 1.5 * rng.Uniform((ulong)(1000 + c), (ulong)i);
                mean += lambda[i] / d;
            }
            Span<double> s = scales.AsSpan(c * d * d, d * d);
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double v = 0;
                    for (int m = 0; m < d; m++)
                    {
                        // Row m of a is eigenvector m: S = Σ_m λ_m q_m q_mᵀ.
                        v += lambda[m] / mean * a[m * d + i] * a[m * d + j];
                    }
                    s[i * d + j] = s[j * d + i] = v;
                }
            }
        }
        return new EntropicBridgeBenchmark(new LightBridge(noise, weights, centers, scales));
    }

    /// <summary>N×d samples of the source N(0, I).</summary>
    public double[] SampleSource(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var x = new double[(long)count * Dimension];
        var rng = new CounterRng(seed);
        for (int i = 0; i < count; i++)
        {
            rng.FillNormal((ulong)i, 0, x.AsSpan(i * Dimension, Dimension));
        }
        return x;
    }

    /// <summary>N×d samples of the target: x ~ N(0, I), then y ~ π*(· | x) exactly.</summary>
    public double[] SampleTarget(int count, ulong seed)
        => Potential.SampleConditional(SampleSource(count, seed), 1, seed ^ 0xC2B2AE3D27D4EB4FUL);

    /// <summary>Estimates the target mean and covariance from <paramref name="count"/> exact samples (they have no closed form).</summary>
    public void EstimateTargetMoments(int count, ulong seed)
    {
        double[] y = SampleTarget(count, seed);
        (TargetMean, TargetCovariance) = LightBridgeFitter.Moments(Lapack.Default, y, count, Dimension);
        double trace = 0;
        for (int i = 0; i < Dimension; i++)
        {
            trace += TargetCovariance[i * Dimension + i];
        }
        TargetVariance = trace;
    }

    /// <summary>
    /// cBW2-UVP in %: 100 · mean over the test points x of BW2²(N(m̂_x, Ĉ_x), N(m*_x, C*_x)) / Var(p1), with m̂, Ĉ the
    /// sample moments of the predicted conditional samples of x (rows i·M … i·M + M − 1 for test point i) and m*, C*
    /// the exact moments of π*(· | x).
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="EstimateTargetMoments"/> was not called.</exception>
    public double ConditionalUvp(ReadOnlySpan<double> testPoints, ReadOnlySpan<double> predicted, int perPoint)
    {
        RequireMoments();
        ArgumentOutOfRangeException.ThrowIfLessThan(perPoint, 2);
        int d = Dimension, n = testPoints.Length / d;
        if (testPoints.Length != n * d || predicted.Length != (long)n * perPoint * d)
        {
            throw new ArgumentException($"predicted must hold {perPoint} samples for each of the {n} test points.", nameof(predicted));
        }
        var mean = new double[d];
        var cov = new double[d * d];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            Potential.ConditionalMoments(testPoints.Slice(i * d, d), mean, cov);
            var (m, c) = LightBridgeFitter.Moments(Lapack.Default, predicted.Slice(i * perPoint * d, perPoint * d), perPoint, d);
            total += GaussianCosts.Pair(CostKind.Wasserstein, m, c, mean, cov, d);
        }
        return 100 * total / n / TargetVariance;
    }

    /// <summary>BW2-UVP in %: 100 · BW2²(sample moments of the predicted target samples, target moments) / Var(p1).</summary>
    public double MarginalUvp(ReadOnlySpan<double> predicted)
    {
        RequireMoments();
        int d = Dimension, n = predicted.Length / d;
        var (m, c) = LightBridgeFitter.Moments(Lapack.Default, predicted, n, d);
        return 100 * GaussianCosts.Pair(CostKind.Wasserstein, m, c, TargetMean, TargetCovariance, d) / TargetVariance;
    }

    private void RequireMoments()
    {
        if (TargetMean is null)
        {
            throw new InvalidOperationException("Call EstimateTargetMoments before computing a UVP metric.");
        }
    }
}

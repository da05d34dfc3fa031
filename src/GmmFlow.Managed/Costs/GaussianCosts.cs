using GmmFlow.Native;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// Transport costs between Gaussians: one pair, or the K0×K1 matrix between two prepared sets of components
/// (<see cref="GaussianFactors"/>), computed on all cores with no allocation once warm.
/// </summary>
/// <remarks>
/// Formulas (docs/theory.md): W2² #exact-w2 (nuclear norm of L0ᵀL1 as √eig(L0ᵀ Σ1 L0), no matrix square root); surrogate #surrogate-cost
/// (eigenpairs of L0⁻¹ Σ1 L0⁻ᵀ); Schrödinger bridge and entropic OT #sb-cost (eig(Σ0Σ1)). d = 1 and diagonal covariances
/// use the commuting closed forms, d = 2 closed-form 2×2 spectra; d ≥ 3 solves the pairs' eigenproblems a SIMD
/// vector's width at a time (<see cref="LockstepPairCosts"/>), falling back to one LAPACK dsyevd per pair without SIMD
/// and for the one-pair API.
/// <c>noise</c> is σ (ε = σ², POT/OTT reg = 2σ²); σ = 0 makes the SB and entropic costs return W2² exactly.
/// </remarks>
public static class GaussianCosts
{
    /// <summary>
    /// Writes the K0×K1 cost matrix (row-major, row i = source component i) into <paramref name="destination"/>.
    /// Allocates nothing once warm (per-thread scratch is reused).
    /// </summary>
    /// <param name="kind">Which cost.</param>
    /// <param name="source">Source components (rows).</param>
    /// <param name="target">Target components (columns); same dimension and covariance storage as the source.</param>
    /// <param name="destination">At least K0·K1 elements.</param>
    /// <param name="noise">σ ≥ 0, used by <see cref="CostKind.SchrodingerBridge"/> and <see cref="CostKind.EntropicTransport"/>.</param>
    /// <param name="variant">Which SB number (<see cref="CostKind.SchrodingerBridge"/> only).</param>
    public static void Compute(CostKind kind, GaussianFactors source, GaussianFactors target, Span<double> destination,
        double noise = 0, SchrodingerCostVariant variant = SchrodingerCostVariant.KineticEnergy)
        => ComputeMatrix(kind, source, target, destination, noise, variant, lockstep: true);

    /// <summary><paramref name="lockstep"/> = false solves every pair's eigenproblem with LAPACK (tests, benchmarks).</summary>
    internal static void ComputeMatrix(CostKind kind, GaussianFactors source, GaussianFactors target, Span<double> destination,
        double noise, SchrodingerCostVariant variant, bool lockstep)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        CheckCompatible(source, target);
        CheckOptions(kind, noise, variant);
        int pairs = source.Count * target.Count;
        if (destination.Length < pairs)
        {
            ThrowHelper.ThrowSize(nameof(destination), pairs, destination.Length);
        }
        double[] output = OutputBuffer(pairs);
        bool batched = lockstep && LockstepPairCosts.Applies(source);
        double[]? targets = null;
        int stride = 0;
        if (batched)
        {
            targets = LockstepPairCosts.InterleaveTargets(target, out stride);
        }
        var body = new CostMatrixBody(kind, noise * noise, variant, source, target, output, targets, stride);
        int d = source.Dimension;
        // Tiny matrices are cheaper on one thread than waking the workers (~10 µs); otherwise ~8 chunks per thread.
        bool small = d <= 2 ? pairs < 1024 : pairs < 2 * ParallelRange.Concurrency;
        if (small)
        {
            body.Execute(0, pairs);
        }
        else
        {
            int grain = Math.Max(d <= 2 ? 64 : 1, pairs / (8 * ParallelRange.Concurrency));
            if (batched)
            {
                // Whole lockstep groups per grain, so only the last grain has idle lanes.
                int lanes = LockstepPairCosts.Lanes(d);
                grain = (grain + lanes - 1) / lanes * lanes;
            }
            ParallelRange.For(pairs, grain, body);
        }
        // The parallel body cannot hold the caller's span (it lives in a heap job), so it writes a per-thread buffer.
        output.AsSpan(0, pairs).CopyTo(destination);
    }

    /// <summary>Cost between N(mean0, covariance0) and N(mean1, covariance1), full d×d row-major covariances.</summary>
    /// <remarks>Convenience for one pair: factors both Gaussians (allocates); use <see cref="Compute"/> for many pairs.</remarks>
    public static double Pair(CostKind kind, ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, int dimension,
        double noise = 0, SchrodingerCostVariant variant = SchrodingerCostVariant.KineticEnergy)
        => Pair(Lapack.Default, kind, mean0, covariance0, mean1, covariance1, dimension, noise, variant);

    /// <summary>Cost between two Gaussians with diagonal covariances (variances as d-vectors).</summary>
    public static double PairDiagonal(CostKind kind, ReadOnlySpan<double> mean0, ReadOnlySpan<double> variances0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> variances1, int dimension,
        double noise = 0, SchrodingerCostVariant variant = SchrodingerCostVariant.KineticEnergy)
    {
        CheckOptions(kind, noise, variant);
        var s = GaussianFactors.FromDiagonal(mean0, variances0, 1, dimension, "source");
        var t = GaussianFactors.FromDiagonal(mean1, variances1, 1, dimension, "target");
        return PairKernels.Cost(kind, noise * noise, variant, s, 0, t, 0, PairWorkspace.ForThread(dimension));
    }

    internal static double Pair(Lapack lapack, CostKind kind, ReadOnlySpan<double> mean0, ReadOnlySpan<double> covariance0,
        ReadOnlySpan<double> mean1, ReadOnlySpan<double> covariance1, int dimension, double noise, SchrodingerCostVariant variant)
    {
        CheckOptions(kind, noise, variant);
        var s = GaussianFactors.FromFull(lapack, mean0, covariance0, 1, dimension, "source");
        var t = GaussianFactors.FromFull(lapack, mean1, covariance1, 1, dimension, "target");
        return PairKernels.Cost(kind, noise * noise, variant, s, 0, t, 0, PairWorkspace.ForThread(dimension));
    }

    internal static void CheckCompatible(GaussianFactors source, GaussianFactors target)
    {
        if (source.Dimension != target.Dimension)
        {
            ThrowHelper.ThrowArgument(
                $"Dimension mismatch: {source.Name} components have d = {source.Dimension}, {target.Name} components d = {target.Dimension}.",
                nameof(target));
        }
        if (source.IsDiagonal != target.IsDiagonal)
        {
            ThrowHelper.ThrowArgument(
                $"Covariance storage mismatch: {source.Name} is {(source.IsDiagonal ? "diagonal" : "full")}, {target.Name} is " +
                $"{(target.IsDiagonal ? "diagonal" : "full")}; factor both sides the same way.", nameof(target));
        }
    }

    internal static void CheckOptions(CostKind kind, double noise, SchrodingerCostVariant variant)
    {
        if (kind is < CostKind.Wasserstein or > CostKind.EntropicTransport)
        {
            ThrowHelper.ThrowArgument($"Unknown cost kind {(int)kind}.", nameof(kind));
        }
        if (variant is < SchrodingerCostVariant.KineticEnergy or > SchrodingerCostVariant.GmmFlowReference)
        {
            ThrowHelper.ThrowArgument($"Unknown Schrödinger cost variant {(int)variant}.", nameof(variant));
        }
        if (!(noise >= 0) || double.IsInfinity(noise))
        {
            ThrowHelper.ThrowArgument($"noise (σ) must be finite and ≥ 0, got {noise}.", nameof(noise));
        }
    }

    [ThreadStatic]
    private static double[]? t_output;

    private static double[] OutputBuffer(int length)
    {
        double[]? buffer = t_output;
        if (buffer is null || buffer.Length < length)
        {
            t_output = buffer = new double[Math.Max(length, (buffer?.Length ?? 0) * 2)];
        }
        return buffer;
    }

    private readonly struct CostMatrixBody(CostKind kind, double variance, SchrodingerCostVariant variant,
        GaussianFactors source, GaussianFactors target, double[] output, double[]? targets, int stride) : IRangeBody
    {
        public void Execute(int start, int end)
        {
            if (targets is not null)
            {
                LockstepPairCosts.Run(kind, variance, variant, source, target, targets, stride, output, start, end);
                return;
            }
            var ws = PairWorkspace.ForThread(source.Dimension);
            int columns = target.Count;
            for (int p = start; p < end; p++)
            {
                int i = p / columns, j = p - i * columns;
                output[p] = PairKernels.Cost(kind, variance, variant, source, i, target, j, ws);
            }
        }
    }
}

using System.Runtime.Intrinsics;
using GmmFlow.Simd;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>
/// The batched cost-matrix path for full covariances with d ≥ 3: the pairs of a range are taken a vector's width at
/// a time (8 with AVX-512), their symmetric products are interleaved lane by lane and all their eigenproblems are
/// solved together by <see cref="LockstepSymmetricEigen"/>. Per pair the cost is then assembled exactly as on the
/// one-pair LAPACK path (<see cref="PairKernels"/>), which also takes over any lane the lockstep solver gives back.
/// </summary>
/// <remarks>
/// Why: at d = 16 one dsyevd call (9 µs) was 95% of a pair's cost, and at d = 64 (104 µs) still 85%; the lockstep
/// solver does the same reductions for eight pairs at vector throughput (measured numbers in BENCHMARKS.md).
/// Not used without SIMD acceleration (one lane would gain nothing over LAPACK).
/// </remarks>
internal static class LockstepPairCosts
{
    public static bool Applies(GaussianFactors source)
        => !source.IsDiagonal && source.Dimension >= 3 && SimdDispatch.Best != SimdWidth.Scalar;

    /// <summary>Pairs per lockstep group on this machine (parallel grains are multiples of it).</summary>
    public static int Lanes => SimdDispatch.Best == SimdWidth.V512 ? Simd512x2.Count : (int)SimdDispatch.Best;

    /// <summary>output[p] = cost of pair p = i·K1 + j for p in [start, end).</summary>
    public static void Run(CostKind kind, double variance, SchrodingerCostVariant variant,
        GaussianFactors source, GaussianFactors target, Span<double> output, int start, int end)
    {
        if (variance == 0 && kind is CostKind.SchrodingerBridge or CostKind.EntropicTransport)
        {
            // σ = 0: both SB costs are W2² exactly (math.md §4), as on the one-pair path.
            kind = CostKind.Wasserstein;
        }
        switch (SimdDispatch.Best)
        {
            case SimdWidth.V512:
                // Sixteen pairs as two AVX-512 halves: the QL sweep is a latency chain, and the second half's
                // chain fills the first one's stalls (8.8 → 7.0 µs per eight W2 problems at d = 16, eigen-quick).
                Run<Simd512x2, Vector512x2>(kind, variance, variant, source, target, output, start, end);
                break;
            case SimdWidth.V256:
                Run<Simd256, Vector256<double>>(kind, variance, variant, source, target, output, start, end);
                break;
            default:
                Run<Simd128, Vector128<double>>(kind, variance, variant, source, target, output, start, end);
                break;
        }
    }

    private static void Run<TOps, TV>(CostKind kind, double variance, SchrodingerCostVariant variant,
        GaussianFactors s, GaussianFactors t, Span<double> output, int start, int end)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, d = s.Dimension, dd = d * d, columns = t.Count;
        bool surrogate = kind == CostKind.Surrogate;
        var pws = PairWorkspace.ForThread(d);
        var ws = LockstepWorkspace.ForThread(d, lanes);
        Span<double> product = pws.A.AsSpan(0, dd);
        Span<double> values = pws.Values.AsSpan(0, d);
        for (int first = start; first < end; first += lanes)
        {
            int count = Math.Min(lanes, end - first);
            for (int q = 0; q < lanes; q++)
            {
                if (q < count)
                {
                    int p = first + q, i = p / columns, j = p - i * columns;
                    if (surrogate)
                    {
                        // C = L0⁻¹ Σ1 L0⁻ᵀ, and B = L0 so that the solver returns the rows (L0 w_k)ᵀ (math.md §2).
                        DenseKernels.CongruenceLower(s.FactorInverse(i), s.FactorInverseTransposed(i), t.Covariance(j), pws.B, product, d);
                        Interleave(s.Factor(i), ws.B, q, lanes);
                    }
                    else
                    {
                        // γ = eig(L0ᵀ Σ1 L0) (math.md §1/§4).
                        DenseKernels.CongruenceLowerTransposed(s.Factor(i), s.FactorTransposed(i), t.Covariance(j), pws.B, product, d);
                    }
                    InterleaveLower(product, ws.A, d, q, lanes);
                }
                else
                {
                    // Unused lanes of the last group solve the identity (converged from the start).
                    InterleaveIdentity(ws.A, d, q, lanes);
                    if (surrogate)
                    {
                        InterleaveIdentity(ws.B, d, q, lanes);
                    }
                }
            }

            int failed = LockstepSymmetricEigen.Solve<TOps, TV>(ws.A.AsSpan(0, dd * lanes),
                surrogate ? ws.B.AsSpan(0, dd * lanes) : default, ws.Values, ws.Scratch, d);
            if (surrogate)
            {
                // ‖L0 w_k‖² for all lanes at once: row k of the returned (L0 W)ᵀ, squared and summed.
                SquaredRowNorms<TOps, TV>(ws.B, ws.Norms, d);
            }

            for (int q = 0; q < count; q++)
            {
                int p = first + q, i = p / columns, j = p - i * columns;
                if ((failed >> q & 1) != 0)
                {
                    output[p] = PairKernels.Cost(kind, variance, variant, s, i, t, j, pws);
                    continue;
                }
                for (int k = 0; k < d; k++)
                {
                    values[k] = ws.Values[k * lanes + q];
                }
                double meanTerm = PairKernels.SquaredDistance(s.Mean(i), t.Mean(j));
                if (surrogate)
                {
                    // ¼ Σ_k (μ_k − 1) log μ_k ‖L0 w_k‖², row k of the rotated Bᵀ being (L0 w_k)ᵀ.
                    double sum = 0;
                    for (int k = 0; k < d; k++)
                    {
                        sum += PairKernels.SurrogateWeight(values[k]) * ws.Norms[k * lanes + q];
                    }
                    output[p] = meanTerm + 0.25 * sum;
                }
                else
                {
                    output[p] = meanTerm + PairKernels.CovarianceTermFromSpectrum(kind, variance, variant, s, i, t, j, values);
                }
            }
        }
    }

    private static void SquaredRowNorms<TOps, TV>(double[] rows, double[] norms, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        for (int k = 0; k < d; k++)
        {
            TV acc = TOps.Zero;
            for (int c = 0; c < d; c++)
            {
                TV x = TOps.Load(ref rows[(k * d + c) * lanes]);
                acc = TOps.MultiplyAdd(x, x, acc);
            }
            TOps.Store(acc, ref norms[k * lanes]);
        }
    }

    private static void Interleave(ReadOnlySpan<double> matrix, double[] destination, int lane, int lanes)
    {
        for (int e = 0; e < matrix.Length; e++)
        {
            destination[e * lanes + lane] = matrix[e];
        }
    }

    /// <summary>The congruence kernels fill the lower triangle only, which is all the solver reads.</summary>
    private static void InterleaveLower(ReadOnlySpan<double> lower, double[] destination, int d, int lane, int lanes)
    {
        for (int r = 0; r < d; r++)
        {
            for (int c = 0; c <= r; c++)
            {
                destination[(r * d + c) * lanes + lane] = lower[r * d + c];
            }
        }
    }

    private static void InterleaveIdentity(double[] destination, int d, int lane, int lanes)
    {
        for (int r = 0; r < d; r++)
        {
            for (int c = 0; c < d; c++)
            {
                destination[(r * d + c) * lanes + lane] = r == c ? 1.0 : 0.0;
            }
        }
    }

    /// <summary>Per-thread interleaved buffers for one lockstep group, grown on demand and kept.</summary>
    private sealed class LockstepWorkspace
    {
        [ThreadStatic]
        private static LockstepWorkspace? t_current;

        public double[] A = [];
        public double[] B = [];
        public double[] Values = [];
        public double[] Norms = [];
        public double[] Scratch = [];

        public static LockstepWorkspace ForThread(int d, int lanes)
        {
            var ws = t_current ??= new LockstepWorkspace();
            int dd = d * d * lanes;
            if (ws.A.Length < dd || ws.Values.Length < d * lanes || ws.Scratch.Length < LockstepSymmetricEigen.ScratchLength(d, lanes))
            {
                ws.A = new double[dd];
                ws.B = new double[dd];
                ws.Values = new double[d * lanes];
                ws.Norms = new double[d * lanes];
                ws.Scratch = new double[LockstepSymmetricEigen.ScratchLength(d, lanes)];
            }
            return ws;
        }
    }
}

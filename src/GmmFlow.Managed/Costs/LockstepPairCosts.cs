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

    /// <summary>
    /// Pairs per lockstep group on this machine for dimension d (parallel grains are multiples of it): sixteen as two
    /// AVX-512 halves up to d = 32 (the QL sweep is a latency chain, and the second half's chain fills the first
    /// one's stalls), eight beyond, where sixteen interleaved d×d matrices (512 KiB each at d = 64) crowd L2.
    /// </summary>
    public static int Lanes(int d) => SimdDispatch.Best == SimdWidth.V512 ? (d <= TwoVectorLimit ? Simd512x2.Count : Simd512.Count) : (int)SimdDispatch.Best;

    private const int TwoVectorLimit = 32;

    /// <summary>
    /// The target covariances interleaved for lockstep groups: element e of target j at <c>e·stride + j</c>, with the
    /// first targets repeated after the last (stride = K1 + 16, the widest group), so the targets of any
    /// group of consecutive pairs — consecutive j, wrapping into the next source row — are one vector
    /// load per element. Built once per cost matrix on the calling thread (thread-static buffer, no allocation when warm)
    /// and only read by the workers.
    /// </summary>
    public static double[] InterleaveTargets(GaussianFactors target, out int stride)
    {
        int d = target.Dimension, dd = d * d, k1 = target.Count;
        stride = k1 + Simd512x2.Count;
        int length = checked(dd * stride);
        double[]? buffer = t_targets;
        if (buffer is null || buffer.Length < length)
        {
            t_targets = buffer = new double[length];
        }
        for (int j = 0; j < stride; j++)
        {
            ReadOnlySpan<double> sigma = target.Covariance(j % k1);
            for (int e = 0; e < dd; e++)
            {
                buffer[e * stride + j] = sigma[e];
            }
        }
        return buffer;
    }

    [ThreadStatic]
    private static double[]? t_targets;

    /// <summary>output[p] = cost of pair p = i·K1 + j for p in [start, end); <paramref name="targets"/> from <see cref="InterleaveTargets"/>.</summary>
    public static void Run(CostKind kind, double variance, SchrodingerCostVariant variant,
        GaussianFactors source, GaussianFactors target, double[] targets, int stride, Span<double> output, int start, int end)
        => Run(kind, variance, variant, source, target, targets, stride, output, start, end, Lanes(source.Dimension));

    /// <summary>As above with the group width chosen by the caller (tests run every width this machine has; 16 = two AVX-512 vectors).</summary>
    internal static void Run(CostKind kind, double variance, SchrodingerCostVariant variant,
        GaussianFactors source, GaussianFactors target, double[] targets, int stride, Span<double> output, int start, int end, int lanes)
    {
        kind = PairKernels.EffectiveKind(kind, variance);
        switch (lanes)
        {
            case 16:
                Run<Simd512x2, Vector512x2>(kind, variance, variant, source, target, targets, stride, output, start, end);
                break;
            case 8:
                Run<Simd512, Vector512<double>>(kind, variance, variant, source, target, targets, stride, output, start, end);
                break;
            case 4:
                Run<Simd256, Vector256<double>>(kind, variance, variant, source, target, targets, stride, output, start, end);
                break;
            case 2:
                Run<Simd128, Vector128<double>>(kind, variance, variant, source, target, targets, stride, output, start, end);
                break;
            default:
                Run<SimdScalar, double>(kind, variance, variant, source, target, targets, stride, output, start, end);
                break;
        }
    }

    private static void Run<TOps, TV>(CostKind kind, double variance, SchrodingerCostVariant variant,
        GaussianFactors s, GaussianFactors t, double[] targets, int stride, Span<double> output, int start, int end)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, d = s.Dimension, dd = d * d, columns = t.Count, rows = s.Count;
        bool surrogate = kind == CostKind.Surrogate;
        var pws = PairWorkspace.ForThread(d);
        var ws = LockstepWorkspace.ForThread(d, lanes);
        Span<double> values = pws.Values.AsSpan(0, d);
        int builtFirst = -1, builtLast = -1;
        for (int first = start; first < end; first += lanes)
        {
            int count = Math.Min(lanes, end - first);
            // The group's source factors, lane by lane (lanes past the end repeat a real pair and are ignored).
            int iFirst = first / columns, iLast = Math.Min((first + lanes - 1) / columns, rows - 1);
            if (iFirst != builtFirst || iLast != builtLast)
            {
                InterleaveSourceFactors(s, surrogate, ws, first, columns, rows, lanes, iFirst == iLast);
                builtFirst = iFirst;
                builtLast = iLast;
            }
            ref double group = ref targets[first % columns];
            if (surrogate)
            {
                // C = L0⁻¹ Σ1 L0⁻ᵀ, and B = L0 so that the solver returns the rows (L0 w_k)ᵀ (docs/theory.md#surrogate-cost).
                LockstepProducts.CongruenceLower<TOps, TV>(ref ws.Inverse[0], ref group, stride, ref ws.Work[0], ref ws.A[0], d);
                ws.Factor.AsSpan(0, dd * lanes).CopyTo(ws.B);
            }
            else
            {
                // γ = eig(L0ᵀ Σ1 L0) (docs/theory.md#exact-w2, #sb-cost).
                LockstepProducts.CongruenceLowerTransposed<TOps, TV>(ref ws.Factor[0], ref group, stride, ref ws.Work[0], ref ws.A[0], d);
            }

            int failed = LockstepSymmetricEigen.Solve<TOps, TV>(ws.A.AsSpan(0, dd * lanes),
                surrogate ? ws.B.AsSpan(0, dd * lanes) : default, ws.Values, ws.Scratch, d);
            if (surrogate)
            {
                // ‖L0 w_k‖² for all lanes at once: row k of the returned (L0 W)ᵀ, squared and summed.
                SquaredRowNorms<TOps, TV>(ws.B, ws.Norms, d);
            }
            else if (kind == CostKind.Wasserstein)
            {
                NuclearNorms<TOps, TV>(ws.Values, ws.Norms, d);
            }

            for (int q = 0; q < count; q++)
            {
                int p = first + q, i = p / columns, j = p - i * columns;
                if ((failed >> q & 1) != 0)
                {
                    output[p] = PairKernels.Cost(kind, variance, variant, s, i, t, j, pws);
                    continue;
                }
                if (kind != CostKind.Wasserstein)
                {
                    for (int k = 0; k < d; k++)
                    {
                        values[k] = ws.Values[k * lanes + q];
                    }
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
                else if (kind == CostKind.Wasserstein)
                {
                    // As PairKernels.CovarianceTermFromSpectrum, with the nuclear norm summed across lanes.
                    output[p] = meanTerm + PairKernels.WassersteinCovarianceTerm(s, i, t, j, ws.Norms[q]);
                }
                else
                {
                    output[p] = meanTerm + PairKernels.CovarianceTermFromSpectrum(kind, variance, variant, s, i, t, j, values);
                }
            }
        }
    }

    /// <summary>
    /// Σ_k √max(0, γ_k) per lane, summed in the same order as the one-pair path (bit-identical, square roots being
    /// correctly rounded), a vector at a time instead of d scalar square roots per pair.
    /// </summary>
    private static void NuclearNorms<TOps, TV>(double[] values, double[] norms, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        TV acc = TOps.Zero;
        for (int k = 0; k < d; k++)
        {
            // Round-off can leave tiny negative eigenvalues of a PSD product: clamp before the root.
            acc = TOps.Add(acc, TOps.Sqrt(TOps.Max(TOps.Zero, TOps.Load(ref values[k * lanes]))));
        }
        TOps.Store(acc, ref norms[0]);
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

    /// <summary>Interleaves L0 (and L0⁻¹ for the surrogate) of every lane's source component: broadcasts when the group lies in one row.</summary>
    private static void InterleaveSourceFactors(GaussianFactors s, bool inverseToo, LockstepWorkspace ws, int first, int columns, int rows,
        int lanes, bool uniform)
    {
        int dd = s.Dimension * s.Dimension;
        if (uniform)
        {
            int i = first / columns;
            Broadcast(s.Factor(i), ws.Factor, lanes);
            if (inverseToo)
            {
                Broadcast(s.FactorInverse(i), ws.Inverse, lanes);
            }
            return;
        }
        for (int q = 0; q < lanes; q++)
        {
            int i = Math.Min((first + q) / columns, rows - 1);
            ReadOnlySpan<double> l = s.Factor(i);
            for (int e = 0; e < dd; e++)
            {
                ws.Factor[e * lanes + q] = l[e];
            }
            if (inverseToo)
            {
                ReadOnlySpan<double> inv = s.FactorInverse(i);
                for (int e = 0; e < dd; e++)
                {
                    ws.Inverse[e * lanes + q] = inv[e];
                }
            }
        }
    }

    private static void Broadcast(ReadOnlySpan<double> matrix, double[] destination, int lanes)
    {
        for (int e = 0; e < matrix.Length; e++)
        {
            destination.AsSpan(e * lanes, lanes).Fill(matrix[e]);
        }
    }

    /// <summary>Per-thread interleaved buffers for one lockstep group, grown on demand and kept.</summary>
    private sealed class LockstepWorkspace
    {
        [ThreadStatic]
        private static LockstepWorkspace? t_current;

        public double[] A = [];
        public double[] B = [];
        public double[] Work = [];
        public double[] Factor = [];
        public double[] Inverse = [];
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
                ws.Work = new double[dd];
                ws.Factor = new double[dd];
                ws.Inverse = new double[dd];
                ws.Values = new double[d * lanes];
                ws.Norms = new double[d * lanes];
                ws.Scratch = new double[LockstepSymmetricEigen.ScratchLength(d, lanes)];
            }
            return ws;
        }
    }
}

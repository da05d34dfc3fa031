using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GmmFlow.Simd;

/// <summary>
/// Mixture velocity for any dimension d, one block of <c>TOps.Count</c> points.
/// Lanes: lane k of every vector is point k of the block; the SoA scratch rows hold one coordinate of all lanes
/// (<c>xs[j]</c> = coordinate j of x, <c>ys[j]</c> = coordinate j of x − m_p, <c>acc[i]</c> = component i of Σ_p w_p u_p,
/// <c>ell[p]</c> = ℓ_p). Matrix entries are broadcast to all lanes.
/// Scalar equivalent, per point x and pair p: y = x − m_p; z_i = Σ_{j≤i} W_ij y_j; ℓ_p = c_p − ½ Σ_i z_i²;
/// M = max_p ℓ_p; w_p = e^{ℓ_p − M}; S = Σ_p w_p; A_i = Σ_p w_p (b_i + Σ_j K_ij y_j).
/// Tail: always a full block; <see cref="VelocityBatch"/> pads a partial one with copies of its last point.
/// </summary>
/// <remarks>
/// Rows are processed four at a time in both passes (the frame stores W and K interleaved for that): a single row is one chain of dependent multiply-adds
/// (latency-bound at one FMA per 4 cycles), four rows are four independent chains sharing each y_j load, which
/// keeps the FMA unit busy. Rows left over when d is not a multiple of 4 run one at a time.
/// From d = <see cref="VelocityFrame.RowsFromDimension"/> on, <see cref="ChunkByPoint{TOps, TV}"/> is used instead (its
/// own frame layout), which applies each pair's drift only where its weight is not negligible.
/// </remarks>
internal static class VelocityKernelGeneral
{
    public static void Block<TOps, TV>(VelocityFrame frame, ref double xs, ref double ys, ref double ell, ref double acc,
                                       out TV sum, out TV max)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offW = frame.OffsetW, offK = frame.OffsetK, offB = frame.OffsetB;
        ref double pairs = ref frame.Pairs;

        // Pass 1: ℓ_p = c_p − ½|W_p (x − m_p)|² per lane, stored one vector per pair, and the running maximum.
        TV m = TOps.Create(double.NegativeInfinity);
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            Center<TOps, TV>(ref xs, ref Unsafe.Add(ref blk, 1), ref ys, d, lanes);
            TV q = SquaredNormOfLowerProduct<TOps, TV>(ref Unsafe.Add(ref blk, offW), ref ys, d, lanes, 0, TOps.Zero);
            TV l = TOps.MultiplyAdd(TOps.Create(-0.5), q, TOps.Create(blk));
            TOps.Store(l, ref Unsafe.Add(ref ell, p * lanes));
            m = TOps.MaxNative(m, l);
        }

        for (int i = 0; i < d; i++)
        {
            TOps.Store(TOps.Zero, ref Unsafe.Add(ref acc, i * lanes));
        }

        // Pass 2: w_p = e^{ℓ_p − M} ∈ [0, 1]; accumulate w_p u_p. A pair whose weight underflowed to exactly 0 in
        // every lane adds exactly nothing, so its d² drift is skipped (common when components are well separated).
        TV s = TOps.Zero;
        for (int p = 0; p < pairCount; p++)
        {
            TV wp = SimdMath.ExpNonPositive<TOps, TV>(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref ell, p * lanes)), m));
            if (TOps.AllZero(wp))
            {
                continue;
            }
            s = TOps.Add(s, wp);
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            Center<TOps, TV>(ref xs, ref Unsafe.Add(ref blk, 1), ref ys, d, lanes);
            AccumulateAffine<TOps, TV>(ref Unsafe.Add(ref blk, offK), ref Unsafe.Add(ref blk, offB), ref ys, wp, ref acc, d, lanes);
        }

        sum = s;
        max = m;
    }

    /// <summary>Points per chunk of <see cref="ChunkByPoint{TOps, TV}"/> (a multiple of every lane count).</summary>
    public const int ChunkPoints = 64;

    /// <summary>Doubles of scratch <see cref="ChunkByPoint{TOps, TV}"/> needs.</summary>
    /// <remarks>
    /// Every region is a multiple of 8 doubles and the kernel starts them on a 64-byte boundary (hence up to 7 doubles
    /// of slack): the vector loads and stores of whole rows then never straddle two cache lines. Unaligned, the drift
    /// pass's x − m rows and accumulators straddled on every access (the pooled array is only 8-byte aligned).
    /// </remarks>
    public static int ChunkScratch(VelocityFrame frame, int lanes)
        => 7 + (2 * RoundUp8(lanes * frame.Dimension)) + RoundUp8(lanes * frame.PairCount) + RoundUp8(frame.PairCount)
           + (ChunkPoints * (frame.PairCount + 2 + frame.PaddedDimension)) + RoundUp8(lanes * frame.PairCount) + 8;

    private static int RoundUp8(int n) => (n + 7) & ~7;


    /// <summary>
    /// Mixture velocity for d ≥ <see cref="VelocityFrame.RowsFromDimension"/> (the frame's <see cref="VelocityFrame.GainByPoint"/>
    /// layout) for up to <see cref="ChunkPoints"/> consecutive points (AoS in and out): the log-weights block by block as in
    /// <see cref="Block{TOps, TV}"/> (lanes = points), then the drifts pair by pair over the chunk, each applied with the
    /// lanes along the rows of K_p and only at the points where the pair's weight is not negligible.
    /// <paramref name="scratch"/> holds <see cref="ChunkScratch"/> doubles.
    /// </summary>
    /// <remarks>
    /// <para>Why: in higher dimensions components separate, and at a given point only a few pairs carry any weight (at
    /// d = 16 with the bench's 19 pairs, about 5 are within 2⁻⁶⁰ of the largest), but rarely the same few for the points
    /// sharing a vector, so skipping per block (lanes = points) saves little. Applying K_p with the lanes along its rows
    /// costs the same multiply-adds per pair and point and is paid only where needed. Pair by pair over a chunk keeps
    /// K_p (d² doubles) in L1 while it serves every point that needs it. Each y_j = x_j − m_j is formed in a register
    /// from two broadcasts where it is used (the subtraction runs beside the multiply-adds), which measured the same as
    /// writing the centred rows in a sweep of their own and reading them back, with one scratch region less.</para>
    /// <para>Which pairs are left out: those with ℓ_p &lt; M − 60 ln 2, i.e. w_p = e^{ℓ_p − M} &lt; 2⁻⁶⁰, decided per point
    /// (never per block or chunk), so a point's velocity does not depend on the other points evaluated with it, on the
    /// SIMD width or on the thread count. The dominant pair has w = 1, so S = Σ_p w_p ≥ 1 and each pair left out changes
    /// v by at most 2⁻⁶⁰ |u_p(x)| (and S by less than 2⁻⁶⁰ relative): in all at most P·2⁻⁶⁰ ≈ P·10⁻¹⁸ times the
    /// largest affine drift |u_p(x)| at that point, below the rounding of the sum whose terms are of that size. |u_p|
    /// grows far from m_p, but the bound is in terms of |u_p| at the very point; where v nearly cancels, its relative
    /// error can exceed that, as its rounding error already does.</para>
    /// <para>Per row, u_i = b_i + Σ_j K_ij y_j is summed in two interleaved chains (even columns from b_i, odd columns,
    /// then added), and every width runs the same per-row operations, so widths agree bit for bit. Each point
    /// accumulates its pairs in ascending order. A pair's points are taken four at a time, each loaded vector of K
    /// serving all four, the rest one by one, with each point's operations the same either way. Four points × two row
    /// vectors × two chains are sixteen independent multiply-add chains in registers. Against two points × four chains
    /// (the previous scheme), together with reading x straight from the caller's rows, the kernel took about 4–5 % less
    /// time at d = 16 (perf samples per quadratic-form sample, three runs each).</para>
    /// </remarks>
    public static void ChunkByPoint<TOps, TV>(VelocityFrame frame, ref double points, ref double velocities, ref double logDensities,
                                              bool wantLogDensity, int count, ref double scratch)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        const int c = ChunkPoints;
        int d = frame.Dimension, dp = frame.PaddedDimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offK = frame.OffsetK, offB = frame.OffsetB;
        ref double pairs = ref frame.Pairs;

        // Scratch: xs, ys (d × lanes each, SoA), ell (pairCount × lanes), one 64-bit mask per pair (bit i: the pair
        // counts at point i), then per point of the chunk: the weights (pair-major, pairCount × c), S and M (c each),
        // and point-major rows of dp: Σ_p w_p u_p; last, the packed exp arguments of PackedWeights512 (pairCount × lanes
        // + 8). The drifts read x straight from the caller's rows (only x_j, j < d).
        // Each region 64-byte aligned (see ChunkScratch). A pooled scratch array the GC moves mid-chunk only loses
        // the alignment, not correctness: the regions are offsets from one reference.
        ref double xs = ref Unsafe.Add(ref scratch, CacheLines.DoublesToBoundary(ref scratch));
        ref double ys = ref Unsafe.Add(ref xs, RoundUp8(d * lanes));
        ref double ell = ref Unsafe.Add(ref ys, RoundUp8(d * lanes));
        ref ulong masks = ref Unsafe.As<double, ulong>(ref Unsafe.Add(ref ell, RoundUp8(pairCount * lanes)));
        ref double wts = ref Unsafe.Add(ref ell, RoundUp8(pairCount * lanes) + RoundUp8(pairCount));
        ref double sums = ref Unsafe.Add(ref wts, pairCount * c);
        ref double maxs = ref Unsafe.Add(ref sums, c);
        ref double acc = ref Unsafe.Add(ref maxs, c);
        ref double packed = ref Unsafe.Add(ref acc, c * dp);

        // Pass 1 and the weights, lanes = points; a pair left out at a point gets weight exactly 0 there (see remarks).
        for (int p = 0; p < pairCount; p++)
        {
            Unsafe.Add(ref masks, p) = 0;
        }
        for (int i0 = 0; i0 < count; i0 += lanes)
        {
            int real = Math.Min(lanes, count - i0);
            ref double block = ref Unsafe.Add(ref points, (nint)i0 * d);
            // AoS → SoA; padding lanes repeat the last real point (finite, their results are never read).
            int done = 0;
            if (typeof(TOps) == typeof(Simd512) && real == 8 && Avx512F.IsSupported)
            {
                done = Transpose8(ref block, d, ref xs);
            }
            for (int k = 0; k < lanes; k++)
            {
                ref double row = ref Unsafe.Add(ref block, (nint)Math.Min(k, real - 1) * d);
                for (int j = done; j < d; j++)
                {
                    Unsafe.Add(ref xs, j * lanes + k) = Unsafe.Add(ref row, j);
                }
            }
            TV m = LogWeights<TOps, TV>(frame, ref xs, ref ys, ref ell);
            TV floor = TOps.Add(m, TOps.Create(NegligibleLogWeight));
            TV s = TOps.Zero;
            if (typeof(TOps) == typeof(Simd512) && Avx512F.IsSupported)
            {
                s = Unsafe.BitCast<Vector512<double>, TV>(PackedWeights512(
                    ref ell, Unsafe.BitCast<TV, Vector512<double>>(m), Unsafe.BitCast<TV, Vector512<double>>(floor), pairCount,
                    ref Unsafe.Add(ref wts, i0), c, ref masks, real, i0, ref packed));
            }
            else
            {
                for (int p = 0; p < pairCount; p++)
                {
                    TV l = TOps.Load(ref Unsafe.Add(ref ell, p * lanes));
                    TV wp = TOps.ZeroWhereLess(SimdMath.ExpNonPositive<TOps, TV>(TOps.Subtract(l, m)), l, floor);
                    s = TOps.Add(s, wp);
                    TOps.Store(wp, ref Unsafe.Add(ref wts, p * c + i0));
                    // NaN counts as non-zero, so a NaN point still gets a NaN velocity; padding lanes are masked off.
                    ulong laneMask = TOps.NonZeroLanes(wp) & ((1u << real) - 1);
                    Unsafe.Add(ref masks, p) |= laneMask << i0;
                }
            }
            TOps.Store(s, ref Unsafe.Add(ref sums, i0));
            TOps.Store(m, ref Unsafe.Add(ref maxs, i0));
        }

        // Rows actually computed: whole vectors covering d (at most dp, so the padded K columns and b suffice).
        int rows = (d + lanes - 1) / lanes * lanes;
        for (int i = 0; i < count; i++)
        {
            for (int r = 0; r < rows; r += lanes)
            {
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref acc, i * dp + r));
            }
        }

        for (int p = 0; p < pairCount; p++)
        {
            ulong mask = Unsafe.Add(ref masks, p);
            if (mask == 0)
            {
                continue;
            }
            DriftOfPair<TOps, TV>(frame, ref Unsafe.Add(ref pairs, p * stride), mask, ref Unsafe.Add(ref wts, p * c), ref points, ref acc);
        }

        // v = (Σ_p w_p u_p) / S, as in the block kernels; only d entries go out. Log-density: max + log S (log-sum-exp).
        for (int i = 0; i < count; i++)
        {
            ref double a = ref Unsafe.Add(ref acc, i * dp);
            TV s = TOps.Create(Unsafe.Add(ref sums, i));
            for (int r = 0; r < rows; r += lanes)
            {
                TOps.Store(TOps.Divide(TOps.Load(ref Unsafe.Add(ref a, r)), s), ref Unsafe.Add(ref a, r));
            }
            CopyRow<TOps, TV>(ref a, ref Unsafe.Add(ref velocities, (nint)i * d), d);
            if (wantLogDensity)
            {
                Unsafe.Add(ref logDensities, i) = Unsafe.Add(ref maxs, i) + Math.Log(Unsafe.Add(ref sums, i));
            }
        }
    }

    /// <summary>
    /// The weights loop of <see cref="ChunkByPoint{TOps, TV}"/> for 8-lane AVX-512 vectors with the exp evaluated only
    /// where a pair is not left out: each pair's kept ℓ_p − M are packed (vcompresspd) into one dense run, the exp runs
    /// over that run, and the results are unpacked (vexpandpd) into the pairs' lanes. Returns S for the block.
    /// </summary>
    /// <remarks>
    /// Why: about 5 of the benchmark's 19 pairs count at a point, so 3/4 of the exp lanes computed pair by pair are
    /// discarded. Bit-identical to the generic loop: the exp is lane-wise and sees the same arguments; a kept lane is
    /// one not below the floor (NaN included, as ZeroWhereLess keeps NaN), a dropped one gets exactly 0, and S sums
    /// the same vectors in the same order. Register forms only: the memory forms of compress/expand are slow on Zen 4.
    /// <paramref name="packed"/> holds pairCount·8 + 8 doubles.
    /// </remarks>
    private static Vector512<double> PackedWeights512(ref double ell, Vector512<double> m, Vector512<double> floor, int pairCount,
                                                       ref double wts, int stride, ref ulong masks, int real, int i0, ref double packed)
    {
        int n = 0;
        for (int p = 0; p < pairCount; p++)
        {
            Vector512<double> l = Vector512.LoadUnsafe(ref ell, (nuint)(p * 8));
            Vector512<double> keep = Avx512F.CompareNotLessThan(l, floor);
            Avx512F.Compress(Vector512<double>.Zero, keep, l - m).StoreUnsafe(ref packed, (nuint)n);
            n += BitOperations.PopCount(keep.ExtractMostSignificantBits());
        }
        for (int k = 0; k < n; k += 8)
        {
            // Lanes past n hold whatever the scratch held; their exps are computed but never unpacked.
            ref double at = ref Unsafe.Add(ref packed, k);
            SimdMath.ExpNonPositive<Simd512, Vector512<double>>(Vector512.LoadUnsafe(ref at)).StoreUnsafe(ref at);
        }
        Vector512<double> s = Vector512<double>.Zero;
        n = 0;
        uint realLanes = (1u << real) - 1;
        for (int p = 0; p < pairCount; p++)
        {
            Vector512<double> l = Vector512.LoadUnsafe(ref ell, (nuint)(p * 8));
            Vector512<double> keep = Avx512F.CompareNotLessThan(l, floor);
            Vector512<double> wp = Avx512F.Expand(Vector512<double>.Zero, keep, Vector512.LoadUnsafe(ref packed, (nuint)n));
            ulong kept = keep.ExtractMostSignificantBits();
            n += BitOperations.PopCount(kept);
            s += wp;
            wp.StoreUnsafe(ref wts, (nuint)(p * stride));
            // A kept lane's weight is never 0 (e^{ℓ − M} ≥ 2⁻⁶⁰, or NaN), so the kept lanes are the generic loop's
            // non-zero lanes without a second compare.
            Unsafe.Add(ref masks, p) |= (kept & realLanes) << i0;
        }
        return s;
    }

    /// <summary>
    /// Adds w_p(x_i) u_p(x_i) to the accumulator row of every point i in <paramref name="mask"/> for the pair whose block
    /// starts at <paramref name="blk"/> (rows laid out as in <see cref="ChunkByPoint{TOps, TV}"/>).
    /// </summary>
    /// <remarks>
    /// A method of its own, not inlined: inside the large chunk kernel the JIT declined to inline the gain helpers
    /// (they were compiled as separate methods, their results passed through memory); in this small body they are
    /// inlined. One call per pair and chunk.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DriftOfPair<TOps, TV>(VelocityFrame frame, ref double blk, ulong mask, ref double wp, ref double points,
                                              ref double acc)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, dp = frame.PaddedDimension, lanes = TOps.Count;
        int rows = (d + lanes - 1) / lanes * lanes;
        int offK = frame.OffsetK, offB = frame.OffsetB;
        ref double mean = ref Unsafe.Add(ref blk, frame.OffsetMean);
        ref double kp = ref Unsafe.Add(ref blk, offK);
        ref double bp = ref Unsafe.Add(ref blk, offB);
        // Four points at a time share each load of K (their own operations are unchanged); the last one to three alone.
        ulong rest = mask;
        while (BitOperations.PopCount(rest) >= 4)
        {
            int i0 = BitOperations.TrailingZeroCount(rest);
            rest &= rest - 1;
            int i1 = BitOperations.TrailingZeroCount(rest);
            rest &= rest - 1;
            int i2 = BitOperations.TrailingZeroCount(rest);
            rest &= rest - 1;
            int i3 = BitOperations.TrailingZeroCount(rest);
            rest &= rest - 1;
            ApplyGainFourPoints<TOps, TV>(ref kp, ref bp, ref mean, ref points, ref acc, ref wp, i0, i1, i2, i3, d, dp, rows);
        }
        for (; rest != 0; rest &= rest - 1)
        {
            int i = BitOperations.TrailingZeroCount(rest);
            ApplyGain<TOps, TV>(ref kp, ref bp, ref mean, ref Unsafe.Add(ref points, (nint)i * d), ref Unsafe.Add(ref acc, i * dp),
                                TOps.Create(Unsafe.Add(ref wp, i)), d, dp, rows);
        }
    }

    /// <summary>dst[0..d) = src[0..d): whole vectors, then the d mod Count rest one by one (nothing beyond d is touched).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow<TOps, TV>(ref double src, ref double dst, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, j = 0;
        for (; j + lanes <= d; j += lanes)
        {
            TOps.Store(TOps.Load(ref Unsafe.Add(ref src, j)), ref Unsafe.Add(ref dst, j));
        }
        for (; j < d; j++)
        {
            Unsafe.Add(ref dst, j) = Unsafe.Add(ref src, j);
        }
    }

    /// <summary>
    /// The first 8·⌊d/8⌋ coordinates of eight consecutive points (rows d apart) into SoA rows of eight, by 8×8 register
    /// transposes (unpack, then two rounds of 128-bit lane shuffles); returns how many coordinates it did. The scalar
    /// transpose costs several instructions per element, and its eight narrow stores per row cannot be forwarded to
    /// the wide loads that follow, so the first loads of pass 1 wait for them to reach the cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Transpose8(ref double rows, int d, ref double xs)
    {
        int j = 0;
        for (; j + 8 <= d; j += 8)
        {
            ref double src = ref Unsafe.Add(ref rows, j);
            Vector512<double> r0 = Vector512.LoadUnsafe(ref src);
            Vector512<double> r1 = Vector512.LoadUnsafe(ref src, (nuint)d);
            Vector512<double> r2 = Vector512.LoadUnsafe(ref src, (nuint)(2 * d));
            Vector512<double> r3 = Vector512.LoadUnsafe(ref src, (nuint)(3 * d));
            Vector512<double> r4 = Vector512.LoadUnsafe(ref src, (nuint)(4 * d));
            Vector512<double> r5 = Vector512.LoadUnsafe(ref src, (nuint)(5 * d));
            Vector512<double> r6 = Vector512.LoadUnsafe(ref src, (nuint)(6 * d));
            Vector512<double> r7 = Vector512.LoadUnsafe(ref src, (nuint)(7 * d));
            // t0 = (r0[0], r1[0], r0[2], r1[2], …), t1 = the odd columns; likewise for the other row pairs.
            Vector512<double> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
            Vector512<double> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
            Vector512<double> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
            Vector512<double> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
            // Then a 4×4 transpose of 128-bit lanes: 0x88 takes lanes (a0, a2, b0, b2), 0xDD takes (a1, a3, b1, b3).
            Vector512<double> v0 = Avx512F.Shuffle4x128(t0, t2, 0x88), v1 = Avx512F.Shuffle4x128(t0, t2, 0xDD);
            Vector512<double> v2 = Avx512F.Shuffle4x128(t4, t6, 0x88), v3 = Avx512F.Shuffle4x128(t4, t6, 0xDD);
            Vector512<double> w0 = Avx512F.Shuffle4x128(t1, t3, 0x88), w1 = Avx512F.Shuffle4x128(t1, t3, 0xDD);
            Vector512<double> w2 = Avx512F.Shuffle4x128(t5, t7, 0x88), w3 = Avx512F.Shuffle4x128(t5, t7, 0xDD);
            ref double dst = ref Unsafe.Add(ref xs, j * 8);
            Avx512F.Shuffle4x128(v0, v2, 0x88).StoreUnsafe(ref dst);
            Avx512F.Shuffle4x128(w0, w2, 0x88).StoreUnsafe(ref dst, 8);
            Avx512F.Shuffle4x128(v1, v3, 0x88).StoreUnsafe(ref dst, 16);
            Avx512F.Shuffle4x128(w1, w3, 0x88).StoreUnsafe(ref dst, 24);
            Avx512F.Shuffle4x128(v0, v2, 0xDD).StoreUnsafe(ref dst, 32);
            Avx512F.Shuffle4x128(w0, w2, 0xDD).StoreUnsafe(ref dst, 40);
            Avx512F.Shuffle4x128(v1, v3, 0xDD).StoreUnsafe(ref dst, 48);
            Avx512F.Shuffle4x128(w1, w3, 0xDD).StoreUnsafe(ref dst, 56);
        }
        return j;
    }

    /// <summary>w_p = e^{ℓ_p − M} below this ℓ_p − M (2⁻⁶⁰) counts as 0: −60 ln 2.</summary>
    private const double NegligibleLogWeight = -41.58883083359672;

    /// <summary>
    /// Pass 1 for the panel layout (d ≥ <see cref="VelocityFrame.RowsFromDimension"/>): ell[p] = ℓ_p = c_p − ½|W_p (x − m_p)|²
    /// per lane, one vector per pair; returns the lane-wise maximum M.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LogWeights<TOps, TV>(VelocityFrame frame, ref double xs, ref double ys, ref double ell)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offW = frame.OffsetW, offMean = frame.OffsetMean;
        ref double pairs = ref frame.Pairs;
        TV m = TOps.Create(double.NegativeInfinity);
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV q = SquaredNormByPanels<TOps, TV>(ref Unsafe.Add(ref blk, offW), ref xs, ref Unsafe.Add(ref blk, offMean), ref ys, d, lanes);
            TV l = TOps.MultiplyAdd(TOps.Create(-0.5), q, TOps.Create(blk));
            TOps.Store(l, ref Unsafe.Add(ref ell, p * lanes));
            m = TOps.MaxNative(m, l);
        }
        return m;
    }

    /// <summary>a += w (b + K (x − m)) over <paramref name="rows"/> rows (whole vectors) for one point <paramref name="x"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyGain<TOps, TV>(ref double kp, ref double bp, ref double m, ref double x, ref double a, TV w, int d, int dp, int rows)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, r = 0;
        for (; r + 2 * lanes <= rows; r += 2 * lanes)
        {
            GainTwoRows<TOps, TV>(ref Unsafe.Add(ref kp, r), ref Unsafe.Add(ref bp, r), ref m, ref x, d, dp, out TV u0, out TV u1);
            Accumulate<TOps, TV>(ref Unsafe.Add(ref a, r), w, u0, u1, lanes);
        }
        if (r < rows)
        {
            ref double a0 = ref Unsafe.Add(ref a, r);
            TOps.Store(TOps.MultiplyAdd(w, GainOneRow<TOps, TV>(ref Unsafe.Add(ref kp, r), ref Unsafe.Add(ref bp, r), ref m, ref x, d, dp),
                                        TOps.Load(ref a0)), ref a0);
        }
    }

    /// <summary>
    /// <see cref="ApplyGain{TOps, TV}"/> for four points at once (the caller's point rows d apart from <paramref name="x0"/>,
    /// accumulator rows <paramref name="dp"/> apart from <paramref name="a0"/>, at the point indices <paramref name="i0"/>..<paramref name="i3"/>):
    /// each loaded vector of K serves all four, and every point's own operations (and so its rounding) are exactly those
    /// of <see cref="ApplyGain{TOps, TV}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyGainFourPoints<TOps, TV>(ref double kp, ref double bp, ref double m, ref double x0, ref double a0, ref double wts,
                                                      int i0, int i1, int i2, int i3, int d, int dp, int rows)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, r = 0;
        ref double xa = ref Unsafe.Add(ref x0, (nint)i0 * d), xb = ref Unsafe.Add(ref x0, (nint)i1 * d);
        ref double xc = ref Unsafe.Add(ref x0, (nint)i2 * d), xd = ref Unsafe.Add(ref x0, (nint)i3 * d);
        for (; r + 2 * lanes <= rows; r += 2 * lanes)
        {
            GainTwoRowsFourPoints<TOps, TV>(ref Unsafe.Add(ref kp, r), ref Unsafe.Add(ref bp, r), ref m, ref xa, ref xb, ref xc, ref xd, d, dp,
                                            out TV ua0, out TV ua1, out TV ub0, out TV ub1, out TV uc0, out TV uc1, out TV ud0, out TV ud1);
            Accumulate<TOps, TV>(ref Unsafe.Add(ref a0, (i0 * dp) + r), TOps.Create(Unsafe.Add(ref wts, i0)), ua0, ua1, lanes);
            Accumulate<TOps, TV>(ref Unsafe.Add(ref a0, (i1 * dp) + r), TOps.Create(Unsafe.Add(ref wts, i1)), ub0, ub1, lanes);
            Accumulate<TOps, TV>(ref Unsafe.Add(ref a0, (i2 * dp) + r), TOps.Create(Unsafe.Add(ref wts, i2)), uc0, uc1, lanes);
            Accumulate<TOps, TV>(ref Unsafe.Add(ref a0, (i3 * dp) + r), TOps.Create(Unsafe.Add(ref wts, i3)), ud0, ud1, lanes);
        }
        if (r < rows)
        {
            ref double k = ref Unsafe.Add(ref kp, r), b = ref Unsafe.Add(ref bp, r);
            AccumulateOne<TOps, TV>(ref Unsafe.Add(ref a0, (i0 * dp) + r), Unsafe.Add(ref wts, i0), GainOneRow<TOps, TV>(ref k, ref b, ref m, ref xa, d, dp));
            AccumulateOne<TOps, TV>(ref Unsafe.Add(ref a0, (i1 * dp) + r), Unsafe.Add(ref wts, i1), GainOneRow<TOps, TV>(ref k, ref b, ref m, ref xb, d, dp));
            AccumulateOne<TOps, TV>(ref Unsafe.Add(ref a0, (i2 * dp) + r), Unsafe.Add(ref wts, i2), GainOneRow<TOps, TV>(ref k, ref b, ref m, ref xc, d, dp));
            AccumulateOne<TOps, TV>(ref Unsafe.Add(ref a0, (i3 * dp) + r), Unsafe.Add(ref wts, i3), GainOneRow<TOps, TV>(ref k, ref b, ref m, ref xd, d, dp));
        }
    }

    /// <summary>x[j] − m[j] broadcast to all lanes: y_j formed in a register where it is used.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Centered<TOps, TV>(ref double x, ref double m, int j)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => TOps.Subtract(TOps.Create(Unsafe.Add(ref x, j)), TOps.Create(Unsafe.Add(ref m, j)));

    /// <summary>a[0..2·Count) += w (u0, u1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate<TOps, TV>(ref double a, TV w, TV u0, TV u1, int lanes)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        ref double a1 = ref Unsafe.Add(ref a, lanes);
        TOps.Store(TOps.MultiplyAdd(w, u0, TOps.Load(ref a)), ref a);
        TOps.Store(TOps.MultiplyAdd(w, u1, TOps.Load(ref a1)), ref a1);
    }

    /// <summary>a[0..Count) += w u.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateOne<TOps, TV>(ref double a, double w, TV u)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => TOps.Store(TOps.MultiplyAdd(TOps.Create(w), u, TOps.Load(ref a)), ref a);

    /// <summary>
    /// <see cref="GainTwoRows{TOps, TV}"/> for four points sharing each load of K: per point the same two chains per row
    /// in the same order, so the results are bit-identical to four separate calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GainTwoRowsFourPoints<TOps, TV>(ref double k, ref double b, ref double m, ref double xa, ref double xb, ref double xc, ref double xd,
                                                        int d, int dp, out TV ua0, out TV ua1, out TV ub0, out TV ub1,
                                                        out TV uc0, out TV uc1, out TV ud0, out TV ud1)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, step = 2 * dp;
        ref double k0 = ref k;
        ref double k1 = ref Unsafe.Add(ref k, dp);
        TV b0 = TOps.Load(ref b), b1 = TOps.Load(ref Unsafe.Add(ref b, lanes));
        // Point a: ae = (even chain of row vector 0, of row vector 1), ao = odd chains; likewise b, c, d.
        TV ae0 = b0, ae1 = b1, ao0 = TOps.Zero, ao1 = TOps.Zero;
        TV be0 = b0, be1 = b1, bo0 = TOps.Zero, bo1 = TOps.Zero;
        TV ce0 = b0, ce1 = b1, co0 = TOps.Zero, co1 = TOps.Zero;
        TV de0 = b0, de1 = b1, do0 = TOps.Zero, do1 = TOps.Zero;
        int j = 0;
        // Even columns feed the even chains, odd ones the odd chains; an odd last column has no partner (as in
        // GainTwoRows), hence the test inside the loop rather than a copy of its first half after it.
        for (; j < d; j += 2)
        {
            TV kl = TOps.Load(ref k0), kh = TOps.Load(ref Unsafe.Add(ref k0, lanes));
            TV t = Centered<TOps, TV>(ref xa, ref m, j);
            ae0 = TOps.MultiplyAdd(kl, t, ae0);
            ae1 = TOps.MultiplyAdd(kh, t, ae1);
            t = Centered<TOps, TV>(ref xb, ref m, j);
            be0 = TOps.MultiplyAdd(kl, t, be0);
            be1 = TOps.MultiplyAdd(kh, t, be1);
            t = Centered<TOps, TV>(ref xc, ref m, j);
            ce0 = TOps.MultiplyAdd(kl, t, ce0);
            ce1 = TOps.MultiplyAdd(kh, t, ce1);
            t = Centered<TOps, TV>(ref xd, ref m, j);
            de0 = TOps.MultiplyAdd(kl, t, de0);
            de1 = TOps.MultiplyAdd(kh, t, de1);
            if (j + 1 == d)
            {
                break;
            }
            kl = TOps.Load(ref k1);
            kh = TOps.Load(ref Unsafe.Add(ref k1, lanes));
            t = Centered<TOps, TV>(ref xa, ref m, j + 1);
            ao0 = TOps.MultiplyAdd(kl, t, ao0);
            ao1 = TOps.MultiplyAdd(kh, t, ao1);
            t = Centered<TOps, TV>(ref xb, ref m, j + 1);
            bo0 = TOps.MultiplyAdd(kl, t, bo0);
            bo1 = TOps.MultiplyAdd(kh, t, bo1);
            t = Centered<TOps, TV>(ref xc, ref m, j + 1);
            co0 = TOps.MultiplyAdd(kl, t, co0);
            co1 = TOps.MultiplyAdd(kh, t, co1);
            t = Centered<TOps, TV>(ref xd, ref m, j + 1);
            do0 = TOps.MultiplyAdd(kl, t, do0);
            do1 = TOps.MultiplyAdd(kh, t, do1);
            k0 = ref Unsafe.Add(ref k0, step);
            k1 = ref Unsafe.Add(ref k1, step);
        }
        ua0 = TOps.Add(ae0, ao0);
        ua1 = TOps.Add(ae1, ao1);
        ub0 = TOps.Add(be0, bo0);
        ub1 = TOps.Add(be1, bo1);
        uc0 = TOps.Add(ce0, co0);
        uc1 = TOps.Add(ce1, co1);
        ud0 = TOps.Add(de0, do0);
        ud1 = TOps.Add(de1, do1);
    }

    /// <summary>
    /// u = b + K y, y = x − m, for the two row vectors starting at <paramref name="k"/> (column j of K at k + j·dp) and
    /// <paramref name="b"/>, x[j] and m[j] for j &lt; d read as broadcasts. Per row two chains, even columns (starting from b) and
    /// odd columns, added at the end; an odd last column continues the even chain. Four independent multiply-add
    /// chains cover the multiply-add latency (4 cycles at one per cycle), and the same chains serve four points in
    /// <see cref="GainTwoRowsFourPoints{TOps, TV}"/>, where more would not fit the 32 vector registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GainTwoRows<TOps, TV>(ref double k, ref double b, ref double m, ref double x, int d, int dp, out TV u0, out TV u1)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, step = 2 * dp;
        ref double k0 = ref k;
        ref double k1 = ref Unsafe.Add(ref k, dp);
        TV e0 = TOps.Load(ref b), e1 = TOps.Load(ref Unsafe.Add(ref b, lanes)), o0 = TOps.Zero, o1 = TOps.Zero;
        int j = 0;
        for (; j + 2 <= d; j += 2)
        {
            TV t = Centered<TOps, TV>(ref x, ref m, j);
            e0 = TOps.MultiplyAdd(TOps.Load(ref k0), t, e0);
            e1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k0, lanes)), t, e1);
            t = Centered<TOps, TV>(ref x, ref m, j + 1);
            o0 = TOps.MultiplyAdd(TOps.Load(ref k1), t, o0);
            o1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k1, lanes)), t, o1);
            k0 = ref Unsafe.Add(ref k0, step);
            k1 = ref Unsafe.Add(ref k1, step);
        }
        if (j < d)
        {
            TV t = Centered<TOps, TV>(ref x, ref m, j);
            e0 = TOps.MultiplyAdd(TOps.Load(ref k0), t, e0);
            e1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k0, lanes)), t, e1);
        }
        u0 = TOps.Add(e0, o0);
        u1 = TOps.Add(e1, o1);
    }

    /// <summary>As <see cref="GainTwoRows{TOps, TV}"/> for a single row vector (the same two chains per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV GainOneRow<TOps, TV>(ref double k, ref double b, ref double m, ref double x, int d, int dp)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int step = 2 * dp;
        ref double k0 = ref k;
        ref double k1 = ref Unsafe.Add(ref k, dp);
        TV e = TOps.Load(ref b), o = TOps.Zero;
        int j = 0;
        for (; j + 2 <= d; j += 2)
        {
            e = TOps.MultiplyAdd(TOps.Load(ref k0), Centered<TOps, TV>(ref x, ref m, j), e);
            o = TOps.MultiplyAdd(TOps.Load(ref k1), Centered<TOps, TV>(ref x, ref m, j + 1), o);
            k0 = ref Unsafe.Add(ref k0, step);
            k1 = ref Unsafe.Add(ref k1, step);
        }
        if (j < d)
        {
            e = TOps.MultiplyAdd(TOps.Load(ref k0), Centered<TOps, TV>(ref x, ref m, j), e);
        }
        return TOps.Add(e, o);
    }

    /// <summary>
    /// |W (x − m)|² per lane for the frame's panel layout (d ≥ <see cref="VelocityFrame.RowsFromDimension"/>, see <see cref="VelocityFrame"/>): eight rows at a
    /// time with the eight row sums in registers, each x_j − m_j formed where it is used instead of being stored and
    /// reloaded, which takes about a quarter fewer instructions than groups of four over a centred copy. Rows after the
    /// last panel go through <see cref="SquaredNormOfLowerProduct{TOps, TV}"/> on a centred copy in <paramref name="ys"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV SquaredNormByPanels<TOps, TV>(ref double w, ref double xs, ref double mean, ref double ys, int d, int lanes)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        TV q = TOps.Zero;
        int i = 0;
        for (; i + 8 <= d; i += 8)
        {
            TV z0 = TOps.Zero, z1 = TOps.Zero, z2 = TOps.Zero, z3 = TOps.Zero, z4 = TOps.Zero, z5 = TOps.Zero, z6 = TOps.Zero, z7 = TOps.Zero;
            ref double x = ref xs;
            ref double mj = ref mean;
            // Columns left of the panel's diagonal block: W[i..i+7][j] are adjacent.
            for (int j = 0; j < i; j++)
            {
                TV y = TOps.Subtract(TOps.Load(ref x), TOps.Create(mj));
                z0 = TOps.MultiplyAdd(TOps.Create(w), y, z0);
                z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 1)), y, z1);
                z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 2)), y, z2);
                z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 3)), y, z3);
                z4 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 4)), y, z4);
                z5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 5)), y, z5);
                z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 6)), y, z6);
                z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 7)), y, z7);
                w = ref Unsafe.Add(ref w, 8);
                x = ref Unsafe.Add(ref x, lanes);
                mj = ref Unsafe.Add(ref mj, 1);
            }
            {
            // The 8×8 diagonal triangle, column by column (column c feeds rows c..7): 36 entries.
            TV y = TOps.Subtract(TOps.Load(ref x), TOps.Create(mj));
            z0 = TOps.MultiplyAdd(TOps.Create(w), y, z0);
            z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 1)), y, z1);
            z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 2)), y, z2);
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 3)), y, z3);
            z4 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 4)), y, z4);
            z5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 5)), y, z5);
            z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 6)), y, z6);
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 7)), y, z7);
            y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, 1 * lanes)), TOps.Create(Unsafe.Add(ref mj, 1)));
            z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 8)), y, z1);
            z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 9)), y, z2);
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 10)), y, z3);
            z4 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 11)), y, z4);
            z5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 12)), y, z5);
            z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 13)), y, z6);
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 14)), y, z7);
            y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, 2 * lanes)), TOps.Create(Unsafe.Add(ref mj, 2)));
            z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 15)), y, z2);
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 16)), y, z3);
            z4 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 17)), y, z4);
            z5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 18)), y, z5);
            z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 19)), y, z6);
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 20)), y, z7);
            y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, 3 * lanes)), TOps.Create(Unsafe.Add(ref mj, 3)));
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 21)), y, z3);
            z4 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 22)), y, z4);
            z5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 23)), y, z5);
            z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 24)), y, z6);
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 25)), y, z7);
            y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, 4 * lanes)), TOps.Create(Unsafe.Add(ref mj, 4)));
            z4 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 26)), y, z4);
            z5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 27)), y, z5);
            z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 28)), y, z6);
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 29)), y, z7);
            y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, 5 * lanes)), TOps.Create(Unsafe.Add(ref mj, 5)));
            z5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 30)), y, z5);
            z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 31)), y, z6);
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 32)), y, z7);
            y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, 6 * lanes)), TOps.Create(Unsafe.Add(ref mj, 6)));
            z6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 33)), y, z6);
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 34)), y, z7);
            y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, 7 * lanes)), TOps.Create(Unsafe.Add(ref mj, 7)));
            z7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 35)), y, z7);
            }
            w = ref Unsafe.Add(ref w, 36);
            q = TOps.Add(q, TOps.Add(TOps.Add(TOps.MultiplyAdd(z0, z0, TOps.Multiply(z1, z1)), TOps.MultiplyAdd(z2, z2, TOps.Multiply(z3, z3))),
                                     TOps.Add(TOps.MultiplyAdd(z4, z4, TOps.Multiply(z5, z5)), TOps.MultiplyAdd(z6, z6, TOps.Multiply(z7, z7)))));
        }
        if (i < d)
        {
            Center<TOps, TV>(ref xs, ref mean, ref ys, d, lanes);
            q = SquaredNormOfLowerProduct<TOps, TV>(ref w, ref ys, d, lanes, i, q);
        }
        return q;
    }

    /// <summary>ys[j] = xs[j] − mean[j] for every coordinate (mean broadcast to all lanes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Center<TOps, TV>(ref double xs, ref double mean, ref double ys, int d, int lanes)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        for (int j = 0; j < d; j++)
        {
            TOps.Store(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref xs, j * lanes)), TOps.Create(Unsafe.Add(ref mean, j))),
                       ref Unsafe.Add(ref ys, j * lanes));
        }
    }

    /// <summary>
    /// q + Σ_{i ≥ firstRow} (Σ_{j≤i} W_ij y_j)² per lane for W lower-triangular in the frame's grouped order (see
    /// <see cref="VelocityFrame"/>), <paramref name="w"/> pointing at row <paramref name="firstRow"/>'s entries, read
    /// front to back through one moving reference. <paramref name="firstRow"/> is a multiple of 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV SquaredNormOfLowerProduct<TOps, TV>(ref double w, ref double ys, int d, int lanes, int firstRow, TV q)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int i = firstRow;
        for (; i + 4 <= d; i += 4)
        {
            TV z0 = TOps.Zero, z1 = TOps.Zero, z2 = TOps.Zero, z3 = TOps.Zero;
            // Columns left of the 4×4 diagonal block: W[i..i+3][j] are adjacent.
            ref double y = ref ys;
            for (int j = 0; j < i; j++)
            {
                TV yj = TOps.Load(ref y);
                z0 = TOps.MultiplyAdd(TOps.Create(w), yj, z0);
                z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 1)), yj, z1);
                z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 2)), yj, z2);
                z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 3)), yj, z3);
                w = ref Unsafe.Add(ref w, 4);
                y = ref Unsafe.Add(ref y, lanes);
            }
            // The diagonal block, itself lower-triangular, stored column by column (10 entries).
            TV y0 = TOps.Load(ref y);
            TV y1 = TOps.Load(ref Unsafe.Add(ref y, lanes));
            TV y2 = TOps.Load(ref Unsafe.Add(ref y, 2 * lanes));
            TV y3 = TOps.Load(ref Unsafe.Add(ref y, 3 * lanes));
            z0 = TOps.MultiplyAdd(TOps.Create(w), y0, z0);
            z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 1)), y0, z1);
            z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 2)), y0, z2);
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 3)), y0, z3);
            z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 4)), y1, z1);
            z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 5)), y1, z2);
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 6)), y1, z3);
            z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 7)), y2, z2);
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 8)), y2, z3);
            z3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref w, 9)), y3, z3);
            w = ref Unsafe.Add(ref w, 10);
            q = TOps.Add(q, TOps.Add(TOps.MultiplyAdd(z0, z0, TOps.Multiply(z1, z1)), TOps.MultiplyAdd(z2, z2, TOps.Multiply(z3, z3))));
        }
        // Rows after the last full group: packed by rows, one dependent chain each.
        for (; i < d; i++)
        {
            TV z = TOps.Zero;
            ref double y = ref ys;
            for (int j = 0; j <= i; j++)
            {
                z = TOps.MultiplyAdd(TOps.Create(w), TOps.Load(ref y), z);
                w = ref Unsafe.Add(ref w, 1);
                y = ref Unsafe.Add(ref y, lanes);
            }
            q = TOps.MultiplyAdd(z, z, q);
        }
        return q;
    }

    /// <summary>
    /// acc[i] += wp · (b_i + Σ_j K_ij y_j) for every row i, K in the frame's grouped order read through one moving
    /// reference.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateAffine<TOps, TV>(ref double k, ref double b, ref double ys, TV wp, ref double acc, int d, int lanes)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int i = 0;
        ref double a = ref acc;
        for (; i + 4 <= d; i += 4)
        {
            TV u0 = TOps.Create(b);
            TV u1 = TOps.Create(Unsafe.Add(ref b, 1));
            TV u2 = TOps.Create(Unsafe.Add(ref b, 2));
            TV u3 = TOps.Create(Unsafe.Add(ref b, 3));
            ref double y = ref ys;
            for (int j = 0; j < d; j++)
            {
                TV yj = TOps.Load(ref y);
                u0 = TOps.MultiplyAdd(TOps.Create(k), yj, u0);
                u1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref k, 1)), yj, u1);
                u2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref k, 2)), yj, u2);
                u3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref k, 3)), yj, u3);
                k = ref Unsafe.Add(ref k, 4);
                y = ref Unsafe.Add(ref y, lanes);
            }
            TOps.Store(TOps.MultiplyAdd(wp, u0, TOps.Load(ref a)), ref a);
            TOps.Store(TOps.MultiplyAdd(wp, u1, TOps.Load(ref Unsafe.Add(ref a, lanes))), ref Unsafe.Add(ref a, lanes));
            TOps.Store(TOps.MultiplyAdd(wp, u2, TOps.Load(ref Unsafe.Add(ref a, 2 * lanes))), ref Unsafe.Add(ref a, 2 * lanes));
            TOps.Store(TOps.MultiplyAdd(wp, u3, TOps.Load(ref Unsafe.Add(ref a, 3 * lanes))), ref Unsafe.Add(ref a, 3 * lanes));
            a = ref Unsafe.Add(ref a, 4 * lanes);
            b = ref Unsafe.Add(ref b, 4);
        }
        // Rows after the last full group: row-major, one chain each.
        for (; i < d; i++)
        {
            TV u = TOps.Create(b);
            ref double y = ref ys;
            for (int j = 0; j < d; j++)
            {
                u = TOps.MultiplyAdd(TOps.Create(k), TOps.Load(ref y), u);
                k = ref Unsafe.Add(ref k, 1);
                y = ref Unsafe.Add(ref y, lanes);
            }
            TOps.Store(TOps.MultiplyAdd(wp, u, TOps.Load(ref a)), ref a);
            a = ref Unsafe.Add(ref a, lanes);
            b = ref Unsafe.Add(ref b, 1);
        }
    }
}

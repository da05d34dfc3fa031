using System.Numerics;
using System.Runtime.CompilerServices;

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
/// </remarks>
internal static class VelocityKernelGeneral
{
    public static void Block<TOps, TV>(VelocityFrame frame, ref double xs, ref double ys, ref double ell, ref double acc,
                                       out TV sum, out TV max)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offK = frame.OffsetK, offB = frame.OffsetB;
        ref double pairs = ref frame.Pairs;

        TV m = LogWeights<TOps, TV>(frame, ref xs, ref ys, ref ell);

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

    /// <summary>
    /// Mixture velocity for d ≥ <see cref="VelocityFrame.RowsFromDimension"/> (the frame's <see cref="VelocityFrame.GainByPoint"/>
    /// layout), one block of <c>TOps.Count</c> points: pass 1 as in <see cref="Block{TOps, TV}"/>, then the drifts point by
    /// point, only for the pairs whose weight is not negligible at that point. Writes the <paramref name="real"/> points'
    /// velocities straight to <paramref name="velocities"/> (AoS, the same rows as <paramref name="points"/>).
    /// <paramref name="row"/> is scratch for 3·PaddedDimension + Count doubles.
    /// </summary>
    /// <remarks>
    /// <para>Why point by point: in higher dimensions components separate, and at a given point only a few pairs carry any
    /// weight (at d = 16 with 19 pairs, about 5 are within 2⁻⁶⁰ of the largest), but they are rarely the same few for the
    /// points sharing a vector, so skipping per block (lanes = points) saves little. Applying K_p with the lanes along
    /// the rows of K_p costs the same multiply-adds per pair as the lane-per-point form, and is paid only where needed.</para>
    /// <para>Which pairs are left out: those with ℓ_p &lt; M − 60 ln 2, i.e. w_p = e^{ℓ_p − M} &lt; 2⁻⁶⁰, decided per point
    /// (never per block), so a point's velocity does not depend on the other points in its block, on the SIMD width or on
    /// the thread count. The dominant pair has w = 1, so S = Σ_p w_p ≥ 1 and each pair left out changes v by at most
    /// 2⁻⁶⁰ |u_p(x)| (and S by less than 2⁻⁶⁰ relative): in all at most P·2⁻⁶⁰ ≈ P·10⁻¹⁸ times the largest affine
    /// drift |u_p(x)| at that point. That is below the rounding of the sum itself, whose terms are of that size, even
    /// though |u_p| grows far from m_p: the bound is in terms of |u_p(x)| at the very point, whatever it is. (Where v
    /// nearly cancels, its relative error can exceed 10⁻¹⁸, as its rounding error already does.)</para>
    /// <para>Per row, u_i = b_i + Σ_j K_ij y_j is summed in four interleaved chains (columns j ≡ 0, 1, 2, 3 mod 4, then
    /// (s₀ + s₁) + (s₂ + s₃)): independent chains keep the FMA units busy, and every width runs the same per-row
    /// operations, so widths agree bit for bit.</para>
    /// </remarks>
    public static void BlockByPoint<TOps, TV>(VelocityFrame frame, ref double xs, ref double ys, ref double ell, ref double row,
                                              ref double points, ref double velocities, int real, out TV sum, out TV max)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, dp = frame.PaddedDimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offK = frame.OffsetK, offB = frame.OffsetB;
        ref double pairs = ref frame.Pairs;

        TV m = LogWeights<TOps, TV>(frame, ref xs, ref ys, ref ell);

        // Weights, lanes = points; a pair left out at a point gets weight exactly 0 there (see remarks).
        TV floor = TOps.Add(m, TOps.Create(NegligibleLogWeight));
        TV s = TOps.Zero;
        for (int p = 0; p < pairCount; p++)
        {
            ref double lp = ref Unsafe.Add(ref ell, p * lanes);
            TV l = TOps.Load(ref lp);
            TV wp = TOps.ZeroWhereLess(SimdMath.ExpNonPositive<TOps, TV>(TOps.Subtract(l, m)), l, floor);
            s = TOps.Add(s, wp);
            TOps.Store(wp, ref lp);
        }
        sum = s;
        max = m;

        ref double sp = ref Unsafe.Add(ref row, 3 * dp);
        TOps.Store(s, ref sp);
        for (int k = 0; k < real; k++)
        {
            PointDrift<TOps, TV>(frame, ref Unsafe.Add(ref ell, k), ref Unsafe.Add(ref points, (nint)k * d), ref row,
                                 Unsafe.Add(ref sp, k), ref Unsafe.Add(ref velocities, (nint)k * d));
        }
    }

    /// <summary>
    /// One point: v = Σ_p w_p u_p / S over the pairs with w_p ≠ 0, lanes along the rows. <paramref name="weights"/> is
    /// w_0 of this point in the block's SoA weights (w_p is <c>Count</c>·p further); <paramref name="row"/> is scratch
    /// for 3·PaddedDimension doubles.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PointDrift<TOps, TV>(VelocityFrame frame, ref double weights, ref double point, ref double row,
                                             double sum, ref double velocity)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, dp = frame.PaddedDimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offK = frame.OffsetK, offB = frame.OffsetB;
        ref double pairs = ref frame.Pairs;
        ref double xp = ref row;
        ref double yp = ref Unsafe.Add(ref row, dp);
        ref double ap = ref Unsafe.Add(ref row, 2 * dp);
        CopyRow<TOps, TV>(ref point, ref xp, d);
        // Rows actually computed: whole vectors covering d (at most dp, so the padded K columns and b suffice).
        int rows = (d + lanes - 1) / lanes * lanes;
        bool inRegisters = rows <= 2 * lanes;
        TV acc0 = TOps.Zero, acc1 = TOps.Zero;
        if (!inRegisters)
        {
            for (int r = 0; r < rows; r += lanes)
            {
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref ap, r));
            }
        }

        for (int p0 = 0; p0 < pairCount; p0 += 64)
        {
            // The pairs that count at this point, as bits (ascending pair order, as in the block kernels).
            int n = Math.Min(64, pairCount - p0);
            ulong mask = 0;
            for (int q = 0; q < n; q++)
            {
                // w ≥ 0 or NaN, so "any bit set" is "w ≠ 0 or NaN" (NaN must propagate), without a float compare.
                mask |= (BitConverter.DoubleToUInt64Bits(Unsafe.Add(ref weights, (p0 + q) * lanes)) != 0 ? 1UL : 0UL) << q;
            }
            while (mask != 0)
            {
                int p = p0 + BitOperations.TrailingZeroCount(mask);
                mask &= mask - 1;
                ref double blk = ref Unsafe.Add(ref pairs, p * stride);
                TV w = TOps.Create(Unsafe.Add(ref weights, p * lanes));
                // y = x − m_p over whole vectors: rows d..rows−1 read x's stale padding and the first entries of W
                // (which follow m in the block); those rows of y are never used, as K has only d columns.
                for (int r = 0; r < rows; r += lanes)
                {
                    TOps.Store(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref xp, r)), TOps.Load(ref Unsafe.Add(ref blk, 1 + r))),
                               ref Unsafe.Add(ref yp, r));
                }
                ref double kp = ref Unsafe.Add(ref blk, offK);
                ref double bp = ref Unsafe.Add(ref blk, offB);
                if (inRegisters)
                {
                    if (rows > lanes)
                    {
                        GainTwoRows<TOps, TV>(ref kp, ref bp, ref yp, d, dp, out TV u0, out TV u1);
                        acc0 = TOps.MultiplyAdd(w, u0, acc0);
                        acc1 = TOps.MultiplyAdd(w, u1, acc1);
                    }
                    else
                    {
                        acc0 = TOps.MultiplyAdd(w, GainOneRow<TOps, TV>(ref kp, ref bp, ref yp, d, dp), acc0);
                    }
                    continue;
                }
                int rr = 0;
                for (; rr + 2 * lanes <= rows; rr += 2 * lanes)
                {
                    GainTwoRows<TOps, TV>(ref Unsafe.Add(ref kp, rr), ref Unsafe.Add(ref bp, rr), ref yp, d, dp, out TV u0, out TV u1);
                    ref double a0 = ref Unsafe.Add(ref ap, rr);
                    ref double a1 = ref Unsafe.Add(ref ap, rr + lanes);
                    TOps.Store(TOps.MultiplyAdd(w, u0, TOps.Load(ref a0)), ref a0);
                    TOps.Store(TOps.MultiplyAdd(w, u1, TOps.Load(ref a1)), ref a1);
                }
                if (rr < rows)
                {
                    ref double a0 = ref Unsafe.Add(ref ap, rr);
                    TOps.Store(TOps.MultiplyAdd(w, GainOneRow<TOps, TV>(ref Unsafe.Add(ref kp, rr), ref Unsafe.Add(ref bp, rr), ref yp, d, dp),
                                                TOps.Load(ref a0)), ref a0);
                }
            }
        }

        // v = (Σ_p w_p u_p) / S, as in the block kernels; only d entries go out.
        TV s = TOps.Create(sum);
        if (inRegisters)
        {
            TOps.Store(TOps.Divide(acc0, s), ref ap);
            if (rows > lanes)
            {
                TOps.Store(TOps.Divide(acc1, s), ref Unsafe.Add(ref ap, lanes));
            }
        }
        else
        {
            for (int r = 0; r < rows; r += lanes)
            {
                TOps.Store(TOps.Divide(TOps.Load(ref Unsafe.Add(ref ap, r)), s), ref Unsafe.Add(ref ap, r));
            }
        }
        CopyRow<TOps, TV>(ref ap, ref velocity, d);
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

    /// <summary>w_p = e^{ℓ_p − M} below this ℓ_p − M (2⁻⁶⁰) counts as 0: −60 ln 2.</summary>
    private const double NegligibleLogWeight = -41.58883083359672;

    /// <summary>
    /// Pass 1: ell[p] = ℓ_p = c_p − ½|W_p (x − m_p)|² per lane, one vector per pair; returns the lane-wise maximum M.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV LogWeights<TOps, TV>(VelocityFrame frame, ref double xs, ref double ys, ref double ell)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offW = frame.OffsetW;
        bool panels = frame.GainByPoint;
        ref double pairs = ref frame.Pairs;
        TV m = TOps.Create(double.NegativeInfinity);
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV q;
            if (panels)
            {
                q = SquaredNormByPanels<TOps, TV>(ref Unsafe.Add(ref blk, offW), ref xs, ref Unsafe.Add(ref blk, 1), ref ys, d, lanes);
            }
            else
            {
                Center<TOps, TV>(ref xs, ref Unsafe.Add(ref blk, 1), ref ys, d, lanes);
                q = SquaredNormOfLowerProduct<TOps, TV>(ref Unsafe.Add(ref blk, offW), ref ys, d, lanes, 0, TOps.Zero);
            }
            TV l = TOps.MultiplyAdd(TOps.Create(-0.5), q, TOps.Create(blk));
            TOps.Store(l, ref Unsafe.Add(ref ell, p * lanes));
            m = TOps.MaxNative(m, l);
        }
        return m;
    }

    /// <summary>
    /// u = b + K y for the two row vectors starting at <paramref name="k"/> (column j of K at k + j·dp) and
    /// <paramref name="b"/>, y[j] for j &lt; d read as broadcasts. Per row four chains, columns j ≡ 0, 1, 2, 3 mod 4, each
    /// walking its own column pointer (addressing stays base + constant): eight independent multiply-add chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GainTwoRows<TOps, TV>(ref double k, ref double b, ref double y, int d, int dp, out TV u0, out TV u1)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, step = 4 * dp;
        ref double k0 = ref k;
        ref double k1 = ref Unsafe.Add(ref k, dp);
        ref double k2 = ref Unsafe.Add(ref k, 2 * dp);
        ref double k3 = ref Unsafe.Add(ref k, 3 * dp);
        ref double yj = ref y;
        TV a00 = TOps.Load(ref b), a01 = TOps.Zero, a02 = TOps.Zero, a03 = TOps.Zero;
        TV a10 = TOps.Load(ref Unsafe.Add(ref b, lanes)), a11 = TOps.Zero, a12 = TOps.Zero, a13 = TOps.Zero;
        int j = 0;
        for (; j + 4 <= d; j += 4)
        {
            TV y0 = TOps.Create(yj);
            TV y1 = TOps.Create(Unsafe.Add(ref yj, 1));
            TV y2 = TOps.Create(Unsafe.Add(ref yj, 2));
            TV y3 = TOps.Create(Unsafe.Add(ref yj, 3));
            a00 = TOps.MultiplyAdd(TOps.Load(ref k0), y0, a00);
            a10 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k0, lanes)), y0, a10);
            a01 = TOps.MultiplyAdd(TOps.Load(ref k1), y1, a01);
            a11 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k1, lanes)), y1, a11);
            a02 = TOps.MultiplyAdd(TOps.Load(ref k2), y2, a02);
            a12 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k2, lanes)), y2, a12);
            a03 = TOps.MultiplyAdd(TOps.Load(ref k3), y3, a03);
            a13 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k3, lanes)), y3, a13);
            k0 = ref Unsafe.Add(ref k0, step);
            k1 = ref Unsafe.Add(ref k1, step);
            k2 = ref Unsafe.Add(ref k2, step);
            k3 = ref Unsafe.Add(ref k3, step);
            yj = ref Unsafe.Add(ref yj, 4);
        }
        // The d mod 4 last columns continue chains 0, 1, 2.
        if (j < d)
        {
            TV t = TOps.Create(yj);
            a00 = TOps.MultiplyAdd(TOps.Load(ref k0), t, a00);
            a10 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k0, lanes)), t, a10);
            if (j + 1 < d)
            {
                t = TOps.Create(Unsafe.Add(ref yj, 1));
                a01 = TOps.MultiplyAdd(TOps.Load(ref k1), t, a01);
                a11 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k1, lanes)), t, a11);
                if (j + 2 < d)
                {
                    t = TOps.Create(Unsafe.Add(ref yj, 2));
                    a02 = TOps.MultiplyAdd(TOps.Load(ref k2), t, a02);
                    a12 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k2, lanes)), t, a12);
                }
            }
        }
        u0 = TOps.Add(TOps.Add(a00, a01), TOps.Add(a02, a03));
        u1 = TOps.Add(TOps.Add(a10, a11), TOps.Add(a12, a13));
    }

    /// <summary>As <see cref="GainTwoRows{TOps, TV}"/> for a single row vector (the same four chains per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV GainOneRow<TOps, TV>(ref double k, ref double b, ref double y, int d, int dp)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int step = 4 * dp;
        ref double k0 = ref k;
        ref double k1 = ref Unsafe.Add(ref k, dp);
        ref double k2 = ref Unsafe.Add(ref k, 2 * dp);
        ref double k3 = ref Unsafe.Add(ref k, 3 * dp);
        ref double yj = ref y;
        TV a0 = TOps.Load(ref b), a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
        int j = 0;
        for (; j + 4 <= d; j += 4)
        {
            a0 = TOps.MultiplyAdd(TOps.Load(ref k0), TOps.Create(yj), a0);
            a1 = TOps.MultiplyAdd(TOps.Load(ref k1), TOps.Create(Unsafe.Add(ref yj, 1)), a1);
            a2 = TOps.MultiplyAdd(TOps.Load(ref k2), TOps.Create(Unsafe.Add(ref yj, 2)), a2);
            a3 = TOps.MultiplyAdd(TOps.Load(ref k3), TOps.Create(Unsafe.Add(ref yj, 3)), a3);
            k0 = ref Unsafe.Add(ref k0, step);
            k1 = ref Unsafe.Add(ref k1, step);
            k2 = ref Unsafe.Add(ref k2, step);
            k3 = ref Unsafe.Add(ref k3, step);
            yj = ref Unsafe.Add(ref yj, 4);
        }
        if (j < d)
        {
            a0 = TOps.MultiplyAdd(TOps.Load(ref k0), TOps.Create(yj), a0);
            if (j + 1 < d)
            {
                a1 = TOps.MultiplyAdd(TOps.Load(ref k1), TOps.Create(Unsafe.Add(ref yj, 1)), a1);
                if (j + 2 < d)
                {
                    a2 = TOps.MultiplyAdd(TOps.Load(ref k2), TOps.Create(Unsafe.Add(ref yj, 2)), a2);
                }
            }
        }
        return TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3));
    }

    /// <summary>
    /// |W (x − m)|² per lane for the frame's panel layout (d ≥ 8, see <see cref="VelocityFrame"/>): eight rows at a
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

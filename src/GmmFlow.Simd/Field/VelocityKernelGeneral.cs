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
        int offW = frame.OffsetW, offK = frame.OffsetK, offB = frame.OffsetB;
        ref double pairs = ref frame.Pairs;

        // Pass 1: ℓ_p = c_p − ½|W_p (x − m_p)|² per lane, stored one vector per pair, and the running maximum.
        TV m = TOps.Create(double.NegativeInfinity);
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            Center<TOps, TV>(ref xs, ref Unsafe.Add(ref blk, 1), ref ys, d, lanes);
            TV q = SquaredNormOfLowerProduct<TOps, TV>(ref Unsafe.Add(ref blk, offW), ref ys, d, lanes);
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
    /// |W y|² per lane for W lower-triangular in the frame's grouped order (see <see cref="VelocityFrame"/>),
    /// read front to back through one moving reference. Scalar equivalent: Σ_i (Σ_{j≤i} W_ij y_j)².
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV SquaredNormOfLowerProduct<TOps, TV>(ref double w, ref double ys, int d, int lanes)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        TV q = TOps.Zero;
        int i = 0;
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

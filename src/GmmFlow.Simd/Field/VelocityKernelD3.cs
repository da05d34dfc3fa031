using System.Runtime.CompilerServices;

namespace GmmFlow.Simd;

/// <summary>
/// Mixture velocity for d = 3, one block of <c>TOps.Count</c> points with all coordinates in registers.
/// Lanes: lane k of every vector is point k of the block (x0, x1, x2 its coordinates).
/// Scalar equivalent, per point x and pair p: y = x − m_p; z = W_p y (lower-triangular);
/// ℓ_p = c_p − ½|z|²; u_p = b_p + K_p y; S = Σ_p e^{ℓ_p − M}; A = Σ_p e^{ℓ_p − M} u_p, M = max_p ℓ_p.
/// Tail: always a full block; <see cref="VelocityBatch"/> pads a partial one with copies of its last point.
/// </summary>
internal static class VelocityKernelD3
{
    // Pair block for d = 3: [c, m0..m2 (1–3), w00, w10, w11, w20, w21, w22 (4–9), K row-major (10–18), b0..b2 (19–21)].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block<TOps, TV>(VelocityFrame frame, ref double xs, ref double ell, ref double acc, out TV sum, out TV max)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        ref double pairs = ref frame.Pairs;
        TV x0 = TOps.Load(ref xs);
        TV x1 = TOps.Load(ref Unsafe.Add(ref xs, lanes));
        TV x2 = TOps.Load(ref Unsafe.Add(ref xs, 2 * lanes));
        TV minusHalf = TOps.Create(-0.5);

        // Pass 1: ℓ_p per lane and the running maximum.
        TV m = TOps.Create(double.NegativeInfinity);
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV y0 = TOps.Subtract(x0, TOps.Create(Unsafe.Add(ref blk, 1)));
            TV y1 = TOps.Subtract(x1, TOps.Create(Unsafe.Add(ref blk, 2)));
            TV y2 = TOps.Subtract(x2, TOps.Create(Unsafe.Add(ref blk, 3)));
            TV z0 = TOps.Multiply(TOps.Create(Unsafe.Add(ref blk, 4)), y0);
            TV z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 5)), y0, TOps.Multiply(TOps.Create(Unsafe.Add(ref blk, 6)), y1));
            TV z2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 7)), y0,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 8)), y1, TOps.Multiply(TOps.Create(Unsafe.Add(ref blk, 9)), y2)));
            TV q = TOps.MultiplyAdd(z0, z0, TOps.MultiplyAdd(z1, z1, TOps.Multiply(z2, z2)));
            TV l = TOps.MultiplyAdd(minusHalf, q, TOps.Create(blk));
            TOps.Store(l, ref Unsafe.Add(ref ell, p * lanes));
            m = TOps.MaxNative(m, l);
        }

        // Pass 2: weights e^{ℓ_p − M} times u_p = b_p + K_p y.
        TV s = TOps.Zero, a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero;
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV w = SimdMath.ExpNonPositive<TOps, TV>(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref ell, p * lanes)), m));
            TV y0 = TOps.Subtract(x0, TOps.Create(Unsafe.Add(ref blk, 1)));
            TV y1 = TOps.Subtract(x1, TOps.Create(Unsafe.Add(ref blk, 2)));
            TV y2 = TOps.Subtract(x2, TOps.Create(Unsafe.Add(ref blk, 3)));
            TV u0 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 10)), y0,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 11)), y1,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 12)), y2, TOps.Create(Unsafe.Add(ref blk, 19)))));
            TV u1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 13)), y0,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 14)), y1,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 15)), y2, TOps.Create(Unsafe.Add(ref blk, 20)))));
            TV u2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 16)), y0,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 17)), y1,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 18)), y2, TOps.Create(Unsafe.Add(ref blk, 21)))));
            a0 = TOps.MultiplyAdd(w, u0, a0);
            a1 = TOps.MultiplyAdd(w, u1, a1);
            a2 = TOps.MultiplyAdd(w, u2, a2);
            s = TOps.Add(s, w);
        }

        TOps.Store(a0, ref acc);
        TOps.Store(a1, ref Unsafe.Add(ref acc, lanes));
        TOps.Store(a2, ref Unsafe.Add(ref acc, 2 * lanes));
        sum = s;
        max = m;
    }
}

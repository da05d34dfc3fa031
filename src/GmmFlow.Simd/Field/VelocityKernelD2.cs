using System.Runtime.CompilerServices;

namespace GmmFlow.Simd;

/// <summary>
/// Mixture velocity for d = 2 (the toy-problem and logo dimension), one block of <c>TOps.Count</c> points with
/// both coordinates, the Mahalanobis factor and the drift in registers.
/// Lanes: lane k of every vector is point k of the block (x0, x1 its two coordinates).
/// Scalar equivalent, per point x and pair p: y = x − m_p; z0 = w00 y0; z1 = w10 y0 + w11 y1;
/// ℓ_p = c_p − ½(z0² + z1²); u_p = b_p + K_p y; S = Σ_p e^{ℓ_p − M}; A = Σ_p e^{ℓ_p − M} u_p, M = max_p ℓ_p.
/// Tail: always a full block; <see cref="VelocityBatch"/> pads a partial one with copies of its last point.
/// </summary>
internal static class VelocityKernelD2
{
    // Pair block for d = 2: [c, m0, m1, w00, w10, w11, K00, K01, K10, K11, b0, b1].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block<TOps, TV>(VelocityFrame frame, ref double xs, ref double ell, ref double acc, out TV sum, out TV max)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        ref double pairs = ref frame.Pairs;
        TV x0 = TOps.Load(ref xs);
        TV x1 = TOps.Load(ref Unsafe.Add(ref xs, lanes));
        TV minusHalf = TOps.Create(-0.5);

        // Pass 1: ℓ_p per lane, stored one vector per pair, and the running maximum.
        TV m = TOps.Create(double.NegativeInfinity);
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV y0 = TOps.Subtract(x0, TOps.Create(Unsafe.Add(ref blk, 1)));
            TV y1 = TOps.Subtract(x1, TOps.Create(Unsafe.Add(ref blk, 2)));
            TV z0 = TOps.Multiply(TOps.Create(Unsafe.Add(ref blk, 3)), y0);
            TV z1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 4)), y0, TOps.Multiply(TOps.Create(Unsafe.Add(ref blk, 5)), y1));
            TV q = TOps.MultiplyAdd(z0, z0, TOps.Multiply(z1, z1));
            TV l = TOps.MultiplyAdd(minusHalf, q, TOps.Create(blk));
            TOps.Store(l, ref Unsafe.Add(ref ell, p * lanes));
            m = TOps.MaxNative(m, l);
        }

        // Pass 2: weights e^{ℓ_p − M} ∈ [0, 1] times u_p, accumulated; y is recomputed (2 subtractions) rather than stored.
        TV s = TOps.Zero, a0 = TOps.Zero, a1 = TOps.Zero;
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV w = SimdMath.ExpNonPositive<TOps, TV>(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref ell, p * lanes)), m));
            TV y0 = TOps.Subtract(x0, TOps.Create(Unsafe.Add(ref blk, 1)));
            TV y1 = TOps.Subtract(x1, TOps.Create(Unsafe.Add(ref blk, 2)));
            TV u0 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 6)), y0,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 7)), y1, TOps.Create(Unsafe.Add(ref blk, 10))));
            TV u1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 8)), y0,
                    TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 9)), y1, TOps.Create(Unsafe.Add(ref blk, 11))));
            a0 = TOps.MultiplyAdd(w, u0, a0);
            a1 = TOps.MultiplyAdd(w, u1, a1);
            s = TOps.Add(s, w);
        }

        TOps.Store(a0, ref acc);
        TOps.Store(a1, ref Unsafe.Add(ref acc, lanes));
        sum = s;
        max = m;
    }
}

using System.Runtime.CompilerServices;

namespace GmmFlow.Simd;

/// <summary>
/// Mixture velocity for d = 1, one block of <c>TOps.Count</c> points, everything in registers.
/// Lanes: lane k of every vector is point k of the block.
/// Scalar equivalent, per point x: ℓ_p = c_p − ½ (w_p (x − m_p))²; M = max_p ℓ_p;
/// S = Σ_p e^{ℓ_p − M}; A = Σ_p e^{ℓ_p − M} (b_p + k_p (x − m_p)); the caller forms v = A / S.
/// Tail: always a full block; <see cref="VelocityBatch"/> pads a partial one with copies of its last point.
/// </summary>
internal static class VelocityKernelD1
{
    // Pair block for d = 1: [c, m, w, k, b].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block<TOps, TV>(VelocityFrame frame, ref double xs, ref double ell, ref double acc, out TV sum, out TV max)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        ref double pairs = ref frame.Pairs;
        TV x = TOps.Load(ref xs);
        TV minusHalf = TOps.Create(-0.5);

        // Pass 1: log-weights ℓ_p (one vector per pair in `ell`) and their running maximum.
        TV m = TOps.Create(double.NegativeInfinity);
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV y = TOps.Subtract(x, TOps.Create(Unsafe.Add(ref blk, 1)));
            TV z = TOps.Multiply(TOps.Create(Unsafe.Add(ref blk, 2)), y);
            TV l = TOps.MultiplyAdd(minusHalf, TOps.Multiply(z, z), TOps.Create(blk));
            TOps.Store(l, ref Unsafe.Add(ref ell, p * lanes));
            m = TOps.MaxNative(m, l);
        }

        // Pass 2: max-shifted weights (each in (0, 1], the largest exactly 1) times the affine drifts.
        TV s = TOps.Zero, a = TOps.Zero;
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref pairs, p * stride);
            TV w = SimdMath.ExpNonPositive<TOps, TV>(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref ell, p * lanes)), m));
            TV y = TOps.Subtract(x, TOps.Create(Unsafe.Add(ref blk, 1)));
            TV u = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref blk, 3)), y, TOps.Create(Unsafe.Add(ref blk, 4)));
            a = TOps.MultiplyAdd(w, u, a);
            s = TOps.Add(s, w);
        }

        TOps.Store(a, ref acc);
        sum = s;
        max = m;
    }
}

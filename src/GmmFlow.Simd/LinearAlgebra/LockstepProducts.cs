using System.Runtime.CompilerServices;

namespace GmmFlow.Simd.LinearAlgebra;

/// <summary>
/// Congruence products for <c>TOps.Count</c> independent d×d problems at once, one per lane, in the interleaved
/// layout of <see cref="LockstepSymmetricEigen"/>: they build the eigensolver's input directly in lane order, so
/// the cost matrix does not compute each pair's product separately and then scatter it into lanes.
/// </summary>
/// <remarks>
/// The lower-triangular factor is interleaved with stride <c>lanes</c> (element e of lane q at e·lanes + q, zeros
/// above the diagonal stored explicitly); the symmetric middle matrix S may have any element stride
/// <c>sStride</c> ≥ lanes (the cost matrix reads a pre-interleaved table of all targets whose lanes are
/// consecutive targets). Results fill the lower triangle only. Loops are ordered so that a block of four rows or
/// columns stays in L1 while the other operand streams once per block: at d = 64 one interleaved matrix of sixteen
/// lanes is 512 KiB, and a naive order re-reads whole matrices from L2 for every output column.
/// </remarks>
internal static class LockstepProducts
{
    /// <summary>result = Lᵀ S L (lower triangle) for lower-triangular L; <paramref name="work"/> (d·d·lanes) receives S L.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CongruenceLowerTransposed<TOps, TV>(ref double l, ref double s, int sStride, ref double work, ref double result, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        // W = S L: W[k][c] = Σ_{j ≥ c} S[k][j] L[j][c]; rows k..k+3 of S stay in L1 while L streams.
        int k = 0;
        for (; k + 4 <= d; k += 4)
        {
            ref double s0 = ref Unsafe.Add(ref s, k * d * sStride);
            ref double s1 = ref Unsafe.Add(ref s0, d * sStride);
            ref double s2 = ref Unsafe.Add(ref s1, d * sStride);
            ref double s3 = ref Unsafe.Add(ref s2, d * sStride);
            for (int c = 0; c < d; c++)
            {
                TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
                for (int j = c; j < d; j++)
                {
                    TV lv = TOps.Load(ref Unsafe.Add(ref l, (j * d + c) * lanes));
                    int o = j * sStride;
                    a0 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref s0, o)), lv, a0);
                    a1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref s1, o)), lv, a1);
                    a2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref s2, o)), lv, a2);
                    a3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref s3, o)), lv, a3);
                }
                TOps.Store(a0, ref Unsafe.Add(ref work, (k * d + c) * lanes));
                TOps.Store(a1, ref Unsafe.Add(ref work, ((k + 1) * d + c) * lanes));
                TOps.Store(a2, ref Unsafe.Add(ref work, ((k + 2) * d + c) * lanes));
                TOps.Store(a3, ref Unsafe.Add(ref work, ((k + 3) * d + c) * lanes));
            }
        }
        for (; k < d; k++)
        {
            for (int c = 0; c < d; c++)
            {
                TV a = TOps.Zero;
                for (int j = c; j < d; j++)
                {
                    a = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref s, (k * d + j) * sStride)), TOps.Load(ref Unsafe.Add(ref l, (j * d + c) * lanes)), a);
                }
                TOps.Store(a, ref Unsafe.Add(ref work, (k * d + c) * lanes));
            }
        }
        // result[r][c] = Σ_{k ≥ r} L[k][r] W[k][c] for c ≤ r: columns c..c+3 of W stay in L1 while L streams.
        for (int c = 0; c < d; c += 4)
        {
            int width = Math.Min(4, d - c);
            for (int r = c; r < d; r++)
            {
                TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
                for (int kk = r; kk < d; kk++)
                {
                    TV lv = TOps.Load(ref Unsafe.Add(ref l, (kk * d + r) * lanes));
                    ref double wk = ref Unsafe.Add(ref work, (kk * d + c) * lanes);
                    a0 = TOps.MultiplyAdd(lv, TOps.Load(ref wk), a0);
                    if (width == 4)
                    {
                        a1 = TOps.MultiplyAdd(lv, TOps.Load(ref Unsafe.Add(ref wk, lanes)), a1);
                        a2 = TOps.MultiplyAdd(lv, TOps.Load(ref Unsafe.Add(ref wk, 2 * lanes)), a2);
                        a3 = TOps.MultiplyAdd(lv, TOps.Load(ref Unsafe.Add(ref wk, 3 * lanes)), a3);
                    }
                    else
                    {
                        if (width > 1) a1 = TOps.MultiplyAdd(lv, TOps.Load(ref Unsafe.Add(ref wk, lanes)), a1);
                        if (width > 2) a2 = TOps.MultiplyAdd(lv, TOps.Load(ref Unsafe.Add(ref wk, 2 * lanes)), a2);
                    }
                }
                ref double out0 = ref Unsafe.Add(ref result, (r * d + c) * lanes);
                TOps.Store(a0, ref out0);
                if (c + 1 <= r && width > 1) TOps.Store(a1, ref Unsafe.Add(ref out0, lanes));
                if (c + 2 <= r && width > 2) TOps.Store(a2, ref Unsafe.Add(ref out0, 2 * lanes));
                if (c + 3 <= r && width > 3) TOps.Store(a3, ref Unsafe.Add(ref out0, 3 * lanes));
            }
        }
    }

    /// <summary>result = M S Mᵀ (lower triangle) for lower-triangular M; <paramref name="work"/> (d·d·lanes) receives M S.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CongruenceLower<TOps, TV>(ref double m, ref double s, int sStride, ref double work, ref double result, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        // W = M S: W[r][c] = Σ_{k ≤ r} M[r][k] S[k][c]; columns c..c+3 of S stay in L1 while M streams.
        int c = 0;
        for (; c + 4 <= d; c += 4)
        {
            for (int r = 0; r < d; r++)
            {
                TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
                for (int k = 0; k <= r; k++)
                {
                    TV mv = TOps.Load(ref Unsafe.Add(ref m, (r * d + k) * lanes));
                    ref double sk = ref Unsafe.Add(ref s, (k * d + c) * sStride);
                    a0 = TOps.MultiplyAdd(mv, TOps.Load(ref sk), a0);
                    a1 = TOps.MultiplyAdd(mv, TOps.Load(ref Unsafe.Add(ref sk, sStride)), a1);
                    a2 = TOps.MultiplyAdd(mv, TOps.Load(ref Unsafe.Add(ref sk, 2 * sStride)), a2);
                    a3 = TOps.MultiplyAdd(mv, TOps.Load(ref Unsafe.Add(ref sk, 3 * sStride)), a3);
                }
                ref double w0 = ref Unsafe.Add(ref work, (r * d + c) * lanes);
                TOps.Store(a0, ref w0);
                TOps.Store(a1, ref Unsafe.Add(ref w0, lanes));
                TOps.Store(a2, ref Unsafe.Add(ref w0, 2 * lanes));
                TOps.Store(a3, ref Unsafe.Add(ref w0, 3 * lanes));
            }
        }
        for (; c < d; c++)
        {
            for (int r = 0; r < d; r++)
            {
                TV a = TOps.Zero;
                for (int k = 0; k <= r; k++)
                {
                    a = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref m, (r * d + k) * lanes)), TOps.Load(ref Unsafe.Add(ref s, (k * d + c) * sStride)), a);
                }
                TOps.Store(a, ref Unsafe.Add(ref work, (r * d + c) * lanes));
            }
        }
        // result[r][c] = Σ_{j ≤ c} W[r][j] M[c][j] for c ≤ r: rows r..r+3 of W stay in L1 while M streams.
        int r0 = 0;
        for (; r0 + 4 <= d; r0 += 4)
        {
            ref double w0 = ref Unsafe.Add(ref work, r0 * d * lanes);
            ref double w1 = ref Unsafe.Add(ref w0, d * lanes);
            ref double w2 = ref Unsafe.Add(ref w1, d * lanes);
            ref double w3 = ref Unsafe.Add(ref w2, d * lanes);
            for (int cc = 0; cc <= r0 + 3; cc++)
            {
                TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
                for (int j = 0; j <= cc; j++)
                {
                    TV mv = TOps.Load(ref Unsafe.Add(ref m, (cc * d + j) * lanes));
                    int o = j * lanes;
                    a0 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref w0, o)), mv, a0);
                    a1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref w1, o)), mv, a1);
                    a2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref w2, o)), mv, a2);
                    a3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref w3, o)), mv, a3);
                }
                if (cc <= r0) TOps.Store(a0, ref Unsafe.Add(ref result, (r0 * d + cc) * lanes));
                if (cc <= r0 + 1) TOps.Store(a1, ref Unsafe.Add(ref result, ((r0 + 1) * d + cc) * lanes));
                if (cc <= r0 + 2) TOps.Store(a2, ref Unsafe.Add(ref result, ((r0 + 2) * d + cc) * lanes));
                TOps.Store(a3, ref Unsafe.Add(ref result, ((r0 + 3) * d + cc) * lanes));
            }
        }
        for (int r = r0; r < d; r++)
        {
            for (int cc = 0; cc <= r; cc++)
            {
                TV a = TOps.Zero;
                for (int j = 0; j <= cc; j++)
                {
                    a = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref work, (r * d + j) * lanes)), TOps.Load(ref Unsafe.Add(ref m, (cc * d + j) * lanes)), a);
                }
                TOps.Store(a, ref Unsafe.Add(ref result, (r * d + cc) * lanes));
            }
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// Gaussian log-density of a block of points for one full-covariance component:
/// <c>out[i] = constant − ½ |P xᵢ − b|²</c>, with P = L⁻¹ the lower-triangular inverse Cholesky
/// factor of Σ = L Lᵀ and b = P m, so |P x − b|² = (x − m)ᵀ Σ⁻¹ (x − m). The caller folds
/// −½(d log 2π + log det Σ) (and log aₖ for a weighted mixture term) into <c>constant</c>.
/// </summary>
/// <remarks>
/// Why not a GEMM X·Pᵀ then row norms (sklearn's approach): P is triangular, so the product needs
/// d(d+1)/2 multiply-adds per point instead of d², and fusing the squared norm avoids writing the
/// N×d projection to memory. Lanes hold consecutive points; per output row j the accumulator starts
/// at −bⱼ and adds P[j,l]·x_l for l ≤ j (broadcast P, vector x), then is squared into the sum.
/// Scalar equivalent: for each i, s = Σⱼ (Σ_{l≤j} P[j,l] x[l,i] − b[j])²; out[i] = constant − s/2.
/// </remarks>
internal readonly struct TriangularGaussianKernel : IGaussianBlockKernel
{
    /// <summary>
    /// Evaluates <paramref name="count"/> points (a multiple of <see cref="PointBlock.Multiple"/>) of the
    /// coordinate-major block <paramref name="points"/> (rows <paramref name="stride"/> apart).
    /// <paramref name="precisionFactor"/> is the row-major lower-triangular P (d×d; the upper triangle is not read).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Evaluate(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> precisionFactor, ReadOnlySpan<double> shift, double constant, Span<double> destination)
    {
        PointBlock.CheckLength(precisionFactor.Length, (long)dimension * dimension, nameof(precisionFactor));
        GaussianBlockKernel.Evaluate<TriangularGaussianKernel>(points, stride, count, dimension, precisionFactor, shift, constant, destination);
    }

    /// <summary>One width's implementation (callable directly by tests to cover every path). Sizes are not re-checked.</summary>
    // Straight to optimised code: at tier 0 the static abstract vector calls are not inlined (~10x slower),
    // and on a one-core machine tiering was measured never to promote these loops.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Evaluate<TOps, TVec>(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> precisionFactor, ReadOnlySpan<double> shift, double constant, Span<double> destination)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        ref double x0 = ref MemoryMarshal.GetReference(points);
        ref double p = ref MemoryMarshal.GetReference(precisionFactor);
        ref double b = ref MemoryMarshal.GetReference(shift);
        ref double dst = ref MemoryMarshal.GetReference(destination);
        TVec minusHalf = TOps.Create(-0.5);
        TVec c = TOps.Create(constant);

        // Four vectors of points per pass and two output rows (j, j + 1) at a time: eight independent
        // accumulator chains keep both FMA pipes busy (four chains would be latency-bound at one FMA per
        // cycle), and each loaded x_l feeds both rows, halving the loads per FMA.
        // count is a multiple of 4·w by contract.
        for (int i = 0; i < count; i += 4 * w)
        {
            ref double xi = ref Unsafe.Add(ref x0, i);
            TVec s0 = TOps.Zero, s1 = TOps.Zero, s2 = TOps.Zero, s3 = TOps.Zero;
            int j = 0;
            for (; j + 1 < dimension; j += 2)
            {
                TVec nb = TOps.Create(-Unsafe.Add(ref b, j));
                TVec nc = TOps.Create(-Unsafe.Add(ref b, j + 1));
                TVec a0 = nb, a1 = nb, a2 = nb, a3 = nb;
                TVec c0 = nc, c1 = nc, c2 = nc, c3 = nc;
                ref double pj = ref Unsafe.Add(ref p, j * dimension);
                ref double pk = ref Unsafe.Add(ref pj, dimension);
                for (int l = 0; l <= j; l++)
                {
                    TVec pl = TOps.Create(Unsafe.Add(ref pj, l));
                    TVec ql = TOps.Create(Unsafe.Add(ref pk, l));
                    ref double xl = ref Unsafe.Add(ref xi, l * stride);
                    TVec x0v = TOps.Load(ref xl);
                    TVec x1v = TOps.Load(ref Unsafe.Add(ref xl, w));
                    TVec x2v = TOps.Load(ref Unsafe.Add(ref xl, 2 * w));
                    TVec x3v = TOps.Load(ref Unsafe.Add(ref xl, 3 * w));
                    a0 = TOps.MultiplyAdd(pl, x0v, a0);
                    a1 = TOps.MultiplyAdd(pl, x1v, a1);
                    a2 = TOps.MultiplyAdd(pl, x2v, a2);
                    a3 = TOps.MultiplyAdd(pl, x3v, a3);
                    c0 = TOps.MultiplyAdd(ql, x0v, c0);
                    c1 = TOps.MultiplyAdd(ql, x1v, c1);
                    c2 = TOps.MultiplyAdd(ql, x2v, c2);
                    c3 = TOps.MultiplyAdd(ql, x3v, c3);
                }
                // Row j + 1 has one more term, l = j + 1.
                {
                    TVec ql = TOps.Create(Unsafe.Add(ref pk, j + 1));
                    ref double xl = ref Unsafe.Add(ref xi, (j + 1) * stride);
                    c0 = TOps.MultiplyAdd(ql, TOps.Load(ref xl), c0);
                    c1 = TOps.MultiplyAdd(ql, TOps.Load(ref Unsafe.Add(ref xl, w)), c1);
                    c2 = TOps.MultiplyAdd(ql, TOps.Load(ref Unsafe.Add(ref xl, 2 * w)), c2);
                    c3 = TOps.MultiplyAdd(ql, TOps.Load(ref Unsafe.Add(ref xl, 3 * w)), c3);
                }
                s0 = TOps.MultiplyAdd(a0, a0, s0);
                s1 = TOps.MultiplyAdd(a1, a1, s1);
                s2 = TOps.MultiplyAdd(a2, a2, s2);
                s3 = TOps.MultiplyAdd(a3, a3, s3);
                s0 = TOps.MultiplyAdd(c0, c0, s0);
                s1 = TOps.MultiplyAdd(c1, c1, s1);
                s2 = TOps.MultiplyAdd(c2, c2, s2);
                s3 = TOps.MultiplyAdd(c3, c3, s3);
            }
            if (j < dimension)
            {
                // Odd dimension: the last row alone.
                TVec nb = TOps.Create(-Unsafe.Add(ref b, j));
                TVec a0 = nb, a1 = nb, a2 = nb, a3 = nb;
                ref double pj = ref Unsafe.Add(ref p, j * dimension);
                for (int l = 0; l <= j; l++)
                {
                    TVec pl = TOps.Create(Unsafe.Add(ref pj, l));
                    ref double xl = ref Unsafe.Add(ref xi, l * stride);
                    a0 = TOps.MultiplyAdd(pl, TOps.Load(ref xl), a0);
                    a1 = TOps.MultiplyAdd(pl, TOps.Load(ref Unsafe.Add(ref xl, w)), a1);
                    a2 = TOps.MultiplyAdd(pl, TOps.Load(ref Unsafe.Add(ref xl, 2 * w)), a2);
                    a3 = TOps.MultiplyAdd(pl, TOps.Load(ref Unsafe.Add(ref xl, 3 * w)), a3);
                }
                s0 = TOps.MultiplyAdd(a0, a0, s0);
                s1 = TOps.MultiplyAdd(a1, a1, s1);
                s2 = TOps.MultiplyAdd(a2, a2, s2);
                s3 = TOps.MultiplyAdd(a3, a3, s3);
            }
            ref double di = ref Unsafe.Add(ref dst, i);
            TOps.Store(TOps.MultiplyAdd(minusHalf, s0, c), ref di);
            TOps.Store(TOps.MultiplyAdd(minusHalf, s1, c), ref Unsafe.Add(ref di, w));
            TOps.Store(TOps.MultiplyAdd(minusHalf, s2, c), ref Unsafe.Add(ref di, 2 * w));
            TOps.Store(TOps.MultiplyAdd(minusHalf, s3, c), ref Unsafe.Add(ref di, 3 * w));
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// Gaussian log-density of a block of points for one diagonal (or spherical) component:
/// <c>out[i] = constant − ½ Σⱼ (pⱼ xⱼᵢ − bⱼ)²</c> with pⱼ = 1/σⱼ and bⱼ = mⱼ/σⱼ.
/// With p = 1, b = c (a centre) and constant 0 it returns −½|x − c|², which k-means uses.
/// </summary>
/// <remarks>
/// Lanes hold consecutive points; one multiply-add forms the whitened coordinate and one more squares
/// it into the sum. Scalar equivalent: out[i] = constant − ½ Σⱼ (p[j]·x[j,i] − b[j])².
/// </remarks>
internal readonly struct DiagonalGaussianKernel : IGaussianBlockKernel
{
    /// <summary>Evaluates <paramref name="count"/> points (a multiple of <see cref="PointBlock.Multiple"/>) of the coordinate-major block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Evaluate(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> scale, ReadOnlySpan<double> shift, double constant, Span<double> destination)
    {
        PointBlock.CheckLength(scale.Length, dimension, nameof(scale));
        GaussianBlockKernel.Evaluate<DiagonalGaussianKernel>(points, stride, count, dimension, scale, shift, constant, destination);
    }

    /// <summary>One width's implementation (callable directly by tests). Sizes are not re-checked.</summary>
    // Straight to optimised code: at tier 0 the static abstract vector calls are not inlined (~10x slower),
    // and on a one-core machine tiering was measured never to promote these loops.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Evaluate<TOps, TVec>(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> scale, ReadOnlySpan<double> shift, double constant, Span<double> destination)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        ref double x0 = ref MemoryMarshal.GetReference(points);
        ref double p = ref MemoryMarshal.GetReference(scale);
        ref double b = ref MemoryMarshal.GetReference(shift);
        ref double dst = ref MemoryMarshal.GetReference(destination);
        TVec minusHalf = TOps.Create(-0.5);
        TVec c = TOps.Create(constant);
        for (int i = 0; i < count; i += 4 * w)
        {
            ref double xi = ref Unsafe.Add(ref x0, i);
            TVec s0 = TOps.Zero, s1 = TOps.Zero, s2 = TOps.Zero, s3 = TOps.Zero;
            for (int j = 0; j < dimension; j++)
            {
                TVec pj = TOps.Create(Unsafe.Add(ref p, j));
                TVec nb = TOps.Create(-Unsafe.Add(ref b, j));
                ref double xj = ref Unsafe.Add(ref xi, j * stride);
                TVec a0 = TOps.MultiplyAdd(pj, TOps.Load(ref xj), nb);
                TVec a1 = TOps.MultiplyAdd(pj, TOps.Load(ref Unsafe.Add(ref xj, w)), nb);
                TVec a2 = TOps.MultiplyAdd(pj, TOps.Load(ref Unsafe.Add(ref xj, 2 * w)), nb);
                TVec a3 = TOps.MultiplyAdd(pj, TOps.Load(ref Unsafe.Add(ref xj, 3 * w)), nb);
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

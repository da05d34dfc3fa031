using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
            SquaredSums<TOps, TVec>(ref xi, stride, ref p, ref b, 0, dimension, ref s0, ref s1, ref s2, ref s3);
            ref double di = ref Unsafe.Add(ref dst, i);
            TOps.Store(TOps.MultiplyAdd(minusHalf, s0, c), ref di);
            TOps.Store(TOps.MultiplyAdd(minusHalf, s1, c), ref Unsafe.Add(ref di, w));
            TOps.Store(TOps.MultiplyAdd(minusHalf, s2, c), ref Unsafe.Add(ref di, 2 * w));
            TOps.Store(TOps.MultiplyAdd(minusHalf, s3, c), ref Unsafe.Add(ref di, 3 * w));
        }
    }

    /// <summary>Coordinates per tile of <see cref="EvaluateComponents"/>: 32 points × 64 coordinates = 16 KB, half of L1.</summary>
    private const int TileCoordinates = 64;

    /// <summary>
    /// Row k of <paramref name="destination"/> (rows <paramref name="destinationStride"/> apart) receives
    /// constants[k] − ½ Σⱼ (pₖⱼ xⱼᵢ − bₖⱼ)² for all <paramref name="components"/> components (scales and shifts K×d).
    /// Bit-identical to <see cref="Evaluate"/> per component: the same operations per (point, component) in the same
    /// order. The loops differ: per group of points and tile of coordinates every component reads the tile while it is
    /// in L1 (the sums carried in <paramref name="sums"/>, at least K × 4 × 8 doubles), where component after component
    /// would stream the whole block (about 1 MB at d = 512) through the caches K times.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EvaluateComponents(ReadOnlySpan<double> points, int stride, int count, int dimension, int components,
        ReadOnlySpan<double> scales, ReadOnlySpan<double> shifts, ReadOnlySpan<double> constants, Span<double> destination,
        int destinationStride, Span<double> sums)
    {
        PointBlock.CheckCount(count, stride);
        PointBlock.CheckLength(points.Length, PointBlock.BlockLength(dimension, stride, count), nameof(points));
        PointBlock.CheckLength(scales.Length, components * dimension, nameof(scales));
        PointBlock.CheckLength(shifts.Length, components * dimension, nameof(shifts));
        PointBlock.CheckLength(constants.Length, components, nameof(constants));
        PointBlock.CheckLength(destination.Length, components == 0 ? 0 : (components - 1) * destinationStride + count, nameof(destination));
        PointBlock.CheckLength(sums.Length, components * 4 * 8, nameof(sums));
        switch (SimdDispatch.Best)
        {
            case SimdWidth.V512:
                EvaluateComponents<Simd512, Vector512<double>>(points, stride, count, dimension, components, scales, shifts, constants, destination, destinationStride, sums);
                break;
            case SimdWidth.V256:
                EvaluateComponents<Simd256, Vector256<double>>(points, stride, count, dimension, components, scales, shifts, constants, destination, destinationStride, sums);
                break;
            case SimdWidth.V128:
                EvaluateComponents<Simd128, Vector128<double>>(points, stride, count, dimension, components, scales, shifts, constants, destination, destinationStride, sums);
                break;
            default:
                EvaluateComponents<SimdScalar, double>(points, stride, count, dimension, components, scales, shifts, constants, destination, destinationStride, sums);
                break;
        }
    }

    /// <summary>One width's <see cref="EvaluateComponents"/>. Sizes are not re-checked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EvaluateComponents<TOps, TVec>(ReadOnlySpan<double> points, int stride, int count, int dimension, int components,
        ReadOnlySpan<double> scales, ReadOnlySpan<double> shifts, ReadOnlySpan<double> constants, Span<double> destination,
        int destinationStride, Span<double> sums)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        ref double x0 = ref MemoryMarshal.GetReference(points);
        ref double p0 = ref MemoryMarshal.GetReference(scales);
        ref double b0 = ref MemoryMarshal.GetReference(shifts);
        ref double dst = ref MemoryMarshal.GetReference(destination);
        ref double acc = ref MemoryMarshal.GetReference(sums); // component k's four sums at k·4w
        TVec minusHalf = TOps.Create(-0.5);
        for (int i = 0; i < count; i += 4 * w)
        {
            ref double xi = ref Unsafe.Add(ref x0, i);
            for (int k = 0; k < components; k++)
            {
                ref double ak = ref Unsafe.Add(ref acc, k * 4 * w);
                TOps.Store(TOps.Zero, ref ak);
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref ak, w));
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref ak, 2 * w));
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref ak, 3 * w));
            }
            for (int j0 = 0; j0 < dimension; j0 += TileCoordinates)
            {
                int j1 = Math.Min(dimension, j0 + TileCoordinates);
                for (int k = 0; k < components; k++)
                {
                    ref double p = ref Unsafe.Add(ref p0, k * dimension);
                    ref double b = ref Unsafe.Add(ref b0, k * dimension);
                    ref double ak = ref Unsafe.Add(ref acc, k * 4 * w);
                    TVec s0 = TOps.Load(ref ak), s1 = TOps.Load(ref Unsafe.Add(ref ak, w));
                    TVec s2 = TOps.Load(ref Unsafe.Add(ref ak, 2 * w)), s3 = TOps.Load(ref Unsafe.Add(ref ak, 3 * w));
                    SquaredSums<TOps, TVec>(ref xi, stride, ref p, ref b, j0, j1, ref s0, ref s1, ref s2, ref s3);
                    TOps.Store(s0, ref ak);
                    TOps.Store(s1, ref Unsafe.Add(ref ak, w));
                    TOps.Store(s2, ref Unsafe.Add(ref ak, 2 * w));
                    TOps.Store(s3, ref Unsafe.Add(ref ak, 3 * w));
                }
            }
            for (int k = 0; k < components; k++)
            {
                ref double ak = ref Unsafe.Add(ref acc, k * 4 * w);
                TVec c = TOps.Create(Unsafe.Add(ref MemoryMarshal.GetReference(constants), k));
                ref double di = ref Unsafe.Add(ref dst, k * destinationStride + i);
                TOps.Store(TOps.MultiplyAdd(minusHalf, TOps.Load(ref ak), c), ref di);
                TOps.Store(TOps.MultiplyAdd(minusHalf, TOps.Load(ref Unsafe.Add(ref ak, w)), c), ref Unsafe.Add(ref di, w));
                TOps.Store(TOps.MultiplyAdd(minusHalf, TOps.Load(ref Unsafe.Add(ref ak, 2 * w)), c), ref Unsafe.Add(ref di, 2 * w));
                TOps.Store(TOps.MultiplyAdd(minusHalf, TOps.Load(ref Unsafe.Add(ref ak, 3 * w)), c), ref Unsafe.Add(ref di, 3 * w));
            }
        }
    }

    /// <summary>
    /// sₗ += (pⱼ xⱼ − bⱼ)² over coordinates j ∈ [j0, j1) for four vectors of points (lanes ℓ·w … ℓ·w + w − 1 from
    /// <paramref name="xi"/>): one multiply-add whitens, one more squares into the sum; the order every caller shares.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void SquaredSums<TOps, TVec>(ref double xi, int stride, ref double p, ref double b, int j0, int j1,
        ref TVec s0, ref TVec s1, ref TVec s2, ref TVec s3)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        for (int j = j0; j < j1; j++)
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
    }
}

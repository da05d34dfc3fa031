using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// A Gaussian log-density kernel over a coordinate-major <see cref="PointBlock"/>:
/// <c>out[i] = constant − ½ |P xᵢ − b|²</c> for a whitening factor P of some shape (diagonal in
/// <see cref="DiagonalGaussianKernel"/>, lower-triangular in <see cref="TriangularGaussianKernel"/>).
/// </summary>
internal interface IGaussianBlockKernel
{
    /// <summary>One width's implementation. Sizes are not re-checked.</summary>
    static abstract void Evaluate<TOps, TVec>(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> factor, ReadOnlySpan<double> shift, double constant, Span<double> destination)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct;
}

/// <summary>The checks and width dispatch the <see cref="IGaussianBlockKernel"/> kernels share.</summary>
internal static class GaussianBlockKernel
{
    /// <summary>
    /// Checks the sizes (the factor's length is the caller's to check, its shape being the kernel's) and runs
    /// <typeparamref name="TKernel"/> at the widest accelerated width on <paramref name="count"/> points
    /// (a multiple of <see cref="PointBlock.Multiple"/>).
    /// Inlined into the kernels' AggressiveOptimization entry points, so the switch keeps only this machine's branch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Evaluate<TKernel>(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> factor, ReadOnlySpan<double> shift, double constant, Span<double> destination)
        where TKernel : struct, IGaussianBlockKernel
    {
        PointBlock.CheckCount(count, stride);
        PointBlock.CheckLength(points.Length, PointBlock.BlockLength(dimension, stride, count), nameof(points));
        PointBlock.CheckLength(shift.Length, dimension, nameof(shift));
        PointBlock.CheckLength(destination.Length, count, nameof(destination));
        switch (SimdDispatch.Best)
        {
            case SimdWidth.V512:
                TKernel.Evaluate<Simd512, Vector512<double>>(points, stride, count, dimension, factor, shift, constant, destination);
                break;
            case SimdWidth.V256:
                TKernel.Evaluate<Simd256, Vector256<double>>(points, stride, count, dimension, factor, shift, constant, destination);
                break;
            case SimdWidth.V128:
                TKernel.Evaluate<Simd128, Vector128<double>>(points, stride, count, dimension, factor, shift, constant, destination);
                break;
            default:
                TKernel.Evaluate<SimdScalar, double>(points, stride, count, dimension, factor, shift, constant, destination);
                break;
        }
    }
}

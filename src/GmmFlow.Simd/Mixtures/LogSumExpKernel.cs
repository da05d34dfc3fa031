using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// Column-wise log-sum-exp over the K rows of a component-major block (row k holds log aₖ + log Nₖ(xᵢ)
/// for each point i): <c>lse[i] = log Σₖ exp(values[k,i])</c>, and optionally the responsibilities
/// <c>values[k,i] := wᵢ · exp(values[k,i] − lse[i])</c> in place (the E-step's posterior times the
/// sample weight). Never exponentiates a raw log-density: the column maximum is subtracted first, so
/// the largest term is exp(0) = 1 and nothing overflows however far a point is from every component.
/// Terms more than 700 below the maximum (relative size &lt; 1e-304) are exactly 0.
/// </summary>
/// <remarks>
/// Lanes hold consecutive points. Pass 1: column max. Pass 2: eₖ = exp(vₖ − max) stored back and
/// summed. Then lse = max + log(sum), and the responsibilities are eₖ · (w / sum): one exp per entry,
/// one log and one division per point. Scalar equivalent per i: m = maxₖ v[k,i]; s = Σₖ exp(v[k,i] − m);
/// lse[i] = m + log s; r[k,i] = w[i]·exp(v[k,i] − m)/s.
/// </remarks>
internal static class LogSumExpKernel
{
    /// <summary>
    /// Processes <paramref name="count"/> points (a multiple of <see cref="PointBlock.Multiple"/>) of the
    /// <paramref name="rows"/>×<paramref name="stride"/> block <paramref name="values"/>. <paramref name="weights"/>
    /// (length ≥ count) multiplies the responsibilities and the returned sum; empty means 1 for every point.
    /// Returns Σᵢ wᵢ·lse[i] over all <paramref name="count"/> points (padding included when weights are empty).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double Evaluate(Span<double> values, int stride, int count, int rows, Span<double> logSum,
        bool responsibilities, ReadOnlySpan<double> weights)
    {
        PointBlock.CheckCount(count, stride);
        if (rows < 1)
        {
            throw new ArgumentException("At least one row (component) is required.", nameof(rows));
        }
        PointBlock.CheckLength(values.Length, PointBlock.BlockLength(rows, stride, count), nameof(values));
        PointBlock.CheckLength(logSum.Length, count, nameof(logSum));
        if (!weights.IsEmpty)
        {
            PointBlock.CheckLength(weights.Length, count, nameof(weights));
        }
        return SimdDispatch.Best switch
        {
            SimdWidth.V512 => Evaluate<Simd512, Vector512<double>>(values, stride, count, rows, logSum, responsibilities, weights),
            SimdWidth.V256 => Evaluate<Simd256, Vector256<double>>(values, stride, count, rows, logSum, responsibilities, weights),
            SimdWidth.V128 => Evaluate<Simd128, Vector128<double>>(values, stride, count, rows, logSum, responsibilities, weights),
            _ => Evaluate<SimdScalar, double>(values, stride, count, rows, logSum, responsibilities, weights),
        };
    }

    /// <summary>One width's implementation (callable directly by tests). Sizes are not re-checked.</summary>
    // Straight to optimised code: at tier 0 the static abstract vector calls are not inlined (~10x slower),
    // and on a one-core machine tiering was measured never to promote these loops.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double Evaluate<TOps, TVec>(Span<double> values, int stride, int count, int rows, Span<double> logSum,
        bool responsibilities, ReadOnlySpan<double> weights)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        bool weighted = !weights.IsEmpty;
        ref double v0 = ref MemoryMarshal.GetReference(values);
        ref double lse = ref MemoryMarshal.GetReference(logSum);
        ref double wt = ref MemoryMarshal.GetReference(weights);
        TVec one = TOps.Create(1.0);
        TVec total = TOps.Zero;
        for (int i = 0; i < count; i += w)
        {
            ref double vi = ref Unsafe.Add(ref v0, i);
            TVec max = TOps.Load(ref vi);
            for (int k = 1; k < rows; k++)
            {
                max = TOps.Max(max, TOps.Load(ref Unsafe.Add(ref vi, k * stride)));
            }
            TVec sum = TOps.Zero;
            for (int k = 0; k < rows; k++)
            {
                ref double vk = ref Unsafe.Add(ref vi, k * stride);
                TVec e = SimdMath.ExpUnderflowToZero<TOps, TVec>(TOps.Subtract(TOps.Load(ref vk), max));
                if (responsibilities)
                {
                    TOps.Store(e, ref vk);
                }
                sum = TOps.Add(sum, e);
            }
            TVec l = TOps.Add(max, TOps.Log(sum));
            TOps.Store(l, ref Unsafe.Add(ref lse, i));
            TVec wi = weighted ? TOps.Load(ref Unsafe.Add(ref wt, i)) : one;
            total = TOps.MultiplyAdd(wi, l, total);
            if (responsibilities)
            {
                TVec scale = TOps.Divide(wi, sum);
                for (int k = 0; k < rows; k++)
                {
                    ref double vk = ref Unsafe.Add(ref vi, k * stride);
                    TOps.Store(TOps.Multiply(TOps.Load(ref vk), scale), ref vk);
                }
            }
        }
        return TOps.Sum(total);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// The EM M-step's sufficient statistics of one component over a block of points, about a shift m
/// (the component's current mean): n = Σ rᵢ, first = Σ rᵢ (xᵢ − m), and second = Σ rᵢ (xᵢ − m)(xᵢ − m)ᵀ
/// (lower triangle, full covariance) or its diagonal. Sums are added to the caller's accumulators.
/// </summary>
/// <remarks>
/// Why moments about the current mean: the new covariance is second/n − δδᵀ with δ = first/n, the
/// mean's move in this step, which is small once EM settles, so the subtraction loses almost nothing
/// (the textbook Σ r x xᵀ/n − m mᵀ cancels catastrophically when |m| ≫ the component's spread). It
/// also needs one pass over the data per EM iteration instead of two (means first, then covariances).
/// Full: lanes hold consecutive points. D = x − m and U = r·D are written to scratch (one pass), then
/// each lower-triangle entry (a, b) is the dot product of rows U[a] and D[b], four b at a time with
/// eight accumulators (two vectors of points per step) to keep both FMA pipes busy; D is padded to a
/// multiple of four rows of zeros so the last group needs no tail. Entries (a, b > a) that a group
/// computes as a by-product land in the upper triangle, which the caller ignores.
/// Returns Σ rᵢ; when it is exactly 0 (every responsibility underflowed) nothing else is touched.
/// </remarks>
internal static class WeightedMomentsKernel
{
    /// <summary>Scratch length <see cref="AccumulateFull"/> needs for <paramref name="count"/> points.</summary>
    public static int FullScratchLength(int dimension, int count) => (RoundUp4(dimension) + dimension) * count;

    /// <summary>Full second moment (lower triangle of the row-major d×d <paramref name="second"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double AccumulateFull(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> responsibilities, ReadOnlySpan<double> shift, Span<double> scratch,
        Span<double> first, Span<double> second)
    {
        PointBlock.CheckCount(count, stride);
        PointBlock.CheckLength(points.Length, PointBlock.BlockLength(dimension, stride, count), nameof(points));
        PointBlock.CheckLength(responsibilities.Length, count, nameof(responsibilities));
        PointBlock.CheckLength(shift.Length, dimension, nameof(shift));
        PointBlock.CheckLength(scratch.Length, FullScratchLength(dimension, count), nameof(scratch));
        PointBlock.CheckLength(first.Length, dimension, nameof(first));
        PointBlock.CheckLength(second.Length, (long)dimension * dimension, nameof(second));
        return SimdDispatch.Best switch
        {
            SimdWidth.V512 => AccumulateFull<Simd512, Vector512<double>>(points, stride, count, dimension, responsibilities, shift, scratch, first, second),
            SimdWidth.V256 => AccumulateFull<Simd256, Vector256<double>>(points, stride, count, dimension, responsibilities, shift, scratch, first, second),
            SimdWidth.V128 => AccumulateFull<Simd128, Vector128<double>>(points, stride, count, dimension, responsibilities, shift, scratch, first, second),
            _ => AccumulateFull<SimdScalar, double>(points, stride, count, dimension, responsibilities, shift, scratch, first, second),
        };
    }

    /// <summary>Diagonal second moment: <paramref name="second"/>[j] += Σ rᵢ (xⱼᵢ − mⱼ)².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double AccumulateDiagonal(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> responsibilities, ReadOnlySpan<double> shift, Span<double> first, Span<double> second)
    {
        PointBlock.CheckCount(count, stride);
        PointBlock.CheckLength(points.Length, PointBlock.BlockLength(dimension, stride, count), nameof(points));
        PointBlock.CheckLength(responsibilities.Length, count, nameof(responsibilities));
        PointBlock.CheckLength(shift.Length, dimension, nameof(shift));
        PointBlock.CheckLength(first.Length, dimension, nameof(first));
        PointBlock.CheckLength(second.Length, dimension, nameof(second));
        return SimdDispatch.Best switch
        {
            SimdWidth.V512 => AccumulateDiagonal<Simd512, Vector512<double>>(points, stride, count, dimension, responsibilities, shift, first, second),
            SimdWidth.V256 => AccumulateDiagonal<Simd256, Vector256<double>>(points, stride, count, dimension, responsibilities, shift, first, second),
            SimdWidth.V128 => AccumulateDiagonal<Simd128, Vector128<double>>(points, stride, count, dimension, responsibilities, shift, first, second),
            _ => AccumulateDiagonal<SimdScalar, double>(points, stride, count, dimension, responsibilities, shift, first, second),
        };
    }

    // Straight to optimised code: at tier 0 the static abstract vector calls are not inlined (~10x slower),
    // and on a one-core machine tiering was measured never to promote these loops.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double AccumulateFull<TOps, TVec>(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> responsibilities, ReadOnlySpan<double> shift, Span<double> scratch,
        Span<double> first, Span<double> second)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        double n = SumOf<TOps, TVec>(responsibilities, count);
        if (n == 0)
        {
            return 0;
        }
        int w = TOps.Count, d = dimension, rows4 = RoundUp4(d);
        ref double x0 = ref MemoryMarshal.GetReference(points);
        ref double r = ref MemoryMarshal.GetReference(responsibilities);
        ref double m = ref MemoryMarshal.GetReference(shift);
        ref double dm = ref MemoryMarshal.GetReference(scratch);      // D: rows4 × count, rows ≥ d are zero
        ref double um = ref Unsafe.Add(ref dm, rows4 * count);         // U: d × count
        ref double s1 = ref MemoryMarshal.GetReference(first);
        ref double s2 = ref MemoryMarshal.GetReference(second);

        // Pass 1: D = x − m, U = r·D, first += row sums of U.
        for (int j = 0; j < d; j++)
        {
            TVec mj = TOps.Create(Unsafe.Add(ref m, j));
            ref double xj = ref Unsafe.Add(ref x0, j * stride);
            ref double dj = ref Unsafe.Add(ref dm, j * count);
            ref double uj = ref Unsafe.Add(ref um, j * count);
            TVec acc = TOps.Zero;
            for (int i = 0; i < count; i += w)
            {
                TVec dv = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref xj, i)), mj);
                TVec uv = TOps.Multiply(dv, TOps.Load(ref Unsafe.Add(ref r, i)));
                TOps.Store(dv, ref Unsafe.Add(ref dj, i));
                TOps.Store(uv, ref Unsafe.Add(ref uj, i));
                acc = TOps.Add(acc, uv);
            }
            Unsafe.Add(ref s1, j) += TOps.Sum(acc);
        }
        scratch.Slice(d * count, (rows4 - d) * count).Clear();

        // Pass 2: second[a, b..b+3] += U[a] · D[b..b+3] for every group of four b that starts at or below a.
        for (int a = 0; a < d; a++)
        {
            ref double ua = ref Unsafe.Add(ref um, a * count);
            for (int b = 0; b <= a; b += 4)
            {
                ref double d0 = ref Unsafe.Add(ref dm, b * count);
                ref double d1 = ref Unsafe.Add(ref d0, count);
                ref double d2 = ref Unsafe.Add(ref d1, count);
                ref double d3 = ref Unsafe.Add(ref d2, count);
                TVec c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
                TVec e0 = TOps.Zero, e1 = TOps.Zero, e2 = TOps.Zero, e3 = TOps.Zero;
                for (int i = 0; i < count; i += 2 * w)
                {
                    TVec u = TOps.Load(ref Unsafe.Add(ref ua, i));
                    TVec v = TOps.Load(ref Unsafe.Add(ref ua, i + w));
                    c0 = TOps.MultiplyAdd(u, TOps.Load(ref Unsafe.Add(ref d0, i)), c0);
                    c1 = TOps.MultiplyAdd(u, TOps.Load(ref Unsafe.Add(ref d1, i)), c1);
                    c2 = TOps.MultiplyAdd(u, TOps.Load(ref Unsafe.Add(ref d2, i)), c2);
                    c3 = TOps.MultiplyAdd(u, TOps.Load(ref Unsafe.Add(ref d3, i)), c3);
                    e0 = TOps.MultiplyAdd(v, TOps.Load(ref Unsafe.Add(ref d0, i + w)), e0);
                    e1 = TOps.MultiplyAdd(v, TOps.Load(ref Unsafe.Add(ref d1, i + w)), e1);
                    e2 = TOps.MultiplyAdd(v, TOps.Load(ref Unsafe.Add(ref d2, i + w)), e2);
                    e3 = TOps.MultiplyAdd(v, TOps.Load(ref Unsafe.Add(ref d3, i + w)), e3);
                }
                ref double row = ref Unsafe.Add(ref s2, a * d + b);
                // Columns past d (zero rows of D) are not stored: they would run into the next row.
                int valid = Math.Min(4, d - b);
                row += TOps.Sum(TOps.Add(c0, e0));
                if (valid > 1)
                {
                    Unsafe.Add(ref row, 1) += TOps.Sum(TOps.Add(c1, e1));
                }
                if (valid > 2)
                {
                    Unsafe.Add(ref row, 2) += TOps.Sum(TOps.Add(c2, e2));
                }
                if (valid > 3)
                {
                    Unsafe.Add(ref row, 3) += TOps.Sum(TOps.Add(c3, e3));
                }
            }
        }
        return n;
    }

    // Straight to optimised code: at tier 0 the static abstract vector calls are not inlined (~10x slower),
    // and on a one-core machine tiering was measured never to promote these loops.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double AccumulateDiagonal<TOps, TVec>(ReadOnlySpan<double> points, int stride, int count, int dimension,
        ReadOnlySpan<double> responsibilities, ReadOnlySpan<double> shift, Span<double> first, Span<double> second)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        double n = SumOf<TOps, TVec>(responsibilities, count);
        if (n == 0)
        {
            return 0;
        }
        ref double x0 = ref MemoryMarshal.GetReference(points);
        ref double r = ref MemoryMarshal.GetReference(responsibilities);
        ref double m = ref MemoryMarshal.GetReference(shift);
        for (int j = 0; j < dimension; j++)
        {
            (double s1, double s2) = ShiftedSums<TOps, TVec>(ref Unsafe.Add(ref x0, j * stride), ref r, count, Unsafe.Add(ref m, j));
            first[j] += s1;
            second[j] += s2;
        }
        return n;
    }

    /// <summary>
    /// <see cref="AccumulateDiagonal"/> for all <paramref name="components"/> components of a block at once: component k's
    /// responsibilities are row k of <paramref name="responsibilities"/> (rows <paramref name="responsibilityStride"/>
    /// apart), its shift row k of <paramref name="shifts"/> (K×d), its sums rows of <paramref name="first"/> and
    /// <paramref name="second"/> (<paramref name="firstStride"/>, <paramref name="secondStride"/> apart); chunkCounts[k]
    /// receives Σᵢ rₖᵢ (components with 0 are skipped, as there). Bit-identical to calling it per component: each
    /// (component, coordinate) sum has the same operations in the same order; the loops are interchanged so that one
    /// coordinate's row of points (2 KB) is read by every component while it is in L1, instead of the whole block
    /// (about 1 MB at d = 512) streaming through the caches once per component.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateDiagonalComponents(ReadOnlySpan<double> points, int stride, int count, int dimension, int components,
        ReadOnlySpan<double> responsibilities, int responsibilityStride, ReadOnlySpan<double> shifts,
        Span<double> first, int firstStride, Span<double> second, int secondStride, Span<double> chunkCounts)
    {
        PointBlock.CheckCount(count, stride);
        PointBlock.CheckLength(points.Length, PointBlock.BlockLength(dimension, stride, count), nameof(points));
        PointBlock.CheckLength(responsibilities.Length, components == 0 ? 0 : (long)(components - 1) * responsibilityStride + count, nameof(responsibilities));
        PointBlock.CheckLength(shifts.Length, (long)components * dimension, nameof(shifts));
        PointBlock.CheckLength(first.Length, components == 0 ? 0 : (long)(components - 1) * firstStride + dimension, nameof(first));
        PointBlock.CheckLength(second.Length, components == 0 ? 0 : (long)(components - 1) * secondStride + dimension, nameof(second));
        PointBlock.CheckLength(chunkCounts.Length, components, nameof(chunkCounts));
        switch (SimdDispatch.Best)
        {
            case SimdWidth.V512:
                AccumulateDiagonalComponents<Simd512, Vector512<double>>(points, stride, count, dimension, components, responsibilities,
                    responsibilityStride, shifts, first, firstStride, second, secondStride, chunkCounts);
                break;
            case SimdWidth.V256:
                AccumulateDiagonalComponents<Simd256, Vector256<double>>(points, stride, count, dimension, components, responsibilities,
                    responsibilityStride, shifts, first, firstStride, second, secondStride, chunkCounts);
                break;
            case SimdWidth.V128:
                AccumulateDiagonalComponents<Simd128, Vector128<double>>(points, stride, count, dimension, components, responsibilities,
                    responsibilityStride, shifts, first, firstStride, second, secondStride, chunkCounts);
                break;
            default:
                AccumulateDiagonalComponents<SimdScalar, double>(points, stride, count, dimension, components, responsibilities,
                    responsibilityStride, shifts, first, firstStride, second, secondStride, chunkCounts);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AccumulateDiagonalComponents<TOps, TVec>(ReadOnlySpan<double> points, int stride, int count, int dimension, int components,
        ReadOnlySpan<double> responsibilities, int responsibilityStride, ReadOnlySpan<double> shifts,
        Span<double> first, int firstStride, Span<double> second, int secondStride, Span<double> chunkCounts)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        for (int k = 0; k < components; k++)
        {
            chunkCounts[k] = SumOf<TOps, TVec>(responsibilities[(k * responsibilityStride)..], count);
        }
        ref double x0 = ref MemoryMarshal.GetReference(points);
        ref double r0 = ref MemoryMarshal.GetReference(responsibilities);
        ref double m0 = ref MemoryMarshal.GetReference(shifts);
        ref double f0 = ref MemoryMarshal.GetReference(first);
        ref double q0 = ref MemoryMarshal.GetReference(second);
        for (int j = 0; j < dimension; j++)
        {
            ref double xj = ref Unsafe.Add(ref x0, j * stride);
            for (int k = 0; k < components; k++)
            {
                if (chunkCounts[k] == 0)
                {
                    continue;
                }
                (double s1, double s2) = ShiftedSums<TOps, TVec>(ref xj, ref Unsafe.Add(ref r0, k * responsibilityStride), count,
                    Unsafe.Add(ref m0, k * dimension + j));
                Unsafe.Add(ref f0, k * firstStride + j) += s1;
                Unsafe.Add(ref q0, k * secondStride + j) += s2;
            }
        }
    }

    /// <summary>
    /// (Σᵢ rᵢ(xᵢ − m), Σᵢ rᵢ(xᵢ − m)²) over one coordinate row of <paramref name="count"/> points, in two interleaved
    /// chains of vectors summed at the end: the order both diagonal moment kernels share.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double First, double Second) ShiftedSums<TOps, TVec>(ref double xj, ref double r, int count, double m)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        TVec mj = TOps.Create(m);
        TVec a1 = TOps.Zero, a2 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero;
        for (int i = 0; i < count; i += 2 * w)
        {
            TVec dv = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref xj, i)), mj);
            TVec ev = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref xj, i + w)), mj);
            TVec uv = TOps.Multiply(dv, TOps.Load(ref Unsafe.Add(ref r, i)));
            TVec vv = TOps.Multiply(ev, TOps.Load(ref Unsafe.Add(ref r, i + w)));
            a1 = TOps.Add(a1, uv);
            b1 = TOps.Add(b1, vv);
            a2 = TOps.MultiplyAdd(uv, dv, a2);
            b2 = TOps.MultiplyAdd(vv, ev, b2);
        }
        return (TOps.Sum(TOps.Add(a1, b1)), TOps.Sum(TOps.Add(a2, b2)));
    }

    /// <summary>Row length of the point-major layout <see cref="AccumulateFullPointMajor"/> reads: d rounded up to a multiple of 8, zero-padded.</summary>
    public static int PaddedDimension(int dimension) => (dimension + 7) & ~7;

    /// <summary>
    /// Full second moment from a point-major block (row i = point i, <see cref="PaddedDimension"/> doubles, zero
    /// padded): <paramref name="second"/>[a·dp + b] += Σᵢ rᵢ (xᵢₐ − mₐ)(xᵢ_b − m_b) for b ≤ a (some b &gt; a too),
    /// <paramref name="first"/>[b] += Σᵢ rᵢ (xᵢ_b − m_b). <paramref name="shift"/> and <paramref name="first"/>
    /// have dp entries, <paramref name="second"/> d×dp.
    /// </summary>
    /// <remarks>
    /// A register-blocked rank-1 update, the shape of a GEMM micro-kernel: lanes hold w consecutive columns b of
    /// one point's u = r·(x − m); each of 8 rows a adds broadcast(xₐ)·u into its own accumulator, so a whole
    /// (8 rows × w columns) tile of the output stays in registers over all points and nothing is summed
    /// horizontally. Only column blocks at or left of the diagonal are computed (the lower triangle).
    /// Using xₐ instead of xₐ − mₐ adds mₐ·Σu to the row, subtracted once at the end; Σu = n·δ is small
    /// (δ the mean's move), so this costs no accuracy. Preferred over the coordinate-major kernel from d ≈ 4.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double AccumulateFullPointMajor(ReadOnlySpan<double> points, int count, int dimension,
        ReadOnlySpan<double> responsibilities, ReadOnlySpan<double> shift, Span<double> first, Span<double> second)
    {
        int dp = PaddedDimension(dimension);
        PointBlock.CheckLength(points.Length, (long)count * dp, nameof(points));
        PointBlock.CheckLength(responsibilities.Length, count, nameof(responsibilities));
        PointBlock.CheckLength(shift.Length, dp, nameof(shift));
        PointBlock.CheckLength(first.Length, dp, nameof(first));
        PointBlock.CheckLength(second.Length, (long)dimension * dp, nameof(second));
        if (count % PointBlock.Multiple != 0)
        {
            throw new ArgumentException($"Point count {count} must be a multiple of {PointBlock.Multiple}.", nameof(count));
        }
        return SimdDispatch.Best switch
        {
            SimdWidth.V512 => AccumulateFullPointMajor<Simd512, Vector512<double>>(points, count, dimension, responsibilities, shift, first, second),
            SimdWidth.V256 => AccumulateFullPointMajor<Simd256, Vector256<double>>(points, count, dimension, responsibilities, shift, first, second),
            SimdWidth.V128 => AccumulateFullPointMajor<Simd128, Vector128<double>>(points, count, dimension, responsibilities, shift, first, second),
            _ => AccumulateFullPointMajor<SimdScalar, double>(points, count, dimension, responsibilities, shift, first, second),
        };
    }

    // Straight to optimised code: at tier 0 the static abstract vector calls are not inlined (~10x slower),
    // and on a one-core machine tiering was measured never to promote these loops.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double AccumulateFullPointMajor<TOps, TVec>(ReadOnlySpan<double> points, int count, int dimension,
        ReadOnlySpan<double> responsibilities, ReadOnlySpan<double> shift, Span<double> first, Span<double> second)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        double n = SumOf<TOps, TVec>(responsibilities, count);
        if (n == 0)
        {
            return 0;
        }
        int w = TOps.Count, d = dimension, dp = PaddedDimension(d);
        ref double x0 = ref MemoryMarshal.GetReference(points);
        ref double r = ref MemoryMarshal.GetReference(responsibilities);
        ref double m = ref MemoryMarshal.GetReference(shift);
        ref double s1 = ref MemoryMarshal.GetReference(first);
        ref double s2 = ref MemoryMarshal.GetReference(second);
        for (int c0 = 0; c0 < d; c0 += w)
        {
            TVec mv = TOps.Load(ref Unsafe.Add(ref m, c0));
            // Row groups of 8 start at a multiple of 8 at or below the diagonal; rows past d read zero padding
            // (a multiple of 8 below d plus 7 stays inside the padded row).
            for (int a0 = c0 & ~7; a0 < d; a0 += 8)
            {
                TVec sum = TOps.Zero;
                TVec t0 = TOps.Zero, t1 = TOps.Zero, t2 = TOps.Zero, t3 = TOps.Zero;
                TVec t4 = TOps.Zero, t5 = TOps.Zero, t6 = TOps.Zero, t7 = TOps.Zero;
                ref double xa = ref Unsafe.Add(ref x0, a0);
                ref double xc = ref Unsafe.Add(ref x0, c0);
                for (int i = 0; i < count; i++)
                {
                    int row = i * dp;
                    TVec u = TOps.Multiply(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref xc, row)), mv), TOps.Create(Unsafe.Add(ref r, i)));
                    sum = TOps.Add(sum, u);
                    ref double xi = ref Unsafe.Add(ref xa, row);
                    t0 = TOps.MultiplyAdd(TOps.Create(xi), u, t0);
                    t1 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref xi, 1)), u, t1);
                    t2 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref xi, 2)), u, t2);
                    t3 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref xi, 3)), u, t3);
                    t4 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref xi, 4)), u, t4);
                    t5 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref xi, 5)), u, t5);
                    t6 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref xi, 6)), u, t6);
                    t7 = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref xi, 7)), u, t7);
                }
                if (a0 <= c0 && c0 < a0 + 8)
                {
                    // The first row group of this column block: record Σu once.
                    TOps.Store(TOps.Add(TOps.Load(ref Unsafe.Add(ref s1, c0)), sum), ref Unsafe.Add(ref s1, c0));
                }
                StoreRow<TOps, TVec>(ref s2, a0 + 0, d, dp, c0, t0, sum, ref m);
                StoreRow<TOps, TVec>(ref s2, a0 + 1, d, dp, c0, t1, sum, ref m);
                StoreRow<TOps, TVec>(ref s2, a0 + 2, d, dp, c0, t2, sum, ref m);
                StoreRow<TOps, TVec>(ref s2, a0 + 3, d, dp, c0, t3, sum, ref m);
                StoreRow<TOps, TVec>(ref s2, a0 + 4, d, dp, c0, t4, sum, ref m);
                StoreRow<TOps, TVec>(ref s2, a0 + 5, d, dp, c0, t5, sum, ref m);
                StoreRow<TOps, TVec>(ref s2, a0 + 6, d, dp, c0, t6, sum, ref m);
                StoreRow<TOps, TVec>(ref s2, a0 + 7, d, dp, c0, t7, sum, ref m);
            }
        }
        return n;
    }

    /// <summary>second[a, c0 .. c0 + w) += acc − mₐ·Σu (rows past d are padding and skipped).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TOps, TVec>(ref double s2, int a, int d, int dp, int c0, TVec acc, TVec sum, ref double m)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        if (a >= d)
        {
            return;
        }
        ref double target = ref Unsafe.Add(ref s2, a * dp + c0);
        TVec corrected = TOps.MultiplyAdd(TOps.Create(-Unsafe.Add(ref m, a)), sum, acc);
        TOps.Store(TOps.Add(TOps.Load(ref target), corrected), ref target);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double SumOf<TOps, TVec>(ReadOnlySpan<double> values, int count)
        where TOps : struct, ISimdOps<TVec>
        where TVec : struct
    {
        int w = TOps.Count;
        ref double v = ref MemoryMarshal.GetReference(values);
        TVec a = TOps.Zero, b = TOps.Zero;
        for (int i = 0; i < count; i += 2 * w)
        {
            a = TOps.Add(a, TOps.Load(ref Unsafe.Add(ref v, i)));
            b = TOps.Add(b, TOps.Load(ref Unsafe.Add(ref v, i + w)));
        }
        return TOps.Sum(TOps.Add(a, b));
    }

    private static int RoundUp4(int n) => (n + 3) & ~3;
}

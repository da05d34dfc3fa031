using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd.LinearAlgebra;

/// <summary>
/// Small dense products for the per-pair Gaussian costs and bridges (row-major n×n, n up to a few hundred):
/// triangular congruences written as row axpys, so every inner loop is a contiguous FMA stream. Vector512 →
/// Vector256 → scalar; spans are checked once per call, inner loops run on refs.
/// </summary>
/// <remarks>
/// Why not BLAS: at the sizes that matter (d ≤ 64) a dgemm/dtrmm call costs more in dispatch than these loops
/// take, and the triangular zeros can be skipped here. Rows of a lower-triangular factor are zero past the diagonal
/// (the factors are stored with explicit zeros), so an axpy over a triangular row is rounded up to whole vectors
/// (within the row) instead of finishing with scalar tails: adding those zeros is exact.
/// </remarks>
public static class DenseKernels
{
    private static int VectorWidth => Vector512.IsHardwareAccelerated ? Vector512<double>.Count : Vector256.IsHardwareAccelerated ? Vector256<double>.Count : 1;

    /// <summary>Σ_k x[k]·y[k] over k &lt; x.Length (y must be at least as long).</summary>
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (y.Length < x.Length)
        {
            ThrowShort(nameof(y));
        }
        return DotUnchecked(ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>y[k] += a·x[k] for k &lt; x.Length (y must be at least as long).</summary>
    public static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        if (y.Length < x.Length)
        {
            ThrowShort(nameof(y));
        }
        AxpyUnchecked(a, ref MemoryMarshal.GetReference(x), ref MemoryMarshal.GetReference(y), x.Length);
    }

    /// <summary>
    /// Lower triangle of Lᵀ S L for a row-major lower-triangular L (explicit zeros above the diagonal) and symmetric S,
    /// n×n, given <paramref name="lTransposed"/> = Lᵀ; <paramref name="work"/> (n×n) receives S L. Entries above the
    /// diagonal of <paramref name="result"/> are left unspecified (LAPACK reads the lower triangle only).
    /// </summary>
    public static void CongruenceLowerTransposed(ReadOnlySpan<double> l, ReadOnlySpan<double> lTransposed, ReadOnlySpan<double> s,
        Span<double> work, Span<double> result, int n)
    {
        CheckSquare(n, l.Length, s.Length, work.Length, result.Length);
        CheckSquare(n, lTransposed.Length, n * n, n * n, n * n);
        if (Vector512.IsHardwareAccelerated)
        {
            // W = S·L (L lower: k ≥ j), then Lᵀ·W (Lᵀ upper: k ≥ i), lower tiles only.
            TiledProduct.Multiply(ref MemoryMarshal.GetReference(s), ref MemoryMarshal.GetReference(l), ref MemoryMarshal.GetReference(work),
                n, TriangularRange.LowerRight, lowerOnly: false);
            TiledProduct.Multiply(ref MemoryMarshal.GetReference(lTransposed), ref MemoryMarshal.GetReference(work), ref MemoryMarshal.GetReference(result),
                n, TriangularRange.UpperLeft, lowerOnly: true);
            return;
        }
        ref double rl = ref MemoryMarshal.GetReference(l);
        ref double rs = ref MemoryMarshal.GetReference(s);
        ref double rw = ref MemoryMarshal.GetReference(work);
        ref double rr = ref MemoryMarshal.GetReference(result);
        // W = S L: row r of W = Σ_k S[r,k] · (row k of L), row k of L nonzero in columns 0..k.
        for (int r = 0; r < n; r++)
        {
            ref double wr = ref Unsafe.Add(ref rw, r * n);
            MemoryMarshal.CreateSpan(ref wr, n).Clear();
            for (int k = 0; k < n; k++)
            {
                AxpyUnchecked(Unsafe.Add(ref rs, r * n + k), ref Unsafe.Add(ref rl, k * n), ref wr, RoundUp(k + 1, n));
            }
        }
        // (Lᵀ W)[i, 0..i] = Σ_{k ≥ i} L[k,i] · W[k, 0..i]  (column i of L is nonzero in rows k ≥ i).
        for (int i = 0; i < n; i++)
        {
            ref double ri = ref Unsafe.Add(ref rr, i * n);
            int len = RoundUp(i + 1, n);
            MemoryMarshal.CreateSpan(ref ri, len).Clear();
            for (int k = i; k < n; k++)
            {
                AxpyUnchecked(Unsafe.Add(ref rl, k * n + i), ref Unsafe.Add(ref rw, k * n), ref ri, len);
            }
        }
    }

    /// <summary>
    /// Lower triangle of M S Mᵀ for a row-major lower-triangular M (explicit zeros above the diagonal) and symmetric S,
    /// n×n, given <paramref name="mTransposed"/> = Mᵀ; <paramref name="work"/> (n×n) receives M S. Entries above the
    /// diagonal of <paramref name="result"/> are left unspecified. About 2n³/3 flops.
    /// </summary>
    public static void CongruenceLower(ReadOnlySpan<double> m, ReadOnlySpan<double> mTransposed, ReadOnlySpan<double> s,
        Span<double> work, Span<double> result, int n)
    {
        CheckSquare(n, m.Length, s.Length, work.Length, result.Length);
        CheckSquare(n, mTransposed.Length, n * n, n * n, n * n);
        if (Vector512.IsHardwareAccelerated)
        {
            // W = M·S (M lower: k ≤ i), then W·Mᵀ (Mᵀ upper: k ≤ j), lower tiles only.
            TiledProduct.Multiply(ref MemoryMarshal.GetReference(m), ref MemoryMarshal.GetReference(s), ref MemoryMarshal.GetReference(work),
                n, TriangularRange.LowerLeft, lowerOnly: false);
            TiledProduct.Multiply(ref MemoryMarshal.GetReference(work), ref MemoryMarshal.GetReference(mTransposed), ref MemoryMarshal.GetReference(result),
                n, TriangularRange.UpperRight, lowerOnly: true);
            return;
        }
        ref double rm = ref MemoryMarshal.GetReference(m);
        ref double rmt = ref MemoryMarshal.GetReference(mTransposed);
        ref double rs = ref MemoryMarshal.GetReference(s);
        ref double rw = ref MemoryMarshal.GetReference(work);
        ref double rr = ref MemoryMarshal.GetReference(result);
        // W = M S: row i of W = Σ_{k ≤ i} M[i,k] · (row k of S).
        for (int i = 0; i < n; i++)
        {
            ref double wi = ref Unsafe.Add(ref rw, i * n);
            MemoryMarshal.CreateSpan(ref wi, n).Clear();
            for (int k = 0; k <= i; k++)
            {
                AxpyUnchecked(Unsafe.Add(ref rm, i * n + k), ref Unsafe.Add(ref rs, k * n), ref wi, n);
            }
        }
        // (W Mᵀ)[i, 0..i] = Σ_l W[i,l] · Mᵀ[l, 0..i], and row l of Mᵀ is nonzero in columns l..n−1, so l ≤ i.
        for (int i = 0; i < n; i++)
        {
            ref double ri = ref Unsafe.Add(ref rr, i * n);
            int len = RoundUp(i + 1, n);
            MemoryMarshal.CreateSpan(ref ri, len).Clear();
            for (int l = 0; l <= i; l++)
            {
                AxpyUnchecked(Unsafe.Add(ref rw, i * n + l), ref Unsafe.Add(ref rmt, l * n), ref ri, len);
            }
        }
    }

    /// <summary>
    /// Σ_k f[k] ‖L w_k‖² for the rows w_k of <paramref name="rows"/> (n×n), given <paramref name="lTransposed"/> = Lᵀ of
    /// a lower-triangular L; <paramref name="scratch"/> is n×n. Rows with f[k] = 0 are skipped on the non-AVX-512 path.
    /// About n³ flops.
    /// </summary>
    public static double WeightedSquaredNorms(ReadOnlySpan<double> lTransposed, ReadOnlySpan<double> rows, ReadOnlySpan<double> f,
        Span<double> scratch, int n)
    {
        CheckSquare(n, lTransposed.Length, rows.Length, scratch.Length, n * n);
        if (f.Length < n)
        {
            ThrowShort(nameof(f));
        }
        ref double rlt = ref MemoryMarshal.GetReference(lTransposed);
        ref double rw = ref MemoryMarshal.GetReference(rows);
        ref double y = ref MemoryMarshal.GetReference(scratch);
        double total = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // Y = W·Lᵀ (Lᵀ upper: k ≤ j): row k of Y is (L w_k)ᵀ.
            TiledProduct.Multiply(ref rw, ref rlt, ref y, n, TriangularRange.UpperRight, lowerOnly: false);
            for (int k = 0; k < n; k++)
            {
                ref double yk = ref Unsafe.Add(ref y, k * n);
                total += f[k] * DotUnchecked(ref yk, ref yk, n);
            }
            return total;
        }
        for (int k = 0; k < n; k++)
        {
            double fk = f[k];
            if (fk == 0)
            {
                continue;
            }
            // (L w)ᵀ = wᵀ Lᵀ = Σ_c w_c · (row c of Lᵀ), and row c of Lᵀ is nonzero in columns c..n−1.
            MemoryMarshal.CreateSpan(ref y, n).Clear();
            ref double wk = ref Unsafe.Add(ref rw, k * n);
            int w = VectorWidth;
            for (int c = 0; c < n; c++)
            {
                // Start at the vector boundary at or below c: the skipped columns of row c of Lᵀ are zeros.
                int start = c - c % w;
                AxpyUnchecked(Unsafe.Add(ref wk, c), ref Unsafe.Add(ref rlt, c * n + start), ref Unsafe.Add(ref y, start), n - start);
            }
            total += fk * DotUnchecked(ref y, ref y, n);
        }
        return total;
    }

    /// <summary>Length <paramref name="length"/> rounded up to whole vectors, capped at the row length <paramref name="n"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RoundUp(int length, int n)
    {
        int w = VectorWidth;
        return Math.Min(n, (length + w - 1) / w * w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AxpyUnchecked(double a, ref double x, ref double y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // Lane j: y[i+j] += a·x[i+j].
            var va = Vector512.Create(a);
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i))
                    .StoreUnsafe(ref y, (nuint)i);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            // Whole loop without AVX-512; a single 4-wide tail step with it.
            var va = Vector256.Create(a);
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i))
                    .StoreUnsafe(ref y, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref y, i) = Math.FusedMultiplyAdd(a, Unsafe.Add(ref x, i), Unsafe.Add(ref y, i));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double DotUnchecked(ref double x, ref double y, int n)
    {
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            // Lane j accumulates x[i+j]·y[i+j]; reduced once after the loop.
            var acc = Vector512<double>.Zero;
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref x, (nuint)i), Vector512.LoadUnsafe(ref y, (nuint)i), acc);
            }
            sum = Vector512.Sum(acc);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= Vector256<double>.Count)
        {
            var acc = Vector256<double>.Zero;
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref x, (nuint)i), Vector256.LoadUnsafe(ref y, (nuint)i), acc);
            }
            sum += Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref x, i) * Unsafe.Add(ref y, i);
        }
        return sum;
    }

    private static void CheckSquare(int n, int a, int b, int c, int d)
    {
        long nn = (long)n * n;
        if (n < 0 || a < nn || b < nn || c < nn || d < nn)
        {
            ThrowShort("matrix");
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowShort(string paramName) => throw new ArgumentException("Span is shorter than the operation requires.", paramName);
}

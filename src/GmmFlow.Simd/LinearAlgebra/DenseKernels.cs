using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd.LinearAlgebra;

/// <summary>
/// Dot product and axpy on short rows (a covariance row: d ≤ a few hundred), the building blocks of the
/// per-pair triangular congruences. Vector512 → Vector256 → scalar; bounds are checked once at entry.
/// </summary>
public static class DenseKernels
{
    /// <summary>Σ_k x[k]·y[k] over k &lt; x.Length (y must be at least as long).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int n = x.Length;
        if (y.Length < n)
        {
            ThrowShort(nameof(y));
        }
        ref double rx = ref MemoryMarshal.GetReference(x);
        ref double ry = ref MemoryMarshal.GetReference(y);
        int i = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            // Lane j accumulates x[i+j]·y[i+j] over the main loop; reduced once at the end.
            var acc = Vector512<double>.Zero;
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref rx, (nuint)i), Vector512.LoadUnsafe(ref ry, (nuint)i), acc);
            }
            sum = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            var acc = Vector256<double>.Zero;
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                acc = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i), acc);
            }
            sum = Vector256.Sum(acc);
        }
        // Tail (fewer than one vector, or everything on the scalar path).
        for (; i < n; i++)
        {
            sum += Unsafe.Add(ref rx, i) * Unsafe.Add(ref ry, i);
        }
        return sum;
    }

    /// <summary>y[k] += a·x[k] for k &lt; x.Length (y must be at least as long).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length;
        if (y.Length < n)
        {
            ThrowShort(nameof(y));
        }
        ref double rx = ref MemoryMarshal.GetReference(x);
        ref double ry = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= Vector512<double>.Count)
        {
            var va = Vector512.Create(a);
            for (; i <= n - Vector512<double>.Count; i += Vector512<double>.Count)
            {
                Vector512.FusedMultiplyAdd(va, Vector512.LoadUnsafe(ref rx, (nuint)i), Vector512.LoadUnsafe(ref ry, (nuint)i))
                    .StoreUnsafe(ref ry, (nuint)i);
            }
        }
        else if (Vector256.IsHardwareAccelerated && n >= Vector256<double>.Count)
        {
            var va = Vector256.Create(a);
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref rx, (nuint)i), Vector256.LoadUnsafe(ref ry, (nuint)i))
                    .StoreUnsafe(ref ry, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref ry, i) += a * Unsafe.Add(ref rx, i);
        }
    }

    /// <summary>
    /// Lower triangle of Lᵀ S L for a row-major lower-triangular L and symmetric S (n×n); <paramref name="work"/>
    /// (n×n) receives S L. Only the lower triangle of <paramref name="result"/> is written. About 2n³/3 flops.
    /// </summary>
    public static void CongruenceLowerTransposed(ReadOnlySpan<double> l, ReadOnlySpan<double> s, Span<double> work, Span<double> result, int n)
    {
        int nn = n * n;
        if (l.Length < nn || s.Length < nn || work.Length < nn || result.Length < nn)
        {
            ThrowShort(nameof(result));
        }
        // W = S L: row r of W = Σ_k S[r,k] · (row k of L), and row k of L is nonzero only in columns 0..k.
        work[..nn].Clear();
        for (int r = 0; r < n; r++)
        {
            Span<double> wr = work.Slice(r * n, n);
            ReadOnlySpan<double> sr = s.Slice(r * n, n);
            for (int k = 0; k < n; k++)
            {
                Axpy(sr[k], l.Slice(k * n, k + 1), wr);
            }
        }
        // (Lᵀ W)[i, 0..i] = Σ_{k ≥ i} L[k,i] · W[k, 0..i]  (column i of L is nonzero only in rows k ≥ i).
        for (int i = 0; i < n; i++)
        {
            Span<double> ri = result.Slice(i * n, i + 1);
            ri.Clear();
            for (int k = i; k < n; k++)
            {
                Axpy(l[k * n + i], work.Slice(k * n, i + 1), ri);
            }
        }
    }

    /// <summary>
    /// Lower triangle of M S Mᵀ for a row-major lower-triangular M and symmetric S (n×n); <paramref name="work"/>
    /// (n×n) receives M S. Only the lower triangle of <paramref name="result"/> is written. About 2n³/3 flops.
    /// </summary>
    public static void CongruenceLower(ReadOnlySpan<double> m, ReadOnlySpan<double> s, Span<double> work, Span<double> result, int n)
    {
        int nn = n * n;
        if (m.Length < nn || s.Length < nn || work.Length < nn || result.Length < nn)
        {
            ThrowShort(nameof(result));
        }
        // W = M S: row i of W = Σ_{k ≤ i} M[i,k] · (row k of S).
        for (int i = 0; i < n; i++)
        {
            Span<double> wi = work.Slice(i * n, n);
            wi.Clear();
            ReadOnlySpan<double> mi = m.Slice(i * n, i + 1);
            for (int k = 0; k <= i; k++)
            {
                Axpy(mi[k], s.Slice(k * n, n), wi);
            }
        }
        // (W Mᵀ)[i,j] = Σ_{l ≤ j} W[i,l] M[j,l]  for j ≤ i: a dot product of two row prefixes.
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> wi = work.Slice(i * n, n);
            for (int j = 0; j <= i; j++)
            {
                result[i * n + j] = Dot(m.Slice(j * n, j + 1), wi);
            }
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowShort(string paramName) => throw new ArgumentException("Span is shorter than the operation requires.", paramName);
}

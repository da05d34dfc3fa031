using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd.LinearAlgebra;

/// <summary>Which k-terms of C[i,j] = Σ_k A[i,k] B[k,j] can be nonzero, given a triangular operand.</summary>
internal enum TriangularRange
{
    /// <summary>B lower triangular: k ≥ j.</summary>
    LowerRight,

    /// <summary>A upper triangular: k ≥ i.</summary>
    UpperLeft,

    /// <summary>A lower triangular: k ≤ i.</summary>
    LowerLeft,

    /// <summary>B upper triangular: k ≤ j.</summary>
    UpperRight,
}

/// <summary>
/// C = A·B for row-major n×n matrices with one triangular operand, in register tiles of 4 rows × 16 (or 8) columns
/// (AVX-512): per k, two loads of B's row segment and four broadcasts of A feed eight independent FMA chains, so
/// the loop runs at FMA throughput instead of the load/store bound of row axpys. Leftover rows use 1-row tiles and
/// leftover columns (n mod 8) a scalar loop over the same k-range.
/// </summary>
/// <remarks>
/// The k-range of a tile is the union over its entries of the nonzero range (<see cref="TriangularRange"/>), so the
/// extra terms are exact zeros. With <c>lowerOnly</c> only tiles touching the lower triangle are computed; entries
/// above the diagonal inside such tiles are written too and are unspecified.
/// </remarks>
internal static class TiledProduct
{
    public static void Multiply(ref double a, ref double b, ref double c, int n, TriangularRange range, bool lowerOnly)
    {
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            Row(ref a, ref b, ref c, n, i, 4, range, lowerOnly);
        }
        for (; i < n; i++)
        {
            Row(ref a, ref b, ref c, n, i, 1, range, lowerOnly);
        }
    }

    private static void Row(ref double a, ref double b, ref double c, int n, int i, int rows, TriangularRange range, bool lowerOnly)
    {
        int columnEnd = lowerOnly ? Math.Min(n, i + rows) : n;
        int j = 0;
        while (j < columnEnd)
        {
            int width = j + 16 <= n ? 16 : j + 8 <= n ? 8 : 1;
            var (k0, k1) = KRange(range, n, i, rows, j, width);
            if (width == 1)
            {
                for (int r = 0; r < rows; r++)
                {
                    ref double ar = ref Unsafe.Add(ref a, (i + r) * n);
                    double s = 0;
                    for (int k = k0; k < k1; k++)
                    {
                        s += ar.At(k) * b.At(k * n + j);
                    }
                    c.At((i + r) * n + j) = s;
                }
            }
            else if (rows == 4)
            {
                if (width == 16)
                {
                    Tile4x16(ref a, ref b, ref c, n, i, j, k0, k1);
                }
                else
                {
                    Tile4x8(ref a, ref b, ref c, n, i, j, k0, k1);
                }
            }
            else
            {
                Tile1(ref a, ref b, ref c, n, i, j, width, k0, k1);
            }
            j += width;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int K0, int K1) KRange(TriangularRange range, int n, int i, int rows, int j, int width) => range switch
    {
        TriangularRange.LowerRight => (j, n),
        TriangularRange.UpperLeft => (i, n),
        TriangularRange.LowerLeft => (0, Math.Min(n, i + rows)),
        _ => (0, Math.Min(n, j + width)),
    };

    private static void Tile4x16(ref double a, ref double b, ref double c, int n, int i, int j, int k0, int k1)
    {
        // cRH: row i+R, columns j + 8H .. j + 8H + 7.
        Vector512<double> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<double> c20 = default, c21 = default, c30 = default, c31 = default;
        ref double a0 = ref Unsafe.Add(ref a, i * n);
        ref double a1 = ref Unsafe.Add(ref a0, n);
        ref double a2 = ref Unsafe.Add(ref a1, n);
        ref double a3 = ref Unsafe.Add(ref a2, n);
        for (int k = k0; k < k1; k++)
        {
            ref double bk = ref Unsafe.Add(ref b, k * n + j);
            var b0 = Vector512.LoadUnsafe(ref bk);
            var b1 = Vector512.LoadUnsafe(ref bk, 8);
            var x = Vector512.Create(a0.At(k));
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1.At(k));
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2.At(k));
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3.At(k));
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
        }
        ref double ci = ref Unsafe.Add(ref c, i * n + j);
        c00.StoreUnsafe(ref ci);
        c01.StoreUnsafe(ref ci, 8);
        c10.StoreUnsafe(ref ci, (nuint)n);
        c11.StoreUnsafe(ref ci, (nuint)n + 8);
        c20.StoreUnsafe(ref ci, (nuint)(2 * n));
        c21.StoreUnsafe(ref ci, (nuint)(2 * n) + 8);
        c30.StoreUnsafe(ref ci, (nuint)(3 * n));
        c31.StoreUnsafe(ref ci, (nuint)(3 * n) + 8);
    }

    private static void Tile4x8(ref double a, ref double b, ref double c, int n, int i, int j, int k0, int k1)
    {
        Vector512<double> c0 = default, c1 = default, c2 = default, c3 = default;
        ref double a0 = ref Unsafe.Add(ref a, i * n);
        ref double a1 = ref Unsafe.Add(ref a0, n);
        ref double a2 = ref Unsafe.Add(ref a1, n);
        ref double a3 = ref Unsafe.Add(ref a2, n);
        for (int k = k0; k < k1; k++)
        {
            var bk = Vector512.LoadUnsafe(ref b, (nuint)(k * n + j));
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(a0.At(k)), bk, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(a1.At(k)), bk, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(a2.At(k)), bk, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(a3.At(k)), bk, c3);
        }
        ref double ci = ref Unsafe.Add(ref c, i * n + j);
        c0.StoreUnsafe(ref ci);
        c1.StoreUnsafe(ref ci, (nuint)n);
        c2.StoreUnsafe(ref ci, (nuint)(2 * n));
        c3.StoreUnsafe(ref ci, (nuint)(3 * n));
    }

    private static void Tile1(ref double a, ref double b, ref double c, int n, int i, int j, int width, int k0, int k1)
    {
        // width is 8 or 16: one or two vectors of row i.
        Vector512<double> c0 = default, c1 = default;
        ref double ai = ref Unsafe.Add(ref a, i * n);
        for (int k = k0; k < k1; k++)
        {
            var x = Vector512.Create(ai.At(k));
            ref double bk = ref Unsafe.Add(ref b, k * n + j);
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref bk), c0);
            if (width == 16)
            {
                c1 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref bk, 8), c1);
            }
        }
        ref double ci = ref Unsafe.Add(ref c, i * n + j);
        c0.StoreUnsafe(ref ci);
        if (width == 16)
        {
            c1.StoreUnsafe(ref ci, 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref double At(this ref double origin, int offset) => ref Unsafe.Add(ref origin, offset);
}

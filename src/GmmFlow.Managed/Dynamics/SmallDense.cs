using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>
/// Small dense row-major kernels for the linear-dynamics code (state dimensions up to a few tens, where plain loops beat
/// a BLAS call's overhead): products with optional transposes, LU with partial pivoting, solves and inverses.
/// </summary>
internal static class SmallDense
{
    /// <summary>C (r×c) = op(A)·op(B), op(A) r×k, op(B) k×c; C must not alias A or B. Rows are combined with the SIMD
    /// dot/axpy kernels (contiguous rows in every case but Aᵀ·Bᵀ).</summary>
    public static void Multiply(ReadOnlySpan<double> a, bool transposeA, ReadOnlySpan<double> b, bool transposeB,
        Span<double> c, int r, int k, int cols)
    {
        if (cols % 4 == 0 && Vector256.IsHardwareAccelerated)
        {
            if (!transposeB)
            {
                Blocked(a, transposeA, b, c, r, k, cols);
                return;
            }
            if (k * cols <= MaxStackTranspose)
            {
                Span<double> bt = stackalloc double[k * cols];
                Transpose(b, bt, cols, k);
                Blocked(a, transposeA, bt, c, r, k, cols);
                return;
            }
        }
        if (!transposeB)
        {
            for (int i = 0; i < r; i++)
            {
                Span<double> row = c.Slice(i * cols, cols);
                row.Clear();
                for (int l = 0; l < k; l++)
                {
                    double x = transposeA ? a[l * r + i] : a[i * k + l];
                    if (x != 0)
                    {
                        DenseKernels.Axpy(x, b.Slice(l * cols, cols), row);
                    }
                }
            }
            return;
        }
        if (!transposeA)
        {
            for (int i = 0; i < r; i++)
            {
                ReadOnlySpan<double> ai = a.Slice(i * k, k);
                for (int j = 0; j < cols; j++)
                {
                    c[i * cols + j] = DenseKernels.Dot(ai, b.Slice(j * k, k));
                }
            }
            return;
        }
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++)
                {
                    s += a[l * r + i] * b[j * k + l];
                }
                c[i * cols + j] = s;
            }
        }
    }

    private const int MaxStackTranspose = 1024;

    /// <summary>
    /// C = op(A)·B with B k×cols row-major, cols a multiple of 4: each row of C is accumulated in registers over k,
    /// one 16-column (or 8-, 4-column) block at a time, instead of one load-add-store pass over the row per term.
    /// </summary>
    private static void Blocked(ReadOnlySpan<double> a, bool transposeA, ReadOnlySpan<double> b, Span<double> c, int r, int k, int cols)
    {
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pb = ref MemoryMarshal.GetReference(b);
        ref double pc = ref MemoryMarshal.GetReference(c);
        if (a.Length < r * k || b.Length < k * cols || c.Length < r * cols)
        {
            throw new ArgumentException("Matrix spans are shorter than the product's dimensions.");
        }
        int strideI = transposeA ? 1 : k, strideL = transposeA ? r : 1;
        for (int i = 0; i < r; i++)
        {
            ref double ai = ref Unsafe.Add(ref pa, i * strideI);
            ref double ci = ref Unsafe.Add(ref pc, i * cols);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j + 16 <= cols; j += 16)
                {
                    var s0 = Vector512<double>.Zero;
                    var s1 = Vector512<double>.Zero;
                    ref double bj = ref Unsafe.Add(ref pb, j);
                    for (int l = 0; l < k; l++)
                    {
                        var x = Vector512.Create(Unsafe.Add(ref ai, l * strideL));
                        ref double bl = ref Unsafe.Add(ref bj, l * cols);
                        s0 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref bl), s0);
                        s1 = Vector512.FusedMultiplyAdd(x, Vector512.LoadUnsafe(ref bl, 8), s1);
                    }
                    s0.StoreUnsafe(ref ci, (nuint)j);
                    s1.StoreUnsafe(ref ci, (nuint)(j + 8));
                }
                for (; j + 8 <= cols; j += 8)
                {
                    var s0 = Vector512<double>.Zero;
                    ref double bj = ref Unsafe.Add(ref pb, j);
                    for (int l = 0; l < k; l++)
                    {
                        s0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref ai, l * strideL)),
                            Vector512.LoadUnsafe(ref Unsafe.Add(ref bj, l * cols)), s0);
                    }
                    s0.StoreUnsafe(ref ci, (nuint)j);
                }
            }
            for (; j + 8 <= cols; j += 8)
            {
                var s0 = Vector256<double>.Zero;
                var s1 = Vector256<double>.Zero;
                ref double bj = ref Unsafe.Add(ref pb, j);
                for (int l = 0; l < k; l++)
                {
                    var x = Vector256.Create(Unsafe.Add(ref ai, l * strideL));
                    ref double bl = ref Unsafe.Add(ref bj, l * cols);
                    s0 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref bl), s0);
                    s1 = Vector256.FusedMultiplyAdd(x, Vector256.LoadUnsafe(ref bl, 4), s1);
                }
                s0.StoreUnsafe(ref ci, (nuint)j);
                s1.StoreUnsafe(ref ci, (nuint)(j + 4));
            }
            for (; j < cols; j += 4)
            {
                var s0 = Vector256<double>.Zero;
                ref double bj = ref Unsafe.Add(ref pb, j);
                for (int l = 0; l < k; l++)
                {
                    s0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref ai, l * strideL)),
                        Vector256.LoadUnsafe(ref Unsafe.Add(ref bj, l * cols)), s0);
                }
                s0.StoreUnsafe(ref ci, (nuint)j);
            }
        }
    }

    /// <summary>C (n×n) = A·B for square A, B.</summary>
    public static void Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int n)
    {
        if (n % 4 == 0 && Vector256.IsHardwareAccelerated)
        {
            Blocked(a, false, b, c, n, n, n);
            return;
        }
        for (int i = 0; i < n; i++)
        {
            Span<double> row = c.Slice(i * n, n);
            row.Clear();
            for (int l = 0; l < n; l++)
            {
                double x = a[i * n + l];
                if (x == 0)
                {
                    continue;
                }
                DenseKernels.Axpy(x, b.Slice(l * n, n), row);
            }
        }
    }

    /// <summary>y = op(A) x for A r×c (op(A) = Aᵀ is c×r).</summary>
    public static void MultiplyVector(ReadOnlySpan<double> a, bool transpose, ReadOnlySpan<double> x, Span<double> y, int r, int c)
    {
        if (!transpose)
        {
            for (int i = 0; i < r; i++)
            {
                y[i] = DenseKernels.Dot(a.Slice(i * c, c), x[..c]);
            }
            return;
        }
        for (int j = 0; j < c; j++)
        {
            double s = 0;
            for (int i = 0; i < r; i++)
            {
                s += a[i * c + j] * x[i];
            }
            y[j] = s;
        }
    }

    /// <summary>D (n×n) = X S Xᵀ for X n×k and S k×k; <paramref name="scratch"/> holds n·k.</summary>
    public static void Congruence(ReadOnlySpan<double> x, ReadOnlySpan<double> s, Span<double> d, Span<double> scratch, int n, int k)
    {
        Multiply(x, false, s, false, scratch, n, k, k);
        Multiply(scratch, false, x, true, d, n, k, n);
    }

    public static void Identity(Span<double> a, int n)
    {
        a[..(n * n)].Clear();
        for (int i = 0; i < n; i++)
        {
            a[i * n + i] = 1;
        }
    }

    public static void Transpose(ReadOnlySpan<double> a, Span<double> t, int r, int c)
    {
        if (a.Length < r * c || t.Length < r * c)
        {
            throw new ArgumentException("Matrix spans are shorter than the transpose's dimensions.");
        }
        // Checked once above; the per-element bounds checks cost as much as the moves at these sizes.
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pt = ref MemoryMarshal.GetReference(t);
        for (int i = 0; i < r; i++)
        {
            ref double row = ref Unsafe.Add(ref pa, i * c);
            for (int j = 0; j < c; j++)
            {
                Unsafe.Add(ref pt, j * r + i) = Unsafe.Add(ref row, j);
            }
        }
    }

    /// <summary>A := (A + Aᵀ)/2.</summary>
    public static void Symmetrize(Span<double> a, int n)
    {
        if (a.Length < n * n)
        {
            throw new ArgumentException("Matrix span is shorter than n².");
        }
        ref double pa = ref MemoryMarshal.GetReference(a);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                ref double lower = ref Unsafe.Add(ref pa, i * n + j);
                ref double upper = ref Unsafe.Add(ref pa, j * n + i);
                lower = upper = 0.5 * (lower + upper);
            }
        }
    }

    /// <summary>Max-row-sum norm ‖A‖_∞ (equals the 1-norm of Aᵀ; either serves the Padé scaling).</summary>
    public static double NormInf(ReadOnlySpan<double> a, int n)
    {
        double m = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            for (int j = 0; j < n; j++)
            {
                s += Math.Abs(a[i * n + j]);
            }
            m = Math.Max(m, s);
        }
        return m;
    }

    /// <summary>Largest absolute entry.</summary>
    public static double MaxAbs(ReadOnlySpan<double> a)
    {
        double m = 0;
        foreach (double x in a)
        {
            m = Math.Max(m, Math.Abs(x));
        }
        return m;
    }

    /// <summary>
    /// LU with partial pivoting in place (PA = LU, unit L below the diagonal). Returns false when a pivot is zero or
    /// below 1e-300 relative to the largest entry (numerically singular).
    /// </summary>
    public static bool LuFactor(Span<double> a, Span<int> pivots, int n)
    {
        double scale = MaxAbs(a[..(n * n)]);
        if (scale == 0 || !double.IsFinite(scale))
        {
            return false;
        }
        for (int k = 0; k < n; k++)
        {
            int p = k;
            double best = Math.Abs(a[k * n + k]);
            for (int i = k + 1; i < n; i++)
            {
                double v = Math.Abs(a[i * n + k]);
                if (v > best)
                {
                    best = v;
                    p = i;
                }
            }
            pivots[k] = p;
            if (!(best > 1e-300 * scale))
            {
                return false;
            }
            if (p != k)
            {
                for (int j = 0; j < n; j++)
                {
                    (a[k * n + j], a[p * n + j]) = (a[p * n + j], a[k * n + j]);
                }
            }
            double inv = 1 / a[k * n + k];
            for (int i = k + 1; i < n; i++)
            {
                double f = a[i * n + k] *= inv;
                if (f == 0)
                {
                    continue;
                }
                for (int j = k + 1; j < n; j++)
                {
                    a[i * n + j] -= f * a[k * n + j];
                }
            }
        }
        return true;
    }

    /// <summary>Solves A X = B in place (B n×cols) from <see cref="LuFactor"/>'s output.</summary>
    public static void LuSolve(ReadOnlySpan<double> lu, ReadOnlySpan<int> pivots, Span<double> b, int n, int cols)
    {
        for (int k = 0; k < n; k++)
        {
            int p = pivots[k];
            if (p != k)
            {
                for (int j = 0; j < cols; j++)
                {
                    (b[k * cols + j], b[p * cols + j]) = (b[p * cols + j], b[k * cols + j]);
                }
            }
        }
        for (int i = 1; i < n; i++)
        {
            for (int k = 0; k < i; k++)
            {
                double f = lu[i * n + k];
                if (f == 0)
                {
                    continue;
                }
                for (int j = 0; j < cols; j++)
                {
                    b[i * cols + j] -= f * b[k * cols + j];
                }
            }
        }
        for (int i = n - 1; i >= 0; i--)
        {
            for (int k = i + 1; k < n; k++)
            {
                double f = lu[i * n + k];
                if (f == 0)
                {
                    continue;
                }
                for (int j = 0; j < cols; j++)
                {
                    b[i * cols + j] -= f * b[k * cols + j];
                }
            }
            double inv = 1 / lu[i * n + i];
            for (int j = 0; j < cols; j++)
            {
                b[i * cols + j] *= inv;
            }
        }
    }

    /// <summary>Solves A X = B (A n×n not modified, B n×cols overwritten); false when A is singular.</summary>
    public static bool TrySolve(ReadOnlySpan<double> a, Span<double> b, int n, int cols)
    {
        Span<double> lu = n <= 24 ? stackalloc double[n * n] : new double[n * n];
        Span<int> piv = n <= 64 ? stackalloc int[n] : new int[n];
        a[..(n * n)].CopyTo(lu);
        if (!LuFactor(lu, piv, n))
        {
            return false;
        }
        LuSolve(lu, piv, b, n, cols);
        return true;
    }

    /// <summary>Inverse of A into <paramref name="inverse"/>; false when A is singular.</summary>
    public static bool TryInvert(ReadOnlySpan<double> a, Span<double> inverse, int n)
    {
        Identity(inverse, n);
        return TrySolve(a, inverse, n, n);
    }

    /// <summary>Cholesky A = L Lᵀ into <paramref name="l"/> (row-major lower, upper zeroed); false unless A ≻ 0.</summary>
    public static bool TryCholesky(ReadOnlySpan<double> a, Span<double> l, int n)
    {
        if (a.Length < n * n || l.Length < n * n)
        {
            throw new ArgumentException("Matrix spans are shorter than n².");
        }
        l[..(n * n)].Clear();
        // Sequential dot products (the rounding every caller and test was calibrated on), without per-element bounds
        // checks: the entries of a column are independent, only the diagonal's square root is on the critical path.
        ref double pa = ref MemoryMarshal.GetReference(a);
        ref double pl = ref MemoryMarshal.GetReference(l);
        for (int j = 0; j < n; j++)
        {
            ref double lj = ref Unsafe.Add(ref pl, j * n);
            double s = Unsafe.Add(ref pa, j * n + j);
            for (int k = 0; k < j; k++)
            {
                s -= Unsafe.Add(ref lj, k) * Unsafe.Add(ref lj, k);
            }
            if (!(s > 0) || !double.IsFinite(s))
            {
                return false;
            }
            double d = Math.Sqrt(s);
            Unsafe.Add(ref lj, j) = d;
            for (int i = j + 1; i < n; i++)
            {
                ref double li = ref Unsafe.Add(ref pl, i * n);
                double t = Unsafe.Add(ref pa, i * n + j);
                for (int k = 0; k < j; k++)
                {
                    t -= Unsafe.Add(ref li, k) * Unsafe.Add(ref lj, k);
                }
                Unsafe.Add(ref li, j) = t / d;
            }
        }
        return true;
    }

    /// <summary>B := L⁻¹ B (B n×cols) for lower-triangular L.</summary>
    public static void ForwardSolve(ReadOnlySpan<double> l, Span<double> b, int n, int cols)
    {
        if (cols % 8 == 0 && cols <= 16 && Vector512.IsHardwareAccelerated)
        {
            TriangularSolve(l, b, n, cols, transposed: false);
            return;
        }
        if (cols == 1)
        {
            for (int i = 0; i < n; i++)
            {
                b[i] = (b[i] - DenseKernels.Dot(l.Slice(i * n, i), b[..i])) / l[i * n + i];
            }
            return;
        }
        for (int i = 0; i < n; i++)
        {
            Span<double> bi = b.Slice(i * cols, cols);
            for (int k = 0; k < i; k++)
            {
                double f = l[i * n + k];
                if (f != 0)
                {
                    DenseKernels.Axpy(-f, b.Slice(k * cols, cols), bi);
                }
            }
            double inv = 1 / l[i * n + i];
            for (int j = 0; j < cols; j++)
            {
                b[i * cols + j] *= inv;
            }
        }
    }

    /// <summary>B := L⁻ᵀ B (B n×cols) for lower-triangular L.</summary>
    public static void BackwardSolveTransposed(ReadOnlySpan<double> l, Span<double> b, int n, int cols)
    {
        if (cols % 8 == 0 && cols <= 16 && Vector512.IsHardwareAccelerated)
        {
            TriangularSolve(l, b, n, cols, transposed: true);
            return;
        }
        if (cols == 1)
        {
            for (int i = n - 1; i >= 0; i--)
            {
                double s = b[i];
                for (int k = i + 1; k < n; k++)
                {
                    s -= l[k * n + i] * b[k];
                }
                b[i] = s / l[i * n + i];
            }
            return;
        }
        for (int i = n - 1; i >= 0; i--)
        {
            Span<double> bi = b.Slice(i * cols, cols);
            for (int k = i + 1; k < n; k++)
            {
                double f = l[k * n + i];
                if (f != 0)
                {
                    DenseKernels.Axpy(-f, b.Slice(k * cols, cols), bi);
                }
            }
            double inv = 1 / l[i * n + i];
            for (int j = 0; j < cols; j++)
            {
                b[i * cols + j] *= inv;
            }
        }
    }

    /// <summary>
    /// L⁻¹B (forward) or L⁻ᵀB (backward) for B with 8 or 16 columns: row i is formed in registers from the rows already
    /// solved, then scaled by 1/L(i, i).
    /// </summary>
    private static void TriangularSolve(ReadOnlySpan<double> l, Span<double> b, int n, int cols, bool transposed)
    {
        if (l.Length < n * n || b.Length < n * cols)
        {
            throw new ArgumentException("Matrix spans are shorter than the solve's dimensions.");
        }
        ref double pl = ref MemoryMarshal.GetReference(l);
        ref double pb = ref MemoryMarshal.GetReference(b);
        bool two = cols == 16;
        for (int step = 0; step < n; step++)
        {
            int i = transposed ? n - 1 - step : step;
            ref double bi = ref Unsafe.Add(ref pb, i * cols);
            var s0 = Vector512.LoadUnsafe(ref bi);
            var s1 = two ? Vector512.LoadUnsafe(ref bi, 8) : Vector512<double>.Zero;
            // Odd k go to a second pair of accumulators: two FMA chains of half the length (the row is latency-bound).
            Vector512<double> t0 = Vector512<double>.Zero, t1 = Vector512<double>.Zero;
            int from = transposed ? i + 1 : 0, to = transposed ? n : i, k = from;
            for (; k + 1 < to; k += 2)
            {
                var f = Vector512.Create(-(transposed ? Unsafe.Add(ref pl, k * n + i) : Unsafe.Add(ref pl, i * n + k)));
                var g = Vector512.Create(-(transposed ? Unsafe.Add(ref pl, (k + 1) * n + i) : Unsafe.Add(ref pl, i * n + k + 1)));
                ref double bk = ref Unsafe.Add(ref pb, k * cols);
                ref double bk1 = ref Unsafe.Add(ref pb, (k + 1) * cols);
                s0 = Vector512.FusedMultiplyAdd(f, Vector512.LoadUnsafe(ref bk), s0);
                t0 = Vector512.FusedMultiplyAdd(g, Vector512.LoadUnsafe(ref bk1), t0);
                if (two)
                {
                    s1 = Vector512.FusedMultiplyAdd(f, Vector512.LoadUnsafe(ref bk, 8), s1);
                    t1 = Vector512.FusedMultiplyAdd(g, Vector512.LoadUnsafe(ref bk1, 8), t1);
                }
            }
            if (k < to)
            {
                var f = Vector512.Create(-(transposed ? Unsafe.Add(ref pl, k * n + i) : Unsafe.Add(ref pl, i * n + k)));
                ref double bk = ref Unsafe.Add(ref pb, k * cols);
                s0 = Vector512.FusedMultiplyAdd(f, Vector512.LoadUnsafe(ref bk), s0);
                if (two)
                {
                    s1 = Vector512.FusedMultiplyAdd(f, Vector512.LoadUnsafe(ref bk, 8), s1);
                }
            }
            var inv = Vector512.Create(1 / Unsafe.Add(ref pl, i * n + i));
            ((s0 + t0) * inv).StoreUnsafe(ref bi);
            if (two)
            {
                ((s1 + t1) * inv).StoreUnsafe(ref bi, 8);
            }
        }
    }

    /// <summary>log det of an SPD matrix from its Cholesky factor.</summary>
    public static double LogDetFromCholesky(ReadOnlySpan<double> l, int n)
    {
        double product = 1;
        int exponent = 0;
        for (int i = 0; i < n; i++)
        {
            Accumulate(ref product, ref exponent, l[i * n + i]);
        }
        return 2 * (Math.Log(product) + exponent * Math.Log(2));
    }

    /// <summary>Σ log x_k for positive finite x_k, as the log of a running product (rescaled by powers of 2 when it
    /// leaves [1e−100, 1e100]): one logarithm instead of one per term.</summary>
    public static double SumOfLogs(ReadOnlySpan<double> x)
    {
        double product = 1;
        int exponent = 0;
        foreach (double v in x)
        {
            Accumulate(ref product, ref exponent, v);
        }
        return Math.Log(product) + exponent * Math.Log(2);
    }

    // Factors and the running product are kept within [1e−100, 1e100] by splitting off powers of 2, so no product
    // of two of them can overflow or underflow.
    private static void Accumulate(ref double product, ref int exponent, double v)
    {
        if (v is < 1e-100 or > 1e100)
        {
            int j = Math.ILogB(v);
            v = Math.ScaleB(v, -j);
            exponent += j;
        }
        product *= v;
        if (product is < 1e-100 or > 1e100)
        {
            int k = Math.ILogB(product);
            product = Math.ScaleB(product, -k);
            exponent += k;
        }
    }
}

namespace GmmFlow;

/// <summary>
/// Small dense row-major kernels for the linear-dynamics code (state dimensions up to a few tens, where plain loops beat
/// a BLAS call's overhead): products with optional transposes, LU with partial pivoting, solves and inverses.
/// </summary>
internal static class SmallDense
{
    /// <summary>C (r×c) = op(A)·op(B), op(A) r×k, op(B) k×c; C must not alias A or B.</summary>
    public static void Multiply(ReadOnlySpan<double> a, bool transposeA, ReadOnlySpan<double> b, bool transposeB,
        Span<double> c, int r, int k, int cols)
    {
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++)
                {
                    double x = transposeA ? a[l * r + i] : a[i * k + l];
                    double y = transposeB ? b[j * k + l] : b[l * cols + j];
                    s += x * y;
                }
                c[i * cols + j] = s;
            }
        }
    }

    /// <summary>C (n×n) = A·B for square A, B.</summary>
    public static void Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c, int n)
    {
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
                ReadOnlySpan<double> bl = b.Slice(l * n, n);
                for (int j = 0; j < n; j++)
                {
                    row[j] += x * bl[j];
                }
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
                double s = 0;
                for (int j = 0; j < c; j++)
                {
                    s += a[i * c + j] * x[j];
                }
                y[i] = s;
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
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < c; j++)
            {
                t[j * r + i] = a[i * c + j];
            }
        }
    }

    /// <summary>A := (A + Aᵀ)/2.</summary>
    public static void Symmetrize(Span<double> a, int n)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double m = 0.5 * (a[i * n + j] + a[j * n + i]);
                a[i * n + j] = a[j * n + i] = m;
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
        l[..(n * n)].Clear();
        for (int j = 0; j < n; j++)
        {
            double s = a[j * n + j];
            for (int k = 0; k < j; k++)
            {
                s -= l[j * n + k] * l[j * n + k];
            }
            if (!(s > 0) || !double.IsFinite(s))
            {
                return false;
            }
            double d = Math.Sqrt(s);
            l[j * n + j] = d;
            for (int i = j + 1; i < n; i++)
            {
                double t = a[i * n + j];
                for (int k = 0; k < j; k++)
                {
                    t -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = t / d;
            }
        }
        return true;
    }

    /// <summary>B := L⁻¹ B (B n×cols) for lower-triangular L.</summary>
    public static void ForwardSolve(ReadOnlySpan<double> l, Span<double> b, int n, int cols)
    {
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < i; k++)
            {
                double f = l[i * n + k];
                for (int j = 0; j < cols; j++)
                {
                    b[i * cols + j] -= f * b[k * cols + j];
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
        for (int i = n - 1; i >= 0; i--)
        {
            for (int k = i + 1; k < n; k++)
            {
                double f = l[k * n + i];
                for (int j = 0; j < cols; j++)
                {
                    b[i * cols + j] -= f * b[k * cols + j];
                }
            }
            double inv = 1 / l[i * n + i];
            for (int j = 0; j < cols; j++)
            {
                b[i * cols + j] *= inv;
            }
        }
    }

    /// <summary>log det of an SPD matrix from its Cholesky factor.</summary>
    public static double LogDetFromCholesky(ReadOnlySpan<double> l, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            s += Math.Log(l[i * n + i]);
        }
        return 2 * s;
    }
}

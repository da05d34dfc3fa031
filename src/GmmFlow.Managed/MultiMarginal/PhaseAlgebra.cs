namespace GmmFlow;

/// <summary>
/// Dense helpers for the 2n×2n phase-space matrices of the momentum bridges, where the double integrator's Φ(τ),
/// Gramian M(τ) and their products are 2×2 scalar matrices ⊗ I_n (applied blockwise, never formed).
/// </summary>
internal static class PhaseAlgebra
{
    /// <summary>result = (T ⊗ I_n) m for a 2×2 row-major T and a 2n×2n (or 2n×c) row-major m with <paramref name="columns"/> columns.</summary>
    public static void Left(ReadOnlySpan<double> t, ReadOnlySpan<double> m, Span<double> result, int n, int columns)
    {
        int half = n * columns;
        for (int i = 0; i < half; i++)
        {
            double top = m[i], bottom = m[half + i];
            result[i] = t[0] * top + t[1] * bottom;
            result[half + i] = t[2] * top + t[3] * bottom;
        }
    }

    /// <summary>result = m (T ⊗ I_n) for a <paramref name="rows"/>×2n row-major m.</summary>
    public static void Right(ReadOnlySpan<double> m, ReadOnlySpan<double> t, Span<double> result, int n, int rows)
    {
        int n2 = 2 * n;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < n; j++)
            {
                double a = m[r * n2 + j], b = m[r * n2 + n + j];
                result[r * n2 + j] = a * t[0] + b * t[2];
                result[r * n2 + n + j] = a * t[1] + b * t[3];
            }
        }
    }

    /// <summary>c = a·b for 2×2 row-major matrices (c may alias neither).</summary>
    public static void Mul2(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c)
    {
        c[0] = a[0] * b[0] + a[1] * b[2];
        c[1] = a[0] * b[1] + a[1] * b[3];
        c[2] = a[2] * b[0] + a[3] * b[2];
        c[3] = a[2] * b[1] + a[3] * b[3];
    }

    public static void Transpose2(ReadOnlySpan<double> a, Span<double> c)
    {
        c[0] = a[0];
        c[1] = a[2];
        c[2] = a[1];
        c[3] = a[3];
    }

    public static void Inverse2(ReadOnlySpan<double> a, Span<double> c)
    {
        double det = a[0] * a[3] - a[1] * a[2];
        c[0] = a[3] / det;
        c[1] = -a[1] / det;
        c[2] = -a[2] / det;
        c[3] = a[0] / det;
    }

    /// <summary>Φ(τ) = [[1, τ], [0, 1]] of the double integrator.</summary>
    public static void Transition(double tau, Span<double> phi)
    {
        phi[0] = 1;
        phi[1] = tau;
        phi[2] = 0;
        phi[3] = 1;
    }

    /// <summary>Controllability Gramian M(τ) = [[τ³/3, τ²/2], [τ²/2, τ]] of the double integrator.</summary>
    public static void Gramian(double tau, Span<double> m)
    {
        m[0] = tau * tau * tau / 3.0;
        m[1] = m[2] = 0.5 * tau * tau;
        m[3] = tau;
    }

    /// <summary>In-place lower Cholesky factor of an SPD n×n row-major matrix; false if not positive definite.</summary>
    public static bool Cholesky(Span<double> a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++)
            {
                d -= a[j * n + k] * a[j * n + k];
            }
            if (!(d > 0))
            {
                return false;
            }
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++)
                {
                    s -= a[i * n + k] * a[j * n + k];
                }
                a[i * n + j] = s / d;
            }
            for (int i = 0; i < j; i++)
            {
                a[i * n + j] = 0.0;
            }
        }
        return true;
    }

    /// <summary>Solves L y = b in place (L lower n×n).</summary>
    public static void ForwardSolve(ReadOnlySpan<double> l, Span<double> b, int n)
    {
        for (int i = 0; i < n; i++)
        {
            double s = b[i];
            for (int k = 0; k < i; k++)
            {
                s -= l[i * n + k] * b[k];
            }
            b[i] = s / l[i * n + i];
        }
    }

    /// <summary>Solves Lᵀ y = b in place (L lower n×n).</summary>
    public static void BackSolveTransposed(ReadOnlySpan<double> l, Span<double> b, int n)
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
    }

    /// <summary>
    /// Solves X·A = B for X (A n×n general, B r×n), i.e. Aᵀ Xᵀ = Bᵀ, by LU with partial pivoting on a copy of Aᵀ.
    /// <paramref name="scratch"/> holds n·n + n values. Returns false if A is singular.
    /// </summary>
    public static bool SolveRight(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> x, int n, int rows, Span<double> scratch)
    {
        var lu = scratch[..(n * n)];
        var col = scratch.Slice(n * n, n);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                lu[i * n + j] = a[j * n + i];
            }
        }
        Span<int> pivot = stackalloc int[n];
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++)
            {
                if (Math.Abs(lu[r * n + c]) > Math.Abs(lu[p * n + c]))
                {
                    p = r;
                }
            }
            pivot[c] = p;
            if (lu[p * n + c] == 0.0)
            {
                return false;
            }
            if (p != c)
            {
                for (int j = 0; j < n; j++)
                {
                    (lu[c * n + j], lu[p * n + j]) = (lu[p * n + j], lu[c * n + j]);
                }
            }
            for (int r = c + 1; r < n; r++)
            {
                double f = lu[r * n + c] /= lu[c * n + c];
                for (int j = c + 1; j < n; j++)
                {
                    lu[r * n + j] -= f * lu[c * n + j];
                }
            }
        }
        for (int row = 0; row < rows; row++)
        {
            for (int i = 0; i < n; i++)
            {
                col[i] = b[row * n + i];
            }
            for (int c = 0; c < n; c++)
            {
                (col[c], col[pivot[c]]) = (col[pivot[c]], col[c]);
            }
            for (int i = 0; i < n; i++)
            {
                double s = col[i];
                for (int k = 0; k < i; k++)
                {
                    s -= lu[i * n + k] * col[k];
                }
                col[i] = s;
            }
            for (int i = n - 1; i >= 0; i--)
            {
                double s = col[i];
                for (int k = i + 1; k < n; k++)
                {
                    s -= lu[i * n + k] * col[k];
                }
                col[i] = s / lu[i * n + i];
            }
            for (int i = 0; i < n; i++)
            {
                x[row * n + i] = col[i];
            }
        }
        return true;
    }

    /// <summary>
    /// A factor F with F Fᵀ = S for a symmetric positive semidefinite S (eigenvalues clamped at 0), n×n row-major:
    /// for sampling laws that may be singular (the initial knot law). Scratch: n·n + 2n.
    /// </summary>
    public static void SemidefiniteFactor(ReadOnlySpan<double> s, Span<double> factor, int n, Span<double> scratch)
    {
        var values = scratch[..n];
        var off = scratch.Slice(n, n);
        if (!SmallSymmetricEigen.Decompose(s, n, values, factor, off))
        {
            throw new ArithmeticException("Eigen-decomposition of a bridge covariance did not converge (non-finite entries).");
        }
        for (int j = 0; j < n; j++)
        {
            double r = Math.Sqrt(Math.Max(values[j], 0.0));
            for (int i = 0; i < n; i++)
            {
                factor[i * n + j] *= r;
            }
        }
    }
}

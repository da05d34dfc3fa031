using System.Runtime.CompilerServices;

namespace GmmFlow.Native;

// Span wrappers for single matrices. GmmFlow stores matrices row-major; LAPACK is column-major. A
// row-major buffer read column-major is the transpose, so for symmetric input nothing changes, a
// row-major lower triangle is LAPACK's upper triangle, and row k of a row-major eigenvector buffer is
// LAPACK's column k. Every wrapper validates sizes and finiteness before the native call: LAPACK given
// NaN can loop, return garbage or succeed silently, and a wrong length would be a native overrun.
internal sealed unsafe partial class Lapack
{
    private const byte U = (byte)'U', L = (byte)'L', N = (byte)'N', T = (byte)'T', V = (byte)'V', R = (byte)'R';

    /// <summary>
    /// Cholesky factorisation A = L Lᵀ of the row-major SPD matrix <paramref name="a"/> (n×n) in place:
    /// the lower triangle receives L and the strict upper triangle is zeroed. Returns 0, or the order of
    /// the first leading minor that is not positive (then <paramref name="a"/> is partly overwritten).
    /// Only the lower triangle of the input is read.
    /// </summary>
    public int TryCholesky(Span<double> a, int n)
    {
        CheckSquare(a, n, nameof(a));
        CheckFinite(a[..(n * n)], "matrix", -1, nameof(a));
        return CholeskyUnchecked(a, n);
    }

    /// <summary><see cref="TryCholesky"/> that throws <see cref="NotPositiveDefiniteException"/> naming the matrix.</summary>
    public void Cholesky(Span<double> a, int n, string matrixName = "matrix", int index = -1)
    {
        CheckSquare(a, n, nameof(a));
        CheckFinite(a[..(n * n)], matrixName, index, nameof(a));
        int info = CholeskyUnchecked(a, n);
        if (info > 0)
        {
            ThrowHelper.ThrowNotPositiveDefinite(matrixName, index, info, nameof(a));
        }
    }

    internal int CholeskyUnchecked(Span<double> a, int n)
    {
        if (n == 0)
        {
            return 0;
        }
        int info, lda = n;
        byte uplo = U; // row-major lower == column-major upper
        fixed (double* pa = a)
        {
            _f.dpotrf_(&uplo, &n, pa, &lda, &info, 1);
        }
        if (info < 0)
        {
            ThrowHelper.ThrowLapack("dpotrf", info);
        }
        if (info == 0)
        {
            // LAPACK leaves the other triangle untouched; zero it so the buffer is exactly L.
            for (int i = 0; i < n; i++)
            {
                a.Slice(i * n + i + 1, n - i - 1).Clear();
            }
        }
        return info;
    }

    /// <summary>Inverts the row-major lower-triangular <paramref name="l"/> (n×n, non-singular) in place (dtrtri).</summary>
    public void InvertLowerTriangular(Span<double> l, int n)
    {
        CheckSquare(l, n, nameof(l));
        CheckFinite(l[..(n * n)], "triangular factor", -1, nameof(l));
        if (n == 0)
        {
            return;
        }
        int info, lda = n;
        byte uplo = U, diag = N;
        fixed (double* pl = l)
        {
            _f.dtrtri_(&uplo, &diag, &n, pl, &lda, &info, 1, 1);
        }
        if (info < 0)
        {
            ThrowHelper.ThrowLapack("dtrtri", info);
        }
        if (info > 0)
        {
            ThrowHelper.ThrowArgument($"The triangular factor is singular (diagonal entry {info} is zero).", nameof(l));
        }
    }

    /// <summary>
    /// Solves with the row-major lower-triangular <paramref name="l"/> (n×n) in place on the row-major
    /// n×<paramref name="columns"/> right-hand side <paramref name="b"/>: B := L⁻¹B, or L⁻ᵀB when
    /// <paramref name="transpose"/> (dtrsm).
    /// </summary>
    public void SolveLower(ReadOnlySpan<double> l, int n, Span<double> b, int columns, bool transpose)
    {
        CheckSquare(l, n, nameof(l));
        CheckLength(b, (long)n * columns, nameof(b));
        if (n == 0 || columns == 0)
        {
            return;
        }
        // Column-major view: Bᵀ (columns×n) := Bᵀ · U⁻¹ (or U⁻ᵀ), U = Lᵀ the column-major view of l.
        byte side = R, uplo = U, trans = transpose ? T : N, diag = N;
        int m = columns, nn = n, lda = n, ldb = columns;
        double one = 1.0;
        fixed (double* pl = l)
        fixed (double* pb = b)
        {
            _f.dtrsm_(&side, &uplo, &trans, &diag, &m, &nn, &one, pl, &lda, pb, &ldb, 1, 1, 1, 1);
        }
    }

    /// <summary>
    /// Eigenvalues (ascending, into <paramref name="eigenvalues"/>) and optionally eigenvectors of the
    /// row-major symmetric <paramref name="a"/> (n×n, lower triangle read) by divide and conquer (dsyevd).
    /// With vectors, row k of <paramref name="a"/> becomes the unit eigenvector of eigenvalue k;
    /// without, <paramref name="a"/> is destroyed. Workspace comes from a per-thread buffer (no allocation once warm).
    /// </summary>
    public void SymmetricEigen(Span<double> a, int n, Span<double> eigenvalues, bool vectors)
    {
        CheckSquare(a, n, nameof(a));
        CheckLength(eigenvalues, n, nameof(eigenvalues));
        CheckFinite(a[..(n * n)], "symmetric matrix", -1, nameof(a));
        SymmetricEigenUnchecked(a, n, eigenvalues, vectors);
    }

    internal void SymmetricEigenUnchecked(Span<double> a, int n, Span<double> eigenvalues, bool vectors)
    {
        if (n == 0)
        {
            return;
        }
        (int lwork, int liwork) = EigenWorkspace(n, vectors);
        var ws = LapackWorkspace.ForThread(lwork, liwork);
        int info, lda = n;
        byte jobz = vectors ? V : N, uplo = U;
        fixed (double* pa = a)
        fixed (double* pw = eigenvalues)
        fixed (double* pwork = ws.Work)
        fixed (int* piwork = ws.IWork)
        {
            _f.dsyevd_(&jobz, &uplo, &n, pa, &lda, pw, pwork, &lwork, piwork, &liwork, &info, 1, 1);
        }
        if (info != 0)
        {
            ThrowHelper.ThrowLapack("dsyevd", info, info > 0 ? "the eigenvalue iteration did not converge" : null);
        }
    }

    /// <summary>
    /// Generalized symmetric-definite eigenproblem A x = λ B x (dsygvd, itype 1), row-major, n×n, lower
    /// triangles read. B must be SPD (it is overwritten by its Cholesky factor). Eigenvalues ascending;
    /// with vectors, row k of <paramref name="a"/> is eigenvector k, normalised so xᵀ B x = 1.
    /// </summary>
    public void GeneralizedSymmetricEigen(Span<double> a, Span<double> b, int n, Span<double> eigenvalues, bool vectors)
    {
        CheckSquare(a, n, nameof(a));
        CheckSquare(b, n, nameof(b));
        CheckLength(eigenvalues, n, nameof(eigenvalues));
        CheckFinite(a[..(n * n)], "matrix A", -1, nameof(a));
        CheckFinite(b[..(n * n)], "matrix B", -1, nameof(b));
        if (n == 0)
        {
            return;
        }
        (int lwork, int liwork) = EigenWorkspace(n, vectors);
        var ws = LapackWorkspace.ForThread(lwork, liwork);
        int info, lda = n, ldb = n, itype = 1;
        byte jobz = vectors ? V : N, uplo = U;
        fixed (double* pa = a)
        fixed (double* pb = b)
        fixed (double* pw = eigenvalues)
        fixed (double* pwork = ws.Work)
        fixed (int* piwork = ws.IWork)
        {
            _f.dsygvd_(&itype, &jobz, &uplo, &n, pa, &lda, pb, &ldb, pw, pwork, &lwork, piwork, &liwork, &info, 1, 1);
        }
        if (info > n)
        {
            ThrowHelper.ThrowNotPositiveDefinite("matrix B", -1, info - n, nameof(b));
        }
        if (info != 0)
        {
            ThrowHelper.ThrowLapack("dsygvd", info, info > 0 ? "the eigenvalue iteration did not converge" : null);
        }
    }

    /// <summary>
    /// Singular values (descending) of the row-major <paramref name="rows"/>×<paramref name="columns"/>
    /// matrix <paramref name="a"/>, which is destroyed (dgesdd, jobz = 'N').
    /// </summary>
    public void SingularValues(Span<double> a, int rows, int columns, Span<double> singularValues)
    {
        CheckLength(a, (long)rows * columns, nameof(a));
        int mn = Math.Min(rows, columns);
        CheckLength(singularValues, mn, nameof(singularValues));
        CheckFinite(a[..(rows * columns)], "matrix", -1, nameof(a));
        SingularValuesUnchecked(a, rows, columns, singularValues);
    }

    internal void SingularValuesUnchecked(Span<double> a, int rows, int columns, Span<double> singularValues)
    {
        int mn = Math.Min(rows, columns), mx = Math.Max(rows, columns);
        if (mn == 0)
        {
            return;
        }
        // Column-major view is the transpose (columns×rows): same singular values.
        int lwork = 3 * mn + Math.Max(mx, 7 * mn), liwork = 8 * mn;
        var ws = LapackWorkspace.ForThread(lwork, liwork);
        int m = columns, nn = rows, lda = columns, one = 1, info;
        byte jobz = N;
        double dummy;
        fixed (double* pa = a)
        fixed (double* ps = singularValues)
        fixed (double* pwork = ws.Work)
        fixed (int* piwork = ws.IWork)
        {
            _f.dgesdd_(&jobz, &m, &nn, pa, &lda, ps, &dummy, &one, &dummy, &one, pwork, &lwork, piwork, &info, 1);
        }
        if (info != 0)
        {
            ThrowHelper.ThrowLapack("dgesdd", info, info > 0 ? "the SVD iteration did not converge" : null);
        }
    }

    /// <summary>
    /// Row-major C (m×n) := alpha·op(A)·op(B) + beta·C (dgemm), op(A) m×k, op(B) k×n; A is m×k (k×m when
    /// <paramref name="transposeA"/>), B is k×n (n×k when <paramref name="transposeB"/>).
    /// </summary>
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, ReadOnlySpan<double> b, double beta, Span<double> c)
    {
        CheckLength(a, (long)m * k, nameof(a));
        CheckLength(b, (long)k * n, nameof(b));
        CheckLength(c, (long)m * n, nameof(c));
        if (m == 0 || n == 0)
        {
            return;
        }
        // Row-major C is column-major Cᵀ = op(B)ᵀ op(A)ᵀ: swap the operands, keep the transpose flags.
        byte ta = transposeB ? T : N, tb = transposeA ? T : N;
        int ldb = transposeB ? k : n, lda = transposeA ? m : k, ldc = n;
        int mm = n, nn = m, kk = k;
        fixed (double* pa = a)
        fixed (double* pb = b)
        fixed (double* pc = c)
        {
            _f.dgemm_(&ta, &tb, &mm, &nn, &kk, &alpha, pb, &ldb, pa, &lda, &beta, pc, &ldc, 1, 1);
        }
    }

    /// <summary>
    /// dgemm on sub-matrices (as the contiguous Gemm overload): A, B and C are row-major with row strides <paramref name="lda"/>,
    /// <paramref name="ldb"/>, <paramref name="ldc"/> (each at least its row length), the spans starting at the first
    /// element of each block.
    /// </summary>
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, int lda, ReadOnlySpan<double> b, int ldb, double beta, Span<double> c, int ldc)
    {
        int aRows = transposeA ? k : m, aCols = transposeA ? m : k;
        int bRows = transposeB ? n : k, bCols = transposeB ? k : n;
        CheckStrided(a, aRows, aCols, lda, nameof(a));
        CheckStrided(b, bRows, bCols, ldb, nameof(b));
        CheckStrided(c, m, n, ldc, nameof(c));
        if (m == 0 || n == 0)
        {
            return;
        }
        if (k == 0)
        {
            // BLAS scales C by beta; keep the same contract without touching A or B.
            for (int i = 0; i < m; i++)
            {
                Span<double> row = c.Slice(i * ldc, n);
                for (int j = 0; j < n; j++)
                {
                    row[j] = beta == 0 ? 0 : beta * row[j];
                }
            }
            return;
        }
        // Row-major C is column-major Cᵀ = op(B)ᵀ op(A)ᵀ: swap the operands, keep the transpose flags and strides.
        byte ta = transposeB ? T : N, tb = transposeA ? T : N;
        int mm = n, nn = m, kk = k, la = lda, lb = ldb, lc = ldc;
        fixed (double* pa = a)
        fixed (double* pb = b)
        fixed (double* pc = c)
        {
            _f.dgemm_(&ta, &tb, &mm, &nn, &kk, &alpha, pb, &lb, pa, &la, &beta, pc, &lc, 1, 1);
        }
    }

    private static void CheckStrided(ReadOnlySpan<double> a, int rows, int columns, int stride, string paramName)
    {
        if (rows < 0 || columns < 0 || stride < Math.Max(1, columns))
        {
            ThrowHelper.ThrowArgument($"A {rows}×{columns} block needs a row stride of at least {Math.Max(1, columns)} (got {stride}).", paramName);
        }
        if (rows > 0 && columns > 0)
        {
            CheckLength(a, (long)(rows - 1) * stride + columns, paramName);
        }
    }

    /// <summary>Workspace sizes of dsyevd/dsygvd (LAPACK's documented minimum).</summary>
    internal static (int Work, int IWork) EigenWorkspace(int n, bool vectors)
        => n <= 1 ? (1, 1) : vectors ? (1 + 6 * n + 2 * n * n, 3 + 5 * n) : (2 * n + 1, 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckSquare(ReadOnlySpan<double> a, int n, string paramName)
    {
        if (n < 0)
        {
            ThrowHelper.ThrowArgument($"Matrix order must be non-negative, got {n}.", paramName);
        }
        CheckLength(a, (long)n * n, paramName);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CheckLength(ReadOnlySpan<double> a, long required, string paramName)
    {
        if (a.Length < required)
        {
            ThrowHelper.ThrowSize(paramName, required, a.Length);
        }
    }

    /// <summary>Throws <see cref="NonFiniteValueException"/> naming the first NaN/∞ entry.</summary>
    internal static void CheckFinite(ReadOnlySpan<double> a, string what, int index, string paramName)
    {
        // x − x is 0 for finite x and NaN for NaN/±∞, so one vector compare tests a whole block.
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int w = System.Numerics.Vector<double>.Count;
            for (; i + w <= a.Length; i += w)
            {
                var v = new System.Numerics.Vector<double>(a.Slice(i, w));
                if (!System.Numerics.Vector.EqualsAll(v - v, System.Numerics.Vector<double>.Zero))
                {
                    break;
                }
            }
        }
        for (; i < a.Length; i++)
        {
            if (!double.IsFinite(a[i]))
            {
                ThrowHelper.ThrowNonFinite(what, index, i, a[i], paramName);
            }
        }
    }
}

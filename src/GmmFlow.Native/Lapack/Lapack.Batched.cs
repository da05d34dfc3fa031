namespace GmmFlow.Native;

// Batch loops over many small matrices stored back to back (count × n × n, row-major). Each call
// validates the whole range once, then loops natively with no per-item checks. They run on the
// calling thread over the given range: the managed layer splits a batch across cores and calls
// these on its slices, so each LAPACK call stays sequential (MKL's sequential layer) and the batch
// is what runs in parallel.
internal sealed partial class Lapack
{
    /// <summary>
    /// Cholesky of each n×n matrix in <paramref name="a"/> (count of them) in place. Writes 0 or potrf's
    /// info (order of the failing minor) into <paramref name="status"/> per matrix and returns the number
    /// of failures; a non-finite matrix gets status −1 and is left untouched. Never throws for bad data.
    /// </summary>
    public int TryCholeskyBatch(Span<double> a, int n, int count, Span<int> status)
    {
        CheckSquareBatch(a, n, count, nameof(a));
        if (status.Length < count)
        {
            ThrowHelper.ThrowSize(nameof(status), count, status.Length);
        }
        int failures = 0, nn = n * n;
        for (int k = 0; k < count; k++)
        {
            Span<double> m = a.Slice(k * nn, nn);
            int info = IsFinite(m) ? CholeskyUnchecked(m, n) : -1;
            status[k] = info;
            failures += info != 0 ? 1 : 0;
        }
        return failures;
    }

    /// <summary>
    /// Cholesky of each matrix in place; throws <see cref="NotPositiveDefiniteException"/> or
    /// <see cref="NonFiniteValueException"/> naming <paramref name="matrixName"/> and the index
    /// (<paramref name="firstIndex"/> + position in this slice) of the first bad matrix.
    /// </summary>
    public void CholeskyBatch(Span<double> a, int n, int count, string matrixName, int firstIndex = 0)
    {
        CheckSquareBatch(a, n, count, nameof(a));
        int nn = n * n;
        for (int k = 0; k < count; k++)
        {
            CheckFinite(a.Slice(k * nn, nn), matrixName, firstIndex + k, nameof(a));
        }
        for (int k = 0; k < count; k++)
        {
            int info = CholeskyUnchecked(a.Slice(k * nn, nn), n);
            if (info > 0)
            {
                ThrowHelper.ThrowNotPositiveDefinite(matrixName, firstIndex + k, info, nameof(a));
            }
        }
    }

    /// <summary>Eigen-decomposition of each symmetric matrix (see <see cref="SymmetricEigen"/>); eigenvalues count × n.</summary>
    public void SymmetricEigenBatch(Span<double> a, int n, int count, Span<double> eigenvalues, bool vectors, string matrixName = "matrix", int firstIndex = 0)
    {
        CheckSquareBatch(a, n, count, nameof(a));
        CheckLength(eigenvalues, (long)count * n, nameof(eigenvalues));
        int nn = n * n;
        for (int k = 0; k < count; k++)
        {
            CheckFinite(a.Slice(k * nn, nn), matrixName, firstIndex + k, nameof(a));
        }
        for (int k = 0; k < count; k++)
        {
            SymmetricEigenUnchecked(a.Slice(k * nn, nn), n, eigenvalues.Slice(k * n, n), vectors);
        }
    }

    /// <summary>Singular values of each n×n matrix (destroyed); singular values count × n, descending per matrix.</summary>
    public void SingularValuesBatch(Span<double> a, int n, int count, Span<double> singularValues, string matrixName = "matrix", int firstIndex = 0)
    {
        CheckSquareBatch(a, n, count, nameof(a));
        CheckLength(singularValues, (long)count * n, nameof(singularValues));
        int nn = n * n;
        for (int k = 0; k < count; k++)
        {
            CheckFinite(a.Slice(k * nn, nn), matrixName, firstIndex + k, nameof(a));
        }
        for (int k = 0; k < count; k++)
        {
            SingularValuesUnchecked(a.Slice(k * nn, nn), n, n, singularValues.Slice(k * n, n));
        }
    }

    private static void CheckSquareBatch(ReadOnlySpan<double> a, int n, int count, string paramName)
    {
        if (n < 0 || count < 0)
        {
            ThrowHelper.ThrowArgument($"Matrix order and batch count must be non-negative (got n = {n}, count = {count}).", paramName);
        }
        CheckLength(a, (long)count * n * n, paramName);
    }

    private static bool IsFinite(ReadOnlySpan<double> a)
    {
        foreach (double x in a)
        {
            if (!double.IsFinite(x))
            {
                return false;
            }
        }
        return true;
    }
}

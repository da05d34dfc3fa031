using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd;

/// <summary>
/// Row sums of a pairwise term between two point sets, the O(N²) core of MMD and the energy distance:
/// <c>rowSums[i] = Σ_{j ∈ J(i)} term(|x_i − y_j|²)</c> with J(i) = [0, n) (cross sums) or (i, n) (the strict upper
/// triangle of a set against itself).
/// Lanes: lane k holds the pair (x_i, y_{j+k}); x_i is broadcast, y is read from a SoA copy (coordinate-major,
/// row length <c>stride</c>) so the lanes load contiguously. Each row is summed by one thread in a fixed order
/// (vector partial sums, then a scalar tail of fewer than Count pairs), so the results do not depend on thread count.
/// </summary>
internal static class PairwiseRowSums
{
    /// <summary>Rows per parallel chunk.</summary>
    private const int RowsPerChunk = 16;

    /// <summary>Transposes N×d row-major points into a coordinate-major copy with rows of length <paramref name="stride"/> ≥ N.</summary>
    public static double[] ToSoa(ReadOnlySpan<double> points, int d, int stride)
    {
        int n = points.Length / d;
        var soa = new double[(long)d * stride];
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < d; k++)
            {
                soa[k * stride + i] = points[i * d + k];
            }
        }
        return soa;
    }

    /// <summary>
    /// Fills <paramref name="rowSums"/> (length m = x.Length / d), on all cores when <paramref name="parallel"/>.
    /// <paramref name="upperOnly"/> requires x and y to be the same set (then J(i) = (i, n)).
    /// </summary>
    public static unsafe void Compute<TTerm>(ReadOnlySpan<double> x, ReadOnlySpan<double> ySoa, int stride, int n, int d, bool upperOnly, TTerm term,
                                             Span<double> rowSums, bool parallel, SimdWidth width = SimdWidth.Auto)
        where TTerm : struct, IPairTerm
    {
        int m = x.Length / d;
        // The rows are read through refs: refuse spans shorter than the reads before any is made.
        if (rowSums.Length < m || stride < n || ySoa.Length < (long)(d - 1) * stride + n)
        {
            throw new ArgumentException($"Need {m} row sums and {d} SoA rows of {n} points, {stride} apart; got {rowSums.Length} row sums and {ySoa.Length} SoA doubles.");
        }
        SimdWidth resolved = SimdDispatch.Resolve(width);
        fixed (double* px = x)
        fixed (double* py = ySoa)
        fixed (double* pr = rowSums)
        {
            var body = new Chunk<TTerm>
            {
                X = px, YSoa = py, Stride = stride, N = n, D = d, UpperOnly = upperOnly, Term = term, RowSums = pr, Width = resolved,
            };
            // ParallelRange.For returns only when every chunk is done, so the pointers stay pinned throughout.
            if (parallel)
            {
                ParallelRange.For(m, RowsPerChunk, body);
            }
            else
            {
                body.Execute(0, m);
            }
        }
    }

    /// <summary>Rows [start, end); the pointers are pinned by <see cref="Compute"/> until every chunk is done.</summary>
    private unsafe struct Chunk<TTerm> : IRangeBody where TTerm : struct, IPairTerm
    {
        public double* X, YSoa, RowSums;
        public int Stride, N, D;
        public bool UpperOnly;
        public TTerm Term;
        public SimdWidth Width;

        public readonly void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                int j0 = UpperOnly ? i + 1 : 0;
                ref double xi = ref Unsafe.AsRef<double>(X + (long)i * D);
                ref double y = ref Unsafe.AsRef<double>(YSoa);
                RowSums[i] = Width switch
                {
                    SimdWidth.V512 => Row<Simd512, Vector512<double>, TTerm>(ref xi, ref y, Stride, D, j0, N, Term),
                    SimdWidth.V256 => Row<Simd256, Vector256<double>, TTerm>(ref xi, ref y, Stride, D, j0, N, Term),
                    SimdWidth.V128 => Row<Simd128, Vector128<double>, TTerm>(ref xi, ref y, Stride, D, j0, N, Term),
                    _ => Row<SimdScalar, double, TTerm>(ref xi, ref y, Stride, D, j0, N, Term),
                };
            }
        }
    }

    /// <summary>Σ_{j0 ≤ j &lt; j1} term(|x − y_j|²): full vectors of pairs, then the remaining pairs one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Row<TOps, TV, TTerm>(ref double x, ref double ySoa, int stride, int d, int j0, int j1, TTerm term)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        where TTerm : struct, IPairTerm
    {
        int lanes = TOps.Count;
        TV acc = TOps.Zero;
        int j = j0;
        for (; j + lanes <= j1; j += lanes)
        {
            TV sq = TOps.Zero;
            ref double yk = ref Unsafe.Add(ref ySoa, j);
            for (int k = 0; k < d; k++)
            {
                TV diff = TOps.Subtract(TOps.Load(ref yk), TOps.Create(Unsafe.Add(ref x, k)));
                sq = TOps.MultiplyAdd(diff, diff, sq);
                yk = ref Unsafe.Add(ref yk, stride);
            }
            acc = TOps.Add(acc, term.Apply<TOps, TV>(sq));
        }
        double sum = TOps.Sum(acc);
        // Tail: the same operations one pair at a time (the term is bit-identical at every width).
        for (; j < j1; j++)
        {
            double sq = 0.0;
            for (int k = 0; k < d; k++)
            {
                double diff = Unsafe.Add(ref ySoa, k * stride + j) - Unsafe.Add(ref x, k);
                sq = SimdScalar.MultiplyAdd(diff, diff, sq);
            }
            sum += term.Apply<SimdScalar, double>(sq);
        }
        return sum;
    }
}

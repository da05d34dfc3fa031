using System.Buffers;
using GmmFlow.Native.Highs;

namespace GmmFlow;

/// <summary>
/// Two-marginal transport LP solved by column generation over HiGHS: solve on a small set of candidate pairs, price
/// every other pair with the duals, add the ones with negative reduced cost, re-solve from the previous basis; stop when
/// none is negative. The final duals are then feasible for the full LP, so the restricted optimum is the full optimum.
/// </summary>
/// <remarks>
/// <para>Why: HiGHS' simplex cost per iteration grows with the number of columns, and a K×K transport LP has K²
/// columns of which an optimal basis uses only 2K − 1, mostly among each row's and column's cheapest pairs.
/// Pricing all K² pairs is one cheap pass over C per round.</para>
/// <para>The starting set is each row's and each column's <c>candidates</c> cheapest pairs plus the north-west-corner
/// plan's support, which guarantees the restricted LP is feasible whatever the costs.</para>
/// </remarks>
internal static class TransportColumnGeneration
{
    /// <summary>Candidates per row and per column in the starting set, and pairs added per row per pricing round.</summary>
    /// <remarks>
    /// Measured on uniform random costs (K = 100 and 500): 3–5 candidates need 3–4 pricing rounds and re-solves that
    /// cost as much as the first solve; 10–20 need one or two rounds and were fastest (12 sits in that plateau).
    /// Larger sets only make every simplex iteration dearer.
    /// </remarks>
    internal const int Candidates = 12;

    /// <summary>
    /// Reduced-cost threshold (costs scaled to [-1, 1]) below which an outside pair enters. Above HiGHS' dual feasibility
    /// tolerance (1e-10 in <see cref="MarginalLp.DefaultSettings"/>), so a pair HiGHS already accepted is never re-priced
    /// as improving; the loop ends because the set only grows.
    /// </summary>
    private const double PricingTolerance = 1e-9;

    /// <summary>
    /// Solves for scaled costs <paramref name="cost"/> (rows × cols, row-major) and normalised marginals
    /// <paramref name="marginals"/> (a then b); writes the dense plan. Returns the status of the last restricted solve
    /// and the total simplex iterations; <paramref name="rounds"/> counts the solves.
    /// </summary>
    internal static HighsLpResult Solve(ReadOnlySpan<double> cost, int rows, int cols, ReadOnlySpan<double> marginals, Span<double> plan, in HighsLpSettings settings, out int rounds)
    {
        int cells = rows * cols;
        int r = Math.Min(Candidates, Math.Max(rows, cols));
        int numRow = rows + cols - 1; // last target row dropped: implied by the others, and the matrix becomes full rank
        bool[] inSet = ArrayPool<bool>.Shared.Rent(cells);
        var columns = new ColumnList(Math.Min(cells, ((rows + cols) * (r + 1)) + 16));
        double[] rowDual = ArrayPool<double>.Shared.Rent(numRow);
        double[] x = [];
        rounds = 0;
        try
        {
            inSet.AsSpan(0, cells).Clear();
            SeedCandidates(cost, rows, cols, r, inSet, ref columns);
            SeedNorthWestCorner(marginals[..rows], marginals[rows..], cols, inSet, ref columns);

            using var session = new HighsLpSession(settings);
            int passed = columns.Count;
            {
                Span<double> rowBounds = rowDual.AsSpan(0, numRow);
                marginals[..numRow].CopyTo(rowBounds);
                ColumnBlock block = BuildBlock(columns.Flat[..passed], cost, rows, cols);
                try
                {
                    // rowBounds is reused as the dual buffer after this call; HiGHS copies the model.
                    session.PassValidatedLp(new HighsLpModel(block.Cost, block.Lower, block.Upper, rowBounds, rowBounds, block.Start, block.Index, block.Value));
                }
                finally
                {
                    block.Return();
                }
            }

            int iterations = 0;
            while (true)
            {
                rounds++;
                if (x.Length < columns.Count)
                {
                    x = new double[Math.Max(columns.Count, x.Length * 2)];
                }

                HighsLpResult result = session.Run(x.AsSpan(0, columns.Count), rowDual.AsSpan(0, numRow));
                iterations += result.SimplexIterations;
                if (!result.IsOptimal)
                {
                    return result with { SimplexIterations = iterations };
                }

                int before = columns.Count;
                Price(cost, rows, cols, rowDual.AsSpan(0, numRow), r, inSet, ref columns);
                if (columns.Count == before)
                {
                    plan.Clear();
                    ReadOnlySpan<int> flat = columns.Flat;
                    for (int c = 0; c < flat.Length; c++)
                    {
                        plan[flat[c]] = x[c];
                    }

                    return result with { SimplexIterations = iterations };
                }

                ColumnBlock added = BuildBlock(columns.Flat[before..], cost, rows, cols);
                try
                {
                    session.AddColumns(added.Cost, added.Lower, added.Upper, added.Start, added.Index, added.Value);
                }
                finally
                {
                    added.Return();
                }
            }
        }
        finally
        {
            ArrayPool<bool>.Shared.Return(inSet);
            ArrayPool<double>.Shared.Return(rowDual);
            columns.Return();
        }
    }

    // Each row's and each column's r cheapest pairs.
    private static void SeedCandidates(ReadOnlySpan<double> cost, int rows, int cols, int r, bool[] inSet, ref ColumnList columns)
    {
        int rr = Math.Min(r, cols);
        int rc = Math.Min(r, rows);
        Span<double> bestCost = stackalloc double[Math.Max(rr, 1)];
        Span<int> bestIndex = stackalloc int[Math.Max(rr, 1)];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> row = cost.Slice(i * cols, cols);
            int n = 0;
            for (int j = 0; j < cols; j++)
            {
                Insert(bestCost, bestIndex, ref n, rr, row[j], j);
            }

            for (int t = 0; t < n; t++)
            {
                columns.AddIfNew(inSet, (i * cols) + bestIndex[t]);
            }
        }

        // Per-column top-rc kept for all columns at once, so C is read row by row (cache friendly).
        double[] colCost = ArrayPool<double>.Shared.Rent(cols * rc);
        int[] colIndex = ArrayPool<int>.Shared.Rent(cols * rc);
        int[] colCount = ArrayPool<int>.Shared.Rent(cols);
        try
        {
            colCount.AsSpan(0, cols).Clear();
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<double> row = cost.Slice(i * cols, cols);
                for (int j = 0; j < cols; j++)
                {
                    Insert(colCost.AsSpan(j * rc, rc), colIndex.AsSpan(j * rc, rc), ref colCount[j], rc, row[j], i);
                }
            }

            for (int j = 0; j < cols; j++)
            {
                for (int t = 0; t < colCount[j]; t++)
                {
                    columns.AddIfNew(inSet, (colIndex[(j * rc) + t] * cols) + j);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(colCost);
            ArrayPool<int>.Shared.Return(colIndex);
            ArrayPool<int>.Shared.Return(colCount);
        }
    }

    // The north-west-corner plan is feasible for any marginals; its support (≤ rows + cols − 1 pairs) makes the
    // restricted LP feasible. Its cost is irrelevant: the simplex leaves it if it is poor.
    private static void SeedNorthWestCorner(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int cols, bool[] inSet, ref ColumnList columns)
    {
        int i = 0;
        int j = 0;
        double ra = a[0];
        double rb = b[0];
        while (true)
        {
            columns.AddIfNew(inSet, (i * cols) + j);
            if (i == a.Length - 1 && j == b.Length - 1)
            {
                return;
            }

            // Advance the side that is exhausted; at the last row or column only the other side can move.
            if (j == b.Length - 1 || (i < a.Length - 1 && ra <= rb))
            {
                rb -= ra;
                ra = a[++i];
            }
            else
            {
                ra -= rb;
                rb = b[++j];
            }
        }
    }

    // Adds, per row, up to r pairs outside the set with the most negative reduced cost C_ij − u_i − v_j
    // (v of the dropped last target row is 0).
    private static void Price(ReadOnlySpan<double> cost, int rows, int cols, ReadOnlySpan<double> dual, int r, bool[] inSet, ref ColumnList columns)
    {
        Span<double> bestCost = stackalloc double[Math.Max(r, 1)];
        Span<int> bestIndex = stackalloc int[Math.Max(r, 1)];
        ReadOnlySpan<double> v = dual[rows..];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<double> row = cost.Slice(i * cols, cols);
            ReadOnlySpan<bool> taken = inSet.AsSpan(i * cols, cols);
            double u = dual[i];
            int n = 0;
            for (int j = 0; j < cols; j++)
            {
                double reduced = row[j] - u - (j < v.Length ? v[j] : 0.0);
                if (reduced < -PricingTolerance && !taken[j])
                {
                    Insert(bestCost, bestIndex, ref n, r, reduced, j);
                }
            }

            for (int t = 0; t < n; t++)
            {
                columns.AddIfNew(inSet, (i * cols) + bestIndex[t]);
            }
        }
    }

    // Keeps the (up to) capacity smallest values seen so far in ascending order; insertion sort because capacity is tiny.
    private static void Insert(Span<double> values, Span<int> indices, ref int count, int capacity, double value, int index)
    {
        if (count == capacity && value >= values[count - 1])
        {
            return;
        }

        int p = count < capacity ? count++ : count - 1;
        while (p > 0 && values[p - 1] > value)
        {
            values[p] = values[p - 1];
            indices[p] = indices[p - 1];
            p--;
        }

        values[p] = value;
        indices[p] = index;
    }

    // CSC block for pairs (flat indices i*cols + j): entry 1 in row i and in row rows + j unless j is the dropped last column.
    private static ColumnBlock BuildBlock(ReadOnlySpan<int> flat, ReadOnlySpan<double> cost, int rows, int cols)
    {
        int n = flat.Length;
        var block = new ColumnBlock(n);
        int nz = 0;
        for (int c = 0; c < n; c++)
        {
            int i = flat[c] / cols;
            int j = flat[c] - (i * cols);
            block.CostArray[c] = cost[flat[c]];
            block.StartArray[c] = nz;
            block.IndexArray[nz++] = i;
            if (j < cols - 1)
            {
                block.IndexArray[nz++] = rows + j;
            }
        }

        block.StartArray[n] = nz;
        block.Nonzeros = nz;
        return block;
    }

    private struct ColumnBlock
    {
        internal readonly int Count;
        internal readonly double[] CostArray;
        internal readonly int[] StartArray;
        internal readonly int[] IndexArray;
        internal int Nonzeros;
        private readonly double[] _lower;
        private readonly double[] _upper;
        private readonly double[] _value;

        internal ColumnBlock(int count)
        {
            Count = count;
            CostArray = ArrayPool<double>.Shared.Rent(Math.Max(count, 1));
            StartArray = ArrayPool<int>.Shared.Rent(count + 1);
            IndexArray = ArrayPool<int>.Shared.Rent(Math.Max(2 * count, 1));
            _lower = ArrayPool<double>.Shared.Rent(Math.Max(count, 1));
            _upper = ArrayPool<double>.Shared.Rent(Math.Max(count, 1));
            _value = ArrayPool<double>.Shared.Rent(Math.Max(2 * count, 1));
            _lower.AsSpan(0, count).Clear();
            _upper.AsSpan(0, count).Fill(double.PositiveInfinity);
            _value.AsSpan(0, 2 * count).Fill(1.0);
            Nonzeros = 0;
        }

        internal readonly ReadOnlySpan<double> Cost => CostArray.AsSpan(0, Count);

        internal readonly ReadOnlySpan<double> Lower => _lower.AsSpan(0, Count);

        internal readonly ReadOnlySpan<double> Upper => _upper.AsSpan(0, Count);

        internal readonly ReadOnlySpan<int> Start => StartArray.AsSpan(0, Count + 1);

        internal readonly ReadOnlySpan<int> Index => IndexArray.AsSpan(0, Nonzeros);

        internal readonly ReadOnlySpan<double> Value => _value.AsSpan(0, Nonzeros);

        internal readonly void Return()
        {
            ArrayPool<double>.Shared.Return(CostArray);
            ArrayPool<int>.Shared.Return(StartArray);
            ArrayPool<int>.Shared.Return(IndexArray);
            ArrayPool<double>.Shared.Return(_lower);
            ArrayPool<double>.Shared.Return(_upper);
            ArrayPool<double>.Shared.Return(_value);
        }
    }

    // Growable list of flat pair indices in the order they became LP columns (column c of HiGHS is Flat[c]).
    private struct ColumnList(int capacity)
    {
        private int[] _items = ArrayPool<int>.Shared.Rent(Math.Max(capacity, 16));

        internal int Count { get; private set; }

        internal readonly ReadOnlySpan<int> Flat => _items.AsSpan(0, Count);

        internal void AddIfNew(bool[] inSet, int flat)
        {
            if (inSet[flat])
            {
                return;
            }

            inSet[flat] = true;
            if (Count == _items.Length)
            {
                int[] grown = ArrayPool<int>.Shared.Rent(_items.Length * 2);
                _items.AsSpan(0, Count).CopyTo(grown);
                ArrayPool<int>.Shared.Return(_items);
                _items = grown;
            }

            _items[Count++] = flat;
        }

        internal readonly void Return() => ArrayPool<int>.Shared.Return(_items);
    }
}

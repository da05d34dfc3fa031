using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
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
/// <para>The starting set is each row's and each column's r cheapest pairs plus pairs that make it feasible whatever the
/// costs. Two starts, chosen by size (<see cref="PrimalStartMaxSide"/>): small problems (r = max(4, K/3)) get the
/// greedy least-cost plan's spanning tree as HiGHS' starting basis and primal simplex, which then needs a handful of
/// iterations; larger ones (r = <see cref="Candidates"/>) add the north-west-corner support and let dual simplex start
/// from HiGHS' logical basis.</para>
/// <para>Tried and dropped (no gain in interleaved medians): a dual feasible starting basis (row minima, then column
/// minima of the reduced costs, rooted at target-row logicals) cut dual simplex iterations by 30–50 % but not the time,
/// since HiGHS then computes its edge weights for a structural basis; Devex or Dantzig pricing, cost perturbation off,
/// scaling off, other price strategies, primal simplex for the re-solves after adding columns.</para>
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
    /// Largest max(K0, K1) solved from the greedy tree basis with primal simplex; above it, from HiGHS' logical basis with
    /// dual simplex.
    /// </summary>
    /// <remarks>
    /// Measured (uniform costs, medians of interleaved runs on the shared 2-core machine): the greedy tree leaves HiGHS'
    /// primal simplex 5 iterations at K = 10 and 19–22 at K = 20, against 23 and 56 for the dual simplex from the logical
    /// basis, and the run is 35–45 % shorter. From K ≈ 30 on HiGHS' primal iterations get dearer than its dual ones
    /// (K = 100: 5.3 ms primal from the tree against 3.5 ms dual; K = 500 several times slower), so the dual path wins.
    /// </remarks>
    internal const int PrimalStartMaxSide = 24;

    /// <summary>
    /// Reduced-cost threshold (costs scaled to [-1, 1]) below which an outside pair enters. Above HiGHS' dual feasibility
    /// tolerance (1e-10 in <see cref="MarginalLp.DefaultSettings"/>), so a pair HiGHS already accepted is never re-priced
    /// as improving; the loop ends because the set only grows.
    /// </summary>
    private const double PricingTolerance = 1e-9;

    /// <summary>
    /// Solves for costs <paramref name="cost"/> (rows × cols, row-major) times <paramref name="scale"/> (HiGHS sees
    /// C·scale, in [-1, 1]) and normalised marginals <paramref name="marginals"/> (a then b). Returns the status of the
    /// last restricted solve and the total simplex iterations; <paramref name="rounds"/> counts the solves. When optimal,
    /// <paramref name="solution"/> holds the pairs HiGHS left positive (flat index i·cols + j, ascending, and value);
    /// the caller returns it to the pool.
    /// </summary>
    /// <remarks>The scaled costs are formed where they are used rather than copied: a K² pass less, same values.</remarks>
    internal static HighsLpResult Solve(ReadOnlySpan<double> cost, double scale, int rows, int cols, ReadOnlySpan<double> marginals, in HighsLpSettings settings, bool primalStart, out int rounds, out SparsePlan solution)
    {
        solution = default;
        int cells = rows * cols;
        int side = Math.Max(rows, cols);
        int r = Math.Min(primalStart ? Math.Max(4, side / 3) : Candidates, side);
        int numRow = rows + cols - 1; // last target row dropped: implied by the others, and the matrix becomes full rank
        bool[] inSet = ArrayPool<bool>.Shared.Rent(cells);
        bool[] basic = ArrayPool<bool>.Shared.Rent(primalStart ? cells : 1);
        var columns = new ColumnList(Math.Min(cells, ((rows + cols) * (r + 1)) + 16));
        double[] rowDual = ArrayPool<double>.Shared.Rent(numRow);
        double[] x = ArrayPool<double>.Shared.Rent(columns.Capacity);
        rounds = 0;
        HighsLpSession? session = null;
        try
        {
            inSet.AsSpan(0, cells).Clear();
            SeedCandidates(cost, rows, cols, r, inSet, ref columns);
            if (primalStart)
            {
                basic.AsSpan(0, cells).Clear();
                GreedyTree(cost, rows, cols, marginals, inSet, basic, ref columns);
            }
            else
            {
                SeedNorthWestCorner(marginals[..rows], marginals[rows..], cols, inSet, ref columns);
            }

            session = HighsLpSession.Rent(settings);
            if (primalStart)
            {
                session.SetSimplexStrategy(HighsSimplexStrategy.Primal);
            }

            int passed = columns.Count;
            {
                Span<double> rowBounds = rowDual.AsSpan(0, numRow);
                marginals[..numRow].CopyTo(rowBounds);
                ColumnBlock block = BuildBlock(columns.Flat[..passed], cost, scale, rows, cols);
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

            if (primalStart)
            {
                SetTreeBasis(session, columns.Flat, basic, numRow);
            }

            int iterations = 0;
            HighsLpResult result;
            while (true)
            {
                rounds++;
                if (x.Length < columns.Count)
                {
                    double[] grown = ArrayPool<double>.Shared.Rent(Math.Max(columns.Count, x.Length * 2));
                    ArrayPool<double>.Shared.Return(x);
                    x = grown;
                }

                result = session.Run(x.AsSpan(0, columns.Count), rowDual.AsSpan(0, numRow));
                iterations += result.SimplexIterations;
                if (!result.IsOptimal)
                {
                    break;
                }

                int before = columns.Count;
                Price(cost, scale, rows, cols, rowDual.AsSpan(0, numRow), r, inSet, ref columns);
                if (columns.Count == before)
                {
                    solution = SparsePlan.FromColumns(columns.Flat, x.AsSpan(0, before));
                    break;
                }

                ColumnBlock added = BuildBlock(columns.Flat[before..], cost, scale, rows, cols);
                try
                {
                    session.AddColumns(added.Cost, added.Lower, added.Upper, added.Start, added.Index, added.Value);
                }
                finally
                {
                    added.Return();
                }
            }

            HighsLpSession.Return(session);
            session = null;
            return result with { SimplexIterations = iterations };
        }
        finally
        {
            // Only after an exception: HiGHS' state is then unknown, so the instance is not reused.
            session?.Dispose();
            ArrayPool<bool>.Shared.Return(inSet);
            ArrayPool<bool>.Shared.Return(basic);
            ArrayPool<double>.Shared.Return(rowDual);
            ArrayPool<double>.Shared.Return(x);
            columns.Return();
        }
    }

    // The tree's pairs basic, every other column and every row's logical nonbasic at 0 (the rows are equalities).
    private static void SetTreeBasis(HighsLpSession session, ReadOnlySpan<int> flat, bool[] basic, int numRow)
    {
        int[] status = ArrayPool<int>.Shared.Rent(flat.Length + numRow);
        try
        {
            for (int c = 0; c < flat.Length; c++)
            {
                status[c] = basic[flat[c]] ? 1 : 0;
            }

            status.AsSpan(flat.Length, numRow).Clear();
            session.SetBasis(status.AsSpan(0, flat.Length), status.AsSpan(flat.Length, numRow));
        }
        finally
        {
            ArrayPool<int>.Shared.Return(status);
        }
    }

    /// <summary>
    /// Marks in <paramref name="basic"/> a spanning tree of the bipartite graph rows ∪ columns that supports a feasible
    /// plan, for HiGHS to start from: the least-cost greedy plan over the candidate pairs (cheapest pair first, each
    /// carrying as much as both ends have left), north-west corner over what the candidates could not place, then
    /// zero-flow pairs joining the remaining components. Pairs outside the set are added to it.
    /// </summary>
    /// <remarks>
    /// Each greedy assignment exhausts one end exactly (x = min(ra, rb) is subtracted from both), so every component of
    /// the support keeps at most one node with mass left and the support is a forest; the residual north-west corner runs
    /// between distinct components and keeps it one. A tree of rows + cols − 1 pairs is a basis of the LP with the last
    /// target row dropped, and the flows it determines are the greedy plan's, which are ≥ 0: the start is primal feasible.
    /// </remarks>
    private static void GreedyTree(ReadOnlySpan<double> cost, int rows, int cols, ReadOnlySpan<double> marginals, bool[] inSet, bool[] basic, ref ColumnList columns)
    {
        int candidates = columns.Count;
        int nodes = rows + cols;
        double[] keys = ArrayPool<double>.Shared.Rent(candidates);
        int[] order = ArrayPool<int>.Shared.Rent(candidates);
        double[] left = ArrayPool<double>.Shared.Rent(nodes);
        int[] parent = ArrayPool<int>.Shared.Rent(nodes);
        try
        {
            ReadOnlySpan<int> flat = columns.Flat;
            for (int c = 0; c < candidates; c++)
            {
                keys[c] = cost[flat[c]];
                order[c] = flat[c];
            }

            Array.Sort(keys, order, 0, candidates);
            marginals[..nodes].CopyTo(left);
            for (int v = 0; v < nodes; v++)
            {
                parent[v] = v;
            }

            for (int c = 0; c < candidates; c++)
            {
                int f = order[c];
                int i = f / cols;
                int j = rows + (f - ((f / cols) * cols));
                if (left[i] > 0 && left[j] > 0)
                {
                    double m = Math.Min(left[i], left[j]);
                    left[i] -= m;
                    left[j] -= m;
                    Join(parent, i, j, basic, f);
                }
            }

            // North-west corner over the rows and columns that still have mass.
            int ri = NextWithMass(left, 0, rows);
            int cj = NextWithMass(left, rows, nodes);
            while (ri < rows && cj < nodes)
            {
                double m = Math.Min(left[ri], left[cj]);
                left[ri] -= m;
                left[cj] -= m;
                int f = (ri * cols) + (cj - rows);
                columns.AddIfNew(inSet, f);
                Join(parent, ri, cj, basic, f);
                if (left[ri] <= 0)
                {
                    ri = NextWithMass(left, ri + 1, rows);
                }

                if (left[cj] <= 0)
                {
                    cj = NextWithMass(left, cj + 1, nodes);
                }
            }

            // Zero-flow pairs joining components: cheapest candidates first, then column j to row 0 and row i to column 0.
            for (int c = 0; c < candidates; c++)
            {
                int f = order[c];
                int i = f / cols;
                Join(parent, i, rows + (f - (i * cols)), basic, f);
            }

            for (int j = 0; j < cols; j++)
            {
                if (Find(parent, rows + j) != Find(parent, 0))
                {
                    columns.AddIfNew(inSet, j);
                    Join(parent, 0, rows + j, basic, j);
                }
            }

            for (int i = 1; i < rows; i++)
            {
                if (Find(parent, i) != Find(parent, 0))
                {
                    columns.AddIfNew(inSet, i * cols);
                    Join(parent, i, rows, basic, i * cols);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(keys);
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<double>.Shared.Return(left);
            ArrayPool<int>.Shared.Return(parent);
        }
    }

    private static int NextWithMass(double[] left, int from, int end)
    {
        while (from < end && !(left[from] > 0))
        {
            from++;
        }

        return from;
    }

    // Adds edge (u, v) to the tree if it joins two components.
    private static void Join(int[] parent, int u, int v, bool[] basic, int flat)
    {
        int ru = Find(parent, u);
        int rv = Find(parent, v);
        if (ru != rv)
        {
            parent[ru] = rv;
            basic[flat] = true;
        }
    }

    private static int Find(int[] parent, int v)
    {
        while (parent[v] != v)
        {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }

        return v;
    }

    // Each row's and each column's r cheapest pairs, in one pass over C. The lists are unsorted with their largest value
    // tracked: a value enters only if it beats that, which most do not (about r·ln(K/r) entries per list on random
    // costs), and entering replaces the largest and rescans r values; a sorted insertion moved ~r/2 values per entry and
    // made this pass cost 3 ms at K = 500.
    private static void SeedCandidates(ReadOnlySpan<double> cost, int rows, int cols, int r, bool[] inSet, ref ColumnList columns)
    {
        int rr = Math.Min(r, cols);
        int rc = Math.Min(r, rows);
        Span<double> rowCost = stackalloc double[rr];
        Span<int> rowIndex = stackalloc int[rr];
        double[] colCost = ArrayPool<double>.Shared.Rent(cols * rc);
        int[] colIndex = ArrayPool<int>.Shared.Rent(cols * rc);
        double[] colWorst = ArrayPool<double>.Shared.Rent(cols);
        int[] colWorstAt = ArrayPool<int>.Shared.Rent(cols);
        try
        {
            // The first rc rows fill every column's list; a row fills its own list with its first rr values.
            int head = Math.Min(rc, rows);
            for (int i = 0; i < head; i++)
            {
                ReadOnlySpan<double> row = cost.Slice(i * cols, cols);
                for (int j = 0; j < cols; j++)
                {
                    colCost[(j * rc) + i] = row[j];
                    colIndex[(j * rc) + i] = i;
                }
            }

            for (int j = 0; j < cols; j++)
            {
                colWorstAt[j] = ArgMax(colCost.AsSpan(j * rc, rc));
                colWorst[j] = colCost[(j * rc) + colWorstAt[j]];
            }

            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<double> row = cost.Slice(i * cols, cols);
                row[..rr].CopyTo(rowCost);
                for (int t = 0; t < rr; t++)
                {
                    rowIndex[t] = t;
                }

                int rowWorstAt = ArgMax(rowCost);
                double rowWorst = rowCost[rowWorstAt];
                for (int j = rr; j < row.Length; j++)
                {
                    double c = row[j];
                    if (c < rowWorst)
                    {
                        rowCost[rowWorstAt] = c;
                        rowIndex[rowWorstAt] = j;
                        rowWorstAt = ArgMax(rowCost);
                        rowWorst = rowCost[rowWorstAt];
                    }
                }

                if (i >= head)
                {
                    for (int j = 0; j < row.Length; j++)
                    {
                        double c = row[j];
                        if (c < colWorst[j])
                        {
                            Span<double> list = colCost.AsSpan(j * rc, rc);
                            list[colWorstAt[j]] = c;
                            colIndex[(j * rc) + colWorstAt[j]] = i;
                            int at = ArgMax(list);
                            colWorstAt[j] = at;
                            colWorst[j] = list[at];
                        }
                    }
                }

                for (int t = 0; t < rr; t++)
                {
                    columns.AddIfNew(inSet, (i * cols) + rowIndex[t]);
                }
            }

            for (int j = 0; j < cols; j++)
            {
                for (int t = 0; t < rc; t++)
                {
                    columns.AddIfNew(inSet, (colIndex[(j * rc) + t] * cols) + j);
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(colCost);
            ArrayPool<int>.Shared.Return(colIndex);
            ArrayPool<double>.Shared.Return(colWorst);
            ArrayPool<int>.Shared.Return(colWorstAt);
        }
    }

    // Position of the largest value (the first one on ties). Branch-free: which entry is largest is random here, and
    // the mispredicted branches of a plain scan made seeding ~25 % slower (measured at K = 100 and 500).
    private static int ArgMax(ReadOnlySpan<double> values)
    {
        double best = values[0];
        int at = 0;
        for (int t = 1; t < values.Length; t++)
        {
            double v = values[t];
            int greater = v > best ? 1 : 0;
            at += (t - at) & -greater;
            best = Math.Max(best, v);
        }

        return at;
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

    // Adds, per row, up to r pairs outside the set with the most negative reduced cost C_ij·scale − u_i − v_j
    // (v of the dropped last target row is 0).
    private static void Price(ReadOnlySpan<double> cost, double scale, int rows, int cols, ReadOnlySpan<double> dual, int r, bool[] inSet, ref ColumnList columns)
    {
        Span<double> bestCost = stackalloc double[Math.Max(r, 1)];
        Span<int> bestIndex = stackalloc int[Math.Max(r, 1)];
        double[] vBuffer = ArrayPool<double>.Shared.Rent(cols);
        try
        {
            Span<double> v = vBuffer.AsSpan(0, cols);
            dual[rows..].CopyTo(v);
            v[cols - 1] = 0.0;
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<double> row = cost.Slice(i * cols, cols);
                ReadOnlySpan<bool> taken = inSet.AsSpan(i * cols, cols);
                double u = dual[i];
                int n = 0;
                int j = 0;
                if (Vector.IsHardwareAccelerated && row.Length >= Vector<double>.Count)
                {
                    // Most pairs price out non-negative: test a vector at a time and look at lanes only on a hit.
                    // Same operations in the same order as the scalar loop, so the same reduced costs.
                    ref double rowRef = ref MemoryMarshal.GetReference(row);
                    ref double vRef = ref MemoryMarshal.GetReference(v);
                    var vScale = new Vector<double>(scale);
                    var vU = new Vector<double>(u);
                    var vTol = new Vector<double>(-PricingTolerance);
                    for (; j <= row.Length - Vector<double>.Count; j += Vector<double>.Count)
                    {
                        Vector<double> reduced = (Vector.LoadUnsafe(ref rowRef, (nuint)j) * vScale) - vU - Vector.LoadUnsafe(ref vRef, (nuint)j);
                        if (Vector.LessThanAny(reduced, vTol))
                        {
                            for (int q = 0; q < Vector<double>.Count; q++)
                            {
                                if (reduced[q] < -PricingTolerance && !taken[j + q])
                                {
                                    Insert(bestCost, bestIndex, ref n, r, reduced[q], j + q);
                                }
                            }
                        }
                    }
                }

                for (; j < row.Length; j++)
                {
                    double reduced = (row[j] * scale) - u - v[j];
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
        finally
        {
            ArrayPool<double>.Shared.Return(vBuffer);
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
    private static ColumnBlock BuildBlock(ReadOnlySpan<int> flat, ReadOnlySpan<double> cost, double scale, int rows, int cols)
    {
        int n = flat.Length;
        var block = new ColumnBlock(n);
        int nz = 0;
        for (int c = 0; c < n; c++)
        {
            int i = flat[c] / cols;
            int j = flat[c] - (i * cols);
            block.CostArray[c] = cost[flat[c]] * scale;
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

    /// <summary>Positive entries of a transport plan: flat indices (ascending) and values, in pooled arrays.</summary>
    internal readonly struct SparsePlan(int[] flat, double[] value, int count)
    {
        internal int Count { get; } = count;

        internal Span<int> Flat => flat.AsSpan(0, Count);

        internal Span<double> Value => value.AsSpan(0, Count);

        /// <summary>The columns with x &gt; 0 (the basic ones, less degenerate zeros and round-off negatives), sorted by pair.</summary>
        internal static SparsePlan FromColumns(ReadOnlySpan<int> columnFlat, ReadOnlySpan<double> x)
        {
            int count = 0;
            foreach (double w in x)
            {
                count += w > 0 ? 1 : 0;
            }

            int[] flat = ArrayPool<int>.Shared.Rent(Math.Max(count, 1));
            double[] value = ArrayPool<double>.Shared.Rent(Math.Max(count, 1));
            int e = 0;
            for (int c = 0; c < x.Length; c++)
            {
                if (x[c] > 0)
                {
                    flat[e] = columnFlat[c];
                    value[e++] = x[c];
                }
            }

            // Ascending pairs: the same entry order (and objective summation order) as a scan of the dense plan.
            Array.Sort(flat, value, 0, count);
            return new SparsePlan(flat, value, count);
        }

        internal void Return()
        {
            if (flat is not null)
            {
                ArrayPool<int>.Shared.Return(flat);
                ArrayPool<double>.Shared.Return(value);
            }
        }
    }

    // Growable list of flat pair indices in the order they became LP columns (column c of HiGHS is Flat[c]).
    private struct ColumnList(int capacity)
    {
        private int[] _items = ArrayPool<int>.Shared.Rent(Math.Max(capacity, 16));

        internal int Count { get; private set; }

        internal readonly int Capacity => _items.Length;

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

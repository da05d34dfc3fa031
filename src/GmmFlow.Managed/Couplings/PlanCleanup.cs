using System.Buffers;

namespace GmmFlow;

/// <summary>
/// Removes the solver's round-off from a transport plan so that its axis sums equal the marginals to ~1e-15 of the
/// total mass, while keeping the plan's support (hence its sparsity) whenever the support can carry the marginals.
/// </summary>
/// <remarks>
/// HiGHS meets the constraints to its feasibility tolerance (1e-7, scaled), and returns basic variables such as
/// 1e-17 or −1e-18 where the exact value is 0. The cleanup runs in three steps:
/// <list type="number">
/// <item>Negative values are set to 0.</item>
/// <item>Two marginals: the support of a basic solution is a forest in the bipartite graph rows ∪ columns, and on a
/// forest the plan is determined by the marginals. Peeling leaves (a row or column with one support edge takes its
/// whole remaining mass) recomputes it exactly, in one O(nnz) pass. More marginals, or a support with a cycle (not a
/// vertex): iterative proportional fitting on the support (scale each axis slice to its marginal, repeat), which
/// keeps zeros at zero.</item>
/// <item>If a residual above 1e-13 of the mass remains (the support cannot carry the marginals exactly, e.g. HiGHS
/// stopped at a slightly infeasible basis), slices that carry too much are scaled down and the remaining deficits
/// are transported by the north-west-corner rule, which adds at most (Σ N_k − M + 1) small entries.</item>
/// </list>
/// </remarks>
internal static class PlanCleanup
{
    private const double DoneTolerance = 1e-15;
    private const double RepairTolerance = 1e-13;
    private const int MaxFittingRounds = 100;

    /// <summary>
    /// Cleans the dense row-major plan <paramref name="plan"/> over <paramref name="shape"/>. <paramref name="marginals"/> is
    /// the concatenation of the M marginals, each summing to <paramref name="total"/> (to round-off).
    /// </summary>
    internal static void Clean(Span<double> plan, ReadOnlySpan<int> shape, ReadOnlySpan<double> marginals, double total)
    {
        int axes = shape.Length;
        int support = 0;
        for (int c = 0; c < plan.Length; c++)
        {
            if (plan[c] > 0)
            {
                support++;
            }
            else
            {
                plan[c] = 0;
            }
        }

        int[] flat = ArrayPool<int>.Shared.Rent(Math.Max(support, 1));
        int[] index = ArrayPool<int>.Shared.Rent(Math.Max(support * axes, 1));
        double[] sums = ArrayPool<double>.Shared.Rent(marginals.Length);
        try
        {
            int count = CollectSupport(plan, shape, flat, index);
            bool exact = axes == 2 && PeelForest(plan, shape[0], shape[1], marginals, flat.AsSpan(0, count), index.AsSpan(0, 2 * count));
            if (!exact)
            {
                FitProportionally(plan, shape, marginals, total, flat.AsSpan(0, count), index.AsSpan(0, axes * count), sums.AsSpan(0, marginals.Length));
            }

            if (MaxResidual(plan, shape, marginals, flat.AsSpan(0, count), index.AsSpan(0, axes * count), sums.AsSpan(0, marginals.Length)) > RepairTolerance * total)
            {
                Repair(plan, shape, marginals, total, sums.AsSpan(0, marginals.Length));
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(flat);
            ArrayPool<int>.Shared.Return(index);
            ArrayPool<double>.Shared.Return(sums);
        }
    }

    /// <summary>
    /// <see cref="Clean"/> for two marginals on the plan's positive entries alone (flat indices i·cols + j, ascending, and
    /// their values), without touching the rows × cols dense plan: the same steps in the same order, so the same result.
    /// Returns false when a residual above 1e-13 of the mass remains; the caller then scatters the values into a dense
    /// plan and calls <see cref="RepairDense"/>.
    /// </summary>
    internal static bool TryCleanSupport(int rows, int cols, ReadOnlySpan<double> marginals, double total, ReadOnlySpan<int> flat, Span<double> value)
    {
        int count = flat.Length;
        int[] position = ArrayPool<int>.Shared.Rent(Math.Max(count, 1));
        int[] index = ArrayPool<int>.Shared.Rent(Math.Max(2 * count, 1));
        double[] sums = ArrayPool<double>.Shared.Rent(marginals.Length);
        try
        {
            for (int e = 0; e < count; e++)
            {
                int i = flat[e] / cols;
                position[e] = e;
                index[2 * e] = i;
                index[(2 * e) + 1] = flat[e] - (i * cols);
            }

            ReadOnlySpan<int> shape = [rows, cols];
            ReadOnlySpan<int> at = position.AsSpan(0, count);
            ReadOnlySpan<int> pairs = index.AsSpan(0, 2 * count);
            Span<double> axisSums = sums.AsSpan(0, marginals.Length);
            if (!PeelForest(value, rows, cols, marginals, at, pairs))
            {
                FitProportionally(value, shape, marginals, total, at, pairs, axisSums);
            }

            return MaxResidual(value, shape, marginals, at, pairs, axisSums) <= RepairTolerance * total;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(position);
            ArrayPool<int>.Shared.Return(index);
            ArrayPool<double>.Shared.Return(sums);
        }
    }

    /// <summary>The last step of <see cref="Clean"/>, for a dense plan whose support could not carry the marginals.</summary>
    internal static void RepairDense(Span<double> plan, ReadOnlySpan<int> shape, ReadOnlySpan<double> marginals, double total)
    {
        double[] sums = ArrayPool<double>.Shared.Rent(marginals.Length);
        try
        {
            Repair(plan, shape, marginals, total, sums.AsSpan(0, marginals.Length));
        }
        finally
        {
            ArrayPool<double>.Shared.Return(sums);
        }
    }

    /// <summary>Largest |axis sum − marginal| of a dense plan, over all axes (for tests and diagnostics).</summary>
    internal static double MaxResidual(ReadOnlySpan<double> plan, ReadOnlySpan<int> shape, ReadOnlySpan<double> marginals)
    {
        var sums = new double[marginals.Length];
        AxisSums(plan, shape, sums);
        double max = 0;
        for (int r = 0; r < sums.Length; r++)
        {
            max = Math.Max(max, Math.Abs(sums[r] - marginals[r]));
        }

        return max;
    }

    // Records the flat position and multi-index of every positive entry.
    private static int CollectSupport(ReadOnlySpan<double> plan, ReadOnlySpan<int> shape, Span<int> flat, Span<int> index)
    {
        int axes = shape.Length;
        Span<int> odometer = stackalloc int[axes];
        odometer.Clear();
        int count = 0;
        for (int c = 0; c < plan.Length; c++)
        {
            if (plan[c] > 0)
            {
                flat[count] = c;
                odometer.CopyTo(index.Slice(count * axes, axes));
                count++;
            }

            for (int k = axes - 1; k >= 0 && ++odometer[k] == shape[k]; k--)
            {
                odometer[k] = 0;
            }
        }

        return count;
    }

    /// <summary>
    /// Recomputes a plan whose support is a forest from the marginals alone, by repeatedly removing a leaf node (a row or
    /// column with one remaining support edge), which must send its whole remaining mass along that edge.
    /// Returns false, leaving the plan unusable for exactness claims, if the support contains a cycle.
    /// </summary>
    private static bool PeelForest(Span<double> plan, int rows, int cols, ReadOnlySpan<double> marginals, ReadOnlySpan<int> flat, ReadOnlySpan<int> index)
    {
        int nodes = rows + cols;
        int edges = flat.Length;
        int[] degree = ArrayPool<int>.Shared.Rent(nodes);
        int[] adjacencyStart = ArrayPool<int>.Shared.Rent(nodes + 1);
        int[] adjacency = ArrayPool<int>.Shared.Rent(Math.Max(2 * edges, 1));
        int[] queue = ArrayPool<int>.Shared.Rent(2 * nodes); // each node enters at most twice: initially and when its degree drops to 1
        bool[] done = ArrayPool<bool>.Shared.Rent(Math.Max(edges, 1));
        double[] remaining = ArrayPool<double>.Shared.Rent(nodes);
        try
        {
            // Node of row i is i, node of column j is rows + j; adjacency in CSR form (edge ids per node).
            degree.AsSpan(0, nodes).Clear();
            for (int e = 0; e < edges; e++)
            {
                degree[index[2 * e]]++;
                degree[rows + index[(2 * e) + 1]]++;
            }

            adjacencyStart[0] = 0;
            for (int v = 0; v < nodes; v++)
            {
                adjacencyStart[v + 1] = adjacencyStart[v] + degree[v];
            }

            Span<int> fill = queue.AsSpan(0, nodes);
            adjacencyStart.AsSpan(0, nodes).CopyTo(fill);
            for (int e = 0; e < edges; e++)
            {
                adjacency[fill[index[2 * e]]++] = e;
                adjacency[fill[rows + index[(2 * e) + 1]]++] = e;
            }

            done.AsSpan(0, edges).Clear();
            marginals.CopyTo(remaining);
            int head = 0;
            int tail = 0;
            for (int v = 0; v < nodes; v++)
            {
                if (degree[v] == 1)
                {
                    queue[tail++] = v;
                }
            }

            int assigned = 0;
            while (head < tail)
            {
                int v = queue[head++];
                if (degree[v] != 1)
                {
                    continue; // Its last edge was taken by the neighbour (end of a path): nothing left here.
                }

                int e = -1;
                for (int p = adjacencyStart[v]; p < adjacencyStart[v + 1]; p++)
                {
                    if (!done[adjacency[p]])
                    {
                        e = adjacency[p];
                        break;
                    }
                }

                int u = v < rows ? rows + index[(2 * e) + 1] : index[2 * e];

                // A negative remainder means the support needs a negative flow here (solver stopped slightly infeasible);
                // clamp and let the residual check repair it.
                double mass = Math.Max(remaining[v], 0.0);
                plan[flat[e]] = mass;
                remaining[v] -= mass;
                remaining[u] -= mass;
                done[e] = true;
                assigned++;
                degree[v]--;
                if (--degree[u] == 1)
                {
                    queue[tail++] = u;
                }
            }

            return assigned == edges;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(degree);
            ArrayPool<int>.Shared.Return(adjacencyStart);
            ArrayPool<int>.Shared.Return(adjacency);
            ArrayPool<int>.Shared.Return(queue);
            ArrayPool<bool>.Shared.Return(done);
            ArrayPool<double>.Shared.Return(remaining);
        }
    }

    // Iterative proportional fitting restricted to the support: scaling keeps zeros at zero, so sparsity is preserved.
    private static void FitProportionally(Span<double> plan, ReadOnlySpan<int> shape, ReadOnlySpan<double> marginals, double total, ReadOnlySpan<int> flat, ReadOnlySpan<int> index, Span<double> sums)
    {
        int axes = shape.Length;
        for (int round = 0; round < MaxFittingRounds; round++)
        {
            int offset = 0;
            for (int k = 0; k < axes; k++)
            {
                Span<double> axisSums = sums.Slice(offset, shape[k]);
                axisSums.Clear();
                for (int e = 0; e < flat.Length; e++)
                {
                    axisSums[index[(e * axes) + k]] += plan[flat[e]];
                }

                for (int e = 0; e < flat.Length; e++)
                {
                    int i = index[(e * axes) + k];
                    if (axisSums[i] > 0)
                    {
                        plan[flat[e]] *= marginals[offset + i] / axisSums[i];
                    }
                }

                offset += shape[k];
            }

            if (MaxResidual(plan, shape, marginals, flat, index, sums) <= DoneTolerance * total)
            {
                return;
            }
        }
    }

    private static double MaxResidual(ReadOnlySpan<double> plan, ReadOnlySpan<int> shape, ReadOnlySpan<double> marginals, ReadOnlySpan<int> flat, ReadOnlySpan<int> index, Span<double> sums)
    {
        int axes = shape.Length;
        sums.Clear();
        for (int e = 0; e < flat.Length; e++)
        {
            double w = plan[flat[e]];
            int offset = 0;
            for (int k = 0; k < axes; k++)
            {
                sums[offset + index[(e * axes) + k]] += w;
                offset += shape[k];
            }
        }

        double max = 0;
        for (int r = 0; r < sums.Length; r++)
        {
            max = Math.Max(max, Math.Abs(sums[r] - marginals[r]));
        }

        return max;
    }

    // Dense axis sums (the support may have grown in Repair, so this does not use a support list).
    private static void AxisSums(ReadOnlySpan<double> plan, ReadOnlySpan<int> shape, Span<double> sums)
    {
        int axes = shape.Length;
        Span<int> odometer = stackalloc int[axes];
        odometer.Clear();
        sums.Clear();
        for (int c = 0; c < plan.Length; c++)
        {
            double w = plan[c];
            if (w != 0)
            {
                int offset = 0;
                for (int k = 0; k < axes; k++)
                {
                    sums[offset + odometer[k]] += w;
                    offset += shape[k];
                }
            }

            for (int k = axes - 1; k >= 0 && ++odometer[k] == shape[k]; k--)
            {
                odometer[k] = 0;
            }
        }
    }

    /// <summary>
    /// Last resort when the support cannot carry the marginals: scale down every slice that carries more than its
    /// marginal (which only lowers the other axes' sums), then move the remaining deficits with the multi-axis
    /// north-west-corner rule, a feasible transport of the deficits.
    /// </summary>
    private static void Repair(Span<double> plan, ReadOnlySpan<int> shape, ReadOnlySpan<double> marginals, double total, Span<double> sums)
    {
        int axes = shape.Length;
        Span<int> stride = stackalloc int[axes];
        int s = 1;
        for (int k = axes - 1; k >= 0; k--)
        {
            stride[k] = s;
            s *= shape[k];
        }

        Span<int> odometer = stackalloc int[axes];
        int offset = 0;
        for (int k = 0; k < axes; k++)
        {
            AxisSums(plan, shape, sums);
            odometer.Clear();
            for (int c = 0; c < plan.Length; c++)
            {
                int r = offset + odometer[k];
                if (plan[c] != 0 && sums[r] > marginals[r])
                {
                    plan[c] *= marginals[r] / sums[r];
                }

                for (int q = axes - 1; q >= 0 && ++odometer[q] == shape[q]; q--)
                {
                    odometer[q] = 0;
                }
            }

            offset += shape[k];
        }

        AxisSums(plan, shape, sums);
        double negligible = DoneTolerance * total;
        for (int r = 0; r < sums.Length; r++)
        {
            sums[r] = Math.Max(marginals[r] - sums[r], 0.0); // now the deficit of each slice
        }

        // North-west corner over the deficits: one pointer per axis, always advancing the exhausted ones.
        Span<int> pointer = stackalloc int[axes];
        Span<int> axisOffset = stackalloc int[axes];
        offset = 0;
        for (int k = 0; k < axes; k++)
        {
            axisOffset[k] = offset;
            pointer[k] = NextDeficit(sums.Slice(offset, shape[k]), 0, negligible);
            offset += shape[k];
        }

        while (true)
        {
            double amount = double.PositiveInfinity;
            for (int k = 0; k < axes; k++)
            {
                if (pointer[k] >= shape[k])
                {
                    return;
                }

                amount = Math.Min(amount, sums[axisOffset[k] + pointer[k]]);
            }

            int c = 0;
            for (int k = 0; k < axes; k++)
            {
                c += pointer[k] * stride[k];
                sums[axisOffset[k] + pointer[k]] -= amount;
            }

            plan[c] += amount;
            for (int k = 0; k < axes; k++)
            {
                if (sums[axisOffset[k] + pointer[k]] <= negligible)
                {
                    pointer[k] = NextDeficit(sums.Slice(axisOffset[k], shape[k]), pointer[k] + 1, negligible);
                }
            }
        }
    }

    private static int NextDeficit(ReadOnlySpan<double> deficits, int from, double negligible)
    {
        int i = from;
        while (i < deficits.Length && deficits[i] <= negligible)
        {
            i++;
        }

        return i;
    }
}

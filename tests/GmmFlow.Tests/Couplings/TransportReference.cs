using GmmFlow.Native.Highs;

namespace GmmFlow.Tests.Transport;

/// <summary>
/// Independent reference computations for transport tests: none of them shares code with the solvers under test
/// (brute-force enumeration, the dual LP, plain probability-domain Sinkhorn, the 1-D quantile formula).
/// </summary>
internal static class TransportReference
{
    internal static double[] Dirichlet(Random rng, int k, double concentration = 1.0)
    {
        var w = new double[k];
        double s = 0;
        for (int i = 0; i < k; i++)
        {
            // Exponential draws (concentration 1) raised to 1/concentration: uneven weights for small concentration.
            w[i] = Math.Pow(-Math.Log(1 - rng.NextDouble()), 1.0 / concentration) + 1e-6;
            s += w[i];
        }

        for (int i = 0; i < k; i++)
        {
            w[i] /= s;
        }

        return w;
    }

    internal static double[] Uniform(Random rng, int count, double scale = 1.0)
    {
        var c = new double[count];
        for (int i = 0; i < count; i++)
        {
            c[i] = scale * rng.NextDouble();
        }

        return c;
    }

    internal static double MaxMarginalError(Coupling coupling, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var rows = new double[a.Length];
        var cols = new double[b.Length];
        foreach (CouplingEntry e in coupling.Entries)
        {
            rows[e.Source] += e.Weight;
            cols[e.Target] += e.Weight;
        }

        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(rows[i] - a[i]));
        }

        for (int j = 0; j < b.Length; j++)
        {
            max = Math.Max(max, Math.Abs(cols[j] - b[j]));
        }

        return max;
    }

    /// <summary>min over permutations σ of (1/K) Σ_i C[i, σ(i)] (Birkhoff: the optimum for equal weights 1/K).</summary>
    internal static double BestAssignment(ReadOnlySpan<double> cost, int k)
    {
        int[] perm = Enumerable.Range(0, k).ToArray();
        double best = double.PositiveInfinity;
        double[] c = cost.ToArray();
        Permute(perm, 0, c, k, ref best);
        return best / k;
    }

    private static void Permute(int[] perm, int depth, double[] cost, int k, ref double best)
    {
        if (depth == k)
        {
            double s = 0;
            for (int i = 0; i < k; i++)
            {
                s += cost[(i * k) + perm[i]];
            }

            best = Math.Min(best, s);
            return;
        }

        for (int t = depth; t < k; t++)
        {
            (perm[depth], perm[t]) = (perm[t], perm[depth]);
            Permute(perm, depth + 1, cost, k, ref best);
            (perm[depth], perm[t]) = (perm[t], perm[depth]);
        }
    }

    /// <summary>
    /// LP optimum by enumerating vertices: every basic solution of the transport polytope is supported on a spanning
    /// tree of K0 + K1 − 1 pairs, whose flows the marginals determine. Minimum over the non-negative ones.
    /// </summary>
    internal static double BestVertex(ReadOnlySpan<double> a, ReadOnlySpan<double> b, ReadOnlySpan<double> cost)
    {
        int rows = a.Length;
        int cols = b.Length;
        int cells = rows * cols;
        int size = rows + cols - 1;
        double best = double.PositiveInfinity;
        double[] aa = a.ToArray();
        double[] bb = b.ToArray();
        double[] cc = cost.ToArray();
        foreach (int[] subset in Subsets(cells, size))
        {
            double[]? flows = TreeFlows(subset, aa, bb);
            if (flows is null)
            {
                continue;
            }

            double s = 0;
            for (int e = 0; e < subset.Length; e++)
            {
                s += flows[e] * cc[subset[e]];
            }

            best = Math.Min(best, s);
        }

        return best;
    }

    // Flows on the edges of a candidate tree, or null if the edges are not a spanning tree or a flow is negative.
    // Solved by Gaussian elimination on the (rows + cols) × edges incidence system, independent of any leaf peeling.
    private static double[]? TreeFlows(int[] edges, double[] a, double[] b)
    {
        int rows = a.Length;
        int cols = b.Length;
        int n = edges.Length;
        int m = rows + cols;
        var matrix = new double[m, n + 1];
        for (int e = 0; e < n; e++)
        {
            matrix[edges[e] / cols, e] = 1;
            matrix[rows + (edges[e] % cols), e] = 1;
        }

        for (int i = 0; i < rows; i++)
        {
            matrix[i, n] = a[i];
        }

        for (int j = 0; j < cols; j++)
        {
            matrix[rows + j, n] = b[j];
        }

        int pivotRow = 0;
        var pivotOf = new int[n];
        for (int col = 0; col < n; col++)
        {
            int best = -1;
            for (int r = pivotRow; r < m; r++)
            {
                if (Math.Abs(matrix[r, col]) > 0.5 && (best < 0 || Math.Abs(matrix[r, col]) > Math.Abs(matrix[best, col])))
                {
                    best = r;
                }
            }

            if (best < 0)
            {
                return null; // rank deficient: the edges contain a cycle, not a spanning tree
            }

            for (int c = 0; c <= n; c++)
            {
                (matrix[pivotRow, c], matrix[best, c]) = (matrix[best, c], matrix[pivotRow, c]);
            }

            for (int r = 0; r < m; r++)
            {
                if (r != pivotRow && matrix[r, col] != 0)
                {
                    double factor = matrix[r, col] / matrix[pivotRow, col];
                    for (int c = 0; c <= n; c++)
                    {
                        matrix[r, c] -= factor * matrix[pivotRow, c];
                    }
                }
            }

            pivotOf[col] = pivotRow++;
        }

        var flows = new double[n];
        for (int e = 0; e < n; e++)
        {
            flows[e] = matrix[pivotOf[e], n] / matrix[pivotOf[e], e];
            if (flows[e] < -1e-12)
            {
                return null;
            }
        }

        return flows;
    }

    private static IEnumerable<int[]> Subsets(int n, int size)
    {
        var current = new int[size];
        for (int i = 0; i < size; i++)
        {
            current[i] = i;
        }

        while (true)
        {
            yield return (int[])current.Clone();
            int p = size - 1;
            while (p >= 0 && current[p] == n - size + p)
            {
                p--;
            }

            if (p < 0)
            {
                yield break;
            }

            current[p]++;
            for (int q = p + 1; q < size; q++)
            {
                current[q] = current[q - 1] + 1;
            }
        }
    }

    /// <summary>
    /// Optimum of the dual LP max Σ_k ⟨μ_k, u_k⟩ s.t. Σ_k u_k[x_k] ≤ C(x) for every multi-index x, solved by HiGHS
    /// as its own model (free variables, one inequality row per tensor entry). Strong duality: equals the primal optimum.
    /// </summary>
    internal static double DualOptimum(ReadOnlySpan<double> cost, int[] shape, double[][] marginals)
    {
        int axes = shape.Length;
        int numCol = shape.Sum();
        int numRow = cost.Length;
        var colCost = new double[numCol];
        var offsets = new int[axes];
        int offset = 0;
        for (int k = 0; k < axes; k++)
        {
            offsets[k] = offset;
            for (int i = 0; i < shape[k]; i++)
            {
                colCost[offset + i] = -marginals[k][i]; // maximise ⟨μ, u⟩ as minimise −⟨μ, u⟩
            }

            offset += shape[k];
        }

        // Column (k, i) has a 1 in every row whose multi-index has x_k = i; build column lists by walking all rows.
        var columns = new List<int>[numCol];
        for (int c = 0; c < numCol; c++)
        {
            columns[c] = [];
        }

        var index = new int[axes];
        for (int r = 0; r < numRow; r++)
        {
            for (int k = 0; k < axes; k++)
            {
                columns[offsets[k] + index[k]].Add(r);
            }

            for (int k = axes - 1; k >= 0 && ++index[k] == shape[k]; k--)
            {
                index[k] = 0;
            }
        }

        var start = new int[numCol + 1];
        var rowIndex = new List<int>();
        for (int c = 0; c < numCol; c++)
        {
            start[c] = rowIndex.Count;
            rowIndex.AddRange(columns[c]);
        }

        start[numCol] = rowIndex.Count;
        double[] values = Enumerable.Repeat(1.0, rowIndex.Count).ToArray();
        double[] colLower = Enumerable.Repeat(double.NegativeInfinity, numCol).ToArray();
        double[] colUpper = Enumerable.Repeat(double.PositiveInfinity, numCol).ToArray();
        double[] rowLower = Enumerable.Repeat(double.NegativeInfinity, numRow).ToArray();
        var u = new double[numCol];
        HighsLpResult result = HighsLp.Solve(
            new HighsLpModel(colCost, colLower, colUpper, rowLower, cost, start, rowIndex.ToArray(), values), u, default,
            new HighsLpSettings { PrimalFeasibilityTolerance = 1e-10, DualFeasibilityTolerance = 1e-10 });
        if (!result.IsOptimal)
        {
            throw new InvalidOperationException($"dual LP status {result.Status}");
        }

        return -result.Objective;
    }

    /// <summary>Plain (probability-domain) Sinkhorn with kernel exp(−C/τ); only stable for moderate C/τ.</summary>
    internal static double[] PlainSinkhorn(double[] a, double[] b, double[] cost, double tau, int iterations)
    {
        int rows = a.Length;
        int cols = b.Length;
        var kernel = cost.Select(c => Math.Exp(-c / tau)).ToArray();
        var u = Enumerable.Repeat(1.0, rows).ToArray();
        var v = Enumerable.Repeat(1.0, cols).ToArray();
        for (int it = 0; it < iterations; it++)
        {
            for (int i = 0; i < rows; i++)
            {
                double s = 0;
                for (int j = 0; j < cols; j++)
                {
                    s += kernel[(i * cols) + j] * v[j];
                }

                u[i] = a[i] / s;
            }

            for (int j = 0; j < cols; j++)
            {
                double s = 0;
                for (int i = 0; i < rows; i++)
                {
                    s += kernel[(i * cols) + j] * u[i];
                }

                v[j] = b[j] / s;
            }
        }

        var plan = new double[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                plan[(i * cols) + j] = u[i] * kernel[(i * cols) + j] * v[j];
            }
        }

        return plan;
    }

    /// <summary>
    /// W2² between uniform empirical measures on the line: ∫₀¹ (F⁻¹(t) − G⁻¹(t))² dt with both quantile functions
    /// piecewise constant, integrated exactly over the merged breakpoints i/n and j/m (in units of 1/(n·m)).
    /// </summary>
    internal static double QuantileW2Squared(double[] x, double[] y)
    {
        double[] xs = x.OrderBy(v => v).ToArray();
        double[] ys = y.OrderBy(v => v).ToArray();
        long n = xs.Length;
        long m = ys.Length;
        long position = 0;
        int i = 0;
        int j = 0;
        double sum = 0;
        while (i < n && j < m)
        {
            long nextX = (i + 1) * m;
            long nextY = (j + 1) * n;
            long next = Math.Min(nextX, nextY);
            double d = xs[i] - ys[j];
            sum += (next - position) * d * d;
            position = next;
            if (next == nextX)
            {
                i++;
            }

            if (next == nextY)
            {
                j++;
            }
        }

        return sum / (n * m);
    }
}

using System.Buffers;
using GmmFlow.Native.Highs;

namespace GmmFlow;

/// <summary>
/// Couplings between discrete marginals (docs/theory.md#couplings): the exact transport LP (two or more marginals, solved by HiGHS)
/// and entropic transport (log-domain Sinkhorn). These decide which source/target component pairs the mixture flow uses.
/// </summary>
/// <remarks>
/// Inputs are spans so callers can pass slices of their own buffers; results are small immutable objects. Every method is
/// thread-safe: nothing is shared between calls; each thread keeps one idle HiGHS instance for its next LP (options set
/// once, model cleared between solves), so concurrent solves never share an instance.
/// </remarks>
public static class Couplings
{
    /// <summary>
    /// Exact optimal coupling: minimise Σ λ_ij C_ij over λ ≥ 0 with Σ_j λ_ij = a_i and Σ_i λ_ij = b_j.
    /// </summary>
    /// <param name="sourceWeights">a, length K0, every entry finite and &gt; 0.</param>
    /// <param name="targetWeights">b, length K1, every entry finite and &gt; 0, same total as a within 1e-9 (relative).</param>
    /// <param name="cost">C, K0 × K1 row-major, finite.</param>
    /// <returns>
    /// A sparse basic optimal plan (at most K0 + K1 − 1 entries) whose row sums equal a and column sums equal
    /// b·(Σa/Σb) to within 1e-12 of the total mass, and its objective recomputed from the cleaned plan.
    /// </returns>
    /// <exception cref="ArgumentException">Bad sizes, non-positive weights, totals that differ, or non-finite costs
    /// (<see cref="NonFiniteValueException"/>); the message names the index and value.</exception>
    /// <exception cref="HighsException">HiGHS reported an error status.</exception>
    /// <exception cref="NativeLibraryNotFoundException">libhighs could not be loaded.</exception>
    /// <remarks>
    /// <para>The LP has K0·K1 columns (λ_ij) and K0 + K1 equality rows, one of which is implied by the others. The last
    /// target row is dropped: the matrix is then full rank, so an optimal basis is exactly a spanning tree of
    /// K0 + K1 − 1 pairs, and the dropped constraint holds up to round-off, which the cleanup removes. (With HiGHS'
    /// default presolve, keeping the redundant row was slower; without presolve the two were equal within noise.)
    /// Marginals are normalised to mass 1 and costs scaled by 1 / max|C| because HiGHS' tolerances are absolute.</para>
    /// <para>HiGHS sees only a restricted LP: each row's and column's cheapest pairs plus pairs that make it feasible,
    /// grown by pricing all pairs with the duals until no reduced cost is negative, which proves optimality for the full LP
    /// (<see cref="TransportColumnGeneration"/>). No presolve (it finds nothing to remove in a transport LP and cost more
    /// than it saved). Up to max(K0, K1) = 24 HiGHS' primal simplex starts from the spanning tree of the greedy
    /// least-cost plan (a handful of iterations); above, serial dual simplex starts from HiGHS' logical basis.
    /// Measured medians (`gmmflow bench`, uniform costs in [0, 1), Dirichlet weights) on this project's 2-core machine
    /// with other jobs loading it: K = 10 / 100 / 500 → 68–113 µs / 3.4 ms / 32–33 ms; POT's network simplex (ot.emd) on
    /// identical inputs in the same session: 52–55 µs / 0.75 ms / 22.6 ms. What remains is HiGHS itself: about 30 µs of
    /// fixed work per run even from an optimal basis, and about 10 µs per dual simplex iteration at K = 100 with
    /// ~1.5 (K0 + K1) iterations from the logical basis (about 85 % of the time at K = 100 and 500 is inside Highs_run).
    /// Matching ot.emd would take a solver that exploits the network structure (spanning-tree bases updated in O(K)
    /// per pivot), i.e. a network simplex, rather than a general LP code.</para>
    /// <para>When the totals differ by less than the tolerance, b is rescaled to a's total so the LP is feasible; the
    /// column sums then match that rescaled b.</para>
    /// </remarks>
    public static Coupling ExactLp(ReadOnlySpan<double> sourceWeights, ReadOnlySpan<double> targetWeights, ReadOnlySpan<double> cost)
        => ExactLp(sourceWeights, targetWeights, cost, MarginalLp.DefaultSettings, TransportLpMethod.ColumnGeneration);

    /// <summary>As <see cref="ExactLp(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double})"/>, with explicit HiGHS settings (benchmarks, tests).</summary>
    internal static Coupling ExactLp(ReadOnlySpan<double> sourceWeights, ReadOnlySpan<double> targetWeights, ReadOnlySpan<double> cost, in HighsLpSettings settings, TransportLpMethod method)
    {
        double totalA = CouplingInputs.CheckWeights(sourceWeights, nameof(sourceWeights));
        double totalB = CouplingInputs.CheckWeights(targetWeights, nameof(targetWeights));
        CouplingInputs.CheckTotals(totalA, nameof(sourceWeights), totalB, nameof(targetWeights));
        int rows = sourceWeights.Length;
        int cols = targetWeights.Length;
        long cells = (long)rows * cols;
        if (cells * 2 > int.MaxValue)
        {
            ThrowHelper.ThrowArgument($"A {rows} × {cols} transport LP has more nonzeros than HiGHS' 32-bit indices allow.", nameof(cost));
        }

        double maxAbs = CouplingInputs.CheckCostMaxAbs(cost, cells, $"{rows} × {cols}", nameof(cost));

        // Costs to [-1, 1] (see Scale); the plan does not depend on the factor.
        double scale = maxAbs > 0 ? 1.0 / maxAbs : 1.0;
        double[] marginals = ArrayPool<double>.Shared.Rent(rows + cols);
        try
        {
            Span<double> mu = marginals.AsSpan(0, rows + cols);
            Normalise(sourceWeights, totalA, mu[..rows]);
            Normalise(targetWeights, totalB, mu[rows..]);
            if (method == TransportLpMethod.ColumnGeneration)
            {
                method = Math.Max(rows, cols) <= TransportColumnGeneration.PrimalStartMaxSide ? TransportLpMethod.ColumnGenerationPrimal : TransportLpMethod.ColumnGenerationDual;
            }

            return method is TransportLpMethod.ColumnGenerationPrimal or TransportLpMethod.ColumnGenerationDual
                ? ExactLpByColumnGeneration(cost, scale, rows, cols, mu, totalA, settings, method == TransportLpMethod.ColumnGenerationPrimal)
                : ExactLpFull(cost, scale, rows, cols, mu, totalA, settings, method);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(marginals);
        }
    }

    // Works on the solution's positive entries only: at K = 500 the dense K² plan and its scans cost ~2 ms.
    private static Coupling ExactLpByColumnGeneration(ReadOnlySpan<double> cost, double scale, int rows, int cols, ReadOnlySpan<double> mu, double totalA, in HighsLpSettings settings, bool primalStart)
    {
        HighsLpResult result = TransportColumnGeneration.Solve(cost, scale, rows, cols, mu, settings, primalStart, out _, out TransportColumnGeneration.SparsePlan support);
        try
        {
            if (!result.IsOptimal)
            {
                return new Coupling(MarginalLp.ToLpStatus(result.Status), double.NaN, [], rows, cols, result.SimplexIterations);
            }

            if (PlanCleanup.TryCleanSupport(rows, cols, mu, 1.0, support.Flat, support.Value))
            {
                return ToCoupling(support.Flat, support.Value, cost, rows, cols, totalA, result.SimplexIterations);
            }

            // The support cannot carry the marginals (HiGHS stopped slightly infeasible): repair on the dense plan.
            int n = rows * cols;
            double[] plan = ArrayPool<double>.Shared.Rent(n);
            try
            {
                Span<double> x = plan.AsSpan(0, n);
                x.Clear();
                for (int e = 0; e < support.Count; e++)
                {
                    x[support.Flat[e]] = support.Value[e];
                }

                PlanCleanup.RepairDense(x, [rows, cols], mu, 1.0);
                return ToCoupling(x, cost, rows, cols, totalA, result.SimplexIterations);
            }
            finally
            {
                ArrayPool<double>.Shared.Return(plan);
            }
        }
        finally
        {
            support.Return();
        }
    }

    private static Coupling ExactLpFull(ReadOnlySpan<double> cost, double scale, int rows, int cols, ReadOnlySpan<double> mu, double totalA, in HighsLpSettings settings, TransportLpMethod method)
    {
        int n = rows * cols;
        ReadOnlySpan<int> shape = [rows, cols];
        double[] scaledCost = ArrayPool<double>.Shared.Rent(n);
        double[] plan = ArrayPool<double>.Shared.Rent(n);
        try
        {
            for (int c = 0; c < n; c++)
            {
                scaledCost[c] = cost[c] * scale;
            }

            Span<double> x = plan.AsSpan(0, n);
            HighsLpResult result = MarginalLp.Solve(scaledCost.AsSpan(0, n), shape, mu, x, settings, dropRedundantRows: method == TransportLpMethod.FullDropRow);
            if (!result.IsOptimal)
            {
                return new Coupling(MarginalLp.ToLpStatus(result.Status), double.NaN, [], rows, cols, result.SimplexIterations);
            }

            PlanCleanup.Clean(x, shape, mu, 1.0);
            return ToCoupling(x, cost, rows, cols, totalA, result.SimplexIterations);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scaledCost);
            ArrayPool<double>.Shared.Return(plan);
        }
    }

    private static Coupling ToCoupling(ReadOnlySpan<double> plan, ReadOnlySpan<double> cost, int rows, int cols, double totalA, int iterations)
    {
        int count = 0;
        foreach (double w in plan)
        {
            count += w > 0 ? 1 : 0;
        }

        int[] flat = ArrayPool<int>.Shared.Rent(Math.Max(count, 1));
        double[] value = ArrayPool<double>.Shared.Rent(Math.Max(count, 1));
        try
        {
            int e = 0;
            for (int c = 0; c < plan.Length; c++)
            {
                if (plan[c] > 0)
                {
                    flat[e] = c;
                    value[e++] = plan[c];
                }
            }

            return ToCoupling(flat.AsSpan(0, count), value.AsSpan(0, count), cost, rows, cols, totalA, iterations);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(flat);
            ArrayPool<double>.Shared.Return(value);
        }
    }

    // Entries in ascending pair order (flat ascending), zeros skipped.
    private static Coupling ToCoupling(ReadOnlySpan<int> flat, ReadOnlySpan<double> value, ReadOnlySpan<double> cost, int rows, int cols, double totalA, int iterations)
    {
        int count = 0;
        foreach (double w in value)
        {
            count += w > 0 ? 1 : 0;
        }

        var entries = new CouplingEntry[count];
        double objective = 0;
        int e = 0;
        for (int k = 0; k < flat.Length; k++)
        {
            if (value[k] > 0)
            {
                // Back to the caller's mass: rows now sum to a_i exactly up to one rounding.
                int c = flat[k];
                double w = value[k] * totalA;
                entries[e++] = new CouplingEntry(c / cols, c % cols, w);
                objective += w * cost[c];
            }
        }

        return new Coupling(LpStatus.Optimal, objective, entries, rows, cols, iterations);
    }

    /// <summary>
    /// Exact multi-marginal coupling: minimise Σ_x C(x) λ(x) over tensors λ ≥ 0 on N_1 × … × N_M whose k-th marginal
    /// (sum over all other axes) is <c>marginals[k]</c>.
    /// </summary>
    /// <param name="cost">C, Π N_k values in row-major order (the last axis varies fastest), finite.</param>
    /// <param name="shape">N_1 … N_M, M ≥ 2, each ≥ 1.</param>
    /// <param name="marginals">M weight vectors, <c>marginals[k]</c> of length N_k, positive, with equal totals (1e-9 relative).</param>
    /// <returns>A sparse basic optimal coupling (at most Σ N_k − M + 1 entries) meeting every marginal to 1e-12 of the mass.</returns>
    /// <exception cref="ArgumentException">Bad shape or sizes, non-positive weights, totals that differ, non-finite costs.</exception>
    /// <exception cref="HighsException">HiGHS reported an error status.</exception>
    /// <remarks>
    /// The LP has Π N_k columns and Σ N_k rows (M − 1 of them implied and dropped), each column with M unit entries, so the
    /// model grows with the full tensor: it is meant for few marginals of modest size (e.g. 3 × 20 components).
    /// With M = 2 it is the same LP as <see cref="ExactLp(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double})"/>.
    /// <c>marginals[1..]</c> are rescaled to the total of <c>marginals[0]</c>, as in the two-marginal case.
    /// </remarks>
    public static MultiMarginalCoupling MultiMarginal(ReadOnlySpan<double> cost, ReadOnlySpan<int> shape, params ReadOnlySpan<double[]> marginals)
    {
        int axes = shape.Length;
        if (axes < 2)
        {
            ThrowHelper.ThrowArgument($"A multi-marginal coupling needs at least 2 axes; shape has {axes}.", nameof(shape));
        }

        if (marginals.Length != axes)
        {
            ThrowHelper.ThrowArgument($"shape has {axes} axes but {marginals.Length} marginals were given.", nameof(marginals));
        }

        long cells = 1;
        int rowCount = 0;
        for (int k = 0; k < axes; k++)
        {
            if (shape[k] < 1)
            {
                ThrowHelper.ThrowArgument($"shape[{k}] = {shape[k]}; every axis needs at least one index.", nameof(shape));
            }

            if (marginals[k] is null || marginals[k].Length != shape[k])
            {
                ThrowHelper.ThrowArgument($"marginals[{k}] has length {marginals[k]?.Length ?? 0}, expected shape[{k}] = {shape[k]}.", nameof(marginals));
            }

            cells *= shape[k];
            rowCount += shape[k];
            if (cells * axes > int.MaxValue)
            {
                ThrowHelper.ThrowArgument($"The multi-marginal LP over shape ({string.Join(" × ", shape.ToArray())}) has more nonzeros than HiGHS' 32-bit indices allow.", nameof(shape));
            }
        }

        Span<double> totals = stackalloc double[axes];
        for (int k = 0; k < axes; k++)
        {
            totals[k] = CouplingInputs.CheckWeights(marginals[k], $"marginals[{k}]");
            if (k > 0)
            {
                CouplingInputs.CheckTotals(totals[0], "marginals[0]", totals[k], $"marginals[{k}]");
            }
        }

        CouplingInputs.CheckCost(cost, cells, string.Join(" × ", shape.ToArray()), nameof(cost));

        int n = (int)cells;
        double[] mu = ArrayPool<double>.Shared.Rent(rowCount);
        double[] scaledCost = ArrayPool<double>.Shared.Rent(n);
        double[] plan = ArrayPool<double>.Shared.Rent(n);
        try
        {
            int offset = 0;
            for (int k = 0; k < axes; k++)
            {
                Normalise(marginals[k], totals[k], mu.AsSpan(offset, shape[k]));
                offset += shape[k];
            }

            Scale(cost, scaledCost.AsSpan(0, n));
            Span<double> x = plan.AsSpan(0, n);
            HighsLpResult result = MarginalLp.Solve(scaledCost.AsSpan(0, n), shape, mu.AsSpan(0, rowCount), x, MarginalLp.DefaultSettings, MarginalLp.DropRedundantRows);
            int[] shapeCopy = shape.ToArray();
            if (!result.IsOptimal)
            {
                return new MultiMarginalCoupling(MarginalLp.ToLpStatus(result.Status), double.NaN, shapeCopy, [], [], result.SimplexIterations);
            }

            PlanCleanup.Clean(x, shape, mu.AsSpan(0, rowCount), 1.0);

            int count = 0;
            foreach (double w in x)
            {
                count += w > 0 ? 1 : 0;
            }

            var weights = new double[count];
            var indices = new int[count * axes];
            Span<int> odometer = stackalloc int[axes];
            odometer.Clear();
            double objective = 0;
            int e = 0;
            for (int c = 0; c < n; c++)
            {
                if (x[c] > 0)
                {
                    double w = x[c] * totals[0];
                    weights[e] = w;
                    odometer.CopyTo(indices.AsSpan(e * axes, axes));
                    objective += w * cost[c];
                    e++;
                }

                for (int k = axes - 1; k >= 0 && ++odometer[k] == shape[k]; k--)
                {
                    odometer[k] = 0;
                }
            }

            return new MultiMarginalCoupling(LpStatus.Optimal, objective, shapeCopy, indices, weights, result.SimplexIterations);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(mu);
            ArrayPool<double>.Shared.Return(scaledCost);
            ArrayPool<double>.Shared.Return(plan);
        }
    }

    /// <summary>
    /// Entropic optimal coupling π = argmin ⟨π, C⟩ − τ H(π) over plans with marginals a and b, H(π) = −Σ π log π,
    /// by log-domain Sinkhorn.
    /// </summary>
    /// <param name="sourceWeights">a, length K0, finite and &gt; 0.</param>
    /// <param name="targetWeights">b, length K1, finite and &gt; 0, same total as a within 1e-9 (relative); rescaled to a's total.</param>
    /// <param name="cost">C, K0 × K1 row-major, finite.</param>
    /// <param name="temperature">τ &gt; 0, in cost units. POT's <c>reg</c> is the same quantity (its KL-to-ab<sup>T</sup> form has
    /// the same minimiser); with squared-distance costs, τ = 2σ² is the static Schrödinger bridge of noise σ.</param>
    /// <param name="options">Tolerance, iteration cap, warm start, ε-scaling; null for defaults.</param>
    /// <returns>The dense plan, potentials (f, g), whether it converged, iterations, marginal error, ⟨π, C⟩ and H(π).</returns>
    /// <remarks>
    /// Log domain because the plain kernel exp(−C/τ) underflows to 0 once C/τ exceeds ~745 (POT issues #54, #194): here
    /// every exponential has a non-positive argument after shifting by its maximum, so τ = 1e-4 on unit costs is safe.
    /// ⟨π_τ, C⟩ is non-decreasing in τ and tends to the exact LP value as τ → 0, within τ·log(K0·K1) of it.
    /// Stability is not speed: Sinkhorn's iteration count grows like 1/τ on instances with near-ties (measured: a 12 × 10
    /// random instance needs 5·10⁴ iterations at τ = 1e-3 and 4·10⁵ at 1e-4, while 6 × 8 needs under 300), so for τ far
    /// below the cost gaps prefer <see cref="ExactLp(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double})"/>.
    /// An iteration costs two exponentials per entry (about 50 µs at K = 100 on this project's machine).
    /// Not converging within the cap is reported (<see cref="SinkhornResult.Converged"/> false), not thrown.
    /// </remarks>
    /// <exception cref="ArgumentException">Bad sizes, weights, totals, costs, temperature, options or warm-start lengths.</exception>
    public static SinkhornResult Sinkhorn(ReadOnlySpan<double> sourceWeights, ReadOnlySpan<double> targetWeights, ReadOnlySpan<double> cost, double temperature, SinkhornOptions? options = null)
    {
        options ??= s_defaultSinkhornOptions;
        double totalA = CouplingInputs.CheckWeights(sourceWeights, nameof(sourceWeights));
        double totalB = CouplingInputs.CheckWeights(targetWeights, nameof(targetWeights));
        CouplingInputs.CheckTotals(totalA, nameof(sourceWeights), totalB, nameof(targetWeights));
        int rows = sourceWeights.Length;
        int cols = targetWeights.Length;
        long cells = (long)rows * cols;
        if (cells > Array.MaxLength)
        {
            ThrowHelper.ThrowArgument($"A {rows} × {cols} dense plan does not fit in one array.", nameof(cost));
        }

        CouplingInputs.CheckCost(cost, cells, $"{rows} × {cols}", nameof(cost));
        if (!(temperature > 0) || !double.IsFinite(temperature))
        {
            ThrowHelper.ThrowArgument($"temperature = {CouplingInputs.Format(temperature)}; it must be finite and > 0.", nameof(temperature));
        }

        if (!(options.Tolerance >= 0) || options.MaxIterations < 1)
        {
            ThrowHelper.ThrowArgument($"SinkhornOptions needs Tolerance ≥ 0 and MaxIterations ≥ 1 (got {options.Tolerance}, {options.MaxIterations}).", nameof(options));
        }

        var f = new double[rows];
        var g = new double[cols];
        bool warm = CopyWarmStart(options.InitialSourcePotential, f, "InitialSourcePotential") | CopyWarmStart(options.InitialTargetPotential, g, "InitialTargetPotential");

        var a = new double[rows];
        var b = new double[cols];
        var logA = new double[rows];
        var logB = new double[cols];
        sourceWeights.CopyTo(a);
        double rescale = totalA / totalB;
        for (int j = 0; j < cols; j++)
        {
            b[j] = targetWeights[j] * rescale;
            logB[j] = Math.Log(b[j]);
        }

        for (int i = 0; i < rows; i++)
        {
            logA[i] = Math.Log(a[i]);
        }

        double[] scratch = ArrayPool<double>.Shared.Rent(rows + (2 * cols));
        try
        {
            Span<double> work = scratch.AsSpan(0, rows + (2 * cols));
            double tolerance = options.Tolerance * totalA;
            int used = 0;
            if (options.EpsilonScaling && !warm)
            {
                // Halve τ from the cost range down to the target; each stage only needs to be roughly solved (1e-3 of the
                // mass) because the next one starts from its potentials.
                double min = double.PositiveInfinity;
                double max = double.NegativeInfinity;
                foreach (double c in cost)
                {
                    min = Math.Min(min, c);
                    max = Math.Max(max, c);
                }

                double stageTolerance = Math.Max(tolerance, 1e-3 * totalA);
                for (double tau = max - min; tau > 2 * temperature && used < options.MaxIterations; tau *= 0.5)
                {
                    used += LogSinkhorn.Run(cost, logA, logB, a, tau, f, g, stageTolerance, options.MaxIterations - used, work).Iterations;
                }
            }

            double error = double.PositiveInfinity;
            if (used < options.MaxIterations)
            {
                (int iterations, error) = LogSinkhorn.Run(cost, logA, logB, a, temperature, f, g, tolerance, options.MaxIterations - used, work);
                used += iterations;
            }

            var plan = new double[cells];
            (double transport, double entropy, double marginalError) = LogSinkhorn.Plan(cost, f, g, a, b, temperature, plan, work[..cols]);
            return new SinkhornResult(plan, f, g, temperature, error <= tolerance, used, marginalError, transport, entropy);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    private static readonly SinkhornOptions s_defaultSinkhornOptions = new();

    private static bool CopyWarmStart(double[]? initial, Span<double> destination, string name)
    {
        if (initial is null)
        {
            return false;
        }

        if (initial.Length != destination.Length)
        {
            ThrowHelper.ThrowArgument($"SinkhornOptions.{name} has length {initial.Length}, expected {destination.Length}.", "options");
        }

        for (int k = 0; k < initial.Length; k++)
        {
            if (!double.IsFinite(initial[k]))
            {
                ThrowHelper.ThrowNonFinite($"SinkhornOptions.{name}", -1, k, initial[k], "options");
            }
        }

        initial.CopyTo(destination);
        return true;
    }

    /// <summary>How <see cref="ExactLp(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double}, in HighsLpSettings, TransportLpMethod)"/> poses the LP to HiGHS.</summary>
    internal enum TransportLpMethod
    {
        /// <summary>Restricted LP over candidate pairs, grown by pricing (<see cref="TransportColumnGeneration"/>); primal or dual start by size.</summary>
        ColumnGeneration,

        /// <summary>Column generation from the greedy tree basis with primal simplex (the small-size choice).</summary>
        ColumnGenerationPrimal,

        /// <summary>Column generation from HiGHS' logical basis with dual simplex (the large-size choice).</summary>
        ColumnGenerationDual,

        /// <summary>All K0·K1 columns, last target row dropped.</summary>
        FullDropRow,

        /// <summary>All K0·K1 columns and all K0 + K1 rows.</summary>
        FullKeepRows,
    }

    private static void Normalise(ReadOnlySpan<double> weights, double total, Span<double> destination)
    {
        for (int i = 0; i < weights.Length; i++)
        {
            destination[i] = weights[i] / total;
        }
    }

    // Costs to [-1, 1]: HiGHS' dual feasibility tolerance is absolute, and a cost range of 1e4 (far-apart components)
    // or 1e-4 (near-identical ones) would otherwise change what "optimal" means. The optimal plan is scale invariant.
    private static void Scale(ReadOnlySpan<double> cost, Span<double> destination)
    {
        double max = CouplingInputs.MaxAbs(cost);
        double factor = max > 0 ? 1.0 / max : 1.0;
        for (int c = 0; c < cost.Length; c++)
        {
            destination[c] = cost[c] * factor;
        }
    }
}

using System.Buffers;
using GmmFlow.Native.Highs;

namespace GmmFlow;

/// <summary>
/// Builds and solves the (multi-)marginal transport LP with HiGHS:
/// minimise Σ_x C(x) λ(x) over λ ≥ 0 on N_1 × … × N_M with Σ_{x: x_k = i} λ(x) = μ_k[i] for every axis k.
/// Column c is the row-major flat index of x, so the caller's cost array is the LP cost vector as is.
/// </summary>
/// <remarks>
/// <para>Scaling: HiGHS works with absolute tolerances (1e-7 on primal and dual feasibility), so the LP is solved with
/// the marginals normalised to total mass 1 and the costs divided by max |C|; the caller rescales the plan and
/// recomputes the objective from its own costs.</para>
/// <para>Redundant rows: every axis' rows sum to the same total, so M − 1 rows are implied by the others.
/// <see cref="DropRedundantRows"/> removes the last row of axes 2…M, which makes the constraint matrix full rank;
/// keeping them is also valid (HiGHS handles rank deficiency in presolve and with fixed logicals).
/// The default comes from the measurements reported with the couplings work (see Couplings.ExactLp).</para>
/// </remarks>
internal static class MarginalLp
{
    /// <summary>Whether to drop the M − 1 implied rows (see remarks).</summary>
    internal const bool DropRedundantRows = true;

    /// <summary>HiGHS settings for transport LPs (see remarks on Couplings.ExactLp for why).</summary>
    /// <remarks>
    /// Tolerances at HiGHS' minimum, 1e-10: with the default 1e-7 (absolute, on mass normalised to 1) HiGHS may treat a
    /// marginal weight below 1e-7 as satisfied and return a plan whose objective is off by that much, which the
    /// property tests caught with skewed weights.
    /// </remarks>
    internal static readonly HighsLpSettings DefaultSettings = new()
    {
        Solver = HighsSolver.Simplex,
        SimplexStrategy = HighsSimplexStrategy.Dual,
        Presolve = HighsPresolve.Off,
        PrimalFeasibilityTolerance = 1e-10,
        DualFeasibilityTolerance = 1e-10,
    };

    /// <summary>
    /// Solves the LP for normalised marginals (concatenated, total 1 per axis) and scaled costs; writes the dense
    /// plan (Π N_k values, row-major) into <paramref name="plan"/>.
    /// </summary>
    internal static HighsLpResult Solve(ReadOnlySpan<double> scaledCost, ReadOnlySpan<int> shape, ReadOnlySpan<double> marginals, Span<double> plan, in HighsLpSettings settings, bool dropRedundantRows)
    {
        int axes = shape.Length;
        int numCol = scaledCost.Length;
        int dropped = dropRedundantRows ? axes - 1 : 0;
        int numRow = marginals.Length - dropped;

        // Row of (axis k, index i) = offset_k + i; with dropping, axis k ≥ 1 loses its last index and later offsets
        // shift down by one per earlier dropped row.
        Span<int> rowOffset = stackalloc int[axes];
        Span<int> droppedIndex = stackalloc int[axes];
        int offset = 0;
        for (int k = 0; k < axes; k++)
        {
            rowOffset[k] = offset;
            droppedIndex[k] = dropRedundantRows && k > 0 ? shape[k] - 1 : -1;
            offset += droppedIndex[k] >= 0 ? shape[k] - 1 : shape[k];
        }

        int maxNz = checked(numCol * axes);
        double[] colLower = ArrayPool<double>.Shared.Rent(numCol);
        double[] colUpper = ArrayPool<double>.Shared.Rent(numCol);
        double[] rowBounds = ArrayPool<double>.Shared.Rent(numRow);
        int[] aStart = ArrayPool<int>.Shared.Rent(numCol + 1);
        int[] aIndex = ArrayPool<int>.Shared.Rent(maxNz);
        double[] aValue = ArrayPool<double>.Shared.Rent(maxNz);
        try
        {
            colLower.AsSpan(0, numCol).Clear();
            colUpper.AsSpan(0, numCol).Fill(double.PositiveInfinity);

            int row = 0;
            int marginalOffset = 0;
            for (int k = 0; k < axes; k++)
            {
                for (int i = 0; i < shape[k]; i++)
                {
                    if (i != droppedIndex[k])
                    {
                        rowBounds[row++] = marginals[marginalOffset + i];
                    }
                }

                marginalOffset += shape[k];
            }

            // Walk the columns in row-major order with an odometer over the multi-index.
            Span<int> index = stackalloc int[axes];
            index.Clear();
            int nz = 0;
            for (int c = 0; c < numCol; c++)
            {
                aStart[c] = nz;
                for (int k = 0; k < axes; k++)
                {
                    if (index[k] != droppedIndex[k])
                    {
                        aIndex[nz] = rowOffset[k] + index[k];
                        aValue[nz] = 1.0;
                        nz++;
                    }
                }

                for (int k = axes - 1; k >= 0 && ++index[k] == shape[k]; k--)
                {
                    index[k] = 0;
                }
            }

            aStart[numCol] = nz;
            var model = new HighsLpModel(
                scaledCost, colLower.AsSpan(0, numCol), colUpper.AsSpan(0, numCol),
                rowBounds.AsSpan(0, numRow), rowBounds.AsSpan(0, numRow),
                aStart.AsSpan(0, numCol + 1), aIndex.AsSpan(0, nz), aValue.AsSpan(0, nz));
            return HighsLp.Solve(model, plan, default, settings);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(colLower);
            ArrayPool<double>.Shared.Return(colUpper);
            ArrayPool<double>.Shared.Return(rowBounds);
            ArrayPool<int>.Shared.Return(aStart);
            ArrayPool<int>.Shared.Return(aIndex);
            ArrayPool<double>.Shared.Return(aValue);
        }
    }

    internal static LpStatus ToLpStatus(HighsModelStatus status) => status switch
    {
        HighsModelStatus.Optimal => LpStatus.Optimal,
        HighsModelStatus.Infeasible => LpStatus.Infeasible,
        HighsModelStatus.Unbounded => LpStatus.Unbounded,
        HighsModelStatus.UnboundedOrInfeasible => LpStatus.InfeasibleOrUnbounded,
        HighsModelStatus.TimeLimit or HighsModelStatus.IterationLimit or HighsModelStatus.ObjectiveBound or
            HighsModelStatus.ObjectiveTarget or HighsModelStatus.SolutionLimit or HighsModelStatus.Interrupt => LpStatus.LimitReached,
        _ => LpStatus.NotSolved,
    };
}

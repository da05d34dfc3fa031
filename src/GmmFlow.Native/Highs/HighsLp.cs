namespace GmmFlow.Native.Highs;

/// <summary>
/// A linear program in the form HiGHS takes it: minimise cᵀx subject to rowLower ≤ Ax ≤ rowUpper and
/// colLower ≤ x ≤ colUpper, with A in compressed sparse column form. Infinite bounds are ±∞.
/// </summary>
/// <remarks>
/// <paramref name="AStart"/> has numCol + 1 entries (standard CSC, last = number of nonzeros); HiGHS itself reads
/// the first numCol. The spans are only read, during <see cref="HighsLp.Solve"/>.
/// </remarks>
internal readonly ref struct HighsLpModel(
    ReadOnlySpan<double> ColCost,
    ReadOnlySpan<double> ColLower,
    ReadOnlySpan<double> ColUpper,
    ReadOnlySpan<double> RowLower,
    ReadOnlySpan<double> RowUpper,
    ReadOnlySpan<int> AStart,
    ReadOnlySpan<int> AIndex,
    ReadOnlySpan<double> AValue)
{
    public ReadOnlySpan<double> ColCost { get; } = ColCost;

    public ReadOnlySpan<double> ColLower { get; } = ColLower;

    public ReadOnlySpan<double> ColUpper { get; } = ColUpper;

    public ReadOnlySpan<double> RowLower { get; } = RowLower;

    public ReadOnlySpan<double> RowUpper { get; } = RowUpper;

    public ReadOnlySpan<int> AStart { get; } = AStart;

    public ReadOnlySpan<int> AIndex { get; } = AIndex;

    public ReadOnlySpan<double> AValue { get; } = AValue;

    public int NumCol => ColCost.Length;

    public int NumRow => RowLower.Length;

    public int NumNz => AIndex.Length;
}

/// <summary>Solver choices for <see cref="HighsLp.Solve"/>; the default value is HiGHS' own defaults.</summary>
internal readonly record struct HighsLpSettings
{
    public HighsSolver Solver { get; init; }

    public HighsPresolve Presolve { get; init; }

    public HighsSimplexStrategy SimplexStrategy { get; init; }

    /// <summary>Wall-clock limit in seconds; zero or negative means none (HiGHS' default, +∞).</summary>
    public double TimeLimitSeconds { get; init; }

    /// <summary>HiGHS option primal_feasibility_tolerance (absolute; HiGHS default 1e-7, minimum 1e-10); zero keeps the default.</summary>
    public double PrimalFeasibilityTolerance { get; init; }

    /// <summary>HiGHS option dual_feasibility_tolerance (absolute; HiGHS default 1e-7, minimum 1e-10); zero keeps the default.</summary>
    public double DualFeasibilityTolerance { get; init; }
}

/// <summary>Outcome of <see cref="HighsLp.Solve"/>. Infeasible and unbounded models are statuses here, not exceptions.</summary>
internal readonly record struct HighsLpResult(HighsModelStatus Status, double Objective, int SimplexIterations)
{
    public bool IsOptimal => Status == HighsModelStatus.Optimal;
}

/// <summary>
/// One HiGHS instance holding one LP that can grow by columns and be re-solved from its last basis (column
/// generation). For a single solve use <see cref="HighsLp.Solve"/>.
/// </summary>
/// <remarks>Not thread-safe (neither is a HiGHS instance); separate sessions may run concurrently.</remarks>
internal sealed unsafe class HighsLpSession : IDisposable
{
    // One idle session per thread, kept between solves (see Rent).
    [ThreadStatic]
    private static HighsLpSession? t_idle;

    private readonly SafeHighsHandle _highs;
    private readonly HighsLpSettings _settings;
    private readonly int _baseStrategy;
    private int _strategy;
    private int _numCol = -1;
    private int _numRow;

    internal HighsLpSession(in HighsLpSettings settings)
    {
        _settings = settings;
        _highs = SafeHighsHandle.Create();
        try
        {
            HighsLp.Apply(_highs, settings);
            _baseStrategy = HighsOptions.GetInt(_highs, "simplex_strategy\0"u8);
            _strategy = _baseStrategy;
        }
        catch
        {
            _highs.Dispose();
            throw;
        }
    }

    internal int NumCol => _numCol;

    internal int NumRow => _numRow;

    /// <summary>The simplex_strategy option in effect (HiGHS' value, e.g. 1 dual, 4 primal).</summary>
    internal int SimplexStrategy => _strategy;

    /// <summary>
    /// This thread's idle session configured with <paramref name="settings"/>, or a new one. Give it back with
    /// <see cref="Return"/> when done; a session that saw an exception should be disposed instead.
    /// </summary>
    /// <remarks>
    /// Why: creating a HiGHS instance and its first run cost about 110 µs of fixed work (measured: Highs_create
    /// 63 µs, Highs_destroy 16 µs, and a first Highs_run on a fresh instance ~45 µs slower than later ones), which
    /// was half of a K = 10 transport LP. A session is never shared: the slot is emptied while the session is out,
    /// so a nested or concurrent solve on the same thread gets its own instance.
    /// </remarks>
    internal static HighsLpSession Rent(in HighsLpSettings settings)
    {
        HighsLpSession? idle = t_idle;
        if (idle is not null)
        {
            t_idle = null;
            if (idle._settings == settings)
            {
                return idle;
            }

            idle.Dispose();
        }

        return new HighsLpSession(settings);
    }

    /// <summary>
    /// Clears the model (HiGHS keeps only the options, so no basis or solution reaches the next solve) and keeps the
    /// session as this thread's idle one.
    /// </summary>
    internal static void Return(HighsLpSession session)
    {
        if (session._strategy != session._baseStrategy)
        {
            session.SetSimplexStrategy((HighsSimplexStrategy)session._baseStrategy);
        }

        // The run clock must restart too: HiGHS checks time_limit against the instance's total run time (HiGHS
        // issues #1331, #1477), so a reused instance would otherwise hit a time limit that a fresh one would not.
        if (Interop.Highs.Highs_clearModel(session._highs) == Interop.Highs.kHighsStatusError ||
            Interop.Highs.Highs_zeroAllClocks(session._highs) == Interop.Highs.kHighsStatusError)
        {
            session.Dispose();
            return;
        }

        session._numCol = -1;
        session._numRow = 0;
        HighsLpSession? previous = t_idle;
        t_idle = session;
        previous?.Dispose();
    }

    /// <summary>Replaces the model by <paramref name="lp"/> after validating it (see <see cref="HighsLp.Validate(in HighsLpModel)"/>).</summary>
    internal void PassLp(scoped in HighsLpModel lp)
    {
        HighsLp.Validate(lp);
        PassValidatedLp(lp);
    }

    /// <summary>Replaces the model by <paramref name="lp"/>, which the caller has already validated.</summary>
    internal void PassValidatedLp(scoped in HighsLpModel lp)
    {
        HighsLp.Pass(_highs, lp);
        _numCol = lp.NumCol;
        _numRow = lp.NumRow;
    }

    /// <summary>
    /// Appends columns given in CSC form (<paramref name="start"/> has one entry per new column plus the end) over the
    /// existing rows. HiGHS keeps the current basis, with the new columns nonbasic at their bounds, so the next
    /// <see cref="Run"/> continues from the previous optimum instead of starting over.
    /// </summary>
    internal void AddColumns(ReadOnlySpan<double> cost, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper, ReadOnlySpan<int> start, ReadOnlySpan<int> index, ReadOnlySpan<double> value)
    {
        if (_numCol < 0)
        {
            throw new InvalidOperationException("PassLp must be called before AddColumns.");
        }

        // The new block is validated as an LP of its own over the same rows (row bounds are not used by the checks).
        HighsLp.ValidateColumns(cost, lower, upper, start, index, value, _numRow);
        int count = cost.Length;
        if (count == 0)
        {
            return;
        }

        fixed (double* c = cost)
        fixed (double* lo = lower)
        fixed (double* up = upper)
        fixed (int* s = start)
        fixed (int* ix = index)
        fixed (double* v = value)
        {
            int status = Interop.Highs.Highs_addCols(_highs, count, c, lo, up, index.Length, s, ix, v);
            if (status == Interop.Highs.kHighsStatusError)
            {
                ThrowHelper.ThrowHighs("Highs_addCols", status, $"{count} columns, {index.Length} nonzeros");
            }
        }

        _numCol += count;
    }

    /// <summary>Sets the simplex strategy for the next <see cref="Run"/> (e.g. primal after adding columns to an optimal basis).</summary>
    /// <remarks><see cref="Return"/> restores the strategy the session was created with.</remarks>
    internal void SetSimplexStrategy(HighsSimplexStrategy strategy)
    {
        if ((int)strategy != _strategy)
        {
            HighsOptions.SetInt(_highs, "simplex_strategy\0"u8, (int)strategy);
            _strategy = (int)strategy;
        }
    }

    /// <summary>
    /// Starts the next <see cref="Run"/> from the given basis: one status per column and per row (0 nonbasic at lower,
    /// 1 basic, 2 nonbasic at upper, 3 zero, 4 nonbasic). HiGHS rejects a basis with the wrong number of basic
    /// variables (an error status, thrown as <see cref="HighsException"/>) and repairs a singular one by itself.
    /// </summary>
    internal void SetBasis(ReadOnlySpan<int> colStatus, ReadOnlySpan<int> rowStatus)
    {
        if (colStatus.Length != _numCol)
        {
            ThrowHelper.ThrowSize(nameof(colStatus), _numCol, colStatus.Length);
        }

        if (rowStatus.Length != _numRow)
        {
            ThrowHelper.ThrowSize(nameof(rowStatus), _numRow, rowStatus.Length);
        }

        fixed (int* c = colStatus)
        fixed (int* r = rowStatus)
        {
            int status = Interop.Highs.Highs_setBasis(_highs, c, r);
            if (status == Interop.Highs.kHighsStatusError)
            {
                ThrowHelper.ThrowHighs("Highs_setBasis", status, $"{_numCol} columns, {_numRow} rows");
            }
        }
    }

    /// <summary>Solves the current model; see <see cref="HighsLp.Solve"/> for the meaning of the outputs.</summary>
    internal HighsLpResult Run(Span<double> colValue, Span<double> rowDual = default)
    {
        if (colValue.Length != _numCol)
        {
            ThrowHelper.ThrowSize(nameof(colValue), _numCol, colValue.Length);
        }

        if (!rowDual.IsEmpty && rowDual.Length != _numRow)
        {
            ThrowHelper.ThrowSize(nameof(rowDual), _numRow, rowDual.Length);
        }

        return HighsLp.Run(_highs, colValue, rowDual);
    }

    public void Dispose() => _highs.Dispose();
}

/// <summary>Solves one LP with a silent HiGHS instance (this thread's idle one, see <see cref="HighsLpSession.Rent"/>).</summary>
internal static unsafe class HighsLp
{
    /// <summary>
    /// Validates <paramref name="lp"/>, solves it and writes the primal solution into <paramref name="colValue"/>
    /// (numCol) and, if non-empty, the row duals into <paramref name="rowDual"/> (numRow).
    /// </summary>
    /// <remarks>
    /// Every input check runs before any native call, so bad input is an <see cref="ArgumentException"/> (or its
    /// subtype <see cref="NonFiniteValueException"/>) and never reaches HiGHS. A HiGHS error status is a
    /// <see cref="HighsException"/>; a warning status is accepted (HiGHS warns e.g. about tiny matrix values).
    /// When no optimal solution exists (infeasible, unbounded, limits), the outputs are filled with NaN.
    /// Row duals follow HiGHS' convention: reduced cost = c − Aᵀy.
    /// </remarks>
    internal static HighsLpResult Solve(scoped in HighsLpModel lp, Span<double> colValue, Span<double> rowDual = default, HighsLpSettings settings = default)
    {
        Validate(lp, colValue, rowDual);
        HighsLpSession session = HighsLpSession.Rent(settings);
        HighsLpResult result;
        try
        {
            session.PassValidatedLp(lp);
            result = session.Run(colValue, rowDual);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        HighsLpSession.Return(session);
        return result;
    }

    internal static void Apply(SafeHighsHandle highs, in HighsLpSettings settings)
    {
        switch (settings.Solver)
        {
            case HighsSolver.Simplex: HighsOptions.SetString(highs, "solver\0"u8, "simplex\0"u8); break;
            case HighsSolver.Ipm: HighsOptions.SetString(highs, "solver\0"u8, "ipm\0"u8); break;
            case HighsSolver.Pdlp: HighsOptions.SetString(highs, "solver\0"u8, "pdlp\0"u8); break;
            default: break;
        }

        switch (settings.Presolve)
        {
            case HighsPresolve.On: HighsOptions.SetString(highs, "presolve\0"u8, "on\0"u8); break;
            case HighsPresolve.Off: HighsOptions.SetString(highs, "presolve\0"u8, "off\0"u8); break;
            default: break;
        }

        if (settings.SimplexStrategy != HighsSimplexStrategy.Choose)
        {
            HighsOptions.SetInt(highs, "simplex_strategy\0"u8, (int)settings.SimplexStrategy);
        }

        if (settings.TimeLimitSeconds > 0)
        {
            HighsOptions.SetDouble(highs, "time_limit\0"u8, settings.TimeLimitSeconds);
        }

        if (settings.PrimalFeasibilityTolerance > 0)
        {
            HighsOptions.SetDouble(highs, "primal_feasibility_tolerance\0"u8, settings.PrimalFeasibilityTolerance);
        }

        if (settings.DualFeasibilityTolerance > 0)
        {
            HighsOptions.SetDouble(highs, "dual_feasibility_tolerance\0"u8, settings.DualFeasibilityTolerance);
        }
    }

    /// <summary>Passes a validated model (see <see cref="Validate(in HighsLpModel)"/>) to HiGHS.</summary>
    internal static void Pass(SafeHighsHandle highs, scoped in HighsLpModel lp)
    {
        fixed (double* cost = lp.ColCost)
        fixed (double* colLower = lp.ColLower)
        fixed (double* colUpper = lp.ColUpper)
        fixed (double* rowLower = lp.RowLower)
        fixed (double* rowUpper = lp.RowUpper)
        fixed (int* aStart = lp.AStart)
        fixed (int* aIndex = lp.AIndex)
        fixed (double* aValue = lp.AValue)
        {
            int status = Interop.Highs.Highs_passLp(
                highs, lp.NumCol, lp.NumRow, lp.NumNz, Interop.Highs.kHighsMatrixFormatColwise, Interop.Highs.kHighsObjSenseMinimize, 0.0,
                cost, colLower, colUpper, rowLower, rowUpper, aStart, aIndex, aValue);
            if (status == Interop.Highs.kHighsStatusError)
            {
                ThrowHelper.ThrowHighs("Highs_passLp", status, $"model with {lp.NumCol} columns, {lp.NumRow} rows, {lp.NumNz} nonzeros");
            }
        }
    }

    /// <summary>Runs the model already passed to <paramref name="highs"/> and reads the solution.</summary>
    internal static HighsLpResult Run(SafeHighsHandle highs, Span<double> colValue, Span<double> rowDual)
    {
        int status = Interop.Highs.Highs_run(highs);
        if (status == Interop.Highs.kHighsStatusError && HighsOptions.GetInt(highs, "threads\0"u8) != 0)
        {
            // Some HiGHS releases refuse the pinned thread count when another HiGHS user in the process sized the
            // shared scheduler differently, and stop before solving; the default (0) is never refused.
            HighsOptions.SetInt(highs, "threads\0"u8, 0);
            status = Interop.Highs.Highs_run(highs);
            if (status != Interop.Highs.kHighsStatusError)
            {
                HighsThreads.Disable();
            }
        }

        if (status == Interop.Highs.kHighsStatusError)
        {
            // HiGHS also returns an error status when a limit or failure leaves no solution; the model status
            // says which, and only genuine failures (not "infeasible") should reach the caller as exceptions.
            var failed = (HighsModelStatus)Interop.Highs.Highs_getModelStatus(highs);
            if (!IsResult(failed))
            {
                ThrowHelper.ThrowHighs("Highs_run", status, $"model status {failed}");
            }
        }

        var modelStatus = (HighsModelStatus)Interop.Highs.Highs_getModelStatus(highs);
        int iterations = 0;
        fixed (byte* info = "simplex_iteration_count\0"u8)
        {
            // An info value can be unavailable (e.g. the model was emptied by presolve); 0 is then the honest count.
            if (Interop.Highs.Highs_getIntInfoValue(highs, info, &iterations) == Interop.Highs.kHighsStatusError)
            {
                iterations = 0;
            }
        }

        if (modelStatus is not (HighsModelStatus.Optimal or HighsModelStatus.ModelEmpty))
        {
            colValue.Fill(double.NaN);
            rowDual.Fill(double.NaN);
            double bound = modelStatus switch
            {
                HighsModelStatus.Infeasible => double.PositiveInfinity,
                HighsModelStatus.Unbounded => double.NegativeInfinity,
                _ => double.NaN,
            };
            return new HighsLpResult(modelStatus, bound, iterations);
        }

        fixed (double* x = colValue)
        fixed (double* y = rowDual)
        {
            // Null for rowDual when not requested: HiGHS skips null arrays.
            status = Interop.Highs.Highs_getSolution(highs, x, null, null, rowDual.IsEmpty ? null : y);
            if (status == Interop.Highs.kHighsStatusError)
            {
                ThrowHelper.ThrowHighs("Highs_getSolution", status);
            }
        }

        double objective = modelStatus == HighsModelStatus.ModelEmpty ? 0.0 : Interop.Highs.Highs_getObjectiveValue(highs);
        return new HighsLpResult(modelStatus == HighsModelStatus.ModelEmpty ? HighsModelStatus.Optimal : modelStatus, objective, iterations);
    }

    // Model statuses that are answers about the LP rather than solver failures.
    private static bool IsResult(HighsModelStatus status) => status is
        HighsModelStatus.Optimal or HighsModelStatus.Infeasible or HighsModelStatus.Unbounded or
        HighsModelStatus.UnboundedOrInfeasible or HighsModelStatus.TimeLimit or HighsModelStatus.IterationLimit or
        HighsModelStatus.ObjectiveBound or HighsModelStatus.ObjectiveTarget or HighsModelStatus.ModelEmpty;

    /// <summary>Checks sizes, CSC structure and finiteness; throws <see cref="ArgumentException"/> naming the bad entry.</summary>
    internal static void Validate(scoped in HighsLpModel lp, ReadOnlySpan<double> colValue, ReadOnlySpan<double> rowDual)
    {
        Validate(lp);
        CheckLength(colValue.Length, lp.NumCol, "colValue");
        if (!rowDual.IsEmpty)
        {
            CheckLength(rowDual.Length, lp.NumRow, "rowDual");
        }
    }

    /// <summary>Checks the model alone (see the other overload).</summary>
    internal static void Validate(scoped in HighsLpModel lp)
    {
        int numRow = lp.NumRow;
        CheckLength(lp.RowUpper.Length, numRow, "rowUpper");
        for (int i = 0; i < numRow; i++)
        {
            CheckBounds(lp.RowLower[i], lp.RowUpper[i], "row", i);
        }

        ValidateColumns(lp.ColCost, lp.ColLower, lp.ColUpper, lp.AStart, lp.AIndex, lp.AValue, numRow);
    }

    /// <summary>Checks a block of columns in CSC form over <paramref name="numRow"/> rows.</summary>
    internal static void ValidateColumns(ReadOnlySpan<double> cost, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper, ReadOnlySpan<int> start, ReadOnlySpan<int> index, ReadOnlySpan<double> value, int numRow)
    {
        int numCol = cost.Length;
        int numNz = index.Length;
        CheckLength(lower.Length, numCol, "colLower");
        CheckLength(upper.Length, numCol, "colUpper");
        CheckLength(start.Length, numCol + 1, "aStart");
        CheckLength(value.Length, numNz, "aValue");

        for (int j = 0; j < numCol; j++)
        {
            double c = cost[j];
            if (!double.IsFinite(c))
            {
                ThrowHelper.ThrowNonFinite("LP cost vector", -1, j, c, "colCost");
            }

            CheckBounds(lower[j], upper[j], "column", j);
        }

        if (start[0] != 0 || start[numCol] != numNz)
        {
            ThrowHelper.ThrowArgument($"aStart must start at 0 and end at the number of nonzeros {numNz}; it runs from {start[0]} to {start[numCol]}.", "aStart");
        }

        for (int j = 0; j < numCol; j++)
        {
            int begin = start[j];
            int end = start[j + 1];
            if (end < begin)
            {
                ThrowHelper.ThrowArgument($"aStart decreases at column {j} ({begin} then {end}).", "aStart");
            }

            for (int k = begin; k < end; k++)
            {
                int row = index[k];
                if ((uint)row >= (uint)numRow)
                {
                    ThrowHelper.ThrowArgument($"aIndex[{k}] = {row} (column {j}) is not a row index in [0, {numRow}).", "aIndex");
                }

                double v = value[k];
                if (!double.IsFinite(v))
                {
                    ThrowHelper.ThrowNonFinite("LP constraint matrix value", -1, k, v, "aValue");
                }
            }
        }
    }

    private static void CheckLength(int actual, int expected, string paramName)
    {
        if (actual != expected)
        {
            ThrowHelper.ThrowSize(paramName, expected, actual);
        }
    }

    private static void CheckBounds(double lower, double upper, string kind, int index)
    {
        // ±∞ are legitimate bounds; NaN and lower = +∞ / upper = -∞ are not. lower > upper is left to HiGHS:
        // it is a (trivially) infeasible model, which is a result, not an input error.
        if (double.IsNaN(lower) || double.IsNaN(upper) || double.IsPositiveInfinity(lower) || double.IsNegativeInfinity(upper))
        {
            ThrowHelper.ThrowArgument($"{kind} {index} has invalid bounds [{lower}, {upper}].", kind == "row" ? "rowLower" : "colLower");
        }
    }
}

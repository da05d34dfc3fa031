using GmmFlow.Native.Highs;
using Xunit;

namespace GmmFlow.Tests.Native;

public class HighsTests
{
    // Supplies s = (15, 25), demands d = (10, 20, 10), costs C below. Solved by hand with the
    // transportation tableau: basis {(0,0)=5, (0,2)=10, (1,0)=5, (1,1)=20}, potentials u = (0, 3),
    // v = (2, 1, 1); reduced costs C01 - u0 - v1 = 2 and C12 - u1 - v2 = 4 are positive, so this plan is
    // the unique optimum, cost 2*5 + 1*10 + 5*5 + 4*20 = 125.
    private static readonly double[] s_cost = [2, 3, 1, 5, 4, 8];
    private static readonly double[] s_supply = [15, 25];
    private static readonly double[] s_demand = [10, 20, 10];
    private static readonly double[] s_expectedPlan = [5, 0, 10, 5, 20, 0];

    [Fact]
    public void TransportationLp_MatchesHandComputedOptimum()
    {
        var x = new double[6];
        var y = new double[5];
        HighsLpResult result = SolveTransport(s_cost, x, y);

        Assert.Equal(HighsModelStatus.Optimal, result.Status);
        Assert.Equal(125.0, result.Objective, 1e-9);
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(s_expectedPlan[k], x[k], 1e-9);
        }

        // Duals are unique only up to a shift (u + t, v - t); check what is invariant: strong duality
        // (rhsᵀy = objective) and complementary slackness u_i + v_j = C_ij on the support.
        double dualObjective = (15 * y[0]) + (25 * y[1]) + (10 * y[2]) + (20 * y[3]) + (10 * y[4]);
        Assert.Equal(125.0, dualObjective, 1e-7);
        Assert.Equal(2.0, y[0] + y[2], 1e-7);
        Assert.Equal(1.0, y[0] + y[4], 1e-7);
        Assert.Equal(5.0, y[1] + y[2], 1e-7);
        Assert.Equal(4.0, y[1] + y[3], 1e-7);
        Assert.True(y[0] + y[3] <= 3.0 + 1e-9);
        Assert.True(y[1] + y[4] <= 8.0 + 1e-9);
        Assert.True(result.SimplexIterations >= 0);
    }

    [Fact]
    public void TransportationLp_AllSolverChoicesAgree()
    {
        HighsLpSettings[] settings =
        [
            new() { Solver = HighsSolver.Simplex, SimplexStrategy = HighsSimplexStrategy.Dual },
            new() { Solver = HighsSolver.Simplex, SimplexStrategy = HighsSimplexStrategy.Primal, Presolve = HighsPresolve.Off },
            new() { Solver = HighsSolver.Ipm },
        ];
        foreach (HighsLpSettings setting in settings)
        {
            var x = new double[6];
            HighsLpResult result = SolveTransport(s_cost, x, default, setting);
            Assert.Equal(HighsModelStatus.Optimal, result.Status);
            Assert.Equal(125.0, result.Objective, 1e-6);
        }
    }

    [Fact]
    public void InfeasibleLp_IsReportedAsStatusNotException()
    {
        // x0 + x1 <= 1 and x0 + x1 >= 3 with x >= 0.
        double[] cost = [1, 1];
        double[] colLower = [0, 0];
        double[] colUpper = [double.PositiveInfinity, double.PositiveInfinity];
        double[] rowLower = [double.NegativeInfinity, 3];
        double[] rowUpper = [1, double.PositiveInfinity];
        int[] start = [0, 2, 4];
        int[] index = [0, 1, 0, 1];
        double[] value = [1, 1, 1, 1];
        var x = new double[2];

        HighsLpResult result = HighsLp.Solve(new HighsLpModel(cost, colLower, colUpper, rowLower, rowUpper, start, index, value), x);

        Assert.Equal(HighsModelStatus.Infeasible, result.Status);
        Assert.False(result.IsOptimal);
        Assert.All(x, v => Assert.True(double.IsNaN(v)));
    }

    [Fact]
    public void UnboundedLp_IsReportedAsStatusNotException()
    {
        // min -x0 subject to x0 - x1 <= 1, x >= 0: x0 = 1 + x1 grows without bound.
        double[] cost = [-1, 0];
        double[] colLower = [0, 0];
        double[] colUpper = [double.PositiveInfinity, double.PositiveInfinity];
        double[] rowLower = [double.NegativeInfinity];
        double[] rowUpper = [1];
        int[] start = [0, 1, 2];
        int[] index = [0, 0];
        double[] value = [1, -1];
        var x = new double[2];

        HighsLpResult result = HighsLp.Solve(new HighsLpModel(cost, colLower, colUpper, rowLower, rowUpper, start, index, value), x);

        Assert.Equal(HighsModelStatus.Unbounded, result.Status);
        Assert.Equal(double.NegativeInfinity, result.Objective);
    }

    [Fact]
    public void Version_Is_1_12()
    {
        string version = HighsInfo.Version;
        Assert.StartsWith("1.12.", version, StringComparison.Ordinal);
        Assert.Equal(version, RuntimeInfo.Load().HighsVersion);
        Assert.True(File.Exists(HighsInfo.Path), HighsInfo.Path);
        Assert.False(string.IsNullOrWhiteSpace(HighsInfo.GitHash));
    }

    [Fact]
    public void MismatchedSpanLengths_ThrowArgumentException()
    {
        double[] shortBounds = [0, 0, 0, 0, 0];
        var ex = Assert.Throws<ArgumentException>(() => SolveTransport(s_cost, new double[6], default, default, colLower: shortBounds));
        Assert.Equal("colLower", ex.ParamName);

        ex = Assert.Throws<ArgumentException>(() => SolveTransport(s_cost, new double[5]));
        Assert.Equal("colValue", ex.ParamName);

        ex = Assert.Throws<ArgumentException>(() => SolveTransport(s_cost, new double[6], new double[4]));
        Assert.Equal("rowDual", ex.ParamName);
    }

    [Fact]
    public void NaNCost_ThrowsNonFiniteValueException_NamingThePosition()
    {
        double[] cost = (double[])s_cost.Clone();
        cost[4] = double.NaN;
        var ex = Assert.Throws<NonFiniteValueException>(() => SolveTransport(cost, new double[6]));
        Assert.Equal(4, ex.Position);
        Assert.IsAssignableFrom<ArgumentException>(ex);
    }

    [Fact]
    public void BadSparseStructure_ThrowsArgumentException()
    {
        // Row index 5 in a model with 5 rows.
        int[] index = [0, 2, 0, 3, 0, 4, 1, 2, 1, 3, 1, 5];
        var ex = Assert.Throws<ArgumentException>(() => SolveTransport(s_cost, new double[6], default, default, index: index));
        Assert.Equal("aIndex", ex.ParamName);
        Assert.Contains("aIndex[11] = 5", ex.Message, StringComparison.Ordinal);

        int[] start = [0, 2, 4, 3, 8, 10, 12];
        ex = Assert.Throws<ArgumentException>(() => SolveTransport(s_cost, new double[6], default, default, start: start));
        Assert.Equal("aStart", ex.ParamName);
    }

    [Fact]
    public void NaNBound_ThrowsArgumentException()
    {
        double[] rowLower = [15, double.NaN, 10, 20, 10];
        var ex = Assert.Throws<ArgumentException>(() => SolveTransport(s_cost, new double[6], default, default, rowLower: rowLower));
        Assert.Contains("row 1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_RunsBeforeAnyNativeCall()
    {
        // Validate is what Solve runs first; it is pure managed code, so a bad model never reaches HiGHS.
        double[] cost = (double[])s_cost.Clone();
        cost[0] = double.PositiveInfinity;
        Assert.Throws<NonFiniteValueException>(() => ValidateTransport(cost));
    }

    [Fact]
    public void ConcurrentSolves_OnSeparateInstances_AgreeWithSerialSolve()
    {
        var objectives = new double[16];
        Parallel.For(0, objectives.Length, k =>
        {
            var x = new double[6];
            objectives[k] = SolveTransport(s_cost, x).Objective;
        });
        Assert.All(objectives, o => Assert.Equal(125.0, o, 9));
    }

    [Fact]
    public void Session_AddColumns_ResolvesFromPreviousBasisToTheFullOptimum()
    {
        // Start without the pair (0,0) of the optimal plan (the rest is still feasible: best cost there is 135 with
        // x01 = 5, x02 = 10, x10 = 10, x11 = 15), then pass it later, as column generation does.
        (_, _, double[] rowBounds, int[] start, int[] index, _) = TransportModel();
        int[] first = [1, 2, 3, 4, 5];
        using var session = new HighsLpSession(default);
        session.PassLp(new HighsLpModel(
            first.Select(c => s_cost[c]).ToArray(), new double[5], Enumerable.Repeat(double.PositiveInfinity, 5).ToArray(),
            rowBounds, rowBounds, [0, 2, 4, 6, 8, 10], first.SelectMany(c => index[start[c]..start[c + 1]]).ToArray(), Enumerable.Repeat(1.0, 10).ToArray()));
        var x = new double[5];
        HighsLpResult restricted = session.Run(x);
        Assert.Equal(HighsModelStatus.Optimal, restricted.Status);
        Assert.Equal(135.0, restricted.Objective, 1e-9);

        session.AddColumns([s_cost[0]], [0], [double.PositiveInfinity], [0, 2], [0, 2], [1, 1]);
        Assert.Equal(6, session.NumCol);
        x = new double[6];
        HighsLpResult full = session.Run(x);
        Assert.Equal(125.0, full.Objective, 1e-9);
        Assert.Equal(5.0, x[5], 1e-9); // the added (0,0)
        Assert.Equal(20.0, x[3], 1e-9); // (1,1)
    }

    [Fact]
    public void Session_AddColumns_ValidatesBeforeTheNativeCall()
    {
        (_, _, double[] rowBounds, int[] start, int[] index, double[] value) = TransportModel();
        using var session = new HighsLpSession(default);
        session.PassLp(new HighsLpModel(s_cost, new double[6], Enumerable.Repeat(double.PositiveInfinity, 6).ToArray(), rowBounds, rowBounds, start, index, value));
        var ex = Assert.Throws<ArgumentException>(() => session.AddColumns([1.0], [0.0], [1.0], [0, 1], [5], [1.0]));
        Assert.Equal("aIndex", ex.ParamName);
        Assert.Throws<NonFiniteValueException>(() => session.AddColumns([double.NaN], [0.0], [1.0], [0, 1], [0], [1.0]));
        Assert.Equal(6, session.NumCol);
    }

    [Fact]
    public void Session_Rent_ReusesTheThreadsInstance_ClearedAndWithItsOptions()
    {
        var settings = new HighsLpSettings { Solver = HighsSolver.Simplex, SimplexStrategy = HighsSimplexStrategy.Dual };
        HighsLpSession first = HighsLpSession.Rent(settings);
        (double[] lower, double[] upper, double[] rowBounds, int[] start, int[] index, double[] value) = TransportModel();
        first.PassLp(new HighsLpModel(s_cost, lower, upper, rowBounds, rowBounds, start, index, value));
        first.SetSimplexStrategy(HighsSimplexStrategy.Primal);
        Assert.Equal(125.0, first.Run(new double[6]).Objective, 1e-9);
        HighsLpSession.Return(first);

        HighsLpSession second = HighsLpSession.Rent(settings);
        try
        {
            Assert.Same(first, second);
            Assert.Equal(-1, second.NumCol); // the model is gone: AddColumns needs a new PassLp
            Assert.Throws<InvalidOperationException>(() => second.AddColumns([1.0], [0.0], [1.0], [0, 1], [0], [1.0]));
            Assert.Equal((int)HighsSimplexStrategy.Dual, second.SimplexStrategy);

            // Other settings: a different instance (the idle one is dropped).
            HighsLpSession other = HighsLpSession.Rent(settings with { SimplexStrategy = HighsSimplexStrategy.Primal });
            Assert.NotSame(second, other);
            other.Dispose();
        }
        finally
        {
            second.Dispose();
        }
    }

    [Fact]
    public void Session_Rent_WhileOneIsOut_GivesASeparateInstance()
    {
        HighsLpSession outer = HighsLpSession.Rent(default);
        HighsLpSession inner = HighsLpSession.Rent(default);
        Assert.NotSame(outer, inner);
        HighsLpSession.Return(inner);
        HighsLpSession.Return(outer);
        HighsLpSession again = HighsLpSession.Rent(default);
        Assert.Same(outer, again);
        again.Dispose();
    }

    [Fact]
    public void RejectedOption_IsHighsException()
    {
        // HiGHS refuses a feasibility tolerance below its minimum (1e-10) with kHighsStatusError.
        var ex = Assert.Throws<HighsException>(() => SolveTransport(s_cost, new double[6], default, new HighsLpSettings { PrimalFeasibilityTolerance = 1e-20 }));
        Assert.Equal(-1, ex.Status);
        Assert.Contains("primal_feasibility_tolerance", ex.Message, StringComparison.Ordinal);
    }

    private static void ValidateTransport(double[] cost)
    {
        (double[] colLower, double[] colUpper, double[] rowBounds, int[] start, int[] index, double[] value) = TransportModel();
        HighsLp.Validate(new HighsLpModel(cost, colLower, colUpper, rowBounds, rowBounds, start, index, value), new double[6], default);
    }

    private static HighsLpResult SolveTransport(
        double[] cost, Span<double> x, Span<double> rowDual = default, HighsLpSettings settings = default,
        double[]? colLower = null, double[]? rowLower = null, int[]? start = null, int[]? index = null)
    {
        (double[] lower, double[] upper, double[] rowBounds, int[] aStart, int[] aIndex, double[] aValue) = TransportModel();
        var model = new HighsLpModel(cost, colLower ?? lower, upper, rowLower ?? rowBounds, rowBounds, start ?? aStart, index ?? aIndex, aValue);
        return HighsLp.Solve(model, x, rowDual, settings);
    }

    // Column i*3 + j is x_ij; rows 0..1 are the supplies, rows 2..4 the demands.
    private static (double[] ColLower, double[] ColUpper, double[] RowBounds, int[] Start, int[] Index, double[] Value) TransportModel()
    {
        var colLower = new double[6];
        var colUpper = new double[6];
        Array.Fill(colUpper, double.PositiveInfinity);
        double[] rowBounds = [.. s_supply, .. s_demand];
        var start = new int[7];
        var index = new int[12];
        var value = new double[12];
        for (int i = 0; i < 2; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                int col = (i * 3) + j;
                start[col] = 2 * col;
                index[2 * col] = i;
                index[(2 * col) + 1] = 2 + j;
                value[2 * col] = 1;
                value[(2 * col) + 1] = 1;
            }
        }

        start[6] = 12;
        return (colLower, colUpper, rowBounds, start, index, value);
    }
}

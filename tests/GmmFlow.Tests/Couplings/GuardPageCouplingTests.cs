using GmmFlow.Tests.Simd;
using GmmFlow.Tests.Support;
using static GmmFlow.Tests.Transport.TransportReference;

namespace GmmFlow.Tests.Transport;

/// <summary>
/// The couplings code's unsafe vector loops read and write only inside their spans: <see cref="LogSinkhorn"/>'s
/// row log-sum-exp of g − c (<see cref="LogSinkhorn.MaxOfDifference"/>, <see cref="LogSinkhorn.SumExpOfDifference"/>),
/// its column max and column sums (<see cref="LogSinkhorn.MaxInto"/>, <see cref="LogSinkhorn.AddExpInto"/>, through
/// <see cref="LogSinkhorn.UpdateColumns"/>), <see cref="LogSinkhorn.Run"/> and <see cref="LogSinkhorn.Plan"/>, and
/// <see cref="CouplingInputs.CheckCostMaxAbs"/>'s pass over C. Each span the routine receives lies flush against a
/// guard page, after its end and then before its start, with exactly the length its contract asks for; the lengths
/// 1..40, 63..65 and 127..129 leave every vector tail at 2, 4 and 8 lanes. A stray access kills the test host; results
/// must also be bit-identical to the same call on ordinary arrays.
/// </summary>
/// <remarks>
/// The public entry points are run on guarded inputs too, but they guard less than the direct calls:
/// <see cref="Couplings.Sinkhorn"/> copies a and b into arrays of its own and keeps f, g and the scratch in its own
/// (pooled) arrays, so only the cost span reaches <see cref="LogSinkhorn"/> as the caller passed it; the scratch's
/// column max and column sums are adjacent slices of one pooled array, which is why the helpers are also called with a
/// guarded buffer each. <see cref="Couplings.ExactLp(ReadOnlySpan{double}, ReadOnlySpan{double}, ReadOnlySpan{double})"/>
/// passes the caller's cost span to <see cref="CouplingInputs.CheckCostMaxAbs"/> and to the column generation's
/// vectorised pricing pass (<c>TransportColumnGeneration.Price</c>, which runs after every optimal restricted solve);
/// the duals that pass reads next to C live in a pooled array, not guarded here.
/// </remarks>
public class GuardPageCouplingTests
{
    private static readonly int[] Lengths = [.. Enumerable.Range(1, 40), 63, 64, 65, 127, 128, 129];

    // Matrix shapes: every column count above (the vector loops run along rows), a few row counts, and the transposes,
    // so that the exact LP also meets long columns and both of its starts (primal up to max(K0, K1) = 24, dual above).
    private static IEnumerable<(int Rows, int Cols)> Shapes()
    {
        int[] rowCounts = [1, 2, 3, 5];
        foreach (int cols in Lengths)
        {
            int rows = rowCounts[cols % rowCounts.Length];
            yield return (rows, cols);
            if (cols % 3 == 0 || cols > 40)
            {
                yield return (cols, rows);
            }
        }
    }

    [Fact]
    public void Row_log_sum_exp_stays_inside_g_and_the_row()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        const double invTau = 1 / 0.3;
        foreach (int n in Lengths)
        {
            double[] g = GuardSizes.Values(n, seed: n);
            double[] row = GuardSizes.Values(n, seed: 1000 + n);
            double max = LogSinkhorn.MaxOfDifference(g, row);
            double sum = LogSinkhorn.SumExpOfDifference(g, row, max, invTau);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                ReadOnlySpan<double> gg = arena.Copy<double>(g), grow = arena.Copy<double>(row);
                string context = $"n = {n}, guard {side}";
                GuardSizes.AssertBitIdentical([max], [LogSinkhorn.MaxOfDifference(gg, grow)], context);
                GuardSizes.AssertBitIdentical([sum], [LogSinkhorn.SumExpOfDifference(gg, grow, max, invTau)], context);
            }
        }
    }

    [Fact]
    public void Column_max_and_sums_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        const double fi = 0.4, invTau = 1 / 0.3;
        foreach (int n in Lengths)
        {
            double[] row = GuardSizes.Values(n, seed: n);
            double[] colMax = GuardSizes.Values(n, seed: 1000 + n);
            double[] colSum = [.. GuardSizes.Values(n, seed: 2000 + n).Select(Math.Abs)];
            double[] initialMax = [.. colMax], initialSum = [.. colSum];
            LogSinkhorn.MaxInto(colMax, row, fi);
            LogSinkhorn.AddExpInto(colSum, row, fi, colMax, invTau);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                Span<double> gMax = arena.Copy<double>(initialMax), gSum = arena.Copy<double>(initialSum);
                ReadOnlySpan<double> gRow = arena.Copy<double>(row);
                LogSinkhorn.MaxInto(gMax, gRow, fi);
                LogSinkhorn.AddExpInto(gSum, gRow, fi, gMax, invTau);
                string context = $"n = {n}, guard {side}";
                GuardSizes.AssertBitIdentical(colMax, gMax, context);
                GuardSizes.AssertBitIdentical(colSum, gSum, context);
            }
        }
    }

    [Fact]
    public void Column_update_stays_inside_its_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        const double tau = 0.3;
        foreach ((int rows, int cols) in Shapes())
        {
            double[] cost = GuardSizes.Values(rows * cols, seed: rows + 100 * cols);
            double[] f = GuardSizes.Values(rows, seed: rows);
            double[] logB = [.. Dirichlet(new Random(cols), cols).Select(w => Math.Log(w))];
            var g = new double[cols];
            LogSinkhorn.UpdateColumns(cost, f, g, logB, tau, 1 / tau, new double[cols], new double[cols]);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                Span<double> gg = arena.Allocate<double>(cols);
                LogSinkhorn.UpdateColumns(arena.Copy<double>(cost), arena.Copy<double>(f), gg, arena.Copy<double>(logB), tau, 1 / tau,
                                          arena.Allocate<double>(cols), arena.Allocate<double>(cols));
                GuardSizes.AssertBitIdentical(g, gg, $"{rows} × {cols}, guard {side}");
            }
        }
    }

    [Fact]
    public void Sinkhorn_iterations_and_plan_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        const double tau = 0.3;
        foreach ((int rows, int cols) in Shapes())
        {
            var rng = new Random(rows + 1000 * cols);
            double[] a = Dirichlet(rng, rows), b = Dirichlet(rng, cols);
            double[] logA = [.. a.Select(w => Math.Log(w))], logB = [.. b.Select(w => Math.Log(w))];
            double[] cost = GuardSizes.Values(rows * cols, seed: rows + 100 * cols);
            // Tolerance 0 and a small cap: a fixed number of iterations, each a full row and column update.
            var f = new double[rows];
            var g = new double[cols];
            var run = LogSinkhorn.Run(cost, logA, logB, a, tau, f, g, tolerance: 0, maxIterations: 6, new double[rows + 2 * cols]);
            var plan = new double[rows * cols];
            var stats = LogSinkhorn.Plan(cost, f, g, a, b, tau, plan, new double[cols]);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                ReadOnlySpan<double> gCost = arena.Copy<double>(cost), gA = arena.Copy<double>(a);
                Span<double> gf = arena.Allocate<double>(rows), gg = arena.Allocate<double>(cols);
                var guardedRun = LogSinkhorn.Run(gCost, arena.Copy<double>(logA), arena.Copy<double>(logB), gA, tau, gf, gg, 0, 6,
                                                 arena.Allocate<double>(rows + 2 * cols));
                Span<double> gPlan = arena.Allocate<double>(rows * cols);
                var guardedStats = LogSinkhorn.Plan(gCost, gf, gg, gA, arena.Copy<double>(b), tau, gPlan, arena.Allocate<double>(cols));
                string context = $"{rows} × {cols}, guard {side}";
                Assert.Equal(run.Iterations, guardedRun.Iterations);
                GuardSizes.AssertBitIdentical([run.RowError, stats.Cost, stats.Entropy, stats.MarginalError],
                                              [guardedRun.RowError, guardedStats.Cost, guardedStats.Entropy, guardedStats.MarginalError], context);
                GuardSizes.AssertBitIdentical(f, gf, context);
                GuardSizes.AssertBitIdentical(g, gg, context);
                GuardSizes.AssertBitIdentical(plan, gPlan, context);
            }
        }
    }

    [Fact]
    public void Public_Sinkhorn_stays_inside_its_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        // ε-scaling on (the default): the stages run LogSinkhorn on the caller's cost at several temperatures.
        var options = new SinkhornOptions { MaxIterations = 40 };
        foreach ((int rows, int cols) in Shapes())
        {
            var rng = new Random(rows + 1000 * cols);
            double[] a = Dirichlet(rng, rows), b = Dirichlet(rng, cols);
            double[] cost = GuardSizes.Values(rows * cols, seed: rows + 100 * cols);
            SinkhornResult expected = Couplings.Sinkhorn(a, b, cost, 0.2, options);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                SinkhornResult result = Couplings.Sinkhorn(arena.Copy<double>(a), arena.Copy<double>(b), arena.Copy<double>(cost), 0.2, options);
                string context = $"{rows} × {cols}, guard {side}";
                Assert.Equal(expected.Iterations, result.Iterations);
                Assert.Equal(expected.Converged, result.Converged);
                GuardSizes.AssertBitIdentical([expected.MarginalError, expected.TransportCost, expected.Entropy],
                                              [result.MarginalError, result.TransportCost, result.Entropy], context);
                GuardSizes.AssertBitIdentical(expected.Plan, result.Plan, context);
                GuardSizes.AssertBitIdentical(expected.SourcePotential, result.SourcePotential, context);
                GuardSizes.AssertBitIdentical(expected.TargetPotential, result.TargetPotential, context);
            }
        }
    }

    [Fact]
    public void Cost_check_stays_inside_the_cost()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach (int n in Lengths)
        {
            double[] cost = GuardSizes.Values(n, seed: n);
            double expected = CouplingInputs.CheckCostMaxAbs(cost, n, "shape", "cost");
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                GuardedBuffer<double> guarded = arena.AllocateBuffer<double>(n);
                cost.CopyTo(guarded.Span);
                string context = $"n = {n}, guard {side}";
                GuardSizes.AssertBitIdentical([expected], [CouplingInputs.CheckCostMaxAbs(guarded.Span, n, "shape", "cost")], context);

                // A non-finite value in the first and in the last element, the ones next to the guard page: found by the
                // vector loop or the tail, then named by the scalar re-check (which must stay inside too).
                foreach ((int position, double value) in new[] { (0, double.NaN), (n - 1, double.PositiveInfinity) })
                {
                    cost.CopyTo(guarded.Span);
                    guarded.Span[position] = value;
                    var error = Assert.Throws<NonFiniteValueException>(() => CouplingInputs.CheckCostMaxAbs(guarded.Span, n, "shape", "cost"));
                    Assert.Equal(position, error.Position);
                }
            }
        }
    }

    [Fact]
    public void Public_exact_lp_stays_inside_its_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach ((int rows, int cols) in Shapes())
        {
            var rng = new Random(rows + 1000 * cols);
            double[] a = Dirichlet(rng, rows), b = Dirichlet(rng, cols);
            double[] cost = GuardSizes.Values(rows * cols, seed: rows + 100 * cols);
            Coupling expected = Couplings.ExactLp(a, b, cost);
            Assert.Equal(LpStatus.Optimal, expected.Status);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                Coupling result = Couplings.ExactLp(arena.Copy<double>(a), arena.Copy<double>(b), arena.Copy<double>(cost));
                Assert.Equal(expected.Status, result.Status);
                Assert.Equal(expected.SimplexIterations, result.SimplexIterations);
                GuardSizes.AssertBitIdentical([expected.Objective], [result.Objective], $"{rows} × {cols}, guard {side}");
                Assert.Equal(expected.Entries, result.Entries);
            }
        }
    }
}

/// <summary>
/// <see cref="GuardPageCouplingTests"/> at the other widths of <see cref="System.Numerics.Vector{T}"/>: its size is fixed
/// at start-up (32 bytes by default, 4 doubles, even on AVX-512 hardware), so a child run of this test assembly with the
/// runtime's <c>DOTNET_MaxVectorTBitWidth</c> knob makes the couplings' vector loops take 2 and 8 doubles at a time,
/// with other tails at the same lengths.
/// </summary>
public class GuardPageCouplingVectorWidthTests
{
    [Theory]
    [InlineData(128, 2)]
    [InlineData(512, 8)]
    public async Task Couplings_vector_loops_stay_inside_their_spans_at_other_vector_widths(int bits, int lanes)
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        Assert.SkipUnless(System.Numerics.Vector<double>.Count != lanes, $"This process already runs Vector<double> at {lanes} lanes.");
        Assert.SkipUnless(bits < 512 || System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, "No AVX-512: Vector<T> cannot be 512 bits.");
        int facts = typeof(GuardPageCouplingTests).GetMethods().Count(m => m.IsDefined(typeof(FactAttribute), inherit: false));
        var (exitCode, output, error) = await TestHostChild.RunAsync(
            new Dictionary<string, string> { ["DOTNET_MaxVectorTBitWidth"] = $"{bits}", [GuardProbe.Variable] = "width" },
            "-class", typeof(GuardPageCouplingTests).FullName!);
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}{error}");
        Assert.Contains($"vector lanes {lanes}", output, StringComparison.Ordinal);
        Assert.Matches($@"Total: {facts}, Errors: 0, Failed: 0, Skipped: 0", output);
    }
}

using CsCheck;
using GmmFlow.Native.Highs;
using Xunit;
using static GmmFlow.Tests.Transport.TransportReference;

namespace GmmFlow.Tests.Transport;

public class CouplingsExactLpTests
{
    [Fact]
    public void HandComputedTransportProblem_HasKnownPlanAndCost()
    {
        // Same instance as HighsTests (optimum found by hand with the transportation tableau), in unnormalised mass:
        // supplies (15, 25), demands (10, 20, 10), unique optimal plan {(0,0)=5, (0,2)=10, (1,0)=5, (1,1)=20}, cost 125.
        Coupling coupling = Couplings.ExactLp([15, 25], [10, 20, 10], [2, 3, 1, 5, 4, 8]);

        Assert.Equal(LpStatus.Optimal, coupling.Status);
        Assert.Equal(125.0, coupling.Objective, 1e-10);
        Assert.Equal(
            [new CouplingEntry(0, 0, 5), new CouplingEntry(0, 2, 10), new CouplingEntry(1, 0, 5), new CouplingEntry(1, 1, 20)],
            coupling.Entries.Select(e => e with { Weight = Math.Round(e.Weight, 9) }));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(4, 4)]
    [InlineData(5, 5)]
    [InlineData(6, 6)]
    [InlineData(7, 6)]
    public void EqualWeights_ObjectiveEqualsBestPermutation(int k, int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 10; trial++)
        {
            double[] cost = Uniform(rng, k * k);
            double[] w = Enumerable.Repeat(1.0 / k, k).ToArray();
            Coupling coupling = Couplings.ExactLp(w, w, cost);
            Assert.Equal(BestAssignment(cost, k), coupling.Objective, 1e-12);
        }
    }

    [Theory]
    [InlineData(2, 2, 1)]
    [InlineData(2, 3, 2)]
    [InlineData(3, 2, 3)]
    [InlineData(3, 3, 4)]
    [InlineData(3, 4, 5)]
    [InlineData(1, 4, 6)]
    public void UnequalWeights_ObjectiveEqualsBestVertex(int k0, int k1, int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 5; trial++)
        {
            double[] a = Dirichlet(rng, k0, 0.5);
            double[] b = Dirichlet(rng, k1, 0.5);
            double[] cost = Uniform(rng, k0 * k1);
            Coupling coupling = Couplings.ExactLp(a, b, cost);
            Assert.Equal(BestVertex(a, b, cost), coupling.Objective, 1e-12);
        }
    }

    // Random sizes, skewed or uniform weights, continuous or small-integer costs (integer costs with uniform weights are
    // massively degenerate: many optimal vertices, many zero basic variables).
    private static readonly Gen<(int K0, int K1, double[] A, double[] B, double[] C)> s_cases =
        from k0 in Gen.Int[1, 24]
        from k1 in Gen.Int[1, 24]
        from uniform in Gen.Bool
        from integerCosts in Gen.Bool
        from seed in Gen.Int
        let rng = new Random(seed)
        let a = uniform ? Enumerable.Repeat(1.0 / k0, k0).ToArray() : Dirichlet(rng, k0, 0.3)
        let b = uniform ? Enumerable.Repeat(1.0 / k1, k1).ToArray() : Dirichlet(rng, k1, 0.3)
        let c = integerCosts ? Uniform(rng, k0 * k1).Select(v => Math.Floor(4 * v)).ToArray() : Uniform(rng, k0 * k1)
        select (k0, k1, a, b, c);

    [Fact]
    public void Property_PlanIsFeasibleSparseAndOptimalByStrongDuality()
    {
        s_cases.Sample((k0, k1, a, b, c) =>
        {
            Coupling coupling = Couplings.ExactLp(a, b, c);

            Assert.Equal(LpStatus.Optimal, coupling.Status);
            Assert.True(MaxMarginalError(coupling, a, b) <= 1e-12, $"marginal error {MaxMarginalError(coupling, a, b)}");
            Assert.True(coupling.Entries.Count <= k0 + k1 - 1, $"{coupling.Entries.Count} nonzeros > K0 + K1 − 1 = {k0 + k1 - 1}");
            Assert.All(coupling.Entries, e => Assert.True(e.Weight > 0));
            Assert.Equal(coupling.Entries.Sum(e => e.Weight * c[(e.Source * k1) + e.Target]), coupling.Objective, 1e-12);

            double dual = DualOptimum(c, [k0, k1], [a, b]);
            Assert.True(Math.Abs(coupling.Objective - dual) <= 1e-9, $"primal {coupling.Objective} vs dual {dual}");
        }, iter: 150, threads: 1);
    }

    [Fact]
    public void Property_ColumnGenerationMatchesFullLp()
    {
        // HiGHS' defaults (presolve, strategy) on the full LP, with tolerances as tight as the production path.
        var defaults = new HighsLpSettings { PrimalFeasibilityTolerance = 1e-10, DualFeasibilityTolerance = 1e-10 };
        s_cases.Sample((k0, k1, a, b, c) =>
        {
            Coupling restricted = Couplings.ExactLp(a, b, c);
            Coupling full = Couplings.ExactLp(a, b, c, defaults, Couplings.TransportLpMethod.FullKeepRows);
            Coupling fullDropped = Couplings.ExactLp(a, b, c, defaults, Couplings.TransportLpMethod.FullDropRow);
            Assert.Equal(full.Objective, restricted.Objective, 1e-10);
            Assert.Equal(full.Objective, fullDropped.Objective, 1e-10);
            Assert.True(MaxMarginalError(full, a, b) <= 1e-12);

            // Both column-generation starts, whichever the size would pick.
            foreach (var method in (ReadOnlySpan<Couplings.TransportLpMethod>)[Couplings.TransportLpMethod.ColumnGenerationPrimal, Couplings.TransportLpMethod.ColumnGenerationDual])
            {
                Coupling forced = Couplings.ExactLp(a, b, c, MarginalLp.DefaultSettings, method);
                Assert.Equal(LpStatus.Optimal, forced.Status);
                Assert.Equal(full.Objective, forced.Objective, 1e-10);
                Assert.True(MaxMarginalError(forced, a, b) <= 1e-12, $"{method}: marginal error {MaxMarginalError(forced, a, b)}");
                Assert.True(forced.Entries.Count <= k0 + k1 - 1, $"{method}: {forced.Entries.Count} nonzeros");
            }
        }, iter: 60, threads: 1);
    }

    [Fact]
    public void LargerProblem_NeedsPricingRounds_AndStaysExact()
    {
        // K = 60 with far more pairs than candidates (12 per row/column): optimality rests on the pricing loop.
        var rng = new Random(60);
        double[] a = Dirichlet(rng, 60);
        double[] b = Dirichlet(rng, 60);
        double[] cost = Uniform(rng, 3600);
        Coupling coupling = Couplings.ExactLp(a, b, cost);
        Coupling full = Couplings.ExactLp(a, b, cost, new HighsLpSettings { PrimalFeasibilityTolerance = 1e-10, DualFeasibilityTolerance = 1e-10 }, Couplings.TransportLpMethod.FullKeepRows);

        Assert.Equal(full.Objective, coupling.Objective, 1e-11);
        Assert.True(MaxMarginalError(coupling, a, b) <= 1e-12);
        Assert.True(coupling.Entries.Count <= 119);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void LargerProblem_BothStarts_AreExact(bool primalStart)
    {
        var method = primalStart ? Couplings.TransportLpMethod.ColumnGenerationPrimal : Couplings.TransportLpMethod.ColumnGenerationDual;
        // K0 = 45, K1 = 38: beyond the primal start's default range, and non-square so the dropped row is a column's.
        var rng = new Random(4538);
        double[] a = Dirichlet(rng, 45);
        double[] b = Dirichlet(rng, 38);
        double[] cost = Uniform(rng, 45 * 38);
        Coupling coupling = Couplings.ExactLp(a, b, cost, MarginalLp.DefaultSettings, method);
        Coupling full = Couplings.ExactLp(a, b, cost, new HighsLpSettings { PrimalFeasibilityTolerance = 1e-10, DualFeasibilityTolerance = 1e-10 }, Couplings.TransportLpMethod.FullKeepRows);

        Assert.Equal(full.Objective, coupling.Objective, 1e-11);
        Assert.True(MaxMarginalError(coupling, a, b) <= 1e-12);
        Assert.True(coupling.Entries.Count <= 45 + 38 - 1);
    }

    [Fact]
    public void RepeatedSolves_OnOneThread_GiveIdenticalResults()
    {
        // The thread's HiGHS instance is reused between solves: nothing (basis, options, sizes) may carry over.
        var rng = new Random(77);
        var problems = new[] { 10, 60, 3, 24, 25, 10 }
            .Select(k => (A: Dirichlet(rng, k), B: Dirichlet(rng, k + 1), C: Uniform(rng, k * (k + 1))))
            .ToArray();
        Coupling[] first = problems.Select(p => Couplings.ExactLp(p.A, p.B, p.C)).ToArray();
        for (int round = 0; round < 3; round++)
        {
            for (int q = problems.Length - 1; q >= 0; q--)
            {
                AssertSame(first[q], Couplings.ExactLp(problems[q].A, problems[q].B, problems[q].C));
            }
        }
    }

    [Fact]
    public void ConcurrentSolves_MatchSerialResults()
    {
        var rng = new Random(2024);
        var problems = Enumerable.Range(0, 24)
            .Select(q => 5 + (q * 7 % 50))
            .Select(k => (A: Dirichlet(rng, k), B: Dirichlet(rng, k), C: Uniform(rng, k * k)))
            .ToArray();
        Coupling[] serial = problems.Select(p => Couplings.ExactLp(p.A, p.B, p.C)).ToArray();
        Parallel.For(0, problems.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            int q = t % problems.Length;
            Coupling result = Couplings.ExactLp(problems[q].A, problems[q].B, problems[q].C);
            AssertSame(serial[q], result);
        });
    }

    private static void AssertSame(Coupling expected, Coupling actual)
    {
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.Objective, actual.Objective);
        Assert.Equal(expected.SimplexIterations, actual.SimplexIterations);
        Assert.Equal(expected.Entries, actual.Entries);
    }

    [Fact]
    public void ScaledCostsAndMass_ScaleTheObjective()
    {
        var rng = new Random(7);
        double[] a = Dirichlet(rng, 8);
        double[] b = Dirichlet(rng, 9);
        double[] cost = Uniform(rng, 72);
        Coupling unit = Couplings.ExactLp(a, b, cost);

        // Costs ×1e6 and mass ×40: same plan shape, objective ×4e7; normalisation inside keeps HiGHS' tolerances meaningful.
        Coupling scaled = Couplings.ExactLp(a.Select(v => 40 * v).ToArray(), b.Select(v => 40 * v).ToArray(), cost.Select(v => 1e6 * v).ToArray());
        Assert.Equal(unit.Objective * 4e7, scaled.Objective, 1e-9 * 4e7 * unit.Objective);
        Assert.True(MaxMarginalError(scaled, a.Select(v => 40 * v).ToArray(), b.Select(v => 40 * v).ToArray()) <= 40 * 1e-12);
    }

    [Fact]
    public void NegativeCosts_AreHandled()
    {
        // A negative constant shift changes every plan's cost by the same amount (total mass 1).
        var rng = new Random(8);
        double[] a = Dirichlet(rng, 5);
        double[] b = Dirichlet(rng, 7);
        double[] cost = Uniform(rng, 35);
        double shifted = Couplings.ExactLp(a, b, cost.Select(v => v - 3).ToArray()).Objective;
        Assert.Equal(Couplings.ExactLp(a, b, cost).Objective - 3, shifted, 1e-12);
    }

    [Fact]
    public void TotalsThatDiffer_ThrowArgumentException_NamingBothSums()
    {
        var ex = Assert.Throws<ArgumentException>(() => Couplings.ExactLp([0.5, 0.5], [0.5, 0.6], [0, 1, 1, 0]));
        Assert.Contains("sum to 1 ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("sum to 1.1", ex.Message, StringComparison.Ordinal);
        Assert.Equal("targetWeights", ex.ParamName);
    }

    [Fact]
    public void TotalsWithinTolerance_AreAccepted_AndColumnsMatchRescaledTarget()
    {
        double[] a = [0.3, 0.7];
        double[] b = [0.5, 0.5 + 4e-10];
        Coupling coupling = Couplings.ExactLp(a, b, [0, 1, 1, 0]);
        double scale = a.Sum() / b.Sum();
        Assert.True(MaxMarginalError(coupling, a, b.Select(v => v * scale).ToArray()) <= 1e-12);
    }

    [Fact]
    public void NonPositiveWeight_ThrowsArgumentException_NamingTheIndex()
    {
        var ex = Assert.Throws<ArgumentException>(() => Couplings.ExactLp([0.5, 0.5, 0], [0.5, 0.5], new double[6]));
        Assert.Contains("sourceWeights[2] = 0", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<ArgumentException>(() => Couplings.ExactLp([1.0], [1.5, -0.5], new double[2]));
        Assert.Contains("targetWeights[1] = -0.5", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonFiniteInputs_ThrowNonFiniteValueException_WithPosition()
    {
        var ex = Assert.Throws<NonFiniteValueException>(() => Couplings.ExactLp([0.5, 0.5], [0.5, 0.5], [0, 1, double.NaN, 0]));
        Assert.Equal(2, ex.Position);
        Assert.Equal("cost", ex.ParamName);

        ex = Assert.Throws<NonFiniteValueException>(() => Couplings.ExactLp([0.5, double.PositiveInfinity], [0.5, 0.5], [0, 1, 1, 0]));
        Assert.Equal(1, ex.Position);
    }

    [Fact]
    public void WrongCostLength_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Couplings.ExactLp([0.5, 0.5], [0.5, 0.5], [0, 1, 1]));
        Assert.Contains("expected 4", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<ArgumentException>(() => Couplings.ExactLp([], [1.0], []));
        Assert.Equal("sourceWeights", ex.ParamName);
    }

    [Fact]
    public void ToDense_RoundTripsEntries()
    {
        Coupling coupling = Couplings.ExactLp([15, 25], [10, 20, 10], [2, 3, 1, 5, 4, 8]);
        double[] dense = coupling.ToDense();
        Assert.Equal(6, dense.Length);
        Assert.Equal(40.0, dense.Sum(), 1e-10);
        Assert.Equal(20.0, dense[4], 1e-10);
        Assert.Equal(0.0, dense[1]);
    }
}

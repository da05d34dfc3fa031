using CsCheck;
using Xunit;
using static GmmFlow.Tests.Transport.TransportReference;

namespace GmmFlow.Tests.Transport;

public class CouplingsMultiMarginalTests
{
    [Fact]
    public void TwoMarginals_EqualTheTwoMarginalLp()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 10; trial++)
        {
            int k0 = rng.Next(1, 12);
            int k1 = rng.Next(1, 12);
            double[] a = Dirichlet(rng, k0);
            double[] b = Dirichlet(rng, k1);
            double[] cost = Uniform(rng, k0 * k1);

            MultiMarginalCoupling multi = Couplings.MultiMarginal(cost, [k0, k1], a, b);
            Coupling pair = Couplings.ExactLp(a, b, cost);

            Assert.Equal(LpStatus.Optimal, multi.Status);
            Assert.Equal(pair.Objective, multi.Objective, 1e-11);
            Assert.Equal(2, multi.MarginalCount);
        }
    }

    [Fact]
    public void ChainCost_SplitsIntoTwoIndependentLps()
    {
        // C(i, j, k) = A(i, j) + B(j, k): any couplings π12 of (a, b) and π23 of (b, c) glue into a 3-way coupling
        // (π12_ij π23_jk / b_j) with cost ⟨π12, A⟩ + ⟨π23, B⟩, and every 3-way coupling projects onto such a pair, so the
        // optimum is LP(a, b, A) + LP(b, c, B).
        var rng = new Random(12);
        for (int trial = 0; trial < 5; trial++)
        {
            int[] shape = [rng.Next(2, 6), rng.Next(2, 6), rng.Next(2, 6)];
            double[] a = Dirichlet(rng, shape[0]);
            double[] b = Dirichlet(rng, shape[1]);
            double[] c = Dirichlet(rng, shape[2]);
            double[] ab = Uniform(rng, shape[0] * shape[1]);
            double[] bc = Uniform(rng, shape[1] * shape[2]);
            var cost = new double[shape[0] * shape[1] * shape[2]];
            for (int i = 0; i < shape[0]; i++)
            {
                for (int j = 0; j < shape[1]; j++)
                {
                    for (int k = 0; k < shape[2]; k++)
                    {
                        cost[(((i * shape[1]) + j) * shape[2]) + k] = ab[(i * shape[1]) + j] + bc[(j * shape[2]) + k];
                    }
                }
            }

            double expected = Couplings.ExactLp(a, b, ab).Objective + Couplings.ExactLp(b, c, bc).Objective;
            Assert.Equal(expected, Couplings.MultiMarginal(cost, shape, a, b, c).Objective, 1e-11);
        }
    }

    private static readonly Gen<(int[] Shape, double[][] Marginals, double[] Cost)> s_cases =
        from m in Gen.Int[2, 4]
        from sizes in Gen.Int[1, 5].Array[m]
        from seed in Gen.Int
        let rng = new Random(seed)
        let marginals = sizes.Select(n => Dirichlet(rng, n, 0.5)).ToArray()
        let cost = Uniform(rng, sizes.Aggregate(1, (p, n) => p * n))
        select (sizes, marginals, cost);

    [Fact]
    public void Property_FeasibleSparseAndOptimalByStrongDuality()
    {
        s_cases.Sample((shape, marginals, cost) =>
        {
            MultiMarginalCoupling coupling = Couplings.MultiMarginal(cost, shape, marginals);
            Assert.Equal(LpStatus.Optimal, coupling.Status);

            // Marginals to 1e-12, recomputed here from the returned entries.
            for (int axis = 0; axis < shape.Length; axis++)
            {
                var sums = new double[shape[axis]];
                for (int e = 0; e < coupling.Count; e++)
                {
                    sums[coupling.GetIndex(e)[axis]] += coupling.Weights[e];
                }

                for (int i = 0; i < shape[axis]; i++)
                {
                    Assert.True(Math.Abs(sums[i] - marginals[axis][i]) <= 1e-12, $"axis {axis} index {i}: {sums[i]} vs {marginals[axis][i]}");
                }
            }

            int bound = shape.Sum() - shape.Length + 1;
            Assert.True(coupling.Count <= bound, $"{coupling.Count} nonzeros > Σ N − M + 1 = {bound}");

            double dual = DualOptimum(cost, shape, marginals);
            Assert.True(Math.Abs(coupling.Objective - dual) <= 1e-9, $"primal {coupling.Objective} vs dual {dual}");
        }, iter: 100, threads: 1);
    }

    [Fact]
    public void Indices_AreRowMajorAndWithinShape()
    {
        var rng = new Random(13);
        int[] shape = [3, 4, 2];
        double[][] marginals = [Dirichlet(rng, 3), Dirichlet(rng, 4), Dirichlet(rng, 2)];
        MultiMarginalCoupling coupling = Couplings.MultiMarginal(Uniform(rng, 24), shape, marginals);

        Assert.Equal(coupling.Count * 3, coupling.Indices.Length);
        int previous = -1;
        for (int e = 0; e < coupling.Count; e++)
        {
            ReadOnlySpan<int> index = coupling.GetIndex(e);
            Assert.InRange(index[0], 0, 2);
            Assert.InRange(index[1], 0, 3);
            Assert.InRange(index[2], 0, 1);
            int flat = (((index[0] * 4) + index[1]) * 2) + index[2];
            Assert.True(flat > previous);
            previous = flat;
        }

        Assert.Throws<ArgumentOutOfRangeException>(() => coupling.GetIndex(coupling.Count));
    }

    [Fact]
    public void BadInputs_ThrowArgumentException()
    {
        double[] w2 = [0.5, 0.5];
        Assert.Throws<ArgumentException>(() => Couplings.MultiMarginal(new double[4], [4], [0.25, 0.25, 0.25, 0.25]));
        var ex = Assert.Throws<ArgumentException>(() => Couplings.MultiMarginal(new double[8], [2, 2, 2], w2, w2));
        Assert.Contains("3 axes but 2 marginals", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => Couplings.MultiMarginal(new double[6], [2, 3], w2, w2));
        Assert.Contains("marginals[1]", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => Couplings.MultiMarginal(new double[4], [2, 2], w2, [0.5, 0.7]));
        Assert.Contains("sum to 1.2", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => Couplings.MultiMarginal(new double[5], [2, 2], w2, w2));
        Assert.Contains("expected 4", ex.Message, StringComparison.Ordinal);
        Assert.Throws<NonFiniteValueException>(() => Couplings.MultiMarginal([0, 1, double.NaN, 0], [2, 2], w2, w2));
    }
}

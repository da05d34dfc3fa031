using Xunit;
using static GmmFlow.Tests.Transport.TransportReference;

namespace GmmFlow.Tests.Transport;

/// <summary>The round-off cleanup on plans that HiGHS did not produce: perturbed vertices and unrepairable supports.</summary>
public class CouplingsPlanCleanupTests
{
    [Fact]
    public void PerturbedVertex_IsRestoredExactlyOnItsSupport()
    {
        var rng = new Random(21);
        double[] a = Dirichlet(rng, 6);
        double[] b = Dirichlet(rng, 7);
        double[] mu = [.. a, .. b];
        double[] plan = Couplings.ExactLp(a, b, Uniform(rng, 42)).ToDense();
        bool[] support = plan.Select(v => v > 0).ToArray();

        // Solver-sized noise on the support, plus the typical junk: a tiny negative off the support.
        for (int c = 0; c < plan.Length; c++)
        {
            if (support[c])
            {
                plan[c] *= 1 + (1e-9 * ((2 * rng.NextDouble()) - 1));
            }
        }

        int off = Array.FindIndex(support, s => !s);
        plan[off] = -1e-17;

        PlanCleanup.Clean(plan, [6, 7], mu, 1.0);

        Assert.True(PlanCleanup.MaxResidual(plan, [6, 7], mu) <= 1e-15);
        for (int c = 0; c < plan.Length; c++)
        {
            Assert.Equal(support[c], plan[c] > 0);
        }
    }

    [Fact]
    public void SupportThatCannotCarryTheMarginals_IsRepairedWithFewExtraEntries()
    {
        // Diagonal support for marginals that are not equal: no plan on the diagonal can be feasible.
        double[] a = [0.5, 0.3, 0.2];
        double[] b = [0.4, 0.4, 0.2];
        double[] plan = [0.5, 0, 0, 0, 0.3, 0, 0, 0, 0.2];
        PlanCleanup.Clean(plan, [3, 3], [.. a, .. b], 1.0);

        Assert.True(PlanCleanup.MaxResidual(plan, [3, 3], [.. a, .. b]) <= 1e-15);
        Assert.All(plan, v => Assert.True(v >= 0));
        Assert.True(plan.Count(v => v > 0) <= 5);
    }

    [Fact]
    public void ThreeAxes_AreFittedProportionally()
    {
        var rng = new Random(22);
        int[] shape = [3, 2, 4];
        double[][] marginals = [Dirichlet(rng, 3), Dirichlet(rng, 2), Dirichlet(rng, 4)];
        double[] plan = Densify(Couplings.MultiMarginal(Uniform(rng, 24), shape, marginals), 24);
        int nonzeros = plan.Count(v => v > 0);
        for (int k = 0; k < plan.Length; k++)
        {
            plan[k] *= 1 + (1e-10 * Math.Sin(k));
        }

        double[] mu = [.. marginals[0], .. marginals[1], .. marginals[2]];
        PlanCleanup.Clean(plan, shape, mu, 1.0);

        Assert.True(PlanCleanup.MaxResidual(plan, shape, mu) <= 1e-14);
        Assert.Equal(nonzeros, plan.Count(v => v > 0));
    }

    private static double[] Densify(MultiMarginalCoupling coupling, int size)
    {
        var dense = new double[size];
        for (int e = 0; e < coupling.Count; e++)
        {
            ReadOnlySpan<int> i = coupling.GetIndex(e);
            dense[(((i[0] * 2) + i[1]) * 4) + i[2]] = coupling.Weights[e];
        }

        return dense;
    }
}

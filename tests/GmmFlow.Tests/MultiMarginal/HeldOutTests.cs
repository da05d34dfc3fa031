namespace GmmFlow.Tests.MultiMarginal;

public class HeldOutTests
{
    [Fact]
    public void Synthetic_snapshots_are_deterministic_and_shaped()
    {
        var a = BranchingSnapshots.Generate(3, 200, seed: 4);
        var b = BranchingSnapshots.Generate(3, 200, seed: 4);
        Assert.Equal(5, a.Length);
        Assert.All(a, x => Assert.Equal(600, x.Length));
        Assert.Equal(a[3], b[3]);
        Assert.NotEqual(a[3], BranchingSnapshots.Generate(3, 200, seed: 5)[3]);
        Assert.Throws<ArgumentOutOfRangeException>(() => BranchingSnapshots.Generate(6, 10, 0));
    }

    [Fact]
    public void Momentum_bridge_predicts_a_held_out_snapshot_better_than_the_brownian_baseline()
    {
        // Curved (accelerating, branching) paths: the spline through the kept snapshot means follows the curvature,
        // the Brownian bridge between the neighbours interpolates linearly. Fit 2 components per snapshot.
        double[] times = [0, 1, 2, 3, 4];
        var data = BranchingSnapshots.Generate(2, 1500, seed: 11, populations: 1);
        var mixtures = data.Select((x, k) => GaussianMixtureFitter.Fit(x, 2, 2, new GaussianMixtureFitOptions { Seed = (ulong)k }).Mixture).ToList();
        var score = MomentumHeldOut.Evaluate(times, mixtures, 2, data[2], noise: 0.1, predictions: 1500, seed: 1);
        Assert.True(score.MomentumSwd < 0.8 * score.BrownianSwd, $"SWD momentum {score.MomentumSwd} vs Brownian {score.BrownianSwd}");
        Assert.True(score.MomentumMmd < score.BrownianMmd, $"MMD momentum {score.MomentumMmd} vs Brownian {score.BrownianMmd}");
        // The scores themselves: a sample against itself is at SWD 0; against a shifted copy, SWD = |shift|/√d in expectation.
        var x = data[2];
        Assert.Equal(0, MomentumHeldOut.Swd(x, x, 2), 1e-12);
        var shifted = x.Select((v, i) => i % 2 == 0 ? v + 1.0 : v).ToArray();
        Assert.InRange(MomentumHeldOut.Swd(x, shifted, 2), 0.55, 0.85);
    }
}

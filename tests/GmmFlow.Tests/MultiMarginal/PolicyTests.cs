namespace GmmFlow.Tests.MultiMarginal;

public class PolicyTests
{
    private static (double[] Means, double[] Covariances, TupleCost Cost) SolveTuple(double[] times, double[] mu, double[] sigma, int n, double noise)
    {
        int k = times.Length, n2 = 2 * n;
        var solver = new MomentumTupleSolver(times, n, noise);
        var chol = new double[k * n * n];
        for (int j = 0; j < k; j++)
        {
            var c = sigma.AsSpan(j * n * n, n * n).ToArray();
            Assert.True(PhaseAlgebra.Cholesky(c, n));
            c.CopyTo(chol, j * n * n);
        }
        var means = new double[k * n2];
        var covs = new double[k * n2 * n2];
        var cost = solver.Solve(mu, chol, means, covs, new TupleSolverSettings(1e-11, 0, 5000));
        return (means, covs, cost);
    }

    private static MomentumSegment Segment(double[] times, double[] means, double[] covs, int n, double noise, int s)
    {
        int n2 = 2 * n, nn = n2 * n2;
        return new MomentumSegment(times[s], times[s + 1], n, noise, means.AsSpan(s * n2, n2), covs.AsSpan(s * nn, nn),
            means.AsSpan((s + 1) * n2, n2), covs.AsSpan((s + 1) * nn, nn));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public void Interior_segment_matches_the_linear_dynamics_pair_bridge(double noise)
    {
        // Knot laws from a 2-D, 4-knot tuple; segment 1 → 2 has positive definite end laws, so the general
        // linear-dynamics bridge (an independent implementation: Van Loan / closed-form Φ, M, Riccati) applies.
        double[] times = [0, 0.8, 1.7, 3];
        double[] mu = [0, 0, 1, 0.5, 1.5, 2, 3, 2.2];
        double[] sigma = [1, 0.2, 0.2, 0.5, 0.4, 0, 0, 0.6, 0.8, -0.3, -0.3, 0.7, 0.5, 0.1, 0.1, 0.4];
        var (means, covs, cost) = SolveTuple(times, mu, sigma, 2, noise);
        Assert.True(double.IsFinite(cost.Total));
        var seg = Segment(times, means, covs, 2, noise, 1);
        double tau = times[2] - times[1];
        var bridge = LinearGaussianBridge.Create(LinearDynamics.DoubleIntegrator(2, tau), means.AsSpan(4, 4), covs.AsSpan(16, 16),
            means.AsSpan(8, 4), covs.AsSpan(32, 16), noise);
        Assert.Equal(bridge.Cost, seg.Cost, 1e-8 * Math.Max(1, Math.Abs(seg.Cost)));
        var ws = new SegmentScratch(2);
        var m = new double[4];
        var c = new double[16];
        var gain = new double[8];
        var ff = new double[2];
        var mRef = new double[4];
        var cRef = new double[16];
        var gRef = new double[8];
        var fRef = new double[2];
        foreach (double f in new[] { 0.0, 0.2, 0.5, 0.77, 0.95, 1.0 })
        {
            double t = times[1] + f * tau;
            seg.Evaluate(t, m, c, gain, ff, ws);
            bridge.Mean(f * tau, mRef);
            bridge.Covariance(f * tau, cRef);
            bridge.Gain(f * tau, gRef);
            bridge.FeedForward(f * tau, fRef);
            for (int i = 0; i < 4; i++)
            {
                Assert.Equal(mRef[i], m[i], 1e-9);
            }
            for (int i = 0; i < 16; i++)
            {
                Assert.Equal(cRef[i], c[i], 1e-8);
            }
            for (int i = 0; i < 8; i++)
            {
                Assert.Equal(gRef[i], gain[i], 1e-6 * Math.Max(1, Math.Abs(gRef[i])));
            }
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(fRef[i], ff[i], 1e-9);
            }
        }
    }

    [Fact]
    public void Tuple_cost_is_the_sum_of_its_segment_costs()
    {
        double[] times = [0, 1, 2, 3];
        var (means, covs, cost) = SolveTuple(times, [0, 1, 0.5, 2], [1, 0.3, 0.8, 0.4], 1, 0.3);
        double sum = 0;
        for (int s = 0; s < 3; s++)
        {
            sum += Segment(times, means, covs, 1, 0.3, s).Cost;
        }
        Assert.Equal(cost.Total, sum, 1e-9 * Math.Abs(sum));
        Assert.Equal(12.4, cost.MeanPart, 1e-10);
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    public void One_segment_reduces_to_the_two_marginal_double_integrator_bridge(double noise)
    {
        // M = 1: the knot velocities are free at both ends, so the mean path is a straight line at constant speed
        // (mean part 0, ν = Δμ/T) and the tuple cost is the pair cost of the optimal knot laws.
        double[] times = [0.5, 1.8];
        double[] mu = [0, 1, 2, -1];
        double[] sigma = [1, 0.3, 0.3, 0.6, 0.5, -0.1, -0.1, 0.9];
        var (means, covs, cost) = SolveTuple(times, mu, sigma, 2, noise);
        Assert.Equal(0.0, cost.MeanPart, 1e-12);
        double T = 1.3;
        Assert.Equal(2 / T, means[2], 1e-12);
        Assert.Equal(-2 / T, means[3], 1e-12);
        Assert.Equal(2 / T, means[6], 1e-12);
        // The initial law may be singular; the pair bridge needs it positive definite: a 1e-10 ridge moves J by ~1e-9.
        var p0 = covs.AsSpan(0, 16).ToArray();
        for (int i = 0; i < 4; i++)
        {
            p0[i * 5] += 1e-10;
        }
        var bridge = LinearGaussianBridge.Create(LinearDynamics.DoubleIntegrator(2, T), means.AsSpan(0, 4), p0, means.AsSpan(4, 4), covs.AsSpan(16, 16), noise);
        Assert.Equal(bridge.Cost, cost.Total, 1e-6 * Math.Max(1, Math.Abs(cost.Total)));
        if (noise == 1.0)
        {
            // Σ1 − εT³/3 I is not positive semidefinite here, so the uncontrolled drift cannot reach Σ1: J > 0.
            // (For σ = 0.3 it is, and J = 0: free velocities let the bridge coast.)
            Assert.True(cost.Total > 0.05, $"J = {cost.Total}");
        }
        // And the segment bridge reproduces the pair bridge's control away from t0.
        var seg = Segment(times, means, covs, 2, noise, 0);
        var ws = new SegmentScratch(2);
        var gain = new double[8];
        var gRef = new double[8];
        var ff = new double[2];
        seg.Evaluate(times[0] + 0.6 * T, new double[4], new double[16], gain, ff, ws);
        bridge.Gain(0.6 * T, gRef);
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(gRef[i], gain[i], 1e-4 * Math.Max(1, Math.Abs(gRef[i])));
        }
    }

    [Fact]
    public void Control_vanishes_at_both_ends_and_is_continuous_across_knots()
    {
        // Transversality (free velocity at t0 and tM) and smoothness at interior knots, per tuple, on samples of the
        // tuple's own marginal (its support).
        var plan = MomentumFixtures.Plan;
        var times = MomentumFixtures.Times;
        var ws = new SegmentScratch(2);
        var m = new double[4];
        var c = new double[16];
        var gain = new double[8];
        var ff = new double[2];
        foreach (var tuple in plan.Tuples)
        {
            var segs = tuple.Segments;
            double scale = 0;
            // Typical control size: u at the middle of segment 0 at its mean.
            segs[0].Evaluate(0.5, m, c, gain, ff, ws);
            scale = Math.Max(Math.Abs(ff[0]), Math.Abs(ff[1])) + 1;
            double Control(MomentumSegment seg, double t, ReadOnlySpan<double> z, int r)
            {
                seg.Evaluate(t, m, c, gain, ff, ws);
                double u = ff[r];
                for (int j = 0; j < 4; j++)
                {
                    u += gain[r * 4 + j] * (z[j] - m[j]);
                }
                return u;
            }
            var rng = new CounterRng(3);
            var xi = new double[4];
            var factor = new double[16];
            for (int sample = 0; sample < 20; sample++)
            {
                rng.FillNormal((ulong)sample, 0, xi);
                // A point of the support of the law at time t: m_t + Σ_t^½ ξ.
                double[] Point(MomentumSegment seg, double t)
                {
                    seg.Evaluate(t, m, c, default, default, ws);
                    PhaseAlgebra.SemidefiniteFactor(c, factor, 4, new double[24]);
                    var z = new double[4];
                    for (int i = 0; i < 4; i++)
                    {
                        z[i] = m[i];
                        for (int j = 0; j < 4; j++)
                        {
                            z[i] += factor[i * 4 + j] * xi[j];
                        }
                    }
                    return z;
                }
                double tStart = times[0] + 1e-4, tEnd = times[^1] - 1e-4;
                var z0 = Point(segs[0], tStart);
                var z1 = Point(segs[^1], tEnd);
                var zk = Point(segs[1], times[1]);
                for (int r = 0; r < 2; r++)
                {
                    // u(t0 + s) = O(s) on the support: 1e-4 away from the ends it is ≲ 1e-3 of the control scale.
                    Assert.InRange(Math.Abs(Control(segs[0], tStart, z0, r)), 0, 1e-2 * scale);
                    Assert.InRange(Math.Abs(Control(segs[^1], tEnd, z1, r)), 0, 1e-2 * scale);
                    double left = Control(segs[0], times[1], zk, r), right = Control(segs[1], times[1], zk, r);
                    Assert.Equal(left, right, 2e-4 * scale);
                }
            }
        }
    }

    [Fact]
    public void Transported_particles_hit_every_knot_marginal()
    {
        // Two-sample MMD permutation tests at each knot between transported particles (Euler–Maruyama from samples of
        // the first mixture) and fresh samples of that knot's mixture.
        var plan = MomentumFixtures.Plan;
        var marginals = MomentumFixtures.Snapshots();
        int count = 600;
        var x0 = marginals[0].Sample(count, 21);
        var positions = plan.Transport(x0, MomentumFixtures.Times, new MomentumRunOptions { Steps = 500, Seed = 4 });
        for (int k = 1; k < 3; k++)
        {
            var reference = marginals[k].Sample(count, 100 + (ulong)k);
            var test = SampleMetrics.MmdPermutationTest(positions.AsSpan(k * count * 2, count * 2), reference, 2, permutations: 200, seed: 7);
            Assert.True(test.PValue > 0.01, $"knot {k}: MMD p = {test.PValue}");
        }
        // Exact marginal samples at the knots are the mixtures themselves.
        for (int k = 0; k < 3; k++)
        {
            var exact = plan.SampleMarginal(MomentumFixtures.Times[k], count, 50 + (ulong)k);
            var test = SampleMetrics.MmdPermutationTest(exact, marginals[k].Sample(count, 200 + (ulong)k), 2, permutations: 200, seed: 8);
            Assert.True(test.PValue > 0.01, $"exact knot {k}: MMD p = {test.PValue}");
        }
    }

    [Fact]
    public void Plan_weights_meet_every_marginal_and_the_objective_is_the_weighted_cost()
    {
        var plan = MomentumFixtures.Plan;
        var marginals = MomentumFixtures.Snapshots();
        Assert.NotNull(plan.CostTensor);
        Assert.True(plan.Tuples.Count <= 2 + 2 + 2 - 2);
        double objective = 0;
        for (int k = 0; k < 3; k++)
        {
            var sums = new double[2];
            foreach (var t in plan.Tuples)
            {
                sums[t.Components[k]] += t.Weight;
            }
            Assert.Equal(marginals[k].Weights[0], sums[0], 1e-9);
            Assert.Equal(marginals[k].Weights[1], sums[1], 1e-9);
        }
        foreach (var t in plan.Tuples)
        {
            objective += t.Weight * t.Cost;
            int flat = (t.Components[0] * 2 + t.Components[1]) * 2 + t.Components[2];
            Assert.Equal(plan.CostTensor![flat], t.Cost, 1e-6 * t.Cost);
        }
        Assert.Equal(plan.Objective, objective, 1e-9 * objective);
    }

    [Fact]
    public void Bad_inputs_throw_typed_exceptions()
    {
        var m = MomentumFixtures.Snapshots();
        Assert.Throws<ArgumentException>(() => MultiMarginalPlan.Create([0, 1, 1], m));
        Assert.Throws<ArgumentException>(() => MultiMarginalPlan.Create([0, 1], m));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultiMarginalPlan.Create([0, 1, 2], m, new MultiMarginalOptions { Noise = -1 }));
        Assert.Throws<ArgumentException>(() => MultiMarginalPlan.Create([0, 1, double.NaN], m));
        var plan = MomentumFixtures.Plan;
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.SampleMarginal(3, 10, 0));
        Assert.Throws<ArgumentException>(() => plan.Transport([1, 2, 3], [1.0]));
        Assert.Throws<ArgumentException>(() => MultiMarginalPlan.FromTuples(MomentumFixtures.Times, m, 0.4, [([0, 0, 0], 1.0)]));
    }
}

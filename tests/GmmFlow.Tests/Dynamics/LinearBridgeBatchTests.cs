using GmmFlow.Tests.Costs;
using static GmmFlow.Tests.Dynamics.DynamicsTestHelpers;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Dynamics;

/// <summary>
/// <see cref="LinearGaussianBridge.CreateMany"/> (lockstep groups of pairs) against one-pair <see cref="LinearGaussianBridge.Create"/>:
/// same cost, coupling, Riccati matrix and marginal to rounding, for group sizes that do and do not divide the pair
/// count, on an underactuated system whose K spans many orders of magnitude; bad pairs are named.
/// </summary>
public class LinearBridgeBatchTests
{
    /// <summary>A random LTI system (m = n/2 or n controls, T = 1) and <paramref name="count"/> random stacked pairs.</summary>
    private static (LinearDynamics Dynamics, double[] M0, double[] S0, double[] M1, double[] S1) Pairs(int n, int count, int seed,
        bool underactuated = true)
    {
        var dynamics = RandomLti(n, underactuated ? Math.Max(1, n / 2) : n, seed, scale: 0.5, horizon: 1.0);
        var rng = new Random(seed);
        int nn = n * n;
        double[] m0 = new double[count * n], m1 = new double[count * n], s0 = new double[count * nn], s1 = new double[count * nn];
        for (int p = 0; p < count; p++)
        {
            for (int k = 0; k < n; k++)
            {
                m0[p * n + k] = Normal(rng);
                m1[p * n + k] = 3 * Normal(rng);
            }
            RandomSpd(n, seed + 2 * p + 1, 0.5).CopyTo(s0, p * nn);
            RandomSpd(n, seed + 2 * p + 2, 0.5).CopyTo(s1, p * nn);
        }
        return (dynamics, m0, s0, m1, s1);
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        double scale = Math.Max(1, expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * scale, $"{what}[{i}]: {actual[i]:R} vs {expected[i]:R}");
        }
    }

    /// <remarks>
    /// Both paths whiten through the Gramian's factor, which amplifies rounding by up to κ(M) in J and κ(M)² in S01, Σ_t
    /// and Π (docs/theory/linear-dynamics.md#pair-algebra): fully actuated systems (m = n) are compared at 1e-11 (1e-9
    /// for Π), underactuated ones (the benchmark's m = n/2, κ(M) up to ~1e4) at 1e-15 κ(M)², the rule the one-pair set-up
    /// is held to against the direct reduction. At σ = 0 the batch must also meet the certificate S01ᵀΣ0⁻¹S01 = Σ1.
    /// </remarks>
    [Theory]
    [InlineData(2, 5, 0.5, false)]
    [InlineData(4, 9, 0.5, false)]
    [InlineData(8, 13, 0.0, false)]
    [InlineData(16, 21, 0.5, false)]
    [InlineData(4, 9, 0.5, true)]
    [InlineData(8, 13, 0.0, true)]
    [InlineData(16, 21, 0.5, true)]
    [InlineData(16, 3, 0.0, true)]
    public void Batched_bridges_equal_one_pair_bridges(int n, int count, double sigma, bool underactuated)
    {
        var (dynamics, m0, s0, m1, s1) = Pairs(n, count, 40 + n, underactuated);
        var many = LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, s1, sigma, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal(count, many.Length);
        var gram = new double[n * n];
        dynamics.Gramian(dynamics.Horizon, 0, gram);
        var gramValues = JacobiEigenvalues(gram, n);
        double kappa = gramValues.Max() / gramValues.Min(), loose = 1e-15 * kappa * kappa;
        double tolerance = Math.Max(1e-11, loose), piTolerance = Math.Max(1e-9, loose);
        int nn = n * n;
        for (int p = 0; p < count; p++)
        {
            var one = LinearGaussianBridge.Create(dynamics, m0.AsSpan(p * n, n), s0.AsSpan(p * nn, nn), m1.AsSpan(p * n, n), s1.AsSpan(p * nn, nn), sigma);
            string where = $"n={n} κ(M)={kappa:E1} pair {p}";
            // J to 1e-15 κ(M): the −2Σ√γ_k of σ = 0 adds the square root's conditioning near 0 to the whitening's κ(M).
            double costTolerance = Math.Max(1e-12, 1e-15 * kappa) * Math.Max(1, Math.Abs(one.Cost));
            Assert.True(Math.Abs(one.Cost - many[p].Cost) <= costTolerance, $"{where}: J {many[p].Cost:R} vs {one.Cost:R}");
            Assert.Equal(one.PairDependentCost, many[p].PairDependentCost, costTolerance);
            double[] c1 = new double[nn], c2 = new double[nn];
            one.CrossCovariance(c1);
            many[p].CrossCovariance(c2);
            AssertClose(c1, c2, tolerance, $"{where} Cov(X0, XT)");
            if (sigma == 0)
            {
                var s0Inv = Reference.Inverse(s0.AsSpan(p * nn, nn).ToArray(), n);
                double certificate = RelDiff(Multiply(Multiply(c2, s0Inv, n, n, n, transA: true), c2, n, n, n), s1.AsSpan(p * nn, nn));
                Assert.True(certificate <= tolerance, $"{where}: S01ᵀΣ0⁻¹S01 − Σ1 {certificate:E2}");
            }
            foreach (double t in new[] { 0.25, 0.5, 0.9 })
            {
                AssertClose(Pi(one, t), Pi(many[p], t), piTolerance, $"{where} Π({t})");
                AssertClose(Cov(one, t), Cov(many[p], t), tolerance, $"{where} Σ({t})");
                AssertClose(MeanAt(one, t), MeanAt(many[p], t), 1e-12, $"{where} m({t})");
            }
        }
    }

    [Theory]
    [InlineData(2, 0.5)]
    [InlineData(4, 0.0)]
    [InlineData(16, 0.5)]
    public void Cost_matrix_from_eigenvalues_equals_the_bridges_costs(int n, double sigma)
    {
        // LinearTransportPlan's costs come from K's eigenvalues alone (no bridges); 3 × 5 pairs cross a lockstep group.
        var dynamics = RandomLti(n, Math.Max(1, n / 2), 70 + n, scale: 0.5, horizon: 1.0);
        var source = Transport.TransportPlanTests.RandomMixture(3, n, 71, 1.0);
        var target = Transport.TransportPlanTests.RandomMixture(5, n, 72, 2.0);
        var options = new LinearTransportOptions { Noise = sigma };
        var costs = LinearTransportPlan.ComputeCosts(source, target, dynamics, options);
        var gram = new double[n * n];
        dynamics.Gramian(dynamics.Horizon, 0, gram);
        var gramValues = JacobiEigenvalues(gram, n);
        double kappa = gramValues.Max() / gramValues.Min();
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 5; j++)
            {
                double cost = LinearGaussianBridge.Create(dynamics, source.Mean(i), source.Covariance(i), target.Mean(j), target.Covariance(j), sigma).Cost;
                double tolerance = Math.Max(1e-12, 1e-15 * kappa) * Math.Max(1, Math.Abs(cost));
                if (sigma == 0)
                {
                    // J's −2Σ√γ_k: two eigensolvers agree on γ_k to a few ε‖K‖, and |√a − √b| ≤ √|a − b|.
                    tolerance = Math.Max(tolerance, 2 * n * Math.Sqrt(8 * n * 2.2e-16 * LargestEigenvalueOfK(dynamics, source.Covariance(i), target.Covariance(j))));
                }
                Assert.True(Math.Abs(costs[i * 5 + j] - cost) <= tolerance, $"pair ({i}, {j}): {costs[i * 5 + j]:R} vs {cost:R}");
            }
        }
        // The plan's active bridges are built afterwards and carry the same costs.
        var plan = LinearTransportPlan.Create(source, target, dynamics, options);
        Assert.Equal(costs, plan.CostMatrix);
        double objective = plan.Pairs.Sum(e => e.Weight * costs[e.Source * 5 + e.Target]);
        Assert.Equal(objective, plan.Objective, 1e-9 * Math.Max(1, Math.Abs(objective)));
    }

    private static double LargestEigenvalueOfK(LinearDynamics dynamics, ReadOnlySpan<double> s0, ReadOnlySpan<double> s1)
    {
        int n = dynamics.StateDimension;
        double[] l0 = NaiveCholesky(s0.ToArray(), n), l1 = NaiveCholesky(s1.ToArray(), n), k = new double[n * n];
        LinearGaussianBridge.ReducedMatrix(dynamics, l0, l1, k, LinearGaussianBridge.Workspace.For(n, dynamics.ControlDimension));
        return JacobiEigenvalues(k, n).Max();
    }

    [Fact]
    public void Long_batches_report_progress_and_can_be_cancelled()
    {
        var (dynamics, m0, s0, m1, s1) = Pairs(4, 2500, 9);
        var reports = new List<double>();
        var many = LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, s1, 0.3, new SynchronousProgress(reports.Add), TestContext.Current.CancellationToken);
        Assert.Equal(2500, many.Length);
        Assert.Equal([1024 / 2500.0, 2048 / 2500.0, 1.0], reports);
        Assert.Equal(LinearGaussianBridge.Create(dynamics, m0.AsSpan(2100 * 4, 4), s0.AsSpan(2100 * 16, 16), m1.AsSpan(2100 * 4, 4), s1.AsSpan(2100 * 16, 16), 0.3).Cost,
            many[2100].Cost, 1e-10 * Math.Max(1, Math.Abs(many[2100].Cost)));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, s1, 0.3, cancellationToken: cancelled.Token));
    }

    private sealed class SynchronousProgress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    [Fact]
    public void A_bad_pair_is_named_and_nothing_is_returned()
    {
        var (dynamics, m0, s0, m1, s1) = Pairs(8, 12, 3);
        var asymmetric = (double[])s1.Clone();
        asymmetric[5 * 64 + 1] += 1e-3; // pair 5, entry (0, 1)
        var e = Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, asymmetric, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("Pair 5: ", e.Message);
        Assert.Contains("(1, 0)", e.Message);
        var nonFinite = (double[])m0.Clone();
        nonFinite[9 * 8 + 7] = double.NaN;
        e = Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, nonFinite, s0, m1, s1, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("Pair 9: ", e.Message);
        var indefinite = (double[])s0.Clone();
        indefinite[11 * 64] = -1;
        e = Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, indefinite, m1, s1, cancellationToken: TestContext.Current.CancellationToken));
        Assert.StartsWith("Pair 11: ", e.Message);
        Assert.IsType<NotPositiveDefiniteException>(e.InnerException);
        Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, s0.AsSpan(1), m1, s1, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0.AsSpan(1), s0, m1, s1, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, s1, double.NaN, cancellationToken: TestContext.Current.CancellationToken));
        Assert.Empty(LinearGaussianBridge.CreateMany(dynamics, [], [], [], [], cancellationToken: TestContext.Current.CancellationToken));
    }

    [Fact]
    public void The_vector_covariance_check_names_the_same_entries_as_the_entrywise_one()
    {
        // The check runs as one vector pass; a failure is reported by the entry-by-entry loops: every position of a
        // 5×5 matrix (a length that leaves a scalar tail) and of a 16×16 one.
        foreach (int n in new[] { 5, 16 })
        {
            var dynamics = LinearDynamics.TimeInvariant(new double[n * n], Identity(n), n, n, 1.0);
            var mean = new double[n];
            var s = Identity(n);
            for (int r = 0; r < n; r++)
            {
                for (int c = 0; c < n; c++)
                {
                    var bad = (double[])s.Clone();
                    bad[r * n + c] = double.PositiveInfinity;
                    var e = Assert.ThrowsAny<ArgumentException>(() => LinearGaussianBridge.Create(dynamics, mean, bad, mean, s));
                    Assert.Contains($"entry", e.Message);
                    Assert.Contains($"{r * n + c}", e.Message);
                    if (r != c)
                    {
                        bad[r * n + c] = 1e-6;
                        e = Assert.Throws<ArgumentException>(() => LinearGaussianBridge.Create(dynamics, mean, s, mean, bad));
                        Assert.Contains($"({Math.Max(r, c)}, {Math.Min(r, c)})", e.Message);
                        bad[r * n + c] = 1e-11; // within the 1e-10 relative tolerance: accepted
                        LinearGaussianBridge.Create(dynamics, mean, s, mean, bad);
                    }
                }
            }
        }
    }

    private static double[] Identity(int n)
    {
        var m = new double[n * n];
        for (int k = 0; k < n; k++)
        {
            m[k * n + k] = 1;
        }
        return m;
    }
}

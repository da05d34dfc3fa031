using static GmmFlow.Tests.Dynamics.DynamicsTestHelpers;

namespace GmmFlow.Tests.Dynamics;

/// <summary>
/// <see cref="LinearGaussianBridge.CreateMany"/> (lockstep groups of pairs) against one-pair <see cref="LinearGaussianBridge.Create"/>:
/// same cost, coupling, Riccati matrix and marginal to rounding, for group sizes that do and do not divide the pair
/// count, on an underactuated system whose K spans many orders of magnitude; bad pairs are named.
/// </summary>
public class LinearBridgeBatchTests
{
    private static (LinearDynamics Dynamics, double[] M0, double[] S0, double[] M1, double[] S1) Pairs(int n, int count, int seed,
        bool underactuated = true)
    {
        var rng = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        int m = underactuated ? Math.Max(1, n / 2) : n;
        var a = new double[n * n];
        var b = new double[n * m];
        for (int k = 0; k < a.Length; k++)
        {
            a[k] = 0.5 / Math.Sqrt(n) * Normal();
        }
        for (int k = 0; k < b.Length; k++)
        {
            b[k] = Normal();
        }
        var dynamics = LinearDynamics.TimeInvariant(a, b, n, m, 1.0);
        double[] m0 = new double[count * n], m1 = new double[count * n], s0 = new double[count * n * n], s1 = new double[count * n * n];
        for (int p = 0; p < count; p++)
        {
            for (int k = 0; k < n; k++)
            {
                m0[p * n + k] = Normal();
                m1[p * n + k] = 3 * Normal();
            }
            Spd(s0.AsSpan(p * n * n, n * n), n, Normal);
            Spd(s1.AsSpan(p * n * n, n * n), n, Normal);
        }
        return (dynamics, m0, s0, m1, s1);
    }

    private static void Spd(Span<double> s, int n, Func<double> normal)
    {
        var x = new double[n * n];
        for (int k = 0; k < x.Length; k++)
        {
            x[k] = normal();
        }
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double v = 0;
                for (int k = 0; k < n; k++)
                {
                    v += x[r * n + k] * x[c * n + k];
                }
                s[r * n + c] = v / n + (r == c ? 0.5 : 0);
            }
        }
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
    /// Fully actuated (m = n), K is well conditioned and the two eigensolvers agree to rounding. Underactuated
    /// (m = n/2, the benchmark's systems), K's spectrum spans up to 12 orders of magnitude and Cov(X0, X_T) =
    /// l0 f(K) l0⁻¹Φ⁻¹M with f(γ) ≈ √γ near 0 is itself that ill-conditioned: two backward-stable eigensolvers (and
    /// LAPACK, benchmarks/compare/linear_bridges.py) then agree to about √(ε‖K‖)/‖f(K)‖, 1e-9 to 1e-7.
    /// </remarks>
    [Theory]
    [InlineData(2, 5, 0.5, false, 1e-12)]
    [InlineData(4, 9, 0.5, false, 1e-11)]
    [InlineData(8, 13, 0.0, false, 1e-11)]
    [InlineData(16, 21, 0.5, false, 1e-11)]
    [InlineData(4, 9, 0.5, true, 1e-7)]
    [InlineData(8, 13, 0.0, true, 1e-7)]
    [InlineData(16, 21, 0.5, true, 1e-7)]
    [InlineData(16, 3, 0.0, true, 1e-7)]
    public void Batched_bridges_equal_one_pair_bridges(int n, int count, double sigma, bool underactuated, double tolerance)
    {
        var (dynamics, m0, s0, m1, s1) = Pairs(n, count, 40 + n, underactuated);
        var many = LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, s1, sigma);
        Assert.Equal(count, many.Length);
        int nn = n * n;
        for (int p = 0; p < count; p++)
        {
            var one = LinearGaussianBridge.Create(dynamics, m0.AsSpan(p * n, n), s0.AsSpan(p * nn, nn), m1.AsSpan(p * n, n), s1.AsSpan(p * nn, nn), sigma);
            Assert.Equal(one.Cost, many[p].Cost, 1e-10 * Math.Max(1, Math.Abs(one.Cost)));
            Assert.Equal(one.PairDependentCost, many[p].PairDependentCost, 1e-10 * Math.Max(1, Math.Abs(one.Cost)));
            double[] c1 = new double[nn], c2 = new double[nn];
            one.CrossCovariance(c1);
            many[p].CrossCovariance(c2);
            AssertClose(c1, c2, tolerance, $"n={n} pair {p} Cov(X0, XT)");
            foreach (double t in new[] { 0.25, 0.5, 0.9 })
            {
                AssertClose(Pi(one, t), Pi(many[p], t), 10 * tolerance, $"n={n} pair {p} Π({t})");
                AssertClose(Cov(one, t), Cov(many[p], t), tolerance, $"n={n} pair {p} Σ({t})");
                AssertClose(MeanAt(one, t), MeanAt(many[p], t), 1e-12, $"n={n} pair {p} m({t})");
            }
        }
    }

    [Fact]
    public void A_bad_pair_is_named_and_nothing_is_returned()
    {
        var (dynamics, m0, s0, m1, s1) = Pairs(8, 12, 3);
        var asymmetric = (double[])s1.Clone();
        asymmetric[5 * 64 + 1] += 1e-3; // pair 5, entry (0, 1)
        var e = Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, asymmetric));
        Assert.StartsWith("Pair 5: ", e.Message);
        Assert.Contains("(1, 0)", e.Message);
        var nonFinite = (double[])m0.Clone();
        nonFinite[9 * 8 + 7] = double.NaN;
        e = Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, nonFinite, s0, m1, s1));
        Assert.StartsWith("Pair 9: ", e.Message);
        var indefinite = (double[])s0.Clone();
        indefinite[11 * 64] = -1;
        e = Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, indefinite, m1, s1));
        Assert.StartsWith("Pair 11: ", e.Message);
        Assert.IsType<NotPositiveDefiniteException>(e.InnerException);
        Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, s0.AsSpan(1), m1, s1));
        Assert.Throws<ArgumentException>(() => LinearGaussianBridge.CreateMany(dynamics, m0.AsSpan(1), s0, m1, s1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearGaussianBridge.CreateMany(dynamics, m0, s0, m1, s1, double.NaN));
        Assert.Empty(LinearGaussianBridge.CreateMany(dynamics, [], [], [], []));
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

namespace GmmFlow.Tests.Diagonal;

/// <summary>
/// Diagonal and spherical mixtures stay compact where only variances are needed: the plan's length scale and a fit's
/// start read Σₖ[j, j] from the compact form (equal to the full matrices' diagonals), and a transport of a freshly
/// built diagonal plan allocates far less than the K d×d matrices it would otherwise build per side.
/// </summary>
public class DiagonalCompactCovarianceTests
{
    [Theory]
    [InlineData(CovarianceType.Diagonal)]
    [InlineData(CovarianceType.Spherical)]
    [InlineData(CovarianceType.Full)]
    public void Variances_from_the_compact_form_equal_the_full_diagonals(CovarianceType type)
    {
        const int k = 3, d = 7;
        var mixture = type == CovarianceType.Full
            ? DiagonalMixtures.Expanded(DiagonalMixtures.Random(k, d, 5, CovarianceType.Diagonal))
            : DiagonalMixtures.Random(k, d, 5, type);
        ReadOnlySpan<double> full = mixture.Covariances;
        for (int c = 0; c < k; c++)
        {
            for (int j = 0; j < d; j++)
            {
                Assert.Equal(full[(c * d + j) * d + j], mixture.Variance(c, j));
            }
        }
        var other = DiagonalMixtures.Random(k, d, 6, CovarianceType.Spherical, varianceLow: 0.01, varianceHigh: 0.02);
        var plan = TransportPlan.Create(mixture, other, new TransportOptions { Cost = CostKind.Wasserstein });
        double largest = 0;
        for (int c = 0; c < k; c++)
        {
            for (int j = 0; j < d; j++)
            {
                largest = Math.Max(largest, full[(c * d + j) * d + j]);
            }
        }
        Assert.Equal(Math.Sqrt(largest), plan.LengthScale());
    }

    [Fact]
    public void Fit_from_a_diagonal_start_equals_the_fit_from_its_full_expansion_read_as_diagonal()
    {
        const int k = 3, d = 6;
        var truth = DiagonalMixtures.Random(k, d, 11, CovarianceType.Diagonal);
        double[] x = truth.Sample(600, 12);
        var start = DiagonalMixtures.Random(k, d, 13, CovarianceType.Diagonal);
        foreach (var type in new[] { CovarianceType.Diagonal, CovarianceType.Spherical })
        {
            var options = new GaussianMixtureFitOptions { CovarianceType = type, MaxIterations = 3, Tolerance = 0 };
            var fromCompact = GaussianMixtureFitter.Fit(x, d, k, options with { InitialMixture = start }, default, TestContext.Current.CancellationToken).Mixture;
            var fromFull = GaussianMixtureFitter.Fit(x, d, k, options with { InitialMixture = DiagonalMixtures.Expanded(start) }, default,
                TestContext.Current.CancellationToken).Mixture;
            Assert.Equal(fromFull.CompactCovariances.ToArray(), fromCompact.CompactCovariances.ToArray());
            Assert.Equal(fromFull.Means.ToArray(), fromCompact.Means.ToArray());
        }
    }

    [Fact]
    public void Transport_of_a_fresh_diagonal_plan_does_not_build_full_covariances()
    {
        const int k = 4, d = 256, n = 8; // full matrices: 2 sides × K × d² × 8 B = 4 MB
        var options = new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 1.0 };
        var run = new TransportRunOptions { Steps = 2, Integrator = Integrator.EulerMaruyama, Seed = 3 };
        double[] start = DiagonalMixtures.Random(k, d, 21, CovarianceType.Diagonal).Sample(n, 22);
        // Warm-up on other mixtures of the same shape (JIT, pools), then a plan whose mixtures were never expanded.
        TransportPlan.Create(DiagonalMixtures.Random(k, d, 23, CovarianceType.Diagonal), DiagonalMixtures.Random(k, d, 24, CovarianceType.Diagonal), options)
            .Transport(start, run);
        var plan = TransportPlan.Create(DiagonalMixtures.Random(k, d, 25, CovarianceType.Diagonal), DiagonalMixtures.Random(k, d, 26, CovarianceType.Diagonal), options);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        plan.Transport(start, run);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < 1_000_000, $"transport allocated {allocated} bytes");
    }
}

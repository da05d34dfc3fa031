using Xunit;
using static GmmFlow.Tests.Transport.TransportReference;

namespace GmmFlow.Tests.Transport;

public class CouplingsSinkhornTests
{
    [Fact]
    public void ModerateTemperature_MatchesPlainProbabilityDomainSinkhorn()
    {
        // τ = 0.5 on unit costs: exp(−C/τ) ≥ e⁻², so the textbook kernel iteration is accurate and serves as reference.
        var rng = new Random(31);
        double[] a = Dirichlet(rng, 7);
        double[] b = Dirichlet(rng, 9);
        double[] cost = Uniform(rng, 63);

        SinkhornResult result = Couplings.Sinkhorn(a, b, cost, 0.5, new SinkhornOptions { Tolerance = 1e-13 });
        double[] reference = PlainSinkhorn(a, b, cost, 0.5, 2000);

        Assert.True(result.Converged);
        for (int c = 0; c < 63; c++)
        {
            Assert.Equal(reference[c], result.Plan[c], 1e-12);
        }
    }

    [Fact]
    public void PlanHasTheGibbsFormOfItsPotentials_AndReportsItsOwnStatistics()
    {
        var rng = new Random(32);
        double[] a = Dirichlet(rng, 5);
        double[] b = Dirichlet(rng, 4);
        double[] cost = Uniform(rng, 20);
        const double tau = 0.05;
        SinkhornResult result = Couplings.Sinkhorn(a, b, cost, tau);

        double transport = 0;
        double entropy = 0;
        var rows = new double[5];
        var cols = new double[4];
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                double p = result.Plan[(i * 4) + j];
                Assert.Equal(Math.Exp((result.SourcePotential[i] + result.TargetPotential[j] - cost[(i * 4) + j]) / tau), p, 1e-15);
                transport += p * cost[(i * 4) + j];
                entropy -= p * Math.Log(p);
                rows[i] += p;
                cols[j] += p;
            }
        }

        double error = rows.Select((r, i) => Math.Abs(r - a[i])).Sum() + cols.Select((c, j) => Math.Abs(c - b[j])).Sum();
        Assert.True(result.Converged);
        Assert.Equal(transport, result.TransportCost, 1e-14);
        Assert.Equal(entropy, result.Entropy, 1e-12);
        Assert.Equal(error, result.MarginalError, 1e-14);
        Assert.True(result.MarginalError <= 2e-9, $"{result.MarginalError}");
        Assert.Equal(tau, result.Temperature);
    }

    [Fact]
    public void DecreasingTemperature_ApproachesTheLpMonotonically_WithinTheEntropyBound()
    {
        var rng = new Random(33);
        const int k0 = 6;
        const int k1 = 8;
        double[] a = Dirichlet(rng, k0);
        double[] b = Dirichlet(rng, k1);
        double[] cost = Uniform(rng, k0 * k1);
        double lp = Couplings.ExactLp(a, b, cost).Objective;

        double previous = double.PositiveInfinity;
        foreach (double tau in (double[])[1e-1, 1e-2, 1e-3])
        {
            SinkhornResult result = Couplings.Sinkhorn(a, b, cost, tau);
            Assert.True(result.Converged, $"τ = {tau}: {result.Iterations} iterations, error {result.MarginalError}");

            // ⟨π_τ, C⟩ − τH(π_τ) ≤ LP − τH(π*) with 0 ≤ H ≤ log(K0 K1) gives 0 ≤ ⟨π_τ, C⟩ − LP ≤ τ log(K0 K1);
            // ⟨π_τ, C⟩ is non-decreasing in τ (the entropic value is concave in τ).
            double gap = result.TransportCost - lp;
            Assert.True(gap >= -1e-9, $"τ = {tau}: below the LP by {-gap}");
            Assert.True(gap <= (tau * Math.Log(k0 * k1)) + 1e-9, $"τ = {tau}: gap {gap}");
            Assert.True(result.TransportCost <= previous + 1e-9, $"τ = {tau}: {result.TransportCost} > {previous}");
            previous = result.TransportCost;
        }

        Assert.True(previous - lp < 1e-3);
    }

    [Fact]
    public void TinyTemperature_IsStableWhereThePlainKernelUnderflows()
    {
        // C/τ up to 1e4: exp(−C/τ) underflows to 0 in double for every C > 0.075, so the plain kernel iteration divides
        // by zero. (Sinkhorn needs O(1/τ) iterations on unlucky instances; this small one converges quickly.)
        var rng = new Random(34);
        double[] a = Dirichlet(rng, 6);
        double[] b = Dirichlet(rng, 8);
        double[] cost = Uniform(rng, 48);
        const double tau = 1e-4;
        Assert.Contains(0.0, cost.Select(c => Math.Exp(-c / tau)));

        SinkhornResult result = Couplings.Sinkhorn(a, b, cost, tau, new SinkhornOptions { Tolerance = 1e-8, MaxIterations = 200_000 });

        Assert.True(result.Converged, $"{result.Iterations} iterations, error {result.MarginalError}");
        Assert.All(result.Plan.ToArray(), p => Assert.True(double.IsFinite(p) && p >= 0));
        Assert.True(double.IsFinite(result.Entropy));
        double lp = Couplings.ExactLp(a, b, cost).Objective;
        Assert.InRange(result.TransportCost - lp, -1e-7, (tau * Math.Log(48)) + 1e-7);
    }

    [Fact]
    public void EpsilonScaling_NeedsFewerIterationsAtSmallTemperature()
    {
        var rng = new Random(35);
        double[] a = Dirichlet(rng, 20);
        double[] b = Dirichlet(rng, 20);
        double[] cost = Uniform(rng, 400);

        SinkhornResult scaled = Couplings.Sinkhorn(a, b, cost, 2e-3);
        SinkhornResult plain = Couplings.Sinkhorn(a, b, cost, 2e-3, new SinkhornOptions { EpsilonScaling = false, MaxIterations = 100_000 });

        Assert.True(scaled.Converged && plain.Converged);
        Assert.True(scaled.Iterations < plain.Iterations, $"scaled {scaled.Iterations} vs plain {plain.Iterations}");
        Assert.Equal(plain.TransportCost, scaled.TransportCost, 1e-8);
    }

    [Fact]
    public void WarmStart_FromConvergedPotentials_StopsAtOnce()
    {
        var rng = new Random(36);
        double[] a = Dirichlet(rng, 9);
        double[] b = Dirichlet(rng, 11);
        double[] cost = Uniform(rng, 99);
        SinkhornResult first = Couplings.Sinkhorn(a, b, cost, 0.01);

        SinkhornResult again = Couplings.Sinkhorn(a, b, cost, 0.01, new SinkhornOptions
        {
            InitialSourcePotential = first.SourcePotential.ToArray(),
            InitialTargetPotential = first.TargetPotential.ToArray(),
        });

        Assert.True(again.Converged);
        Assert.Equal(1, again.Iterations);
        Assert.Equal(first.TransportCost, again.TransportCost, 1e-12);
    }

    [Fact]
    public void IterationCap_IsReportedAsNotConverged()
    {
        var rng = new Random(37);
        double[] a = Dirichlet(rng, 8);
        double[] b = Dirichlet(rng, 8);
        double[] cost = Uniform(rng, 64);

        SinkhornResult result = Couplings.Sinkhorn(a, b, cost, 1e-3, new SinkhornOptions { MaxIterations = 2, EpsilonScaling = false });

        Assert.False(result.Converged);
        Assert.Equal(2, result.Iterations);
        Assert.True(result.MarginalError > 1e-9);
    }

    [Fact]
    public void BadArguments_ThrowArgumentException()
    {
        double[] w = [0.5, 0.5];
        double[] c = [0, 1, 1, 0];
        Assert.Throws<ArgumentException>(() => Couplings.Sinkhorn(w, w, c, 0));
        Assert.Throws<ArgumentException>(() => Couplings.Sinkhorn(w, w, c, double.NaN));
        Assert.Throws<ArgumentException>(() => Couplings.Sinkhorn(w, w, c, -1));
        Assert.Throws<ArgumentException>(() => Couplings.Sinkhorn(w, w, c, 1, new SinkhornOptions { MaxIterations = 0 }));
        var ex = Assert.Throws<ArgumentException>(() => Couplings.Sinkhorn(w, w, c, 1, new SinkhornOptions { InitialSourcePotential = [0, 0, 0] }));
        Assert.Contains("InitialSourcePotential has length 3", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<ArgumentException>(() => Couplings.Sinkhorn(w, [0.5, 0.6], c, 1));
        Assert.Equal("targetWeights", ex.ParamName);
        Assert.Throws<NonFiniteValueException>(() => Couplings.Sinkhorn(w, w, [0, double.PositiveInfinity, 1, 0], 1));
    }
}

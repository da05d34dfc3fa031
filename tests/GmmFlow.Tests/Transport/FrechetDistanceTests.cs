namespace GmmFlow.Tests.Transport;

public class FrechetDistanceTests
{
    [Fact]
    public void Matches_the_analytic_W2_of_the_generating_Gaussians()
    {
        // N(0, diag(1, 4)) vs N((1, 2), diag(4, 1)) in 2-D: W2² = |Δm|² + Σ_k (√a_k − √b_k)² = 5 + 1 + 1 = 7.
        var a = new GaussianMixture([1.0], [0.0, 0.0], [1, 0, 0, 4]);
        var b = new GaussianMixture([1.0], [1.0, 2.0], [4, 0, 0, 1]);
        double f = FrechetDistance.Squared(a.Sample(40_000, 1), b.Sample(40_000, 2), 2);
        // Sampling error of the moments at N = 40 000 moves W2² by a few 1e-2 (2|Δm| δm, δΣ ~ 4·√(2/N)).
        Assert.InRange(f, 6.85, 7.15);
        Assert.Equal(0.0, FrechetDistance.Squared(a.Sample(1000, 3), a.Sample(1000, 3), 2), 1e-9);
    }

    [Fact]
    public void Degenerate_and_bad_inputs()
    {
        // Three collinear points in 3-D: singular covariance, regularised by the ridge, finite result.
        double[] x = [0, 0, 0, 1, 1, 1, 2, 2, 2];
        double[] y = [0, 1, 0, 1, 2, 1, 2, 3, 2];
        Assert.True(double.IsFinite(FrechetDistance.Squared(x, y, 3, ridge: 1e-9)));
        Assert.Throws<ArgumentException>(() => FrechetDistance.Squared([1, 2], y, 3));
        Assert.Throws<NonFiniteValueException>(() => FrechetDistance.Squared([0, 0, double.NaN, 1, 1, 1], y, 3));
    }
}

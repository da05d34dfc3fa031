using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Dynamics.DynamicsTestHelpers;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Dynamics;

public class NoiseShootingTests
{
    [Theory]
    [InlineData(0.3)]
    [InlineData(1.0)]
    public void Shooting_with_noise_through_the_controls_equals_the_closed_form(double sigma)
    {
        const int n = 4, m = 2;
        var d = LinearDynamics.DoubleIntegrator(2, 1.2);
        double[] m0 = RandomMean(n, 1), s0 = RandomSpd(n, 2), m1 = RandomMean(n, 3, 2), s1 = RandomSpd(n, 4);
        var closed = LinearGaussianBridge.Create(d, m0, s0, m1, s1, sigma);
        // D = σB.
        var (_, b) = Matrices(d, 0);
        var noise = b.Select(x => sigma * x).ToArray();
        var shot = LinearGaussianBridge.CreateWithNoiseMatrix(d, m0, s0, m1, s1, noise, m);
        Assert.True(shot.HasNoiseMatrix && shot.ShootingResidual < 1e-11, $"residual {shot.ShootingResidual}");
        Assert.True(Math.Abs(shot.Cost - closed.Cost) < 1e-9 * closed.Cost, $"J {shot.Cost:R} vs {closed.Cost:R}");
        foreach (double t in new[] { 0.0, 0.3, 0.6, 0.95, 1.2 })
        {
            Assert.True(RelDiff(Pi(shot, t), Pi(closed, t)) < 1e-8, $"Π at t = {t}: {RelDiff(Pi(shot, t), Pi(closed, t))}");
            Assert.True(RelDiff(Cov(shot, t), Cov(closed, t)) < 1e-9, $"Σ at t = {t}");
            Assert.True(RelDiff(MeanAt(shot, t), MeanAt(closed, t)) < 1e-12);
            foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
            {
                Assert.True(RelDiff(FieldAt(shot, t, field).Gain, FieldAt(closed, t, field).Gain) < 1e-8, $"{field} gain at t = {t}");
            }
        }
        var c1 = new double[n * n];
        var c2 = new double[n * n];
        shot.CrossCovariance(c1);
        closed.CrossCovariance(c2);
        Assert.True(RelDiff(c1, c2) < 1e-9, "Cov(X0, X_T)");
    }

    [Fact]
    public void Noise_outside_the_controls_meets_its_certificates()
    {
        // The 4-D double integrator with noise on positions and velocities (D = 0.4 I), outside span(B).
        const int n = 4, m = 2;
        var d = LinearDynamics.DoubleIntegrator(2);
        double[] m0 = [0, 0, 0, 0], s0 = RandomSpd(n, 12), m1 = [2, -1, 0, 0], s1 = RandomSpd(n, 13);
        var noise = Identity(n).Select(x => 0.4 * x).ToArray();
        var q = Multiply(noise, noise, n, n, n, transB: true);
        var bridge = LinearGaussianBridge.CreateWithNoiseMatrix(d, m0, s0, m1, s1, noise, n);
        Assert.True(bridge.ShootingResidual < 1e-11);
        Assert.True(RelDiff(Cov(bridge, 1), s1) < 1e-10, $"Σ(T): {RelDiff(Cov(bridge, 1), s1)}");
        Assert.True(RelDiff(Cov(bridge, 0), s0) < 1e-12);
        const double h = 1e-5;
        foreach (double t in new[] { 0.2, 0.5, 0.9 })
        {
            var (a, b) = Matrices(d, t);
            var bbt = Multiply(b, b, n, m, n, transB: true);
            var pi = Pi(bridge, t);
            var dpi = Add(Pi(bridge, t + h), 1 / (2 * h), Pi(bridge, t - h), -1 / (2 * h));
            var rhs = Add(Add(Multiply(a, pi, n, n, n, transA: true), -1, Multiply(pi, a, n, n, n), -1),
                1, Multiply(Multiply(pi, bbt, n, n, n), pi, n, n, n), -1);
            Assert.True(RelDiff(dpi, rhs) < 1e-6, $"Riccati at t = {t}: {RelDiff(dpi, rhs)}");
            var (_, cov, gain, _) = FieldAt(bridge, t);
            var dcov = Add(Cov(bridge, t + h), 1 / (2 * h), Cov(bridge, t - h), -1 / (2 * h));
            var gs = Multiply(gain, cov, n, n, n);
            var lyap = Add(Add(gs, 1, Transpose(gs, n), 1), 1, q, 1);
            Assert.True(RelDiff(dcov, lyap) < 1e-6, $"Lyapunov with DDᵀ at t = {t}: {RelDiff(dcov, lyap)}");
        }
        double j = Integrate(t =>
        {
            var k = new double[m * n];
            bridge.Gain(t, k);
            var v = Ff(bridge, t);
            return v.Sum(x => x * x) + Trace(Multiply(Multiply(k, Cov(bridge, t), m, n, n), k, m, n, m, transB: true), m);
        }, panels: 6, nodes: 16);
        Assert.True(Math.Abs(j - bridge.Cost) < 1e-8 * bridge.Cost, $"quadrature {j:R} vs {bridge.Cost:R}");
    }
}

using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Dynamics.DynamicsTestHelpers;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Dynamics;

public class LinearBridgeTests
{
    [Theory]
    [InlineData(0.0, 13.6758798824)]
    [InlineData(0.1, 13.6903056574)]
    [InlineData(1.0, 14.3244919504)]
    public void Double_integrator_reference_values(double eps, double expected)
    {
        var d = LinearDynamics.DoubleIntegrator(1);
        var b = LinearGaussianBridge.Create(d, RefM0, RefS0, RefM1, RefS1, Math.Sqrt(eps));
        Assert.Equal(expected, b.Cost, 9);
        Assert.Equal(12, b.MeanCost, 12);
        var mid = MeanAt(b, 0.5);
        Assert.Equal(0.5, mid[0], 12);
        Assert.Equal(1.5, mid[1], 12);
        foreach (double t in new[] { 0.0, 0.25, 0.5, 0.8, 1.0 })
        {
            Assert.Equal(6 - 12 * t, Ff(b, t)[0], 12);
        }
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(3, 0.0)]
    [InlineData(3, 0.6)]
    [InlineData(6, 1.3)]
    public void Brownian_dynamics_reproduce_the_gaussian_bridge(int n, double sigma)
    {
        for (int seed = 0; seed < 5; seed++)
        {
            double[] m0 = RandomMean(n, seed), s0 = RandomSpd(n, seed), m1 = RandomMean(n, seed + 1), s1 = RandomSpd(n, seed + 2);
            var reference = GaussianBridge.Create(CostKind.SchrodingerBridge, m0, s0, m1, s1, n, sigma);
            var b = LinearGaussianBridge.Create(LinearDynamics.Brownian(n), m0, s0, m1, s1, sigma);
            Assert.True(Math.Abs(b.Cost - reference.Cost) <= 1e-12 * Math.Max(1, Math.Abs(reference.Cost)), $"cost {b.Cost} vs {reference.Cost}");
            foreach (double t in new[] { 0.0, 0.1, 0.37, 0.5, 0.63, 0.9, 0.999, 1.0 })
            {
                double[] mean = new double[n], cov = new double[n * n], gain = new double[n * n], offset = new double[n];
                foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
                {
                    reference.Evaluate(t, mean, cov, gain, offset, field);
                    var (lm, lc, lg, lo) = FieldAt(b, t, field);
                    Assert.True(RelDiff(lm, mean) <= 1e-12, $"mean at t = {t}: {RelDiff(lm, mean)}");
                    Assert.True(RelDiff(lc, cov) <= 1e-12, $"Σ_t at t = {t}: {RelDiff(lc, cov)}");
                    Assert.True(RelDiff(lg, gain) <= 1e-12, $"{field} gain at t = {t}, n = {n}, σ = {sigma}: {RelDiff(lg, gain)}");
                    // The affine field's value at m_t is the mean velocity m1 − m0.
                    Assert.True(RelDiff(lo, offset) <= 1e-12, $"offset at t = {t}");
                }
            }
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    public void Endpoints_and_certificates_for_a_random_lti_system(double sigma)
    {
        const int n = 4, m = 2;
        var d = RandomLti(n, m, 11);
        double[] m0 = RandomMean(n, 1), s0 = RandomSpd(n, 2), m1 = RandomMean(n, 3, 2), s1 = RandomSpd(n, 4);
        var b = LinearGaussianBridge.Create(d, m0, s0, m1, s1, sigma);
        double T = d.Horizon, eps = sigma * sigma;
        Assert.True(RelDiff(MeanAt(b, 0), m0) < 1e-11 && RelDiff(MeanAt(b, T), m1) < 1e-11);
        Assert.True(RelDiff(Cov(b, 0), s0) < 1e-11, $"Σ(0): {RelDiff(Cov(b, 0), s0)}");
        Assert.True(RelDiff(Cov(b, T), s1) < 1e-11, $"Σ(T): {RelDiff(Cov(b, T), s1)}");
        const double h = 1e-5;
        foreach (double t in new[] { 0.2, 0.6, 0.74, 0.76, 1.1, 1.45 })
        {
            var (a, bm) = Matrices(d, t);
            var pi = Pi(b, t);
            var bbt = Multiply(bm, bm, n, m, n, transB: true);
            // Riccati: Π̇ = −AᵀΠ − ΠA − ΠBBᵀΠ.
            var dpi = Add(Pi(b, t + h), 1 / (2 * h), Pi(b, t - h), -1 / (2 * h));
            var rhs = Add(Add(Multiply(a, pi, n, n, n, transA: true), -1, Multiply(pi, a, n, n, n), -1),
                1, Multiply(Multiply(pi, bbt, n, n, n), pi, n, n, n), -1);
            Assert.True(RelDiff(dpi, rhs) < 1e-6, $"Riccati residual at t = {t}: {RelDiff(dpi, rhs)}");
            // Lyapunov: Σ̇ = (A + BK)Σ + Σ(A + BK)ᵀ + εBBᵀ.
            var (mean, cov, gain, offset) = FieldAt(b, t);
            var dcov = Add(Cov(b, t + h), 1 / (2 * h), Cov(b, t - h), -1 / (2 * h));
            var gs = Multiply(gain, cov, n, n, n);
            var lyap = Add(Add(gs, 1, Transpose(gs, n), 1), 1, bbt, eps);
            Assert.True(RelDiff(dcov, lyap) < 1e-6, $"Lyapunov residual at t = {t}: {RelDiff(dcov, lyap)}");
            // Mean: ṁ = A m + B v (the affine field's offset).
            var dm = Add(MeanAt(b, t + h), 1 / (2 * h), MeanAt(b, t - h), -1 / (2 * h));
            Assert.True(RelDiff(dm, offset) < 1e-6, $"mean ODE at t = {t}");
            _ = mean;
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(1.0)]
    public void Cost_equals_quadrature_of_the_control_energy(double sigma)
    {
        const int n = 4, m = 2;
        var d = RandomLti(n, m, 5, horizon: 2);
        double[] m0 = RandomMean(n, 6), s0 = RandomSpd(n, 7), m1 = RandomMean(n, 8, 2), s1 = RandomSpd(n, 9);
        var b = LinearGaussianBridge.Create(d, m0, s0, m1, s1, sigma);
        // E|u|² = |v_t|² + tr(K Σ_t Kᵀ), integrated by composite Gauss–Legendre over [0, T].
        double T = d.Horizon;
        double j = Integrate(s =>
        {
            double t = s * T;
            var k = new double[m * n];
            b.Gain(t, k);
            var v = Ff(b, t);
            var kc = Multiply(Multiply(k, Cov(b, t), m, n, n), k, m, n, m, transB: true);
            return T * (v.Sum(x => x * x) + Trace(kc, m));
        });
        Assert.True(Math.Abs(j - b.Cost) < 1e-9 * Math.Max(1, b.Cost), $"quadrature {j:R} vs closed form {b.Cost:R}");
    }

    [Fact]
    public void Zero_noise_is_continuous_with_small_noise()
    {
        var d = LinearDynamics.DoubleIntegrator(2, 1.3);
        int n = 4;
        double[] m0 = RandomMean(n, 1), s0 = RandomSpd(n, 2), m1 = RandomMean(n, 3), s1 = RandomSpd(n, 4);
        var b0 = LinearGaussianBridge.Create(d, m0, s0, m1, s1, 0);
        double previous = double.PositiveInfinity;
        foreach (double sigma in new[] { 1e-2, 1e-3, 1e-4 })
        {
            var bs = LinearGaussianBridge.Create(d, m0, s0, m1, s1, sigma);
            double diff = Math.Abs(bs.Cost - b0.Cost);
            foreach (double t in new[] { 0.3, 0.9, 1.25 })
            {
                diff = Math.Max(diff, RelDiff(FieldAt(bs, t).Gain, FieldAt(b0, t).Gain));
                diff = Math.Max(diff, RelDiff(Cov(bs, t), Cov(b0, t)));
            }
            // J(σ) − J(0) = O(ε log ε); fields O(ε).
            Assert.True(diff < 50 * sigma * sigma * (1 + Math.Abs(Math.Log(sigma))), $"σ = {sigma}: {diff}");
            Assert.True(diff < previous);
            previous = diff;
        }
    }

    [Fact]
    public void Uncontrollable_system_is_a_typed_error()
    {
        // Only the first coordinate is actuated and nothing couples it to the second.
        var e = Assert.Throws<UncontrollableSystemException>(() => LinearDynamics.TimeInvariant([0, 0, 0, -1], [1, 0], 2, 1, 1));
        Assert.Equal(1, e.Horizon);
        Assert.Contains("not controllable", e.Message);
        // Coupled through A, the same B is controllable.
        _ = LinearDynamics.TimeInvariant([0, 0, 1, 0], [1, 0], 2, 1, 1);
    }

    [Fact]
    public void Bad_inputs_name_the_culprit()
    {
        var d = LinearDynamics.DoubleIntegrator(1);
        Assert.Throws<ArgumentException>(() => LinearGaussianBridge.Create(d, [0], RefS0, RefM1, RefS1));
        Assert.Throws<NotPositiveDefiniteException>(() => LinearGaussianBridge.Create(d, RefM0, [1, 0, 0, -1], RefM1, RefS1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearGaussianBridge.Create(d, RefM0, RefS0, RefM1, RefS1, -1));
        var b = LinearGaussianBridge.Create(d, RefM0, RefS0, RefM1, RefS1);
        Assert.Throws<ArgumentOutOfRangeException>(() => MeanAt(b, 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearDynamics.DoubleIntegrator(1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearDynamics.TimeInvariant(new double[4], new double[6], 2, 3));
    }
}

using static GmmFlow.Tests.Costs.Reference;
using static GmmFlow.Tests.Dynamics.DynamicsTestHelpers;
using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Dynamics;

public class LinearDynamicsTests
{
    private static double[] Series(double[] a, int n)
    {
        // Taylor series Σ A^k/k! (for small ‖A‖, converged to rounding).
        var result = Identity(n);
        var term = Identity(n);
        for (int k = 1; k < 40; k++)
        {
            term = Multiply(term, a, n, n, n).Select(x => x / k).ToArray();
            result = Add(result, 1, term, 1);
        }
        return result;
    }

    private static double[] Expm(double[] a, int n)
    {
        var e = new double[n * n];
        MatrixExponential.Compute(a, e, n);
        return e;
    }

    [Theory]
    [InlineData(3, 0.01)]
    [InlineData(5, 0.2)]
    [InlineData(6, 0.9)]
    [InlineData(8, 2.0)]
    [InlineData(8, 4.5)]
    public void Expm_matches_the_taylor_series(int n, double norm)
    {
        // Norms spanning every Padé degree (3 … 13) without scaling; the series converges fast there.
        for (int seed = 0; seed < 4; seed++)
        {
            var a = RandomGeneral(n, n, seed);
            double scale = norm / a.Max(Math.Abs) / n;
            a = a.Select(x => x * scale).ToArray();
            var e = Expm(a, n);
            Assert.True(RelDiff(e, Series(a, n)) < 1e-13, $"n = {n}, ‖A‖ ≈ {norm}: {RelDiff(e, Series(a, n))}");
        }
    }

    [Theory]
    [InlineData(0.3)]
    [InlineData(7.0)]
    [InlineData(60.0)]
    public void Expm_matches_analytic_rotations_and_diagonal_similarities(double theta)
    {
        // exp([[0, θ], [−θ, 0]]) is the rotation by θ.
        var r = Expm([0, theta, -theta, 0], 2);
        double[] expected = [Math.Cos(theta), Math.Sin(theta), -Math.Sin(theta), Math.Cos(theta)];
        Assert.True(MaxAbsDiff(r, expected) < 1e-13 * Math.Max(1, theta), $"rotation θ = {theta}: {MaxAbsDiff(r, expected)}");
        // S diag(λ) S⁻¹ with real λ up to θ/10 (scaling and squaring active for the larger θ).
        const int n = 4;
        var s = Add(Identity(n), 1, RandomGeneral(n, n, 3), 0.3);
        var si = Inverse(s, n);
        double[] lambda = [-theta / 10, 0.1, theta / 20, -0.5];
        var diag = new double[n * n];
        var expDiag = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            diag[i * n + i] = lambda[i];
            expDiag[i * n + i] = Math.Exp(lambda[i]);
        }
        var a = Multiply(Multiply(s, diag, n, n, n), si, n, n, n);
        var want = Multiply(Multiply(s, expDiag, n, n, n), si, n, n, n);
        Assert.True(RelDiff(Expm(a, n), want) < 1e-12, $"similarity θ = {theta}: {RelDiff(Expm(a, n), want)}");
    }

    [Fact]
    public void Double_integrator_preset_equals_its_van_loan_exponential()
    {
        foreach (int p in new[] { 1, 3 })
        {
            var preset = LinearDynamics.DoubleIntegrator(p, 1.7);
            int n = 2 * p;
            var (a, b) = Matrices(preset, 0);
            var lti = LinearDynamics.TimeInvariant(a, b, n, p, 1.7);
            foreach (var (t, s) in new[] { (1.7, 0.0), (0.9, 0.2), (1.7, 1.69) })
            {
                double[] p1 = new double[n * n], p2 = new double[n * n], m1 = new double[n * n], m2 = new double[n * n];
                preset.Transition(t, s, p1);
                lti.Transition(t, s, p2);
                preset.Gramian(t, s, m1);
                lti.Gramian(t, s, m2);
                Assert.True(MaxAbsDiff(p1, p2) < 1e-14 && MaxAbsDiff(m1, m2) < 1e-14, $"({t}, {s}): {MaxAbsDiff(m1, m2)}");
            }
        }
    }

    [Fact]
    public void Time_varying_propagation_meets_its_tolerance()
    {
        // A(t) = a(t)A0 commutes with itself: Φ(t, s) = exp((∫ₛᵗ a)A0); M by Gauss–Legendre of Φ B Bᵀ Φᵀ.
        const int n = 3, m = 1;
        var a0 = RandomGeneral(n, n, 21).Select(x => 0.7 * x).ToArray();
        var b0 = RandomGeneral(n, m, 22);
        static double Rate(double t) => 1 + 0.8 * Math.Sin(3 * t);
        static double Primitive(double t) => t - 0.8 / 3 * (Math.Cos(3 * t) - 1);
        var dyn = LinearDynamics.FromFunction((t, a, b) =>
        {
            for (int i = 0; i < n * n; i++)
            {
                a[i] = Rate(t) * a0[i];
            }
            for (int i = 0; i < n * m; i++)
            {
                b[i] = (1 + 0.5 * t) * b0[i];
            }
        }, n, m, 2.0, tolerance: 1e-12);
        Assert.True(dyn.IntegrationError < 1e-11, $"reported error {dyn.IntegrationError}");
        double[] Phi(double t, double s) => Expm(a0.Select(x => x * (Primitive(t) - Primitive(s))).ToArray(), n);
        foreach (var (t, s) in new[] { (2.0, 0.0), (1.37, 0.0), (1.9, 0.6) })
        {
            var phi = new double[n * n];
            dyn.Transition(t, s, phi);
            Assert.True(RelDiff(phi, Phi(t, s)) < 1e-10, $"Φ({t}, {s}): {RelDiff(phi, Phi(t, s))}");
            var gram = new double[n * n];
            dyn.Gramian(t, s, gram);
            var want = new double[n * n];
            var (nodes, weights) = GaussLegendre(40);
            for (int k = 0; k < nodes.Length; k++)
            {
                double r = s + (t - s) * nodes[k];
                var pb = Multiply(Phi(t, r), b0.Select(x => (1 + 0.5 * r) * x).ToArray(), n, n, m);
                want = Add(want, 1, Multiply(pb, pb, n, m, n, transB: true), (t - s) * weights[k]);
            }
            Assert.True(RelDiff(gram, want) < 1e-10, $"M({t}, {s}): {RelDiff(gram, want)}");
        }
    }

    [Fact]
    public void Constant_grid_equals_the_time_invariant_system()
    {
        var lti = RandomLti(3, 2, 4, horizon: 1.0);
        var (a, b) = Matrices(lti, 0);
        double[] times = [0, 0.3, 0.45, 1.0];
        var grid = LinearDynamics.PiecewiseLinear(times, [.. a, .. a, .. a, .. a], [.. b, .. b, .. b, .. b], 3, 2);
        Assert.True(grid.IntegrationError <= 1e-11);
        foreach (double t in new[] { 0.3, 0.61, 1.0 })
        {
            double[] p1 = new double[9], p2 = new double[9], m1 = new double[9], m2 = new double[9];
            grid.Transition(t, 0, p1);
            lti.Transition(t, 0, p2);
            grid.Gramian(t, 0, m1);
            lti.Gramian(t, 0, m2);
            Assert.True(RelDiff(p1, p2) < 1e-10 && RelDiff(m1, m2) < 1e-10, $"t = {t}: {RelDiff(m1, m2)}");
        }
    }

    [Fact]
    public void Bad_grids_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => LinearDynamics.PiecewiseLinear([0.1, 1], new double[2], new double[2], 1, 1));
        Assert.Throws<ArgumentException>(() => LinearDynamics.PiecewiseLinear([0, 1, 1], new double[3], new double[3], 1, 1));
        Assert.Throws<ArgumentException>(() => LinearDynamics.PiecewiseLinear([0, 1], new double[3], new double[2], 1, 1));
        Assert.Throws<NonFiniteValueException>(() => LinearDynamics.TimeInvariant([double.NaN], [1], 1, 1));
    }
}

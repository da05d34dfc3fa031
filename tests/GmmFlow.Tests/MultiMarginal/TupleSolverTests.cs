using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.MultiMarginal;

public class TupleSolverTests
{
    [Fact]
    public void Mean_part_matches_the_natural_cubic_spline_reference()
    {
        // Knots 0..3, μ = (0, 1, 0.5, 2): energy ∫|ẍ|² = 12.4, slopes (23, −1, 3.5, 32)/15.
        var solver = new MomentumTupleSolver([0, 1, 2, 3], 1, noise: 0.3);
        var z = new double[8];
        double energy = solver.MeanPart([0, 1, 0.5, 2], z);
        Assert.Equal(12.4, energy, 1e-10);
        double[] slopes = [1.5333333333, -0.0666666667, 0.2333333333, 2.1333333333];
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(slopes[k], z[2 * k + 1], 1e-9);
        }
    }

    [Fact]
    public void Mean_part_equals_the_integral_of_the_squared_spline_acceleration()
    {
        // Independent reference: build the natural cubic spline by its second-derivative (moment) system on uneven
        // knots and integrate ẍ² exactly (ẍ is linear per segment).
        double[] t = [0, 0.4, 1.1, 1.5, 2.7];
        double[] y = [0.3, -1, 0.2, 2, 1.1];
        int k = t.Length;
        var solver = new MomentumTupleSolver(t, 1, noise: 0);
        double energy = solver.MeanPart(y, new double[2 * k]);
        var a = new double[k, k];
        var r = new double[k];
        a[0, 0] = 1;
        a[k - 1, k - 1] = 1;
        for (int i = 1; i < k - 1; i++)
        {
            double h0 = t[i] - t[i - 1], h1 = t[i + 1] - t[i];
            a[i, i - 1] = h0 / 6;
            a[i, i] = (h0 + h1) / 3;
            a[i, i + 1] = h1 / 6;
            r[i] = (y[i + 1] - y[i]) / h1 - (y[i] - y[i - 1]) / h0;
        }
        double[] m = TestLinearAlgebra.Solve(a, r);
        double reference = 0;
        for (int i = 0; i + 1 < k; i++)
        {
            double h = t[i + 1] - t[i];
            reference += h / 3 * (m[i] * m[i] + m[i] * m[i + 1] + m[i + 1] * m[i + 1]);
        }
        Assert.Equal(reference, energy, 1e-9);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    public void Gradient_matches_central_finite_differences(double noise)
    {
        var solver = new MomentumTupleSolver([0, 0.7, 1.5], 2, noise);
        double[] chol = [1, 0, 0.3, 0.8, 0.6, 0, -0.2, 1.1, 0.9, 0, 0.4, 0.5];
        chol.CopyTo(solver.CholeskyForTests());
        var p = new double[solver.ParameterCount];
        var rng = new CounterRng(5);
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = 0.5 * rng.Uniform(1, (ulong)i) - 0.1;
        }
        AssertGradientMatchesFiniteDifferences(solver, p, 1e-5);
    }

    /// <summary>Every component of the analytic gradient against a central difference (step 1e-6), relative to max(1, |g|).</summary>
    internal static void AssertGradientMatchesFiniteDifferences(MomentumTupleSolver solver, double[] p, double tolerance)
    {
        var g = new double[p.Length];
        Assert.True(double.IsFinite(solver.Evaluate(p, g)));
        var scratch = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double h = 1e-6, keep = p[i];
            p[i] = keep + h;
            double fp = solver.Evaluate(p, scratch);
            p[i] = keep - h;
            double fm = solver.Evaluate(p, scratch);
            p[i] = keep;
            Assert.Equal((fp - fm) / (2 * h), g[i], tolerance * Math.Max(1, Math.Abs(g[i])));
        }
    }

    [Fact]
    public void Small_eigen_reconstructs_random_symmetric_matrices()
    {
        var rng = new CounterRng(11);
        foreach (int n in new[] { 1, 2, 5, 10 })
        {
            var a = new double[n * n];
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    a[i * n + j] = a[j * n + i] = rng.Uniform((ulong)n, (ulong)(i * n + j)) - 0.5;
                }
            }
            var values = new double[n];
            var vectors = new double[n * n];
            Assert.True(SmallSymmetricEigen.Decompose(a, n, values, vectors, new double[n]));
            TestMatrices.AssertEigenDecomposition(a, n, values, vectors, 1e-13, 1e-13, $"n = {n}:");
        }
    }
}

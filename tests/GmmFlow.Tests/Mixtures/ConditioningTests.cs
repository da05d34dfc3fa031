using CsCheck;
using GmmFlow.Native;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Mixtures;

public class ConditioningTests
{
    public static TheoryData<LapackProviderKind, CovarianceType> ProvidersAndTypes()
    {
        var data = new TheoryData<LapackProviderKind, CovarianceType>();
        foreach (var lapack in Lapack.Available())
        {
            var kind = lapack.Kind;
            foreach (var type in (CovarianceType[])[CovarianceType.Full, CovarianceType.Diagonal, CovarianceType.Spherical])
            {
                data.Add(kind, type);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ProvidersAndTypes))]
    public void Marginal_density_equals_the_joint_integrated_by_quadrature(LapackProviderKind kind, CovarianceType type)
    {
        var lapack = Providers.Get(kind);
        var rng = new Random(3);
        var p = NaiveMixture.RandomParameters(rng, 3, 2, type, spread: 1.5);
        var joint = new GaussianMixture(p.W, p.M, p.C, type, false, lapack);
        var marginal = joint.Marginal([1], lapack);
        Assert.Equal(1, marginal.Dimension);
        for (int t = 0; t < 8; t++)
        {
            double x1 = 3 * NaiveMixture.Normal(rng);
            // ∫ p(x0, x1) dx0 by the trapezoidal rule on a wide fine grid (the integrand is smooth and decays fast).
            double h = 1e-3, integral = 0;
            var point = new double[2];
            var logp = new double[1];
            for (double x0 = -40; x0 <= 40; x0 += h)
            {
                point[0] = x0;
                point[1] = x1;
                joint.LogDensity(point, logp);
                integral += Math.Exp(logp[0]) * h;
            }
            marginal.LogDensity([x1], logp);
            Assert.Equal(integral, Math.Exp(logp[0]), 1e-7 * (1 + integral));
        }
    }

    [Theory]
    [MemberData(nameof(ProvidersAndTypes))]
    public void Conditional_density_equals_joint_over_marginal_at_random_points(LapackProviderKind kind, CovarianceType type)
    {
        var lapack = Providers.Get(kind);
        Gen.Select(Gen.Int[1, 5], Gen.Int[2, 9], Gen.Int).Sample((k, d, seed) =>
        {
            var rng = new Random(seed);
            var p = NaiveMixture.RandomParameters(rng, k, d, type, spread: 2);
            var joint = new GaussianMixture(p.W, p.M, p.C, type, false, lapack);
            // A random non-empty proper subset B of the coordinates, in random order.
            var order = Enumerable.Range(0, d).OrderBy(_ => rng.Next()).ToArray();
            int nb = 1 + rng.Next(d - 1);
            int[] given = order[..nb];
            int[] kept = Enumerable.Range(0, d).Where(j => !given.Contains(j)).ToArray();
            var x = NaiveMixture.RandomPoints(rng, 1, d, 2.5);
            var xb = given.Select(j => x[j]).ToArray();
            var xa = kept.Select(j => x[j]).ToArray();

            var conditional = joint.Conditional(given, xb, lapack);
            var marginal = joint.Marginal(given, lapack);
            Assert.Equal(kept.Length, conditional.Dimension);
            var one = new double[1];
            joint.LogDensity(x, one);
            double logJoint = one[0];
            marginal.LogDensity(xb, one);
            double logMarginal = one[0];
            conditional.LogDensity(xa, one);
            Assert.Equal(logJoint - logMarginal, one[0], 1e-8 * (1 + Math.Abs(logJoint)));

            // The conditional is a proper mixture: weights sum to 1 and it keeps the covariance type.
            double s = 0;
            foreach (double w in conditional.Weights)
            {
                s += w;
            }
            Assert.Equal(1.0, s, 1e-12);
            Assert.Equal(type, conditional.CovarianceType);
        }, iter: 25);
    }

    [Fact]
    public void Conditional_of_a_single_gaussian_matches_the_textbook_formula()
    {
        // Σ = [[2, 0.8], [0.8, 1]], m = (1, −1). Given x1 = 0.5: mean = 1 + 0.8/1 (0.5 + 1) = 2.2, var = 2 − 0.64 = 1.36.
        var g = new GaussianMixture([1.0], [1, -1], [2, 0.8, 0.8, 1]);
        var c = g.Conditional([1], [0.5]);
        Assert.Equal(2.2, c.Means[0], 1e-12);
        Assert.Equal(1.36, c.Covariances[0], 1e-12);
        Assert.Equal(1.0, c.Weights[0]);
    }

    [Fact]
    public void Conditional_drops_components_whose_weight_underflows_and_rejects_bad_coordinates()
    {
        // Component 1 sits 1e4 standard deviations from the given value: its posterior weight is exp(−5e7) = 0.
        var g = new GaussianMixture([0.5, 0.5], [0, 0, 1e4, 0], [1, 0, 0, 1, 1, 0, 0, 1]);
        var c = g.Conditional([0], [0.0]);
        Assert.Equal(1, c.ComponentCount);
        Assert.Equal(1.0, c.Weights[0]);

        Assert.Throws<ArgumentException>(() => g.Conditional([0, 0], [1.0, 1.0]));
        Assert.Throws<ArgumentException>(() => g.Conditional([2], [1.0]));
        Assert.Throws<ArgumentException>(() => g.Conditional([0, 1], [1.0, 1.0]));
        Assert.Throws<ArgumentException>(() => g.Conditional([0], [1.0, 2.0]));
        Assert.Throws<NonFiniteValueException>(() => g.Conditional([0], [double.NaN]));
        Assert.Throws<ArgumentException>(() => g.Marginal([]));
        Assert.Throws<ArgumentException>(() => g.Marginal([1, 1]));
    }
}

using CsCheck;
using GmmFlow.Native;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Mixtures;

public class GaussianMixtureTests
{
    public static TheoryData<CovarianceType> Types => new() { CovarianceType.Full, CovarianceType.Diagonal, CovarianceType.Spherical };

    private static GaussianMixture Create((double[] W, double[] M, double[] C) p, CovarianceType type) => new(p.W, p.M, p.C, type);

    [Theory]
    [MemberData(nameof(Types))]
    public void Log_densities_match_naive_reference_on_random_sizes(CovarianceType type)
    {
        // Sizes cross the chunk (256) and vector (8) boundaries; points include far-away ones.
        Gen.Select(Gen.Int[1, 7], Gen.Int[1, 19], Gen.Int[1, 600], Gen.Int).Sample((k, d, n, seed) =>
        {
            var rng = new Random(seed);
            var p = NaiveMixture.RandomParameters(rng, k, d, type);
            var mixture = Create(p, type);
            var x = NaiveMixture.RandomPoints(rng, n, d, 4);
            var component = new double[n * k];
            var mix = new double[n];
            var resp = new double[n * k];
            var labels = new int[n];
            mixture.ComponentLogDensities(x, component);
            mixture.LogDensity(x, mix);
            mixture.Responsibilities(x, resp);
            mixture.Predict(x, labels);
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                var xi = x.AsSpan(i * d, d);
                var terms = NaiveMixture.WeightedLogTerms(p.W, p.M, p.C, type, d, xi);
                double lse = NaiveMixture.LogSumExp(terms);
                sum += lse;
                Assert.Equal(lse, mix[i], 1e-9 * (1 + Math.Abs(lse)));
                int best = 0;
                for (int c = 0; c < k; c++)
                {
                    double logN = terms[c] - Math.Log(p.W[c]);
                    Assert.Equal(logN, component[i * k + c], 1e-9 * (1 + Math.Abs(logN)));
                    Assert.Equal(Math.Exp(terms[c] - lse), resp[i * k + c], 1e-9);
                    best = terms[c] > terms[best] ? c : best;
                }
                Assert.Equal(best, labels[i]);
            }
            Assert.Equal(sum / n, mixture.MeanLogLikelihood(x), 1e-9 * (1 + Math.Abs(sum / n)));
        }, iter: 40);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Responsibilities_sum_to_one_even_far_from_every_component(CovarianceType type)
    {
        var rng = new Random(5);
        var p = NaiveMixture.RandomParameters(rng, 6, 5, type);
        var mixture = Create(p, type);
        // 1e3 standard deviations away: every density underflows in linear space (exp(-5e5)); log space must not.
        var x = NaiveMixture.RandomPoints(rng, 300, 5, 1e3);
        var resp = new double[300 * 6];
        var logp = new double[300];
        mixture.Responsibilities(x, resp);
        mixture.LogDensity(x, logp);
        for (int i = 0; i < 300; i++)
        {
            double s = 0;
            for (int c = 0; c < 6; c++)
            {
                Assert.InRange(resp[i * 6 + c], 0, 1);
                s += resp[i * 6 + c];
            }
            Assert.Equal(1.0, s, 1e-12);
            Assert.True(double.IsFinite(logp[i]) && logp[i] < -1e4, $"log p = {logp[i]}");
        }
    }

    [Fact]
    public void Accessors_expose_full_matrices_for_every_type_and_the_compact_form()
    {
        double[] w = [0.25, 0.75], m = [0, 1, 2, 3, 4, 5];
        var diag = new GaussianMixture(w, m, [1, 4, 9, 16, 25, 36], CovarianceType.Diagonal);
        Assert.Equal(3, diag.Dimension);
        Assert.Equal(2, diag.ComponentCount);
        Assert.Equal([1, 4, 9, 16, 25, 36], diag.CompactCovariances.ToArray());
        Assert.Equal([16.0, 0, 0, 0, 25, 0, 0, 0, 36], diag.Covariance(1).ToArray());
        var l = diag.CholeskyFactors.Slice(9, 9).ToArray();
        var li = diag.InverseCholeskyFactors.Slice(9, 9).ToArray();
        Assert.Equal([4.0, 0, 0, 0, 5, 0, 0, 0, 6], l);
        Assert.Equal(0.25, li[0], 1e-15);
        Assert.Equal(Math.Log(16 * 25 * 36.0), diag.LogDeterminants[1], 1e-12);
        Assert.Equal([3.0, 4, 5], diag.Mean(1).ToArray());

        var sph = new GaussianMixture(w, m, [2, 3], CovarianceType.Spherical);
        Assert.Equal([3.0, 0, 0, 0, 3, 0, 0, 0, 3], sph.Covariance(1).ToArray());
        Assert.Equal(3 * Math.Log(3.0), sph.LogDeterminants[1], 1e-12);

        var cov = new double[] { 4, 2, 0, 2, 5, 1, 0, 1, 3 };
        var full = new GaussianMixture([1.0], [0, 0, 0], cov);
        var lf = full.CholeskyFactors.ToArray();
        var llt = TestMatrices.Multiply(lf, lf, 3, 3, 3, transB: true);
        Assert.True(TestMatrices.MaxAbsDiff(llt, cov) < 1e-14);
        var id = TestMatrices.Multiply(lf, full.InverseCholeskyFactors.ToArray(), 3, 3, 3);
        for (int i = 0; i < 3; i++)
        {
            id[i * 3 + i] -= 1;
        }
        Assert.True(TestMatrices.MaxAbs(id) < 1e-14);
        // scikit-learn's parameter counts: full K·d(d+1)/2 + K·d + K − 1.
        Assert.Equal(6 + 3 + 0, full.ParameterCount);
        Assert.Equal(6 + 6 + 1, diag.ParameterCount);
        Assert.Equal(2 + 6 + 1, sph.ParameterCount);
    }

    [Fact]
    public void Construction_rejects_bad_parameters_naming_the_component()
    {
        double[] m = [0, 0, 1, 1];
        double[] spd = [1, 0, 0, 1, 2, 0.5, 0.5, 1];
        double[] notSpd = [1, 0, 0, 1, 1, 2, 2, 1];
        var e = Assert.Throws<NotPositiveDefiniteException>(() => new GaussianMixture([0.5, 0.5], m, notSpd));
        Assert.Equal(1, e.Index);
        Assert.Contains("component #1", e.Message);

        var negative = Assert.Throws<ArgumentException>(() => new GaussianMixture([1.2, -0.2], m, spd));
        Assert.Contains("component 1", negative.Message);
        var nan = Assert.Throws<NonFiniteValueException>(() => new GaussianMixture([0.5, 0.5], [0, 0, double.NaN, 1], spd));
        Assert.Equal(1, nan.Index);
        Assert.Throws<ArgumentException>(() => new GaussianMixture([0.5, 0.5], [0, 0, 1], spd));           // d not integral
        Assert.Throws<ArgumentException>(() => new GaussianMixture([0.5, 0.5], m, [1, 0, 0, 1]));          // too few covariances
        Assert.Throws<ArgumentException>(() => new GaussianMixture([], [], []));
        var asym = Assert.Throws<ArgumentException>(() => new GaussianMixture([1.0], [0, 0], [1, 0.5, 0.4, 1]));
        Assert.Contains("not symmetric", asym.Message);
        var variance = Assert.Throws<NotPositiveDefiniteException>(() => new GaussianMixture([0.5, 0.5], m, [1, 1, 1, 0], CovarianceType.Diagonal));
        Assert.Equal(1, variance.Index);
        Assert.Equal(2, variance.MinorOrder);
    }

    [Fact]
    public void Weight_sum_within_round_off_is_accepted_otherwise_rejected_or_renormalised_and_reported()
    {
        double[] m = [0, 5], c = [1, 1];
        var ok = new GaussianMixture([0.3, 0.7 + 5e-10], m, c, CovarianceType.Spherical);
        Assert.False(ok.WeightsRenormalized);
        Assert.Null(ok.WeightWarning);
        Assert.Equal(0.7 + 5e-10, ok.Weights[1]); // not silently altered

        var off = Assert.Throws<ArgumentException>(() => new GaussianMixture([0.3, 0.6], m, c, CovarianceType.Spherical));
        Assert.Contains("sum to 0.9,", off.Message);

        var fixedUp = new GaussianMixture([0.3, 0.6], m, c, CovarianceType.Spherical, renormalizeWeights: true);
        Assert.True(fixedUp.WeightsRenormalized);
        Assert.Equal(0.9, fixedUp.GivenWeightSum, 1e-15);
        Assert.Equal(1.0 / 3, fixedUp.Weights[0], 1e-15);
        Assert.Contains("0.9", fixedUp.WeightWarning);
    }

    [Fact]
    public void Evaluation_rejects_non_finite_points_and_wrong_shapes()
    {
        var mixture = new GaussianMixture([1.0], [0, 0], [1, 0, 0, 1]);
        var e = Assert.Throws<NonFiniteValueException>(() => mixture.MeanLogLikelihood([0, 1, 2, double.PositiveInfinity]));
        Assert.Equal(1, e.Index);
        Assert.Equal(1, e.Position);
        Assert.Throws<ArgumentException>(() => mixture.MeanLogLikelihood([0, 1, 2]));
        Assert.Throws<ArgumentException>(() => mixture.MeanLogLikelihood([]));
        Assert.Throws<ArgumentException>(() => mixture.LogDensity([0, 1, 2, 3], new double[1]));
    }

    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Factors_are_correct_with_each_lapack_provider(LapackProviderKind kind)
    {
        var lapack = Providers.Get(kind);
        var rng = new Random(17);
        int k = 4, d = 11;
        var p = NaiveMixture.RandomParameters(rng, k, d, CovarianceType.Full);
        var mixture = new GaussianMixture(p.W, p.M, p.C, CovarianceType.Full, false, lapack);
        var x = NaiveMixture.RandomPoints(rng, 100, d, 3);
        var logp = new double[100];
        mixture.LogDensity(x, logp);
        for (int i = 0; i < 100; i++)
        {
            double expected = NaiveMixture.LogDensity(p.W, p.M, p.C, CovarianceType.Full, d, x.AsSpan(i * d, d));
            Assert.Equal(expected, logp[i], 1e-9 * (1 + Math.Abs(expected)));
        }
        for (int c = 0; c < k; c++)
        {
            var reference = NaiveMixture.Cholesky(p.C.AsSpan(c * d * d, d * d).ToArray(), d);
            Assert.True(TestMatrices.MaxAbsDiff(reference, mixture.CholeskyFactors.Slice(c * d * d, d * d)) < 1e-12);
        }
        var notSpd = (double[])p.C.Clone();
        notSpd[2 * d * d] = -1;
        var e = Assert.Throws<NotPositiveDefiniteException>(() => new GaussianMixture(p.W, p.M, notSpd, CovarianceType.Full, false, lapack));
        Assert.Equal(2, e.Index);
    }
}

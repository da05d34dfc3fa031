using GmmFlow.Sampling;

namespace GmmFlow.Tests.Sampling;

/// <summary>∇log ρ of every built-in target, and the prior's score, against central finite differences.</summary>
public class TargetGradientTests
{
    private static void CheckGradient(ITarget target, double[] x, double tolerance = 1e-5)
    {
        int d = target.Dimension;
        var value = new double[1];
        var gradient = new double[d];
        TargetChecks.EvaluateChecked(target, x, value, gradient);
        var plus = new double[1];
        var minus = new double[1];
        for (int j = 0; j < d; j++)
        {
            double h = 1e-5 * Math.Max(1, Math.Abs(x[j]));
            double keep = x[j];
            x[j] = keep + h;
            target.Evaluate(x, plus, Span<double>.Empty);
            x[j] = keep - h;
            target.Evaluate(x, minus, Span<double>.Empty);
            x[j] = keep;
            double fd = (plus[0] - minus[0]) / (2 * h);
            Assert.True(Math.Abs(fd - gradient[j]) <= tolerance * Math.Max(1, Math.Abs(fd)),
                $"{target.Name}: ∂/∂x{j} analytic {gradient[j]} vs finite difference {fd}");
        }
    }

    private static double[] RandomPoint(int d, ulong seed, double scale, double shift = 0)
    {
        var x = new double[d];
        new CounterRng(seed).FillNormal(0, 0, x);
        for (int j = 0; j < d; j++)
        {
            x[j] = shift + (scale * x[j]);
        }
        return x;
    }

    public static TheoryData<string> AnalyticNames => ["funnel", "gmm40", "mos", "many-well", "phi4"];

    [Theory]
    [MemberData(nameof(AnalyticNames))]
    public void Analytic_targets_match_finite_differences(string name)
    {
        ITarget t = BuiltInTargets.Create(name);
        for (ulong s = 0; s < 3; s++)
        {
            // Near a GMM40 / Student-t mode, so the mixture gradient is not a single component's.
            double[] x = name switch
            {
                "gmm40" => PerturbedMean(((GaussianMixtureTarget)t).Means[..50].ToArray(), s),
                "funnel" => RandomPoint(10, s, 1),
                _ => RandomPoint(t.Dimension, s, 1.3),
            };
            CheckGradient(t, x);
        }
    }

    private static double[] PerturbedMean(double[] mean, ulong seed)
    {
        double[] e = RandomPoint(mean.Length, seed, 0.7);
        for (int j = 0; j < mean.Length; j++)
        {
            e[j] += mean[j];
        }
        return e;
    }

    [Fact]
    public void Small_gaussian_mixture_and_student_t_mixture_match_finite_differences_between_modes()
    {
        var gm = new GaussianMixtureTarget("gm", [0.3, 0.7], [0, 0, 1, 0.5], [1, 2, 0.5, 0.7], logNormalizer: 1.5);
        CheckGradient(gm, [0.4, 0.2]);
        var mos = new StudentTMixtureTarget(dimension: 3, components: 2, seed: 4);
        CheckGradient(mos, [0.1, -2, 3]);
    }

    [Fact]
    public void Logistic_regression_matches_finite_differences()
    {
        int n = 40, d = 4;
        double[] design = RandomPoint(n * d, 9, 1.5);
        var labels = new double[n];
        for (int i = 0; i < n; i++)
        {
            design[i * d] = 1;
            labels[i] = design[(i * d) + 1] + (0.5 * design[(i * d) + 2]) > 0 ? 1 : 0;
        }
        var t = new LogisticRegressionTarget("lr", design, labels, priorStd: 2);
        CheckGradient(t, RandomPoint(d, 3, 2));
        CheckGradient(t, RandomPoint(d, 4, 30)); // large |s|: the stable softplus branch
    }

    public static TheoryData<string> DataNames => ["credit", "cancer", "ionosphere", "sonar"];

    [Theory]
    [MemberData(nameof(DataNames))]
    public void Data_targets_match_finite_differences(string name)
    {
        ITarget t;
        try
        {
            t = BuiltInTargets.Create(name);
        }
        catch (DatasetNotFoundException e)
        {
            Assert.Skip($"Debian package not installed: {e.AptCommand}");
            return;
        }
        CheckGradient(t, RandomPoint(t.Dimension, 5, 0.1), 1e-4);
    }

    [Theory]
    [InlineData(CovarianceType.Diagonal)]
    [InlineData(CovarianceType.Full)]
    public void Prior_score_matches_finite_differences_and_density_matches_gaussian_mixture(CovarianceType type)
    {
        int d = 3;
        var prior = new MixturePrior(d, 3, type);
        prior.AddComponent([0, 0, 0], 1);
        prior.AddComponent([1, -1, 0.5], 0.7);
        Span<double> p = prior.Parameters;
        new CounterRng(11).FillNormal(0, 0, p);
        for (int i = 0; i < p.Length; i++)
        {
            p[i] *= 0.5;
        }
        prior.Refresh();
        var scratch = new double[prior.ScratchLength];
        double[] x = [0.3, -0.2, 0.9];
        var score = new double[d];
        double logp = prior.LogDensity(x, score, scratch);
        // Independent reference: the library's Gaussian mixture built from the prior's covariances.
        var reference = new double[1];
        prior.ToMixture().LogDensity(x, reference);
        Assert.Equal(reference[0], logp, 1e-10);
        for (int j = 0; j < d; j++)
        {
            double keep = x[j];
            x[j] = keep + 1e-6;
            double up = prior.LogDensity(x, Span<double>.Empty, scratch);
            x[j] = keep - 1e-6;
            double down = prior.LogDensity(x, Span<double>.Empty, scratch);
            x[j] = keep;
            Assert.Equal((up - down) / 2e-6, score[j], 1e-6);
        }
    }
}

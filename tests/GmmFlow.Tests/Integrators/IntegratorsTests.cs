using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Integrators;

public class IntegratorsTests
{
    // A = [[−a, w, 0], [−w, −a, 0], [0, 0, c]]: exp(τA) = e^{−aτ} R(wτ) ⊕ e^{cτ}, R the rotation by wτ.
    private const double DecayA = 0.7, OmegaW = 2.3, GrowthC = 0.4;
    internal static readonly double[] RotationDecay = [-DecayA, OmegaW, 0, -OmegaW, -DecayA, 0, 0, 0, GrowthC];

    internal static double[] ExactRotationDecay(double[] x0, double tau)
    {
        var x = new double[x0.Length];
        double e = Math.Exp(-DecayA * tau), c = Math.Cos(OmegaW * tau), s = Math.Sin(OmegaW * tau), g = Math.Exp(GrowthC * tau);
        for (int p = 0; p < x0.Length / 3; p++)
        {
            double a = x0[3 * p], b = x0[3 * p + 1];
            x[3 * p] = e * (c * a + s * b);
            x[3 * p + 1] = e * (-s * a + c * b);
            x[3 * p + 2] = g * x0[3 * p + 2];
        }
        return x;
    }

    internal static double MaxError(double[] a, double[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    private delegate void Integrator(IVelocityField field, Span<double> states, IntegrationOptions options);

    private static double ErrorWithSteps(Integrator integrate, int steps, bool timeDependent)
    {
        double[] x0 = [1.0, -0.5, 0.8, -1.2, 0.3, 0.1];
        double[] x = (double[])x0.Clone();
        var options = new IntegrationOptions { StartTime = 0.3, EndTime = 1.7, Steps = steps };
        if (timeDependent)
        {
            // v = cos t · A x: the flow map is exp((sin t1 − sin t0) A).
            integrate(new LinearField(RotationDecay, 3, cosineInTime: true), x, options);
            return MaxError(x, ExactRotationDecay(x0, Math.Sin(1.7) - Math.Sin(0.3)));
        }
        integrate(new LinearField(RotationDecay, 3), x, options);
        return MaxError(x, ExactRotationDecay(x0, 1.4));
    }

    public static TheoryData<string, int, bool> Orders() => new()
    {
        { "Euler", 1, false }, { "Heun", 2, false }, { "RungeKutta4", 4, false },
        { "Euler", 1, true }, { "Heun", 2, true }, { "RungeKutta4", 4, true },
    };

    [Theory]
    [MemberData(nameof(Orders))]
    public void LinearOde_ConvergesAtTheSchemesOrder(string scheme, int order, bool timeDependent)
    {
        Integrator integrate = scheme switch
        {
            "Euler" => (f, s, o) => FlowIntegrator.Euler(f, s, o),
            "Heun" => (f, s, o) => FlowIntegrator.Heun(f, s, o),
            _ => (f, s, o) => FlowIntegrator.RungeKutta4(f, s, o),
        };
        // Halving h must divide the error by about 2^order (observed order within ±0.15 of the theory).
        int baseSteps = order == 4 ? 20 : 80;
        double e1 = ErrorWithSteps(integrate, baseSteps, timeDependent);
        double e2 = ErrorWithSteps(integrate, 2 * baseSteps, timeDependent);
        double e3 = ErrorWithSteps(integrate, 4 * baseSteps, timeDependent);
        double p12 = Math.Log2(e1 / e2), p23 = Math.Log2(e2 / e3);
        Assert.InRange(p12, order - 0.15, order + 0.15);
        Assert.InRange(p23, order - 0.15, order + 0.15);
        if (order == 4)
        {
            Assert.True(e3 < 1e-7, $"RK4 error {e3:E2} with {4 * baseSteps} steps");
        }
    }

    [Fact]
    public void EulerMaruyama_OrnsteinUhlenbeck_MatchesExactMomentsAtTimeOne()
    {
        // dX = −θ X dt + σ dW, X0 = x0: X1 ~ N(x0 e^{−θ}, σ²(1 − e^{−2θ}) / (2θ)) in each coordinate.
        const double theta = 1.3, sigma = 0.8;
        const int n = 40_000, steps = 400;
        double[] x0 = [1.0, -2.0];
        var x = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            x[2 * i] = x0[0];
            x[2 * i + 1] = x0[1];
        }
        FlowIntegrator.EulerMaruyama(new LinearField([-theta, 0, 0, -theta], 2), x, sigma, seed: 12345,
                                     new IntegrationOptions { Steps = steps });
        double variance = sigma * sigma * (1 - Math.Exp(-2 * theta)) / (2 * theta);
        // Tolerances: 4 Monte-Carlo standard errors plus the O(h) bias of Euler–Maruyama's moments
        // ((1 − θh)^N vs e^{−θ}: ≈ θ²h/2 · e^{−θ} relative, about 6·10⁻⁴ here).
        for (int j = 0; j < 2; j++)
        {
            double mean = 0;
            for (int i = 0; i < n; i++)
            {
                mean += x[2 * i + j];
            }
            mean /= n;
            double var = 0;
            for (int i = 0; i < n; i++)
            {
                var += (x[2 * i + j] - mean) * (x[2 * i + j] - mean);
            }
            var /= n - 1;
            double exactMean = x0[j] * Math.Exp(-theta);
            Assert.True(Math.Abs(mean - exactMean) < 4 * Math.Sqrt(variance / n) + 2e-3 * Math.Abs(exactMean),
                        $"coordinate {j}: mean {mean} vs {exactMean}");
            Assert.True(Math.Abs(var - variance) < variance * (4 * Math.Sqrt(2.0 / n) + 5e-3),
                        $"coordinate {j}: variance {var} vs {variance}");
        }
        // The two coordinates get independent noise (same stream, different counters/halves of a pair).
        double cov = 0;
        for (int i = 0; i < n; i++)
        {
            cov += (x[2 * i] - x0[0] * Math.Exp(-theta)) * (x[2 * i + 1] - x0[1] * Math.Exp(-theta));
        }
        Assert.True(Math.Abs(cov / n) < 4 * variance / Math.Sqrt(n), $"cross-covariance {cov / n}");
    }

    [Fact]
    public void EulerMaruyamaWithoutNoise_IsExactlyEuler()
    {
        double[] a = [0.5, 1.5, -2, 0.25, 0.125, 3];
        double[] b = (double[])a.Clone();
        var options = new IntegrationOptions { Steps = 17 };
        FlowIntegrator.Euler(new LinearField(RotationDecay, 3), a, options);
        FlowIntegrator.EulerMaruyama(new LinearField(RotationDecay, 3), b, noise: 0.0, seed: 5, options);
        Assert.Equal(a, b);
    }

    [Theory]
    [InlineData(0.0, 1.0, 8)]
    [InlineData(0.3, 1.7, 7)] // grid times that are not binary fractions
    public void FieldIsPreparedOncePerDistinctTime(double t0, double t1, int steps)
    {
        var problem = Field.FieldProblem.Random(2, pairs: 3, seed: 2);
        double[] x = problem.RandomPoints(10, seed: 1);
        var rk4 = new MovingMixtureField(problem);
        FlowIntegrator.RungeKutta4(rk4, x, new IntegrationOptions { StartTime = t0, EndTime = t1, Steps = steps });
        // RK4 evaluates at t, t + h/2 (twice) and t + h, and t + h is the next step's t: 2 distinct times per step + the end.
        Assert.Equal(2 * steps + 1, rk4.Prepared);
        var heun = new MovingMixtureField(problem);
        FlowIntegrator.Heun(heun, x, new IntegrationOptions { StartTime = t0, EndTime = t1, Steps = steps });
        Assert.Equal(steps + 1, heun.Prepared);
    }

    [Fact]
    public void Trajectory_HoldsTheInitialStateTheSavedStepsAndTheEnd()
    {
        double[] x0 = [1.0, -0.5, 0.8];
        double[] x = (double[])x0.Clone();
        var options = new IntegrationOptions { StartTime = 0, EndTime = 1, Steps = 10, SaveEvery = 3 };
        int count = FlowIntegrator.SnapshotCount(options);
        Assert.Equal(5, count); // steps 0, 3, 6, 9 and 10
        var trajectory = new double[count * 3];
        FlowIntegrator.RungeKutta4(new LinearField(RotationDecay, 3), x, options, trajectory);
        Assert.Equal(x0, trajectory.AsSpan(0, 3).ToArray());
        Assert.Equal(x, trajectory.AsSpan(12, 3).ToArray());
        int[] savedSteps = [0, 3, 6, 9, 10];
        for (int s = 0; s < count; s++)
        {
            double[] exact = ExactRotationDecay(x0, savedSteps[s] / 10.0);
            // RK4 with h = 0.1 is accurate to ~1e-5 here; a snapshot from the wrong step would be off by ~0.1.
            Assert.True(MaxError(trajectory.AsSpan(3 * s, 3).ToArray(), exact) < 1e-4, $"snapshot {s}");
        }
        Assert.Equal(0, FlowIntegrator.SnapshotCount(new IntegrationOptions { Steps = 10 }));
        Assert.Equal(3, FlowIntegrator.SnapshotCount(new IntegrationOptions { Steps = 10, SaveEvery = 5 }));
    }

    [Fact]
    public void Progress_IsReportedAtMostAboutHundredTimesAndEndsAtOne()
    {
        var progress = new RecordingProgress();
        double[] x = [1.0, 2.0, 3.0];
        FlowIntegrator.Euler(new LinearField(RotationDecay, 3), x, new IntegrationOptions { Steps = 1000, Progress = progress });
        Assert.InRange(progress.Reports.Count, 50, 101);
        Assert.Equal(1.0, progress.Reports[^1]);
        for (int i = 1; i < progress.Reports.Count; i++)
        {
            Assert.True(progress.Reports[i] > progress.Reports[i - 1]);
        }
    }

    [Fact]
    public void Cancellation_StopsTheRunAndLeavesStatesUnchanged()
    {
        using var cts = new CancellationTokenSource();
        var progress = new RecordingProgress(f => { if (f >= 0.3) cts.Cancel(); });
        double[] x = [1.0, 2.0, 3.0];
        var field = new LinearField(RotationDecay, 3);
        var options = new IntegrationOptions { Steps = 100, Progress = progress, CancellationToken = cts.Token };
        Assert.Throws<OperationCanceledException>(() => FlowIntegrator.Heun(field, x, options));
        Assert.Equal([1.0, 2.0, 3.0], x);
        Assert.Equal(2 * 30, field.Calls); // 30 steps ran (the 30th reported 0.3 and cancelled), 2 evaluations each
    }

    [Fact]
    public void InvalidInput_IsRejectedWithTypedErrors()
    {
        var field = new LinearField(RotationDecay, 3);
        double[] x = [1.0, 2.0, double.NaN, 0, 0, 0];
        var error = Assert.Throws<NonFiniteValueException>(() => FlowIntegrator.Euler(field, x));
        Assert.Equal(0, error.Index);
        Assert.Equal(2, error.Position);
        x[2] = 0;
        x[4] = double.PositiveInfinity;
        error = Assert.Throws<NonFiniteValueException>(() => FlowIntegrator.RungeKutta4(field, x));
        Assert.Equal(1, error.Index);
        Assert.Equal(1, error.Position);
        x[4] = 0;
        Assert.Throws<ArgumentException>(() => FlowIntegrator.Euler(field, new double[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowIntegrator.EulerMaruyama(field, x, noise: -1, seed: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlowIntegrator.Euler(field, x, new IntegrationOptions { Steps = 0 }));
        Assert.Throws<ArgumentException>(() => FlowIntegrator.Euler(field, x, new IntegrationOptions { SaveEvery = 10 }, new double[5]));
        Assert.Throws<ArgumentException>(() => FlowIntegrator.Euler(field, x, new IntegrationOptions(), new double[6]));
    }

    [Fact]
    public void MixtureField_RejectsNonFinitePointsBeforeTheKernel()
    {
        var problem = Field.FieldProblem.Random(2, pairs: 3, seed: 2);
        var field = new MovingMixtureField(problem);
        double[] x = [0.1, 0.2, 0.3, double.NaN];
        var error = Assert.Throws<NonFiniteValueException>(() => field.Evaluate(0.5, x, new double[4]));
        Assert.Equal(1, error.Index);
        Assert.Equal(1, error.Position);
        Assert.Equal(0, field.Prepared);
    }

    [Fact]
    public void MixtureField_RejectsNonFiniteFrameParameters()
    {
        var problem = Field.FieldProblem.Random(2, pairs: 3, seed: 2);
        var field = new MovingMixtureField(problem) { BreaksAt = 0.5 };
        double[] x = problem.RandomPoints(4, seed: 1);
        var error = Assert.Throws<NonFiniteValueException>(() => FlowIntegrator.Euler(field, x, new IntegrationOptions { Steps = 4 }));
        Assert.Equal(1, error.Index);
        Assert.True(double.IsNaN(error.Value));
        // The frame is not left marked as prepared for the broken time.
        Assert.Throws<NonFiniteValueException>(() => field.Evaluate(0.5, x, new double[x.Length]));
    }
}

/// <summary>Serial against parallel runs: alone, so the shared worker threads are free for the parallel one.</summary>
[Collection(nameof(RunsAlone))]
public class IntegratorsThreadingTests
{
    [Fact]
    public void EulerMaruyama_IsBitIdenticalForOneThreadAndAllCores()
    {
        var problem = Field.FieldProblem.Random(3, pairs: 5, seed: 3);
        const int n = 5003; // several particle chunks, the last one partial
        double[] start = problem.RandomPoints(n, seed: 4);
        double[] serial = (double[])start.Clone();
        double[] parallel = (double[])start.Clone();
        var options1 = new IntegrationOptions { Steps = 20, Parallel = false };
        var optionsAll = new IntegrationOptions { Steps = 20, Parallel = true };
        FlowIntegrator.EulerMaruyama(new MovingMixtureField(problem, parallel: false), serial, 0.5, seed: 99, options1);
        FlowIntegrator.EulerMaruyama(new MovingMixtureField(problem, parallel: true), parallel, 0.5, seed: 99, optionsAll);
        Assert.Equal(serial, parallel);
        Assert.All(serial, v => Assert.True(double.IsFinite(v)));

        double[] otherSeed = (double[])start.Clone();
        FlowIntegrator.EulerMaruyama(new MovingMixtureField(problem), otherSeed, 0.5, seed: 100, optionsAll);
        Assert.NotEqual(serial, otherSeed);
    }

    [Fact]
    public void DeterministicSchemes_AreBitIdenticalForOneThreadAndAllCores()
    {
        var problem = Field.FieldProblem.Random(2, pairs: 4, seed: 8);
        double[] start = problem.RandomPoints(40_000, seed: 1); // 80 000 doubles: several element chunks
        foreach (string scheme in new[] { "Heun", "RungeKutta4" })
        {
            double[] a = (double[])start.Clone(), b = (double[])start.Clone();
            var o1 = new IntegrationOptions { Steps = 5, Parallel = false };
            var oAll = new IntegrationOptions { Steps = 5 };
            if (scheme == "Heun")
            {
                FlowIntegrator.Heun(new MovingMixtureField(problem, parallel: false), a, o1);
                FlowIntegrator.Heun(new MovingMixtureField(problem), b, oAll);
            }
            else
            {
                FlowIntegrator.RungeKutta4(new MovingMixtureField(problem, parallel: false), a, o1);
                FlowIntegrator.RungeKutta4(new MovingMixtureField(problem), b, oAll);
            }
            Assert.Equal(a, b);
            Assert.NotEqual(start, a);
        }
    }
}

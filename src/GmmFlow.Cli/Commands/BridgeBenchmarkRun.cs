using System.Diagnostics;

namespace GmmFlow.Cli.Commands;

/// <summary>One cell of `gmmflow bridge benchmark` (docs/exact-sb-benchmark.md describes the protocol).</summary>
internal static class BridgeBenchmarkRun
{
    /// <summary>
    /// [cBW2-UVP: floor, LightBridge, GMMflow plan, Gaussian EOT | BW2-UVP: same four | fit wall seconds, fit CPU seconds
    /// (all threads; on an idle machine the wall time is about CPU / cores), L-BFGS iterations, objective evaluations,
    /// shrinkage λ of the fit], and with <paramref name="trueStart"/> three diagnostic columns: the cBW2-UVP of a fit
    /// started from the true potential on the same samples, the training objective of the default fit and of that fit.
    /// </summary>
    public static double[] Cell(int d, double eps, ulong seed, int samples, int testPoints, int perPoint, int components, double? shrinkage = 0,
        int restarts = 0, bool chooseScales = false, bool trueStart = false)
    {
        double noise = Math.Sqrt(eps);
        var bench = EntropicBridgeBenchmark.Create(d, noise, seed, components);
        bench.EstimateTargetMoments(Math.Max(100_000, 10 * samples), seed + 1000);
        ulong s = seed * 16;
        double[] x0 = bench.SampleSource(samples, s + 1);
        double[] x1 = bench.SampleTarget(samples, s + 2);
        double[] test = bench.SampleSource(testPoints, s + 3);
        double[] marginalSource = bench.SampleSource(samples, s + 4);
        double[] repeated = new double[(long)testPoints * perPoint * d];
        for (int i = 0; i < testPoints; i++)
        {
            for (int j = 0; j < perPoint; j++)
            {
                test.AsSpan(i * d, d).CopyTo(repeated.AsSpan((i * perPoint + j) * d, d));
            }
        }

        var clock = Stopwatch.StartNew();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var options = new LightBridgeFitOptions
        {
            Components = components,
            Seed = seed,
            Shrinkage = shrinkage,
            Restarts = restarts,
            CovarianceCandidates = chooseScales ? [CovarianceType.Full, CovarianceType.Diagonal] : null,
        };
        var fit = LightBridgeFitter.Fit(x0, x1, d, noise, options);
        double fitSeconds = clock.Elapsed.TotalSeconds;
        double fitCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;

        var (m0, c0) = LightBridgeFitter.Moments(Native.Lapack.Default, x0, samples, d);
        var (m1, c1) = LightBridgeFitter.Moments(Native.Lapack.Default, x1, samples, d);
        LightBridge gaussian = LightBridge.FromGaussians(m0, c0, m1, c1, noise);

        var emOptions = new GaussianMixtureFitOptions { Seed = seed };
        GaussianMixture sourceMixture = GaussianMixtureFitter.Fit(x0, d, components, emOptions).Mixture;
        GaussianMixture targetMixture = GaussianMixtureFitter.Fit(x1, d, components, emOptions).Mixture;
        var plan = TransportPlan.Create(sourceMixture, targetMixture, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = noise });

        var result = new double[trueStart ? 16 : 13];
        result[0] = bench.ConditionalUvp(test, bench.Potential.SampleConditional(test, perPoint, s + 5), perPoint);
        result[1] = bench.ConditionalUvp(test, fit.Bridge.SampleConditional(test, perPoint, s + 5), perPoint);
        result[2] = bench.ConditionalUvp(test, plan.MapRandom(repeated, s + 5), perPoint);
        result[3] = bench.ConditionalUvp(test, gaussian.SampleConditional(test, perPoint, s + 5), perPoint);
        result[4] = bench.MarginalUvp(bench.Potential.SampleConditional(marginalSource, 1, s + 6));
        result[5] = bench.MarginalUvp(fit.Bridge.SampleConditional(marginalSource, 1, s + 6));
        result[6] = bench.MarginalUvp(plan.MapRandom(marginalSource, s + 6));
        result[7] = bench.MarginalUvp(gaussian.SampleConditional(marginalSource, 1, s + 6));
        result[8] = fitSeconds;
        result[9] = fitCpu;
        result[10] = fit.Iterations;
        result[11] = fit.Evaluations;
        result[12] = fit.Shrinkage;
        if (trueStart)
        {
            // Diagnostic (docs/exact-sb-benchmark.md#true-start): the same fit started from the true potential. A clearly
            // lower error and training objective there would mean the default fit stops in a worse local minimum.
            var fromTruth = LightBridgeFitter.Fit(x0, x1, d, noise, options with { Initial = bench.Potential, CovarianceCandidates = null });
            result[13] = bench.ConditionalUvp(test, fromTruth.Bridge.SampleConditional(test, perPoint, s + 5), perPoint);
            result[14] = fit.Objective;
            result[15] = fromTruth.Objective;
        }
        return result;
    }
}

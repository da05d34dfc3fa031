using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using GmmFlow.Fitting;
using GmmFlow.Native;

namespace GmmFlow.Benchmarks.Mixtures;

/// <summary>
/// Side-by-side EM timing against scikit-learn (benchmarks/compare/em_sklearn.py reads what this writes).
/// For each d: the data set (X_d{d}.npy), GmmFlow's k-means++ initialisation (init_d{d}.json), and
/// GmmFlow's timing of EM iterations from that initialisation with tol = 0 (gmmflow_d{d}.json): per-iteration
/// wall time of the fused E-step + statistics pass and the M-step, and the mean log-likelihood after all
/// iterations, which scikit-learn must reproduce from the same start.
/// </summary>
/// <remarks>
/// Usage: dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- em-compare --out DIR
///        [--n 100000] [--k 10] [--dims 2,16] [--iterations 30] [--warmup-seconds 2]
/// Iterations are timed one by one; the minimum and the median are reported (the machines are shared).
/// </remarks>
internal static class EmCompare
{
    public static int Run(string[] args)
    {
        string outDir = Arg(args, "--out", "em-compare");
        int n = int.Parse(Arg(args, "--n", "100000"), CultureInfo.InvariantCulture);
        int k = int.Parse(Arg(args, "--k", "10"), CultureInfo.InvariantCulture);
        int iterations = int.Parse(Arg(args, "--iterations", "30"), CultureInfo.InvariantCulture);
        double warmupSeconds = double.Parse(Arg(args, "--warmup-seconds", "2"), CultureInfo.InvariantCulture);
        int[] dims = Arg(args, "--dims", "2,16").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        Directory.CreateDirectory(outDir);
        var lapack = Lapack.Default;
        Console.WriteLine($"GmmFlow EM, N = {n}, K = {k}, full covariance, {Environment.ProcessorCount} cores, LAPACK {lapack}");
        foreach (int d in dims)
        {
            double[] x = EmBenchmarkData.Truth(k, d, 1).Sample(n, 2);
            SampleFiles.Write(Path.Combine(outDir, $"X_d{d}.npy"), x, d);

            var options = new GaussianMixtureFitOptions();
            var initClock = Stopwatch.StartNew();
            var data = new EmData(x, d, default, pointMajor: d >= EmData.PointMajorFromDimension);
            var ws = new EmWorkspace(data, k, CovarianceType.Full, options.RegCovar, lapack, KMeansInitializer.Trials(k));
            GaussianMixtureFitter.Initialize(ws, options, new CounterRng(0), 0, CancellationToken.None);
            double initMs = initClock.Elapsed.TotalMilliseconds;
            var init = GaussianMixtureFitter.Snapshot(ws);
            MixtureJson.Write(init, Path.Combine(outDir, $"init_d{d}.json"));

            // Warm-up until the JIT has promoted everything (on a one-core machine tiering waits ~1 s after
            // the last tier-0 compilation), then time each of the next iterations.
            int warmup = 0;
            var warmClock = Stopwatch.StartNew();
            while (warmup < 3 || warmClock.Elapsed.TotalSeconds < warmupSeconds)
            {
                warmup++;
                ws.Pass(EmWorkspace.PassKind.EStep);
                ws.MStep(warmup);
            }
            int total = warmup + iterations;
            var times = new double[iterations];
            long allocated = 0;
            for (int it = warmup + 1; it <= total; it++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                long t0 = Stopwatch.GetTimestamp();
                ws.Pass(EmWorkspace.PassKind.EStep);
                ws.MStep(it);
                times[it - warmup - 1] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                allocated += GC.GetTotalAllocatedBytes(precise: true) - before;
            }
            double finalLogLikelihood = ws.Pass(EmWorkspace.PassKind.LogLikelihood);
            Array.Sort(times);
            double min = times[0], median = times[times.Length / 2];

            // End to end through the public API with default settings (k-means++, tol 1e-3), for context.
            var fitClock = Stopwatch.StartNew();
            var fit = GaussianMixtureFitter.Fit(x, d, k);
            double fitMs = fitClock.Elapsed.TotalMilliseconds;

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"d = {d,2}: per iteration min {min:F2} ms, median {median:F2} ms ({allocated / iterations} B allocated per iteration, all threads); " +
                $"init {initMs:F0} ms; mean log-likelihood after {total} iterations {finalLogLikelihood:R}; default fit {fitMs:F0} ms ({fit.Iterations} iterations)"));
            using var stream = File.Create(Path.Combine(outDir, $"gmmflow_d{d}.json"));
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteNumber("n", n);
            w.WriteNumber("k", k);
            w.WriteNumber("d", d);
            w.WriteNumber("cores", Environment.ProcessorCount);
            w.WriteString("lapack", lapack.ToString());
            w.WriteNumber("iterations_total", total);
            w.WriteNumber("per_iteration_ms_min", min);
            w.WriteNumber("per_iteration_ms_median", median);
            w.WriteNumber("allocated_bytes_per_iteration", allocated / iterations);
            w.WriteNumber("init_ms", initMs);
            w.WriteNumber("final_mean_log_likelihood", finalLogLikelihood);
            w.WriteNumber("default_fit_ms", fitMs);
            w.WriteNumber("default_fit_iterations", fit.Iterations);
            w.WriteNumber("default_fit_mean_log_likelihood", fit.MeanLogLikelihood);
            w.WriteEndObject();
        }
        return 0;
    }

    private static string Arg(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
    }
}

using System.Diagnostics;
using System.Globalization;

namespace GmmFlow.Benchmarks.Dynamics;

/// <summary>
/// `linear-bridges --out DIR [--pairs K] [--repeats R]`: per state dimension n ∈ {2, 4, 8, 16}, a random LTI system
/// (m = n/2 controls, T = 1, σ = 0.5) and K random Gaussian pairs; times the set-up (exact cost J and the policy:
/// Cov(X0, XT), M⁻¹δ, Π at T/2) per pair on one thread after a warm-up, one pair at a time (LinearGaussianBridge.Create)
/// and batched (the lockstep groups of CreateMany and LinearTransportPlan), and writes the inputs and both paths'
/// results (J, Π(T/2), Σ(T/2)) as .npy for benchmarks/compare/linear_bridges.py, which times numpy/scipy on them.
/// </summary>
public static class LinearBridgeCompare
{
    private static readonly int[] Dimensions = [2, 4, 8, 16];

    public static int Run(string[] args)
    {
        string? outDir = null;
        int pairs = 200, repeats = 7;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out": outDir = args[++i]; break;
                case "--pairs": pairs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine("usage: linear-bridges --out DIR [--pairs K] [--repeats R]");
                    return 2;
            }
        }
        if (outDir is null)
        {
            Console.Error.WriteLine("usage: linear-bridges --out DIR [--pairs K] [--repeats R]");
            return 2;
        }
        Directory.CreateDirectory(outDir);
        const double sigma = 0.5;
        foreach (int n in Dimensions)
        {
            int m = Math.Max(1, n / 2);
            var rng = new Random(1000 + n);
            double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            var a = new double[n * n];
            var b = new double[n * m];
            for (int k = 0; k < a.Length; k++)
            {
                a[k] = 0.5 / Math.Sqrt(n) * Normal();
            }
            for (int k = 0; k < b.Length; k++)
            {
                b[k] = Normal();
            }
            var dynamics = LinearDynamics.TimeInvariant(a, b, n, m, 1.0);
            double[] m0 = new double[pairs * n], m1 = new double[pairs * n], s0 = new double[pairs * n * n], s1 = new double[pairs * n * n];
            for (int p = 0; p < pairs; p++)
            {
                for (int k = 0; k < n; k++)
                {
                    m0[p * n + k] = Normal();
                    m1[p * n + k] = 3 * Normal();
                }
                Spd(s0.AsSpan(p * n * n, n * n), n, Normal);
                Spd(s1.AsSpan(p * n * n, n * n), n, Normal);
            }
            LinearGaussianBridge Make(int p) => LinearGaussianBridge.Create(dynamics, m0.AsSpan(p * n, n), s0.AsSpan(p * n * n, n * n),
                m1.AsSpan(p * n, n), s1.AsSpan(p * n * n, n * n), sigma);
            // Warm-up past tiered JIT compilation: at least 5 rounds of every pair and 1.5 s, so that the background
            // tier-1 recompilation (after its call counting and delay) has replaced the tier-0 and OSR code.
            var warm = Stopwatch.StartNew();
            for (int w = 0; w < 5 || warm.Elapsed.TotalSeconds < 1.5; w++)
            {
                for (int p = 0; p < pairs; p++)
                {
                    Make(p);
                }
            }
            // Wall time per pair and, because the machine may be shared, the process CPU time per pair.
            var perPair = new double[repeats];
            var cpuPerPair = new double[repeats];
            using var process = Process.GetCurrentProcess();
            for (int r = 0; r < repeats; r++)
            {
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                for (int p = 0; p < pairs; p++)
                {
                    Make(p);
                }
                perPair[r] = clock.Elapsed.TotalSeconds / pairs;
                process.Refresh();
                cpuPerPair[r] = (process.TotalProcessorTime - cpu0).TotalSeconds / pairs;
            }
            Array.Sort(perPair);
            Array.Sort(cpuPerPair);
            // The batched path (CreateMany, LinearTransportPlan): lockstep groups of pairs, here on this one thread.
            var stacked = new LinearGaussianBridge.StackedPairs(n, m0, s0, m1, s1);
            var built = new LinearGaussianBridge?[pairs];
            var errors = new Exception?[pairs];
            void Batch() => LinearGaussianBridge.BuildRange(dynamics, sigma, stacked, 0, pairs, built, errors);
            warm.Restart();
            for (int w = 0; w < 5 || warm.Elapsed.TotalSeconds < 1.5; w++)
            {
                Batch();
            }
            var batchPerPair = new double[repeats];
            var batchCpuPerPair = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                process.Refresh();
                var cpu0 = process.TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                Batch();
                batchPerPair[r] = clock.Elapsed.TotalSeconds / pairs;
                process.Refresh();
                batchCpuPerPair[r] = (process.TotalProcessorTime - cpu0).TotalSeconds / pairs;
            }
            Array.Sort(batchPerPair);
            Array.Sort(batchCpuPerPair);
            for (int p = 0; p < pairs; p++)
            {
                if (errors[p] is { } e)
                {
                    throw e;
                }
                var one = Make(p);
                if (Math.Abs(built[p]!.Cost - one.Cost) > 1e-10 * Math.Max(1, Math.Abs(one.Cost)))
                {
                    throw new InvalidOperationException($"Batched and one-pair costs differ at n = {n}, pair {p}: {built[p]!.Cost:R} vs {one.Cost:R}.");
                }
            }
            string prefix = Path.Combine(outDir, $"n{n}_");
            // Both paths' results, for the peer to check: J, Π(T/2), Σ(T/2).
            foreach (bool batched in new[] { false, true })
            {
                var costs = new double[pairs];
                var pi = new double[pairs * n * n];
                var sig = new double[pairs * n * n];
                for (int p = 0; p < pairs; p++)
                {
                    var bridge = batched ? built[p]! : Make(p);
                    costs[p] = bridge.Cost;
                    bridge.Riccati(0.5, pi.AsSpan(p * n * n, n * n));
                    bridge.Covariance(0.5, sig.AsSpan(p * n * n, n * n));
                }
                string suffix = batched ? "_batch" : "";
                Write(prefix + $"J{suffix}.npy", costs, 1);
                Write(prefix + $"Pi{suffix}.npy", pi, n * n);
                Write(prefix + $"Sigma{suffix}.npy", sig, n * n);
            }
            Write(prefix + "A.npy", a, n);
            Write(prefix + "B.npy", b, m);
            Write(prefix + "m0.npy", m0, n);
            Write(prefix + "m1.npy", m1, n);
            Write(prefix + "S0.npy", s0, n * n);
            Write(prefix + "S1.npy", s1, n * n);
            double median = perPair[repeats / 2];
            File.WriteAllText(prefix + "meta.json", string.Create(CultureInfo.InvariantCulture,
                $$"""{"n": {{n}}, "m": {{m}}, "sigma": {{sigma}}, "horizon": 1.0, "pairs": {{pairs}}, "csharp_seconds_per_pair": {{median:R}}, "csharp_min": {{perPair[0]:R}}, "csharp_max": {{perPair[^1]:R}}, "csharp_cpu_seconds_per_pair": {{cpuPerPair[repeats / 2]:R}}, "csharp_batch_seconds_per_pair": {{batchPerPair[repeats / 2]:R}}, "csharp_batch_min": {{batchPerPair[0]:R}}, "csharp_batch_cpu_seconds_per_pair": {{batchCpuPerPair[repeats / 2]:R}}}"""));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"n = {n,2}, m = {m,2}: {median * 1e6,8:F2} µs per pair (min {perPair[0] * 1e6:F2}, max {perPair[^1] * 1e6:F2}), CPU {cpuPerPair[repeats / 2] * 1e6:F2} µs; batched {batchPerPair[repeats / 2] * 1e6:F2} µs (min {batchPerPair[0] * 1e6:F2}), CPU {batchCpuPerPair[repeats / 2] * 1e6:F2} µs"));
        }
        return 0;
    }

    private static void Spd(Span<double> s, int n, Func<double> normal)
    {
        var x = new double[n * n];
        for (int k = 0; k < x.Length; k++)
        {
            x[k] = normal();
        }
        for (int r = 0; r < n; r++)
        {
            for (int c = 0; c < n; c++)
            {
                double v = 0;
                for (int k = 0; k < n; k++)
                {
                    v += x[r * n + k] * x[c * n + k];
                }
                s[r * n + c] = v / n + (r == c ? 0.5 : 0);
            }
        }
    }

    private static void Write(string path, double[] values, int columns)
    {
        using var f = File.Create(path);
        SampleFiles.WriteNpy(f, values, columns);
    }
}

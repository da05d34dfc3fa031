using System.Diagnostics;

namespace GmmFlow.Benchmarks.Costs;

/// <summary>
/// Cost-matrix throughput in pairs/s (median of repeats after warm-up), the number docs/anchors.md quotes for numpy:
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- cost-throughput [--export DIR] [--repeats N] [--sweep] [--only TEXT]
/// With --export it also writes the seeded inputs and our cost matrices as .npy for benchmarks/compare/cost_matrix.py;
/// --sweep instead prints the per-pair CPU time of W2 and the surrogate for d = 1 … 64 (20×20 pairs).
/// </summary>
public static class CostMatrixThroughput
{
    public static void Run(string[] args)
    {
        string? export = null;
        int repeats = 15;
        bool sweep = false;
        string? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--export":
                    export = args[++i];
                    break;
                case "--only":
                    only = args[++i];
                    break;
                case "--sweep":
                    sweep = true;
                    break;
                case "--repeats":
                    repeats = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                default:
                    throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }
        var info = RuntimeInfo.Load();
        Console.WriteLine($"LAPACK: {info.LapackVersion}; threads: {GmmFlow.Simd.ParallelRange.Concurrency}; SIMD: {info.SimdWidthBits} bits");
        if (sweep)
        {
            Sweep(repeats);
            return;
        }
        // Wall pairs/s is what a user sees; pairs per CPU-second (all threads' CPU time) shows per-core efficiency and
        // is robust when other processes compete for the cores.
        Console.WriteLine($"{"size",-14} {"cost",-12} {"pairs/s (wall)",15} {"pairs/CPU-s",13} {"µs/pair/core",13}");
        foreach (var (k0, k1, d) in CostMatrixInputs.AnchorSizes)
        {
            var inputs = CostMatrixInputs.Create(k0, k1, d);
            var (source, target) = inputs.Factor();
            var destination = new double[k0 * k1];
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate })
            {
                // --only keeps the cases whose "size cost" label contains the text (e.g. "d16 Surrogate"), for profiling.
                if (only is not null && !$"{inputs.Name} {kind}".Contains(only, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }
                var (rate, cpuRate) = Measure(kind, source, target, destination, repeats);
                Console.WriteLine($"{inputs.Name,-14} {kind,-12} {rate,15:N0} {cpuRate,13:N0} {1e6 / cpuRate,13:F3}");
                if (export is not null)
                {
                    inputs.Export(export);
                    CostMatrixInputs.WriteNpy(Path.Combine(export, $"{inputs.Name}_{kind}.npy"), destination, [k0, k1]);
                }
            }
        }
    }

    private static void Sweep(int repeats)
    {
        Console.WriteLine($"{"d",4} {"W2 µs/pair/core",16} {"surrogate µs/pair/core",23} {"surrogate/W2",13}");
        foreach (int d in (ReadOnlySpan<int>)[1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64])
        {
            var (source, target) = CostMatrixInputs.Create(20, 20, d).Factor();
            var destination = new double[400];
            double w2 = 1e6 / Measure(CostKind.Wasserstein, source, target, destination, repeats).Cpu;
            double sur = 1e6 / Measure(CostKind.Surrogate, source, target, destination, repeats).Cpu;
            Console.WriteLine($"{d,4} {w2,16:F3} {sur,23:F3} {sur / w2,13:F2}");
        }
    }

    /// <summary>Median pairs/s (wall) and pairs per CPU-second over <paramref name="repeats"/> timed batches of ≥ 50 ms.</summary>
    private static (double Wall, double Cpu) Measure(CostKind kind, GaussianFactors source, GaussianFactors target, double[] destination, int repeats)
    {
        int pairs = source.Count * target.Count;
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (clock.Elapsed.TotalMilliseconds < 200 || calls < 5)
        {
            GaussianCosts.Compute(kind, source, target, destination);
            calls++;
        }
        // CPU time comes from /proc with 10 ms ticks, hence batches of ≥ 50 ms.
        int perBatch = Math.Max(1, (int)Math.Ceiling(calls / clock.Elapsed.TotalMilliseconds * 50));
        var rates = new double[repeats];
        var cpuRates = new double[repeats];
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            process.Refresh();
            TimeSpan cpu = process.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            for (int c = 0; c < perBatch; c++)
            {
                GaussianCosts.Compute(kind, source, target, destination);
            }
            rates[r] = (double)pairs * perBatch / Stopwatch.GetElapsedTime(start).TotalSeconds;
            process.Refresh();
            cpuRates[r] = (double)pairs * perBatch / Math.Max(1e-9, (process.TotalProcessorTime - cpu).TotalSeconds);
        }
        Array.Sort(rates);
        Array.Sort(cpuRates);
        return (rates[repeats / 2], cpuRates[repeats / 2]);
    }
}

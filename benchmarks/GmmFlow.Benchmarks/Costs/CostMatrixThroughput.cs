using System.Diagnostics;

namespace GmmFlow.Benchmarks.Costs;

/// <summary>
/// Cost-matrix throughput in pairs/s (median of repeats after warm-up), the number docs/anchors.md quotes for numpy:
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- cost-throughput [--export DIR] [--repeats N]
/// With --export it also writes the seeded inputs and our cost matrices as .npy for benchmarks/compare/cost_matrix.py.
/// </summary>
public static class CostMatrixThroughput
{
    public static void Run(string[] args)
    {
        string? export = null;
        int repeats = 15;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--export":
                    export = args[++i];
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
        Console.WriteLine($"{"size",-14} {"cost",-12} {"pairs/s",14} {"µs/pair/thread",16}");
        foreach (var (k0, k1, d) in CostMatrixInputs.AnchorSizes)
        {
            var inputs = CostMatrixInputs.Create(k0, k1, d);
            var (source, target) = inputs.Factor();
            var destination = new double[k0 * k1];
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate })
            {
                double rate = Measure(kind, source, target, destination, repeats);
                Console.WriteLine($"{inputs.Name,-14} {kind,-12} {rate,14:N0} {1e6 * GmmFlow.Simd.ParallelRange.Concurrency / rate,16:F3}");
                if (export is not null)
                {
                    inputs.Export(export);
                    CostMatrixInputs.WriteNpy(Path.Combine(export, $"{inputs.Name}_{kind}.npy"), destination, [k0, k1]);
                }
            }
        }
    }

    /// <summary>Median pairs/s over <paramref name="repeats"/> timed batches, each ≥ 20 ms of back-to-back calls.</summary>
    private static double Measure(CostKind kind, GaussianFactors source, GaussianFactors target, double[] destination, int repeats)
    {
        int pairs = source.Count * target.Count;
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (clock.Elapsed.TotalMilliseconds < 200 || calls < 5)
        {
            GaussianCosts.Compute(kind, source, target, destination);
            calls++;
        }
        int perBatch = Math.Max(1, (int)Math.Ceiling(calls / clock.Elapsed.TotalMilliseconds * 20));
        var rates = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int c = 0; c < perBatch; c++)
            {
                GaussianCosts.Compute(kind, source, target, destination);
            }
            rates[r] = (double)pairs * perBatch / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(rates);
        return rates[repeats / 2];
    }
}

using System.Diagnostics;

namespace GmmFlow.Cli.Bench;

/// <summary>How long to warm up and how many timed batches to take.</summary>
/// <param name="Repeats">Timed batches; the reported time is their median.</param>
/// <param name="MinBatch">Each batch repeats the operation until it lasts at least this long (calibrated after warm-up).</param>
/// <param name="Warmup">Untimed calls for at least this long (and at least twice), so the JIT has reached its final tier.</param>
internal sealed record BenchSettings(int Repeats, TimeSpan MinBatch, TimeSpan Warmup)
{
    /// <summary>Full runs: batches of ≥ 50 ms, so the process CPU time (kernel ticks) is meaningful per batch.</summary>
    public static readonly BenchSettings Full = new(15, TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300));

    /// <summary>--quick: a smoke test that finishes in seconds; the numbers are indicative only.</summary>
    public static readonly BenchSettings Quick = new(3, TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(5));
}

/// <summary>One case's timing.</summary>
/// <param name="MedianSeconds">Median over the batches of the wall time per operation.</param>
/// <param name="MinSeconds">Fastest batch, per operation.</param>
/// <param name="CpuSecondsPerOp">Process CPU time (all threads) per operation, median over batches.</param>
/// <param name="Repeats">Number of timed batches.</param>
/// <param name="OpsPerBatch">Operations per batch.</param>
/// <param name="AllocatedBytesPerOp">Managed bytes allocated per operation (all threads), over all timed batches.</param>
/// <param name="Operations">Every call made, warm-up included (the EM case reports how many iterations it ran).</param>
internal readonly record struct BenchTiming(double MedianSeconds, double MinSeconds, double CpuSecondsPerOp, int Repeats,
    int OpsPerBatch, double AllocatedBytesPerOp, long Operations);

/// <summary>
/// In-process timing: warm up, calibrate a batch size, time <see cref="BenchSettings.Repeats"/> batches with the
/// Stopwatch and report the median per operation (the machines are shared, so the median rather than the mean).
/// </summary>
internal static class BenchTimer
{
    /// <summary>Times <paramref name="operation"/>; <paramref name="fixedOpsPerBatch"/> &gt; 0 skips the calibration.</summary>
    public static BenchTiming Measure(Action operation, BenchSettings settings, int fixedOpsPerBatch = 0, int minWarmupCalls = 2)
    {
        long calls = 0;
        var clock = Stopwatch.StartNew();
        while (calls < minWarmupCalls || clock.Elapsed < settings.Warmup)
        {
            operation();
            calls++;
        }
        double perCall = clock.Elapsed.TotalSeconds / calls;
        int perBatch = fixedOpsPerBatch > 0
            ? fixedOpsPerBatch
            : (int)Math.Clamp(Math.Ceiling(settings.MinBatch.TotalSeconds / Math.Max(perCall, 1e-9)), 1, 100_000_000);

        var wall = new double[settings.Repeats];
        var cpu = new double[settings.Repeats];
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int r = 0; r < settings.Repeats; r++)
        {
            TimeSpan cpu0 = Environment.CpuUsage.TotalTime;
            long t0 = Stopwatch.GetTimestamp();
            for (int i = 0; i < perBatch; i++)
            {
                operation();
            }
            wall[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / perBatch;
            cpu[r] = (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds / perBatch;
        }
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        calls += (long)perBatch * settings.Repeats;
        double min = wall.Min();
        return new BenchTiming(Median(wall), min, Median(cpu), settings.Repeats, perBatch,
            (double)allocated / ((long)perBatch * settings.Repeats), calls);
    }

    public static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}

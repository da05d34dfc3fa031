using System.Diagnostics;
using System.Runtime;
using System.Runtime.CompilerServices;

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
    /// <summary>Calls after which the runtime tiers a method up (its default threshold is 30), with a margin.</summary>
    private const int TierUpCalls = 32;

    /// <summary>
    /// Warm-up ends only after this long without a method compiled. The runtime starts counting calls only 100 ms
    /// after its last tier-0 compilation and then compiles the hot methods in the background, which took up to a few
    /// hundred milliseconds for the d ≥ 16 field's kernels; with 150 ms, 4 of 6 --quick runs still timed that field
    /// on tier-0 code (1.8–5.9 ms instead of ~0.1 ms), with 500 ms none of 8. In practice compilations go on for most
    /// of a second, so <see cref="JitSettleCap"/> usually ends the warm-up (--quick takes ~20 s).
    /// </summary>
    private static readonly TimeSpan JitQuiet = TimeSpan.FromMilliseconds(500);

    /// <summary>At most this much warm-up beyond <see cref="BenchSettings.Warmup"/> while waiting for the JIT.</summary>
    private static readonly TimeSpan JitSettleCap = TimeSpan.FromSeconds(1);

    /// <summary>Times <paramref name="operation"/>; <paramref name="fixedOpsPerBatch"/> &gt; 0 skips the calibration.</summary>
    public static BenchTiming Measure(Action operation, BenchSettings settings, int fixedOpsPerBatch = 0, int minWarmupCalls = 2)
    {
        long calls = 0;
        var clock = Stopwatch.StartNew();
        // Tiered JIT: a method gets its optimised code after TierUpCalls calls, compiled in the background once tier-0
        // activity pauses; until then the calls may run tier-0 code (--quick's d = 16 field measured 11–20 ms instead
        // of ~0.1 ms). So the warm-up also goes on, up to JitSettleCap beyond the requested warm-up, until that many
        // calls are done and nothing has been compiled for JitQuiet. Native AOT has nothing to wait for.
        bool jit = RuntimeFeature.IsDynamicCodeCompiled;
        long compiled = jit ? JitInfo.GetCompiledMethodCount() : 0;
        TimeSpan lastCompile = TimeSpan.Zero;
        while (calls < minWarmupCalls || clock.Elapsed < settings.Warmup
               || (jit && clock.Elapsed < settings.Warmup + JitSettleCap && (calls < TierUpCalls || clock.Elapsed - lastCompile < JitQuiet)))
        {
            operation();
            calls++;
            if (jit && JitInfo.GetCompiledMethodCount() is var now && now != compiled)
            {
                compiled = now;
                lastCompile = clock.Elapsed;
            }
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

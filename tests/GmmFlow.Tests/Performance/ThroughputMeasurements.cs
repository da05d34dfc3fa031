using System.Diagnostics;
using GmmFlow.Simd;
using GmmFlow.Tests.Field;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Performance;

/// <summary>
/// Throughput numbers for the report (not assertions, not run by default):
/// <c>GmmFlow.Tests -class GmmFlow.Tests.Performance.ThroughputMeasurements -explicit only -showLiveOutput</c>.
/// Stopwatch after warm-up, median of repeats (and the best repeat, the least disturbed by other processes).
/// Wall-clock numbers depend on what else the machine runs; "per CPU-second" divides by the CPU time this process used.
/// </summary>
[Collection(nameof(RunsAlone))]
public class ThroughputMeasurements(ITestOutputHelper output)
{
    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private (double Wall, double Cpu, double Best) Time(Action action, int repeats)
    {
        for (int i = 0; i < 3; i++)
        {
            action();
        }
        var wall = new List<double>();
        var cpu = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            action();
            wall.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            cpu.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds);
        }
        return (Median(wall), Median(cpu), wall.Min());
    }

    private void Kernel(int d, int n, double meanSpread, string label)
    {
        var problem = FieldProblem.Random(d, pairs: 19, seed: 1, meanSpread: meanSpread);
        VelocityFrame frame = problem.BuildFrame();
        double[] x = problem.RandomPoints(n, seed: 2, scale: 2.0);
        var v = new double[x.Length];
        // Warm every tier of the JIT before timing.
        for (int i = 0; i < 30; i++)
        {
            frame.EvaluateBatch(x, v, default, parallel: false);
        }
        (double wall1, double cpu1, double best1) = Time(() => frame.EvaluateBatch(x, v, default, parallel: false), 15);
        (double wallAll, double cpuAll, double bestAll) = Time(() => frame.EvaluateBatch(x, v, default), 15);
        output.WriteLine($"kernel d={d} P=19 N={n} ({label}): 1 thread {n / wall1:E2} pts/s (best {n / best1:E2}, per CPU-second {n / cpu1:E2}); " +
                         $"{ParallelRange.Concurrency} threads {n / wallAll:E2} pts/s (best {n / bestAll:E2}, per CPU-second {n / cpuAll:E2})");
    }

    [Fact(Explicit = true)]
    public void VelocityKernel()
    {
        output.WriteLine($"SIMD width {SimdDispatch.Best}, {Environment.ProcessorCount} processors");
        Kernel(2, 100_000, 2.0, "spread means");
        Kernel(2, 100_000, 0.3, "overlapping components");
        Kernel(16, 20_000, 2.0, "spread means");
        Kernel(16, 20_000, 0.3, "overlapping components: no pair's weight underflows");

        var problem = FieldProblem.Random(2, pairs: 10, seed: 3);
        VelocityFrame frame = problem.BuildFrame();
        double[] point = [0.3, -0.7];
        var vel = new double[2];
        const int calls = 100_000;
        for (int i = 0; i < calls; i++)
        {
            frame.Evaluate(point, vel);
        }
        (double wall, _, double best) = Time(() =>
        {
            for (int i = 0; i < calls; i++)
            {
                frame.Evaluate(point, vel);
            }
        }, 15);
        long before = GC.GetAllocatedBytesForCurrentThread();
        frame.Evaluate(point, vel);
        output.WriteLine($"single point d=2 P=10: {wall / calls * 1e9:F0} ns (best {best / calls * 1e9:F0} ns), {GC.GetAllocatedBytesForCurrentThread() - before} bytes allocated");
    }

    [Fact(Explicit = true)]
    public void Metrics()
    {
        foreach (int n in new[] { 1000, 5000 })
        {
            var rng = new Random(1);
            double[] x = Enumerable.Range(0, n * 2).Select(_ => rng.NextDouble()).ToArray();
            double[] y = Enumerable.Range(0, n * 2).Select(_ => rng.NextDouble() + 0.1).ToArray();
            (double mmd, _, _) = Time(() => SampleMetrics.MmdSquared(x, y, 2), 5);
            (double energy, _, _) = Time(() => SampleMetrics.EnergyDistance(x, y, 2), 5);
            (double sliced, _, _) = Time(() => SampleMetrics.SlicedWasserstein2Squared(x, y, 2), 5);
            (double test, _, _) = Time(() => SampleMetrics.MmdPermutationTest(x, y, 2, permutations: 200), 3);
            output.WriteLine($"N = M = {n}, d = 2: MMD² {mmd * 1e3:F1} ms, energy {energy * 1e3:F1} ms, " +
                             $"sliced W2 (128 dirs) {sliced * 1e3:F1} ms, permutation test (200) {test * 1e3:F0} ms");
        }
    }

    [Fact(Explicit = true)]
    public void Integrators()
    {
        var problem = FieldProblem.Random(2, pairs: 19, seed: 1);
        var field = new Integrators.MovingMixtureField(problem);
        double[] start = problem.RandomPoints(100_000, seed: 2);
        var x = (double[])start.Clone();
        (double em, _, _) = Time(() =>
        {
            start.CopyTo(x, 0);
            FlowIntegrator.EulerMaruyama(field, x, 0.3, seed: 1, new IntegrationOptions { Steps = 100 });
        }, 3);
        (double rk4, _, _) = Time(() =>
        {
            start.CopyTo(x, 0);
            FlowIntegrator.RungeKutta4(field, x, new IntegrationOptions { Steps = 25 });
        }, 3);
        output.WriteLine($"100 000 particles, d = 2, P = 19: Euler–Maruyama 100 steps {em * 1e3:F0} ms; RK4 25 steps (100 evaluations) {rk4 * 1e3:F0} ms");
    }
}

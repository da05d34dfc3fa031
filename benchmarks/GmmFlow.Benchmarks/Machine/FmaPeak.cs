using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Benchmarks.Machine;

/// <summary>
/// The machine's multiply-add rate right now: twelve independent chains of 512-bit (or 256-bit) FMAs per thread, on
/// one thread and on every core. The yardstick for FMA-bound kernels such as the d = 16 velocity field, whose
/// multiply-add count per point is known (BENCHMARKS.md): the kernel's time divided by count / rate says how close to
/// the floor it runs. On a shared VM the rate moves with the neighbours, so run it next to the kernel's benchmark.
/// </summary>
internal static class FmaPeak
{
    private const int Chains = 12; // > latency (4) × pipes (2): enough independent work to fill the FMA units

    public static void Run(string[] args)
    {
        long iterations = args.Length > 0 ? long.Parse(args[0]) : 50_000_000;
        int lanes = Vector512.IsHardwareAccelerated ? 8 : 4;
        Console.WriteLine($"{lanes * 64}-bit FMAs, {Chains} chains per thread, {iterations:N0} iterations per thread");
        Chain(1000, lanes);
        for (int repeat = 0; repeat < 3; repeat++)
        {
            foreach (int threads in new[] { 1, Environment.ProcessorCount })
            {
                var clock = Stopwatch.StartNew();
                var workers = new Thread[threads];
                double sink = 0;
                for (int t = 0; t < threads; t++)
                {
                    workers[t] = new Thread(() => Interlocked.Exchange(ref sink, Chain(iterations, lanes)));
                    workers[t].Start();
                }
                foreach (var w in workers)
                {
                    w.Join();
                }
                double perSecond = threads * (double)Chains * iterations / clock.Elapsed.TotalSeconds;
                Console.WriteLine($"  {threads} thread(s): {perSecond / 1e9:F2} G vector FMAs/s ({perSecond / threads / 1e9:F2} per thread){(sink == 0 ? " " : "")}");
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double Chain(long iterations, int lanes)
        => lanes == 8 ? Chain<Wide, Vector512<double>>(iterations) : Chain<Narrow, Vector256<double>>(iterations);

    // Fully optimised from the first call: the timed call is the only long one, and on-stack replacement code
    // kept the twelve vectors in memory.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Chain<TOps, TV>(long iterations) where TOps : IFma<TV>
    {
        TV m = TOps.Splat(0.9999999), c = TOps.Splat(1e-9);
        TV a0 = TOps.Splat(1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = TOps.Fma(a0, m, c); a1 = TOps.Fma(a1, m, c); a2 = TOps.Fma(a2, m, c); a3 = TOps.Fma(a3, m, c);
            a4 = TOps.Fma(a4, m, c); a5 = TOps.Fma(a5, m, c); a6 = TOps.Fma(a6, m, c); a7 = TOps.Fma(a7, m, c);
            a8 = TOps.Fma(a8, m, c); a9 = TOps.Fma(a9, m, c); a10 = TOps.Fma(a10, m, c); a11 = TOps.Fma(a11, m, c);
        }
        // Summed through Add (not a span of the twelve): taking their address would keep them in memory in the loop.
        return TOps.Sum(TOps.Add(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)), TOps.Add(TOps.Add(a4, a5), TOps.Add(a6, a7))))
            + TOps.Sum(TOps.Add(TOps.Add(a8, a9), TOps.Add(a10, a11)));
    }

    private interface IFma<TV>
    {
        static abstract TV Splat(double x);

        static abstract TV Fma(TV a, TV b, TV c);

        static abstract TV Add(TV a, TV b);

        static abstract double Sum(TV x);
    }

    private readonly struct Wide : IFma<Vector512<double>>
    {
        public static Vector512<double> Splat(double x) => Vector512.Create(x);

        public static Vector512<double> Fma(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);

        public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;

        public static double Sum(Vector512<double> x) => Vector512.Sum(x);
    }

    private readonly struct Narrow : IFma<Vector256<double>>
    {
        public static Vector256<double> Splat(double x) => Vector256.Create(x);

        public static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);

        public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;

        public static double Sum(Vector256<double> x) => Vector256.Sum(x);
    }
}

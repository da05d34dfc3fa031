using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GmmFlow.Benchmarks.Machine;

/// <summary>
/// `tp-quick`: the non-kernel loops of the managed layer written by hand against the same loop written with
/// System.Numerics.Tensors' TensorPrimitives, timed back to back in 9 paired rounds of ~10 ms of thread CPU time each (medians in CPU ns per call, and the median and spread
/// of the per-round ratios).
/// The product keeps whichever wins; the hand-written side of each adopted case is kept here as the baseline.
/// </summary>
internal static class TensorPrimitivesQuick
{
    public static void Run(string[] args)
    {
        _ = args;
        var rng = new Random(1);
        Console.WriteLine("case                                   size        hand ns     TP ns   hand/TP (2nd–8th of 9 paired rounds)");
        foreach (int n in new[] { 10, 100, 500 })
        {
            double[] g = Fill(rng, n), row = Fill(rng, n), colMax = new double[n], colSum = new double[n], tmp = new double[n];
            double invTau = 1 / 0.05;
            Compare("Sinkhorn row LSE (max + sum exp)", $"K={n}",
                () => { double m = LogSinkhorn.MaxOfDifference(g, row); return LogSinkhorn.SumExpOfDifference(g, row, m, invTau); },
                () => RowLseTp(g, row, invTau, tmp));
            Compare("Sinkhorn column max + add exp", $"K={n}",
                () => { colMax.AsSpan().Fill(0.5); colSum.AsSpan().Clear(); LogSinkhorn.MaxInto(colMax, row, 0.3); LogSinkhorn.AddExpInto(colSum, row, 0.3, colMax, invTau); return colSum[0]; },
                () => { colMax.AsSpan().Fill(0.5); colSum.AsSpan().Clear(); ColumnTp(colMax, colSum, row, 0.3, invTau, tmp); return colSum[0]; });
            double[] f = Fill(rng, n), cost = Fill(rng, n * n), plan = new double[n * n], a = Fill(rng, n), b = Fill(rng, n);
            Compare("Sinkhorn plan (exp, <π,C>, H, sums)", $"K={n}",
                () => PlanScalar(cost, f, g, a, b, 0.05, plan, colSum).Cost,
                () => LogSinkhorn.Plan(cost, f, g, a, b, 0.05, plan, colSum).Cost);
            double[] logs = new double[n];
            Compare("log of marginal weights", $"K={n}",
                () => { for (int i = 0; i < n; i++) { logs[i] = Math.Log(a[i] + 1); } return logs[0]; },
                () => { TensorPrimitives.Add(a, 1.0, logs); TensorPrimitives.Log(logs, logs); return logs[0]; });
        }

        foreach (int k in new[] { 8, 64 })
        {
            double[] w = Fill(rng, k), outW = new double[k];
            Compare("conditional weights LSE normalise", $"K={k}", () => NormaliseScalar(w, outW), () => NormaliseTp(w, outW));
        }

        foreach (int d in new[] { 2, 16, 64 })
        {
            int count = 2000;
            double[] points = Fill(rng, count * d), theta = Fill(rng, d), projected = new double[count];
            Compare("sliced W2 projection", $"N=2000 d={d}", () => ProjectScalar(points, theta, projected), () => ProjectTp(points, theta, projected));
            int used = 300;
            double[] dist = new double[used * (used - 1) / 2];
            Compare("median-heuristic distances", $"N=300 d={d}", () => DistancesScalar(points, d, used, dist), () => DistancesTp(points, d, used, dist));
            double[] cov = new double[d * d], mean = new double[d], centred = new double[d];
            Compare("Frechet covariance accumulation", $"N=2000 d={d}",
                () => CovarianceScalar(points, d, mean, cov, centred), () => CovarianceTp(points, d, mean, cov, centred));
        }
    }

    private static double[] Fill(Random rng, int n)
    {
        var x = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = rng.NextDouble();
        }
        return x;
    }

    private static void Compare(string name, string size, Func<double> hand, Func<double> tp)
    {
        // Paired rounds: each round times both sides back to back, so machine drift cancels in the per-round ratio.
        double sink = Warm(hand) + Warm(tp);
        int perRound = Calibrate(hand);
        const int Rounds = 9;
        double[] h = new double[Rounds], t = new double[Rounds], ratio = new double[Rounds];
        for (int r = 0; r < Rounds; r++)
        {
            h[r] = Time(hand, perRound, ref sink);
            t[r] = Time(tp, perRound, ref sink);
            ratio[r] = h[r] / t[r];
        }
        GC.KeepAlive(sink);
        Array.Sort(h);
        Array.Sort(t);
        Array.Sort(ratio);
        Console.WriteLine($"{name,-38} {size,-11} {h[Rounds / 2],9:F0} {t[Rounds / 2],9:F0} {ratio[Rounds / 2],8:F2}  ({ratio[1]:F2}–{ratio[Rounds - 2]:F2})");
    }

    private static double Warm(Func<double> body)
    {
        double sink = 0;
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 300)
        {
            sink += body(); // past tier-0 JIT and on-stack replacement (tiering promotes in the background)
        }
        return sink;
    }

    private static int Calibrate(Func<double> body)
    {
        double sink = 0;
        long start = ThreadCpuNanoseconds();
        int calls = 0;
        while (ThreadCpuNanoseconds() - start < 10_000_000)
        {
            sink += body();
            calls++;
        }
        GC.KeepAlive(sink);
        return Math.Max(1, calls);
    }

    // Thread CPU time, not wall time: on a shared machine the wall clock also counts the time the thread waited for a
    // core, which varied by more than the differences measured here.
    private static double Time(Func<double> body, int calls, ref double sink)
    {
        long start = ThreadCpuNanoseconds();
        for (int i = 0; i < calls; i++)
        {
            sink += body();
        }
        return (double)(ThreadCpuNanoseconds() - start) / calls;
    }

    private const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static long ThreadCpuNanoseconds()
    {
        if (ClockGetTime(ClockThreadCpuTime, out TimeSpec t) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed.");
        }
        return (t.Seconds * 1_000_000_000) + t.Nanoseconds;
    }

    // ---- TensorPrimitives forms of the fused hand-written Sinkhorn loops (kept by hand: they win) ----

    private static double RowLseTp(ReadOnlySpan<double> g, ReadOnlySpan<double> row, double invTau, Span<double> tmp)
    {
        TensorPrimitives.Subtract(g, row, tmp);
        double m = TensorPrimitives.Max(tmp);
        TensorPrimitives.Subtract(tmp, m, tmp);
        TensorPrimitives.Multiply(tmp, invTau, tmp);
        TensorPrimitives.Exp(tmp, tmp);
        return TensorPrimitives.Sum(tmp);
    }

    private static void ColumnTp(Span<double> colMax, Span<double> colSum, ReadOnlySpan<double> row, double fi, double invTau, Span<double> tmp)
    {
        TensorPrimitives.Subtract(fi, row, tmp);
        TensorPrimitives.Max(colMax, tmp, colMax);
        TensorPrimitives.Subtract(tmp, colMax, tmp);
        TensorPrimitives.Multiply(tmp, invTau, tmp);
        TensorPrimitives.Exp(tmp, tmp);
        TensorPrimitives.Add(colSum, tmp, colSum);
    }

    // ---- the scalar loops the product replaced with TensorPrimitives ----

    private static (double Cost, double Entropy, double Error) PlanScalar(
        ReadOnlySpan<double> cost, ReadOnlySpan<double> f, ReadOnlySpan<double> g, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double tau,
        Span<double> plan, Span<double> colSum)
    {
        int rows = f.Length, cols = g.Length;
        double transport = 0, entropy = 0, error = 0;
        colSum.Clear();
        for (int i = 0; i < rows; i++)
        {
            double rowSum = 0;
            for (int j = 0; j < cols; j++)
            {
                int c = (i * cols) + j;
                double logP = (f[i] + g[j] - cost[c]) / tau;
                double p = Math.Exp(logP);
                plan[c] = p;
                rowSum += p;
                colSum[j] += p;
                transport += p * cost[c];
                entropy -= p * logP;
            }
            error += Math.Abs(rowSum - a[i]);
        }
        for (int j = 0; j < cols; j++)
        {
            error += Math.Abs(colSum[j] - b[j]);
        }
        return (transport, entropy, error);
    }

    private static double NormaliseScalar(ReadOnlySpan<double> logWeights, Span<double> weights)
    {
        double max = double.NegativeInfinity;
        foreach (double lw in logWeights)
        {
            max = Math.Max(max, lw);
        }
        double sum = 0;
        foreach (double lw in logWeights)
        {
            sum += Math.Exp(lw - max);
        }
        double logSum = max + Math.Log(sum);
        for (int k = 0; k < logWeights.Length; k++)
        {
            weights[k] = Math.Exp(logWeights[k] - logSum);
        }
        return weights[0];
    }

    private static double NormaliseTp(ReadOnlySpan<double> logWeights, Span<double> weights)
    {
        double max = TensorPrimitives.Max(logWeights);
        TensorPrimitives.Subtract(logWeights, max, weights);
        TensorPrimitives.Exp(weights, weights);
        TensorPrimitives.Divide(weights, TensorPrimitives.Sum(weights), weights);
        return weights[0];
    }

    private static double ProjectScalar(double[] points, ReadOnlySpan<double> theta, double[] p)
    {
        int d = theta.Length;
        for (int i = 0; i < p.Length; i++)
        {
            double s = 0.0;
            for (int k = 0; k < d; k++)
            {
                s += points[i * d + k] * theta[k];
            }
            p[i] = s;
        }
        return p[0];
    }

    private static double ProjectTp(double[] points, ReadOnlySpan<double> theta, double[] p)
    {
        int d = theta.Length;
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = TensorPrimitives.Dot(points.AsSpan(i * d, d), theta);
        }
        return p[0];
    }

    private static double DistancesScalar(double[] pts, int d, int used, double[] dist)
    {
        for (int i = 0, k = 0; i < used; i++)
        {
            for (int j = i + 1; j < used; j++, k++)
            {
                double sq = 0.0;
                for (int c = 0; c < d; c++)
                {
                    double diff = pts[i * d + c] - pts[j * d + c];
                    sq += diff * diff;
                }
                dist[k] = Math.Sqrt(sq);
            }
        }
        return dist[0];
    }

    private static double DistancesTp(double[] pts, int d, int used, double[] dist)
    {
        for (int i = 0, k = 0; i < used; i++)
        {
            ReadOnlySpan<double> pi = pts.AsSpan(i * d, d);
            for (int j = i + 1; j < used; j++, k++)
            {
                dist[k] = TensorPrimitives.Distance(pi, pts.AsSpan(j * d, d));
            }
        }
        return dist[0];
    }

    private static double CovarianceScalar(double[] points, int d, double[] mean, double[] cov, double[] centred)
    {
        int n = points.Length / d;
        Array.Clear(cov);
        for (int i = 0; i < n; i++)
        {
            for (int k = 0; k < d; k++)
            {
                centred[k] = points[i * d + k] - mean[k];
            }
            for (int r = 0; r < d; r++)
            {
                for (int c = 0; c <= r; c++)
                {
                    cov[r * d + c] += centred[r] * centred[c];
                }
            }
        }
        return cov[0];
    }

    private static double CovarianceTp(double[] points, int d, double[] mean, double[] cov, double[] centred)
    {
        int n = points.Length / d;
        Array.Clear(cov);
        for (int i = 0; i < n; i++)
        {
            TensorPrimitives.Subtract(points.AsSpan(i * d, d), mean, centred);
            for (int r = 0; r < d; r++)
            {
                Span<double> covRow = cov.AsSpan(r * d, r + 1);
                TensorPrimitives.MultiplyAdd(centred.AsSpan(0, r + 1), centred[r], covRow, covRow);
            }
        }
        return cov[0];
    }
}

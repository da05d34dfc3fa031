using System.Diagnostics;
using GmmFlow.Native;

namespace GmmFlow.Benchmarks.Costs;

/// <summary>
/// `factor-quick [d K]`: Stopwatch timings of factoring K Gaussians (GaussianFactors.FromFull), with L⁻¹, and of the
/// bare MKL dpotrf calls, to see what the "full" cost-matrix timings spend outside the pairs.
/// </summary>
public static class FactorQuick
{
    public static void Run(string[] args)
    {
        int d = args.Length > 0 ? int.Parse(args[0]) : 16, k = args.Length > 1 ? int.Parse(args[1]) : 50;
        var rng = new Random(5);
        var means = new double[k * d];
        var covs = new double[k * d * d];
        for (int c = 0; c < k; c++)
        {
            var g = new double[d * d];
            for (int e = 0; e < g.Length; e++)
            {
                g[e] = rng.NextDouble() * 2 - 1;
            }
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    double s = i == j ? 0.1 : 0;
                    for (int p = 0; p < d; p++)
                    {
                        s += g[i * d + p] * g[j * d + p] / d;
                    }
                    covs[c * d * d + i * d + j] = s;
                }
            }
        }
        var l = new double[d * d];
        Time("FromFull", () => GaussianFactors.FromFull(means, covs, k, d, "source").Count);
        Time("FromFull + inverse", () => GaussianFactors.FromFull(means, covs, k, d, "source").FactorInverse(0).Length);
        Time("dpotrf x K", () =>
        {
            for (int c = 0; c < k; c++)
            {
                covs.AsSpan(c * d * d, d * d).CopyTo(l);
                Lapack.Default.CholeskyUnchecked(l, d);
            }
            return 0;
        });
    }

    private static void Time(string name, Func<int> f)
    {
        for (int i = 0; i < 50; i++)
        {
            f();
        }
        var times = new List<double>();
        for (int r = 0; r < 9; r++)
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < 50; i++)
        {
            f();
        }
            times.Add(sw.Elapsed.TotalMicroseconds / 50);
        }
        times.Sort();
        Console.WriteLine($"{name,-22} {times[4],10:F2} µs");
    }
}

using BenchmarkDotNet.Attributes;

namespace GmmFlow.Benchmarks.Couplings;

/// <summary>
/// Exact transport LP at the anchor sizes of docs/anchors.md (POT ot.emd: 0.05 / 0.49 / 12.5 ms at K = 10 / 100 / 500),
/// uniform costs in [0, 1) and Dirichlet(1) weights, the same inputs as the comparison with POT in the couplings work;
/// K = 255 is the odd size. `gmmflow bench --export` + benchmarks/compare/peers.py time ot.emd on the same kind of input.
/// </summary>
[MemoryDiagnoser]
public class ExactLpBenchmarks
{
    private double[] _a = [];
    private double[] _b = [];
    private double[] _cost = [];

    [Params(10, 100, 255, 500)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup() => (_a, _b, _cost) = Inputs(K);

    /// <summary>Seeded K×K transport problem: Dirichlet(1) marginals, costs uniform in [0, 1).</summary>
    internal static (double[] A, double[] B, double[] Cost) Inputs(int k)
    {
        var rng = new Random(1234 + k);
        double[] a = Dirichlet(rng, k), b = Dirichlet(rng, k);
        var cost = new double[k * k];
        for (int i = 0; i < cost.Length; i++)
        {
            cost[i] = rng.NextDouble();
        }
        return (a, b, cost);
    }

    /// <summary>The public path: column generation over HiGHS, then round-off cleanup.</summary>
    [Benchmark(Baseline = true)]
    public double ExactLp() => GmmFlow.Couplings.ExactLp(_a, _b, _cost).Objective;

    /// <summary>All K² columns handed to HiGHS at once (same settings), to show what column generation saves.</summary>
    [Benchmark]
    public double ExactLpFullModel()
        => GmmFlow.Couplings.ExactLp(_a, _b, _cost, MarginalLp.DefaultSettings, GmmFlow.Couplings.TransportLpMethod.FullDropRow).Objective;

    private static double[] Dirichlet(Random rng, int k)
    {
        var w = new double[k];
        double s = 0;
        for (int i = 0; i < k; i++)
        {
            w[i] = -Math.Log(1 - rng.NextDouble());
            s += w[i];
        }

        for (int i = 0; i < k; i++)
        {
            w[i] /= s;
        }

        return w;
    }
}

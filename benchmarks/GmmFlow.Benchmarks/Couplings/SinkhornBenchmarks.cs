using BenchmarkDotNet.Attributes;

namespace GmmFlow.Benchmarks.Couplings;

/// <summary>
/// Log-domain Sinkhorn (with the default ε-scaling and tolerance 1e-9) on the inputs of <see cref="ExactLpBenchmarks"/>:
/// uniform costs in [0, 1), Dirichlet(1) marginals, at temperatures τ = 0.1 and 0.01 (costs are O(1)).
/// </summary>
[MemoryDiagnoser]
public class SinkhornBenchmarks
{
    private double[] _a = [];
    private double[] _b = [];
    private double[] _cost = [];

    [Params(10, 100, 255, 500)]
    public int K { get; set; }

    [Params(0.1, 0.01)]
    public double Temperature { get; set; }

    [GlobalSetup]
    public void Setup() => (_a, _b, _cost) = ExactLpBenchmarks.Inputs(K);

    [Benchmark]
    public int Sinkhorn() => GmmFlow.Couplings.Sinkhorn(_a, _b, _cost, Temperature).Iterations;
}

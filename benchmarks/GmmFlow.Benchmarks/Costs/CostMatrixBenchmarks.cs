using BenchmarkDotNet.Attributes;

namespace GmmFlow.Benchmarks.Costs;

/// <summary>
/// K0×K1 cost matrices on all cores (the docs/anchors.md sizes plus an odd d), and the per-mixture factorisation.
/// Divide K0·K1 by the mean time for pairs/s; CostMatrixThroughput prints that directly.
/// </summary>
[MemoryDiagnoser]
public class CostMatrixBenchmarks
{
    private GaussianFactors _source = null!;
    private GaussianFactors _target = null!;
    private CostMatrixInputs _inputs = null!;
    private double[] _destination = [];

    [Params("50x50_d2", "50x50_d16", "20x20_d64", "30x30_d7")]
    public string Size { get; set; } = "";

    [Params(CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge)]
    public CostKind Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var parts = Size.Split('x', '_', 'd');
        int k0 = int.Parse(parts[0]), k1 = int.Parse(parts[1]), d = int.Parse(parts[^1]);
        _inputs = CostMatrixInputs.Create(k0, k1, d);
        (_source, _target) = _inputs.Factor();
        _destination = new double[k0 * k1];
    }

    [Benchmark]
    public double CostMatrix()
    {
        GaussianCosts.Compute(Kind, _source, _target, _destination, noise: 0.5);
        return _destination[0];
    }

    [Benchmark]
    public int FactorBothSides() => _inputs.Factor().Target.Count;
}

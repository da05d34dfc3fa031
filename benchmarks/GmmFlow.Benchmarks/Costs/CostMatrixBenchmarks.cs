using BenchmarkDotNet.Attributes;

namespace GmmFlow.Benchmarks.Costs;

/// <summary>
/// K×K cost matrices on all cores from prepared factors, for d ∈ {2, 7, 8, 16, 32, 64, 128, 256} (7: an odd d that
/// is no multiple of any vector width) and K ∈ {10, 50}: W2, surrogate and Schrödinger bridge (σ = 0.5).
/// Divide K² by the mean time for pairs/s; CostMatrixThroughput prints that directly. The whole grid (48 cases) takes
/// a while: at K = 50, d = 256 one call is 2500 eigen-decompositions of 256×256.
/// </summary>
[MemoryDiagnoser]
public class CostMatrixBenchmarks
{
    private GaussianFactors _source = null!;
    private GaussianFactors _target = null!;
    private double[] _destination = [];

    [Params(2, 7, 8, 16, 32, 64, 128, 256)]
    public int D { get; set; }

    [Params(10, 50)]
    public int K { get; set; }

    [Params(CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge)]
    public CostKind Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_source, _target) = CostMatrixInputs.Create(K, K, D).Factor();
        _destination = new double[K * K];
    }

    [Benchmark]
    public double CostMatrix()
    {
        GaussianCosts.Compute(Kind, _source, _target, _destination, noise: 0.5);
        return _destination[0];
    }
}

/// <summary>The per-mixture preparation the cost matrices start from: Cholesky factor, its inverse and transposes, per component.</summary>
[MemoryDiagnoser]
public class CostFactorBenchmarks
{
    private CostMatrixInputs _inputs = null!;

    [Params(2, 7, 16, 64, 256)]
    public int D { get; set; }

    [Params(10, 50)]
    public int K { get; set; }

    [GlobalSetup]
    public void Setup() => _inputs = CostMatrixInputs.Create(K, K, D);

    [Benchmark]
    public int FactorBothSides() => _inputs.Factor().Target.Count;
}

using BenchmarkDotNet.Attributes;
using GmmFlow.Fitting;
using GmmFlow.Native;

namespace GmmFlow.Benchmarks.Mixtures;

/// <summary>
/// One EM iteration (fused E-step + statistics pass, then the M-step) on N = 100 000 points, K = 10,
/// full covariances: the number compared with scikit-learn. MemoryDiagnoser shows it allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class EmIterationBenchmarks
{
    private EmWorkspace _workspace = null!;
    private GaussianMixture _mixture = null!;
    private double[] _points = [];
    private double[] _logDensity = [];

    [Params(2, 5, 16)]
    public int D { get; set; }

    [Params(CovarianceType.Full, CovarianceType.Diagonal)]
    public CovarianceType Type { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        const int n = 100_000, k = 10;
        _points = EmBenchmarkData.Truth(k, D, 1).Sample(n, 2);
        var options = new GaussianMixtureFitOptions { CovarianceType = Type };
        var data = new EmData(_points, D, default, pointMajor: Type == CovarianceType.Full && D >= EmData.PointMajorFromDimension);
        _workspace = new EmWorkspace(data, k, Type, options.RegCovar, Lapack.Default, 4);
        GaussianMixtureFitter.Initialize(_workspace, options, new CounterRng(0), 0, CancellationToken.None);
        _mixture = GaussianMixtureFitter.Snapshot(_workspace);
        _logDensity = new double[n];
    }

    [Benchmark]
    public double EmIteration()
    {
        double ll = _workspace.Pass(EmWorkspace.PassKind.EStep);
        _workspace.MStep(1);
        return ll;
    }

    [Benchmark]
    public void MixtureLogDensity() => _mixture.LogDensity(_points, _logDensity);
}

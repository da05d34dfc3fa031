using BenchmarkDotNet.Attributes;
using GmmFlow.Native;

namespace GmmFlow.Benchmarks.Native;

/// <summary>MKL vs the system LAPACK on the small dense kernels GmmFlow batches (one matrix per call).</summary>
[MemoryDiagnoser]
public class LapackProviderBenchmarks
{
    private Lapack _lapack = null!;
    private double[] _spd = [];
    private double[] _work = [];
    private double[] _w = [];

    [Params(LapackProviderKind.Mkl, LapackProviderKind.System)]
    public LapackProviderKind Provider { get; set; }

    [Params(2, 15, 64)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _lapack = Lapack.TryGet(Provider, out string? error) ?? throw new InvalidOperationException(error);
        var rng = new Random(42);
        var b = new double[N * N];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = rng.NextDouble() - 0.5;
        }
        _spd = new double[N * N];
        for (int i = 0; i < N; i++)
        {
            for (int j = 0; j < N; j++)
            {
                double s = i == j ? 1.0 : 0.0;
                for (int k = 0; k < N; k++)
                {
                    s += b[i * N + k] * b[j * N + k];
                }
                _spd[i * N + j] = s;
            }
        }
        _work = new double[N * N];
        _w = new double[N];
    }

    [Benchmark]
    public int Cholesky()
    {
        _spd.CopyTo(_work, 0);
        return _lapack.TryCholesky(_work, N);
    }

    [Benchmark]
    public double EigenvaluesOnly()
    {
        _spd.CopyTo(_work, 0);
        _lapack.SymmetricEigen(_work, N, _w, vectors: false);
        return _w[0];
    }

    [Benchmark]
    public double EigenWithVectors()
    {
        _spd.CopyTo(_work, 0);
        _lapack.SymmetricEigen(_work, N, _w, vectors: true);
        return _w[0];
    }

    [Benchmark]
    public double SingularValues()
    {
        _spd.CopyTo(_work, 0);
        _lapack.SingularValues(_work, N, N, _w);
        return _w[0];
    }
}

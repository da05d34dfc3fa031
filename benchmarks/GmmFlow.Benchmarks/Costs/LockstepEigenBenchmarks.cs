using System.Diagnostics;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using GmmFlow.Native;
using GmmFlow.Simd;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow.Benchmarks.Costs;

/// <summary>
/// Eight symmetric eigenproblems (the SPD products a cost matrix solves): the lockstep AVX-512 solver against eight
/// LAPACK dsyevd calls, eigenvalues only (W2, SB) and with the rotated B (surrogate; LAPACK with eigenvectors).
/// `eigen-quick [d ...]` prints a Stopwatch version of the same in seconds.
/// </summary>
[MemoryDiagnoser]
public class LockstepEigenBenchmarks
{
    private const int Lanes = 8;
    private double[] _source = [], _a = [], _b = [], _values = [], _scratch = [], _rowMajor = [], _w = [];
    private double[][] _matrices = [];
    private double[] _source16 = [], _a16 = [], _b16 = [], _values16 = [], _scratch16 = [];

    [Params(7, 16, 64)]
    public int D { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int d = D, dd = d * d;
        var rng = new Random(11 + d);
        _matrices = new double[Lanes][];
        _source = new double[dd * Lanes];
        for (int q = 0; q < Lanes; q++)
        {
            var g = new double[dd];
            for (int e = 0; e < dd; e++)
            {
                g[e] = rng.NextDouble() * 2 - 1;
            }
            var m = new double[dd];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    double s = i == j ? 0.1 : 0;
                    for (int k = 0; k < d; k++)
                    {
                        s += g[i * d + k] * g[j * d + k] / d;
                    }
                    m[i * d + j] = s;
                }
            }
            _matrices[q] = m;
            for (int e = 0; e < dd; e++)
            {
                _source[e * Lanes + q] = m[e];
            }
        }
        _source16 = new double[dd * 2 * Lanes];
        for (int e = 0; e < dd; e++)
        {
            for (int q = 0; q < 2 * Lanes; q++)
            {
                _source16[e * 2 * Lanes + q] = _matrices[q % Lanes][e];
            }
        }
        _a16 = new double[dd * 2 * Lanes];
        _b16 = new double[dd * 2 * Lanes];
        _values16 = new double[d * 2 * Lanes];
        _scratch16 = new double[LockstepSymmetricEigen.ScratchLength(d, 2 * Lanes)];
        _a = new double[dd * Lanes];
        _b = new double[dd * Lanes];
        _values = new double[d * Lanes];
        _scratch = new double[LockstepSymmetricEigen.ScratchLength(d, Lanes)];
        _rowMajor = new double[dd];
        _w = new double[d];
    }

    [Benchmark]
    public int LockstepValues()
    {
        _source.CopyTo(_a, 0);
        return LockstepSymmetricEigen.Solve<Simd512, Vector512<double>>(_a, default, _values, _scratch, D);
    }

    [Benchmark]
    public int LockstepValuesAndRotatedB()
    {
        _source.CopyTo(_a, 0);
        Array.Clear(_b);
        for (int k = 0; k < D; k++)
        {
            for (int q = 0; q < Lanes; q++)
            {
                _b[(k * D + k) * Lanes + q] = 1;
            }
        }
        return LockstepSymmetricEigen.Solve<Simd512, Vector512<double>>(_a, _b, _values, _scratch, D);
    }

    /// <summary>Sixteen problems as two interleaved AVX-512 halves (<see cref="Simd512x2"/>); compare per eight.</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public int LockstepValuesTwoVectors()
    {
        _source16.CopyTo(_a16, 0);
        return LockstepSymmetricEigen.Solve<Simd512x2, Vector512x2>(_a16, default, _values16, _scratch16, D);
    }

    [Benchmark(OperationsPerInvoke = 2)]
    public int LockstepValuesAndRotatedBTwoVectors()
    {
        _source16.CopyTo(_a16, 0);
        Array.Clear(_b16);
        for (int k = 0; k < D; k++)
        {
            for (int q = 0; q < 2 * Lanes; q++)
            {
                _b16[(k * D + k) * 2 * Lanes + q] = 1;
            }
        }
        return LockstepSymmetricEigen.Solve<Simd512x2, Vector512x2>(_a16, _b16, _values16, _scratch16, D);
    }

    [Benchmark(Baseline = true)]
    public double LapackValues() => Lapack8(vectors: false);

    [Benchmark]
    public double LapackVectors() => Lapack8(vectors: true);

    private double Lapack8(bool vectors)
    {
        double sum = 0;
        for (int q = 0; q < Lanes; q++)
        {
            _matrices[q].CopyTo(_rowMajor, 0);
            Lapack.Default.SymmetricEigen(_rowMajor, D, _w, vectors);
            sum += _w[0];
        }
        return sum;
    }

    // The solver's phases one by one, on eight lanes or (x2) on sixteen: the reduction, then the reflectors applied to
    // B or the rotation QL without B. Scratch layout as in Solve: off, τ, then the reduction's work vectors.
    private double TridiagonalOnly() => Tridiagonal8();

    private double TridiagonalAndReflectors()
    {
        Tridiagonal8();
        LockstepSymmetricEigen.ApplyReflectors<Simd512, Vector512<double>>(ref _a[0], ref _scratch[D * Lanes], ref _b[0], D);
        return _values[0];
    }

    private double RotationQlWithoutB()
    {
        Tridiagonal8();
        LockstepSymmetricEigen.QlIterate<Simd512, Vector512<double>>(ref _values[0], ref _scratch[0], ref _b[0], ref _scratch[2 * D * Lanes], 0, false, D);
        return _values[0];
    }

    private double TridiagonalAndReflectorsTwoVectors()
    {
        Tridiagonal16();
        LockstepSymmetricEigen.ApplyReflectors<Simd512x2, Vector512x2>(ref _a16[0], ref _scratch16[D * 2 * Lanes], ref _b16[0], D);
        return _values16[0];
    }

    private double RotationQlWithoutBTwoVectors()
    {
        Tridiagonal16();
        LockstepSymmetricEigen.QlIterate<Simd512x2, Vector512x2>(ref _values16[0], ref _scratch16[0], ref _b16[0], ref _scratch16[2 * D * 2 * Lanes], 0, false, D);
        return _values16[0];
    }

    private double Tridiagonal8()
    {
        _source.CopyTo(_a, 0);
        LockstepSymmetricEigen.Tridiagonalize<Simd512, Vector512<double>>(ref _a[0], ref _values[0], ref _scratch[0],
            ref _scratch[D * Lanes], ref _scratch[2 * D * Lanes], D);
        return _values[0];
    }

    private double Tridiagonal16()
    {
        _source16.CopyTo(_a16, 0);
        int l = 2 * Lanes;
        LockstepSymmetricEigen.Tridiagonalize<Simd512x2, Vector512x2>(ref _a16[0], ref _values16[0], ref _scratch16[0],
            ref _scratch16[D * l], ref _scratch16[2 * D * l], D);
        return _values16[0];
    }

    /// <summary>Stopwatch timings of the four methods (µs per eight problems), for quick iteration.</summary>
    public static void Quick(string[] args)
    {
        // Numbers are orders d; any other argument keeps only the timings whose name contains it.
        int[] sizes = args.Where(a => int.TryParse(a, out _)).Select(int.Parse).ToArray() is { Length: > 0 } given ? given : [7, 16, 64];
        string[] filters = args.Where(a => !int.TryParse(a, out _)).ToArray();
        foreach (int d in sizes)
        {
            var b = new LockstepEigenBenchmarks { D = d };
            b.Setup();

            foreach (var (name, f) in new (string, Func<double>)[]
                     {
                         ("lockstep values", () => b.LockstepValues()), ("lockstep values + B", () => b.LockstepValuesAndRotatedB()),
                         ("lockstep x2 values /2", () => b.LockstepValuesTwoVectors()),
                         ("lockstep x2 values+B /2", () => b.LockstepValuesAndRotatedBTwoVectors()),
                         ("tridiagonalize only", () => b.TridiagonalOnly()),
                         ("tridiag + reflectors", () => b.TridiagonalAndReflectors()),
                         ("rotation QL, no B", () => b.RotationQlWithoutB()),
                         ("x2 tridiag + reflectors /2", () => b.TridiagonalAndReflectorsTwoVectors()),
                         ("x2 rotation QL, no B /2", () => b.RotationQlWithoutBTwoVectors()),
                         ("LAPACK values x8", b.LapackValues), ("LAPACK vectors x8", b.LapackVectors),
                     })
            {
                if (filters.Length > 0 && !filters.Any(f => name.Contains(f, StringComparison.Ordinal)))
                {
                    continue;
                }
                for (int i = 0; i < 20; i++)
                {
                    f();
                }
                var times = new List<double>();
                for (int r = 0; r < 7; r++)
                {
                    int reps = Math.Max(1, (filters.Length > 0 ? 200000 : 20000) / (d * d));
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < reps; i++)
                    {
                        f();
                    }
                    times.Add(sw.Elapsed.TotalMicroseconds / reps / (name.EndsWith("/2", StringComparison.Ordinal) ? 2 : 1));
                }
                times.Sort();
                // The minimum as well: on a shared machine it is the run least disturbed by other work.
                Console.WriteLine($"d={d,3} {name,-22} {times[3],10:F2} µs per 8 problems (min {times[0]:F2})");
            }
        }
    }
}

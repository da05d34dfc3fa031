using BenchmarkDotNet.Running;
using GmmFlow.Benchmarks.Mixtures;

namespace GmmFlow.Benchmarks;

/// <summary>
/// BenchmarkDotNet suites plus side-by-side drivers that write data for the Python comparison scripts in
/// benchmarks/compare (the standard cross-language comparison is `gmmflow bench --export` + benchmarks/compare/run_all.sh).
/// Suites: Costs (CostMatrix, CostFactor), Couplings (ExactLp, Sinkhorn), Mixtures (EmIteration), Transport
/// (VelocityField, SinglePointVelocity, Transport), Native (LapackProvider: MKL vs system). Examples:
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*'
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*SinglePoint*' '*VelocityField*'
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*Lapack*'
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- cost-throughput [--export DIR]   (pairs/s, see Costs/)
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- em-compare --out DIR            (see Mixtures/)
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- eigen-quick [d ...]              (lockstep vs dsyevd)
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- factor-quick [d K]               (GaussianFactors and its parts)
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- fma-peak [iterations]            (the machine's FMA rate, see Machine/)
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- tp-quick                         (hand-written loops vs TensorPrimitives)
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args)
        {
            case ["cost-throughput", ..]:
                Costs.CostMatrixThroughput.Run(args[1..]);
                return 0;
            case ["eigen-quick", ..]:
                Costs.LockstepEigenBenchmarks.Quick(args[1..]);
                return 0;
            case ["factor-quick", ..]:
                Costs.FactorQuick.Run(args[1..]);
                return 0;
            case ["tp-quick", ..]:
                Machine.TensorPrimitivesQuick.Run(args[1..]);
                return 0;
            case ["fma-peak", ..]:
                Machine.FmaPeak.Run(args[1..]);
                return 0;
            case ["em-compare", ..]:
                return EmCompare.Run(args[1..]);
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }
}

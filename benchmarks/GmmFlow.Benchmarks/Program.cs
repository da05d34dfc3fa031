using BenchmarkDotNet.Running;

namespace GmmFlow.Benchmarks;

/// <summary>
/// BenchmarkDotNet entry point. Examples:
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*'
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*Lapack*'
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- cost-throughput [--export DIR]   (pairs/s, see Costs/)
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args is ["cost-throughput", ..])
        {
            Costs.CostMatrixThroughput.Run(args[1..]);
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}

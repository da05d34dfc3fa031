using BenchmarkDotNet.Running;

namespace GmmFlow.Benchmarks;

/// <summary>
/// BenchmarkDotNet entry point. Examples:
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*'
///   dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*Lapack*'
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

using BenchmarkDotNet.Running;

namespace GmmFlow.Benchmarks;

internal static class Program
{
    // dotnet run -c Release --project benchmarks/GmmFlow.Benchmarks -- --filter '*ExactLp*'
    private static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

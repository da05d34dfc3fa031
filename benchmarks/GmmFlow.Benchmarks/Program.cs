using BenchmarkDotNet.Running;
using GmmFlow.Benchmarks.Mixtures;

namespace GmmFlow.Benchmarks;

/// <summary>
/// BenchmarkDotNet suites (dotnet run -c Release -- --filter '*'), plus side-by-side drivers that write
/// data for the Python comparison scripts in benchmarks/compare (dotnet run -c Release -- em-compare --out DIR).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "em-compare")
        {
            return EmCompare.Run(args[1..]);
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}

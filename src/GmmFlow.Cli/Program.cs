using System.CommandLine;
using GmmFlow.Cli.Commands;

namespace GmmFlow.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("gmmflow: training-free transport between Gaussian mixture models.")
        {
            InfoCommand.Create(),
        };
        return root.Parse(args).Invoke();
    }
}

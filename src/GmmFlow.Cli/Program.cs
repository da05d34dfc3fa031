namespace GmmFlow.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        using var interrupt = CliInterrupt.ForProcess(Console.Error);
        try
        {
            return CliApp.Run(args, Console.Out, Console.Error, interrupt);
        }
        finally
        {
            interrupt.Finished();
        }
    }
}

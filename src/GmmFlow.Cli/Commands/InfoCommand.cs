using System.CommandLine;
using System.Runtime.InteropServices;

namespace GmmFlow.Cli.Commands;

/// <summary><c>gmmflow info</c>: runtime and native-library versions, for bug reports and deployment checks.</summary>
internal static class InfoCommand
{
    internal static Command Create()
    {
        var command = new Command("info", "Print the runtime and the native libraries GmmFlow found (HiGHS).");
        command.SetAction(_ => Run(Console.Out));
        return command;
    }

    internal static int Run(TextWriter output)
    {
        output.WriteLine($"runtime   {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})");
        try
        {
            output.WriteLine($"HiGHS     {NativeLibraries.HighsVersion} ({NativeLibraries.HighsPath})");
            return 0;
        }
        catch (NativeLibraryNotFoundException e)
        {
            // A missing library is the one thing `info` exists to diagnose: report it and fail, don't crash.
            output.WriteLine($"HiGHS     not found: {e.Message}");
            return 1;
        }
    }
}

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

            // End-to-end check that the library does not only load but solves: a 2 × 3 transport LP whose optimum
            // (125) is known by hand. Catches ABI or deployment problems that a version call cannot.
            Coupling check = Couplings.ExactLp([15, 25], [10, 20, 10], [2, 3, 1, 5, 4, 8]);
            bool ok = check.Status == LpStatus.Optimal && Math.Abs(check.Objective - 125) < 1e-9;
            output.WriteLine($"LP check  {(ok ? "ok" : "FAILED")} (status {check.Status}, objective {check.Objective}, expected 125)");
            return ok ? 0 : 1;
        }
        catch (NativeLibraryNotFoundException e)
        {
            // A missing library is the one thing `info` exists to diagnose: report it and fail, don't crash.
            output.WriteLine($"HiGHS     not found: {e.Message}");
            return 1;
        }
    }
}

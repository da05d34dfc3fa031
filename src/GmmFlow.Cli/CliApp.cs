using System.CommandLine;
using GmmFlow.Cli.Commands;

namespace GmmFlow.Cli;

/// <summary>
/// Builds the `gmmflow` command tree and runs it with the project's exit-code contract:
/// 0 success, 2 bad usage (unknown command/option, missing or malformed argument), 1 any other error,
/// reported as one line (the stack trace only with --verbose).
/// </summary>
internal static class CliApp
{
    public const int Success = 0, Failure = 1, Usage = 2;

    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Print stack traces and extra detail on errors.",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("gmmflow: training-free transport between Gaussian mixture models.")
        {
            Verbose,
        };
        root.Add(InfoCommand.Create());
        root.Add(FitCommand.Create());
        root.Add(SampleCommand.Create());
        root.Add(CostCommand.Create());
        root.Add(RegimeCommand.Create());
        root.Add(PlanCommand.Create());
        root.Add(TransportCommand.Create());
        root.Add(DemoCommand.Create());
        root.Add(BenchCommand.Create());
        root.Add(SamplerCommand.Create());
        root.Add(MultiMarginalCommand.Create());
        root.Add(BridgeCommand.Create());
        return root;
    }

    private static readonly AsyncLocal<CancellationToken> s_cancellation = new();

    /// <summary>Cancelled when the running command is interrupted (SIGINT/SIGTERM); long loops observe it.</summary>
    public static CancellationToken Cancellation => s_cancellation.Value;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, interrupt: null);

    /// <summary>Runs one command; <paramref name="interrupt"/> (if any) turns SIGINT/SIGTERM into cancellation, exit 130/143.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CliInterrupt? interrupt)
    {
        var root = Build();
        CliNumbers.Harden(root); // every numeric option, whichever command built it, parses through one typed path
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line: every parse error, then where to find the usage.
            string errors = string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.').ReplaceLineEndings(" ")).Distinct());
            stderr.WriteLine($"gmmflow: {errors}. Run 'gmmflow --help' (or 'gmmflow <command> --help') for usage.");
            return Usage;
        }
        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null, // signals are handled by CliInterrupt
        };
        s_cancellation.Value = interrupt?.Token ?? CancellationToken.None;
        try
        {
            return parse.Invoke(config);
        }
        catch (OperationCanceledException) when (interrupt?.Signal is not null)
        {
            if (interrupt.ClaimReport())
            {
                stderr.WriteLine(interrupt.Message);
            }
            return interrupt.ExitCode;
        }
        catch (Exception e)
        {
            bool verbose = parse.GetValue(Verbose);
            int code = e is CliUsageException ? Usage : Failure;
            stderr.WriteLine($"gmmflow: {OneLine(e)}");
            if (verbose)
            {
                stderr.WriteLine(e.ToString());
            }
            return code;
        }
        finally
        {
            s_cancellation.Value = CancellationToken.None;
        }
    }

    private static string OneLine(Exception e)
    {
        // Unwrap the aggregate/target-invocation shells so the user sees the real cause.
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException && e.InnerException is not null)
        {
            e = e.InnerException!;
        }
        return e.Message.ReplaceLineEndings(" ");
    }
}

/// <summary>A usage error found after parsing (e.g. an option value out of range): exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

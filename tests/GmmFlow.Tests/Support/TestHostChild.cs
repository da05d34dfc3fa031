using System.Diagnostics;

namespace GmmFlow.Tests.Support;

/// <summary>
/// Runs this test assembly again in a child process (xunit's own runner when given its options), for what cannot
/// happen in the test host: a fault that must kill the process, or runtime configuration knobs that only apply at
/// start-up. Crash dumps are switched off.
/// </summary>
internal static class TestHostChild
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(IReadOnlyDictionary<string, string> environment,
                                                                                   params string[] arguments)
    {
        string host = Environment.ProcessPath!;
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(TestHostChild).Assembly.Location);
        }
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.Environment["DOTNET_DbgEnableMiniDump"] = "0";
        using var child = Process.Start(start)!;
        var token = TestContext.Current.CancellationToken;
        Task<string> error = child.StandardError.ReadToEndAsync(token);
        string output = await child.StandardOutput.ReadToEndAsync(token);
        await child.WaitForExitAsync(token).WaitAsync(TimeSpan.FromSeconds(120), token);
        return (child.ExitCode, output, await error);
    }
}

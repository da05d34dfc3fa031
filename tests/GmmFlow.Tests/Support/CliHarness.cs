using GmmFlow.Cli;

namespace GmmFlow.Tests.Support;

/// <summary>Runs `gmmflow` in-process (CliApp.Run) in a temporary folder that is deleted afterwards.</summary>
public class CliHarness : IDisposable
{
    protected string Dir { get; } = Directory.CreateTempSubdirectory("gmmflow-cli-").FullName;

    public void Dispose()
    {
        Directory.Delete(Dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    protected string P(string name) => Path.Combine(Dir, name);

    protected static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Files in the folder, temporaries included (a failed command must leave nothing behind).</summary>
    protected string[] Files() => Directory.GetFiles(Dir).Select(Path.GetFileName).Order().ToArray()!;
}

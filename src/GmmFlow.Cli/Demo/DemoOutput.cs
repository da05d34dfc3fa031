namespace GmmFlow.Cli.Demo;

/// <summary>
/// The demo's output folder. Policy: the folder is created if missing; if it already holds any file the demo would
/// write (a previous demo's README.md, results.json or pictures), the run is refused with a usage error unless
/// --force is given, in which case those files are replaced and nothing else in the folder is touched. The check
/// runs before any computation. Every file is written to a temporary name in the folder and renamed into place.
/// </summary>
internal sealed class DemoOutput
{
    public const string IndexFile = "README.md";
    public const string ResultsFile = "results.json";

    private DemoOutput(string directory) => Directory = directory;

    /// <summary>The folder, as given on the command line.</summary>
    public string Directory { get; }

    /// <summary>The names of every file a run over <paramref name="caseNames"/> writes.</summary>
    public static IReadOnlyList<string> FileNames(IEnumerable<string> caseNames)
    {
        var names = new List<string> { IndexFile, ResultsFile };
        foreach (string c in caseNames)
        {
            names.AddRange(CaseFileNames(c));
        }
        names.AddRange(MomentumDemo.FileNames);
        return names;
    }

    /// <summary>Picture files of one case (fixed names, so a previous run's files are recognised).</summary>
    public static IEnumerable<string> CaseFileNames(string caseName) =>
    [
        $"{caseName}-mixtures.png", $"{caseName}-mixtures.svg",
        $"{caseName}-trajectories.png",
        $"{caseName}-snapshots.png",
        $"{caseName}-regime.png", $"{caseName}-regime.svg",
    ];

    /// <summary>Validates and creates the folder; usage errors (exit 2) for a file in the way or previous outputs without --force.</summary>
    public static DemoOutput Prepare(string directory, bool force, IReadOnlyList<string> fileNames)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new CliUsageException("--out must name a folder.");
        }
        if (File.Exists(directory))
        {
            throw new CliUsageException($"--out {directory} is a file; the demo writes a folder of pictures. Choose a folder path.");
        }
        if (System.IO.Directory.Exists(directory))
        {
            var previous = fileNames.Where(name => File.Exists(Path.Combine(directory, name))).ToList();
            if (previous.Count > 0 && !force)
            {
                string shown = string.Join(", ", previous.Take(3)) + (previous.Count > 3 ? $" and {previous.Count - 3} more" : "");
                throw new CliUsageException($"{directory} already holds demo outputs ({shown}); pass --force to replace them, or choose another --out.");
            }
            if (fileNames.Any(name => System.IO.Directory.Exists(Path.Combine(directory, name))))
            {
                throw new CliUsageException($"{directory} has a folder where the demo writes a file; choose another --out.");
            }
        }
        else
        {
            try
            {
                System.IO.Directory.CreateDirectory(directory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliUsageException($"cannot create the folder --out {directory}: {e.Message}");
            }
        }
        return new DemoOutput(directory);
    }

    /// <summary>Path of a file in the folder.</summary>
    public string PathOf(string fileName) => Path.Combine(Directory, fileName);

    /// <summary>Writes one file atomically (temporary file in the folder, then rename).</summary>
    public void Write(string fileName, ReadOnlySpan<byte> content)
    {
        byte[] copy = content.ToArray();
        CliFiles.WriteAtomic(PathOf(fileName), force: true, stream => stream.Write(copy));
    }

    public void Write(string fileName, string text) => Write(fileName, System.Text.Encoding.UTF8.GetBytes(text));
}

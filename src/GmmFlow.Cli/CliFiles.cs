namespace GmmFlow.Cli;

/// <summary>
/// File conventions shared by every command (docs/cli-contract.md#outputs): outputs go through <see cref="CliOutputs"/>
/// (temporary beside the target, renamed into place, all-or-nothing), an existing output is only replaced with
/// --force, and an input that is missing or a directory is named in a one-line error.
/// </summary>
internal static class CliFiles
{
    /// <summary>
    /// Fails with a usage error (exit 2) when <paramref name="path"/> exists and <paramref name="force"/> is false, is a
    /// directory, or its folder does not exist.
    /// </summary>
    public static void CheckWritable(string path, bool force, string option = "--out")
    {
        if (Directory.Exists(path))
        {
            throw new CliUsageException($"{option} {path} is a directory; give a file name.");
        }
        if (File.Exists(path) && !force)
        {
            throw new CliUsageException($"{option} {path} already exists; pass --force to overwrite it.");
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
        {
            throw new CliUsageException($"{option} {path}: the folder {dir} does not exist.");
        }
    }

    /// <summary>Writes one output through <paramref name="write"/> all-or-nothing (see <see cref="CliOutputs"/>).</summary>
    public static void WriteAtomic(string path, bool force, Action<Stream> write)
    {
        using var outputs = new CliOutputs(force);
        outputs.Output("--out", path);
        outputs.Write(path, write);
        outputs.Commit();
    }

    /// <summary>Checks that an input exists and is a file (not a directory); the one-line error names the option and path.</summary>
    public static void CheckInput(string path, string option)
    {
        if (Directory.Exists(path))
        {
            throw new FileNotFoundException($"{option} {path} is a directory, not a file.", path);
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{option} {path}: no such file.", path);
        }
    }

    /// <summary>Opens an input file, turning a missing file or a directory into a one-line error that names it.</summary>
    public static FileStream OpenInput(string path, string option = "input")
    {
        CheckInput(path, option);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }
}

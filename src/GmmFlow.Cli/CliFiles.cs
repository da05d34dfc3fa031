namespace GmmFlow.Cli;

/// <summary>
/// File conventions shared by every command: outputs are written to a temporary file beside the target
/// and renamed into place (an interrupted run never leaves a truncated file), and an existing output is
/// only replaced with --force.
/// </summary>
internal static class CliFiles
{
    /// <summary>Fails with a usage error (exit 2) when <paramref name="path"/> exists and <paramref name="force"/> is false.</summary>
    public static void CheckWritable(string path, bool force)
    {
        if (File.Exists(path) && !force)
        {
            throw new CliUsageException($"{path} already exists; pass --force to overwrite it.");
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
        {
            throw new CliUsageException($"the folder of {path} does not exist.");
        }
    }

    /// <summary>Writes through <paramref name="write"/> into a temporary file, then atomically renames it to <paramref name="path"/>.</summary>
    public static void WriteAtomic(string path, bool force, Action<Stream> write)
    {
        CheckWritable(path, force);
        string full = Path.GetFullPath(path);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Opens an input file, turning a missing file into a one-line error that names it.</summary>
    public static FileStream OpenInput(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file.", path);
        }
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
    }
}

using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace GmmFlow.Cli;

/// <summary>
/// The outputs of one command, written all-or-nothing (docs/cli-contract.md#outputs). Every output is checked before
/// any work (extension, an existing file without --force, a missing folder, a directory, two outputs or an output and
/// an input naming the same file), written to a temporary file beside it, and only when every write succeeded are the
/// temporaries renamed into place. Without --force each rename refuses to replace a file (renameat2 RENAME_NOREPLACE
/// or link + unlink), so of several concurrent writers exactly one wins; with --force the files being replaced are
/// kept as hard-link backups until every rename succeeded, so a failed commit restores them. Disposing deletes every
/// temporary that was not committed.
/// </summary>
internal sealed class CliOutputs : IDisposable
{
    /// <summary>Temporaries of every live output set in the process (deleted by the signal watchdog).</summary>
    private static readonly ConcurrentDictionary<string, byte> s_live = new();
    private static readonly Lock s_commitLock = new();
    private static long s_counter;
    private static bool s_aborted, s_anyCommitted;

    private readonly bool _force;
    private readonly List<(string Option, string Path, string Full)> _inputs = [];
    private readonly List<Target> _targets = [];
    private bool _committed;

    private sealed class Target(string option, string path, string full)
    {
        public string Option { get; } = option;
        public string Path { get; } = path;
        public string Full { get; } = full;
        public string? Temp { get; set; }
    }

    public CliOutputs(bool force) => _force = force;

    /// <summary>Registers an input file (an output may not be the same file).</summary>
    public CliOutputs Input(string option, string? path)
    {
        if (path is not null)
        {
            _inputs.Add((option, path, Identity(path)));
        }
        return this;
    }

    /// <summary>
    /// Registers and checks an output before any work; <paramref name="extensions"/> (e.g. ".npy", ".csv") are the
    /// accepted ones (any when empty). Returns <paramref name="path"/>; null is ignored (an optional output not asked for).
    /// </summary>
    /// <exception cref="CliUsageException">The extension, folder or existing file forbids writing, or the path collides with another output or an input.</exception>
    public string? Output(string option, string? path, params string[] extensions)
    {
        if (path is null)
        {
            return null;
        }
        if (extensions.Length > 0 && !extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
        {
            throw new CliUsageException($"{option} {path}: this output is written as {string.Join(" or ", extensions)}; give a file name ending in {string.Join(" or ", extensions)}.");
        }
        CliFiles.CheckWritable(path, _force, option);
        string full = Identity(path);
        foreach (var t in _targets)
        {
            if (t.Full == full)
            {
                throw new CliUsageException($"{option} {path} and {t.Option} {t.Path} are the same file; give two different outputs.");
            }
        }
        foreach (var (inputOption, inputPath, inputFull) in _inputs)
        {
            if (inputFull == full)
            {
                throw new CliUsageException($"{option} {path} is the input {inputOption} {inputPath}; write the output to another file.");
            }
        }
        _targets.Add(new Target(option, path, full));
        return path;
    }

    /// <summary>Writes one registered output into its temporary file (nothing is visible until <see cref="Commit"/>).</summary>
    /// <exception cref="IOException">The write failed; the message names the output, not the temporary.</exception>
    public void Write(string path, Action<Stream> write)
    {
        Target target = _targets.FirstOrDefault(t => t.Path == path)
            ?? throw new InvalidOperationException($"{path} was not registered as an output.");
        CliApp.Cancellation.ThrowIfCancellationRequested();
        string dir = System.IO.Path.GetDirectoryName(target.Full)!;
        string temp = System.IO.Path.Combine(dir, $".{System.IO.Path.GetFileName(target.Full)}.{Environment.ProcessId}.{Interlocked.Increment(ref s_counter)}.tmp");
        target.Temp = temp;
        s_live[temp] = 0;
        try
        {
            using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            using (var stream = new CancellableStream(file, CliApp.Cancellation))
            {
                write(stream);
            }
            file.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Delete(temp);
            target.Temp = null;
            throw new IOException($"cannot write {target.Option} {target.Path}: {Reason(e, temp, target.Path)}", e);
        }
    }

    /// <summary>Renames every written temporary into place, all or none (see the class remarks).</summary>
    /// <exception cref="CliUsageException">Without --force, another process created one of the outputs meanwhile.</exception>
    /// <exception cref="OperationCanceledException">The run was interrupted before the commit.</exception>
    public void Commit()
    {
        lock (s_commitLock)
        {
            CliApp.Cancellation.ThrowIfCancellationRequested();
            if (s_aborted)
            {
                throw new OperationCanceledException();
            }
            var placed = new List<Target>();
            var backups = new List<(string Backup, string Full)>();
            try
            {
                foreach (var t in _targets)
                {
                    if (t.Temp is null)
                    {
                        throw new InvalidOperationException($"{t.Option} {t.Path} was registered but not written.");
                    }
                    if (_force)
                    {
                        if (File.Exists(t.Full) && OperatingSystem.IsLinux())
                        {
                            string backup = t.Temp + ".bak";
                            if (PosixFiles.TryLink(t.Full, backup))
                            {
                                s_live[backup] = 0;
                                backups.Add((backup, t.Full));
                            }
                        }
                        File.Move(t.Temp, t.Full, overwrite: true);
                    }
                    else if (!PosixFiles.MoveNoReplace(t.Temp, t.Full))
                    {
                        throw new CliUsageException($"{t.Option} {t.Path} was created by another process while this one ran; nothing was written (pass --force to overwrite it).");
                    }
                    s_live.TryRemove(t.Temp, out _);
                    placed.Add(t);
                }
            }
            catch
            {
                // Undo: remove what this set placed, put the replaced files back.
                foreach (var t in placed)
                {
                    Delete(t.Full);
                }
                foreach (var (backup, full) in backups)
                {
                    File.Move(backup, full, overwrite: true);
                    s_live.TryRemove(backup, out _);
                }
                throw;
            }
            foreach (var (backup, _) in backups)
            {
                Delete(backup);
            }
            _committed = true;
            s_anyCommitted = true;
        }
    }

    /// <summary>Deletes every temporary that was not committed.</summary>
    public void Dispose()
    {
        foreach (var t in _targets)
        {
            if (t.Temp is not null && (!_committed || File.Exists(t.Temp)))
            {
                Delete(t.Temp);
            }
        }
    }

    /// <summary>
    /// For the signal watchdog: forbids any later commit and deletes every live temporary of the process.
    /// Returns false when a commit already completed or is running (the process is about to finish on its own).
    /// </summary>
    internal static bool AbortAll()
    {
        if (s_anyCommitted || !s_commitLock.TryEnter())
        {
            return false;
        }
        try
        {
            s_aborted = true;
            foreach (string temp in s_live.Keys)
            {
                Delete(temp);
            }
            return true;
        }
        finally
        {
            s_commitLock.Exit();
        }
    }

    private static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        s_live.TryRemove(path, out _);
    }

    /// <summary>The full path with symbolic links resolved: two names of one file compare equal.</summary>
    private static string Identity(string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        try
        {
            if (new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is { } target)
            {
                return System.IO.Path.GetFullPath(target.FullName);
            }
        }
        catch (IOException)
        {
        }
        return full;
    }

    /// <summary>The system's reason with the temporary's name replaced by the output's.</summary>
    private static string Reason(Exception e, string temp, string path)
    {
        string message = e.Message.Replace(temp, path, StringComparison.Ordinal);
        return e is UnauthorizedAccessException ? $"permission denied ({message})" : message;
    }
}

/// <summary>Rename without replacing and hard links (Linux system calls; a portable fallback elsewhere).</summary>
internal static partial class PosixFiles
{
    private const int AtFdCwd = -100, RenameNoReplace = 1;
    private const int EExist = 17, EPerm = 1, EXDev = 18, EInval = 22, ENoSys = 38, EOpNotSupp = 95;

    /// <summary>Moves <paramref name="source"/> to <paramref name="destination"/> unless that exists (atomically); false when it exists.</summary>
    public static bool MoveNoReplace(string source, string destination)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                if (RenameAt2(AtFdCwd, source, AtFdCwd, destination, RenameNoReplace) == 0)
                {
                    return true;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EExist)
                {
                    return false;
                }
                if (errno is not (EInval or ENoSys or EOpNotSupp))
                {
                    throw new IOException($"cannot move {source} to {destination}: {Marshal.GetPInvokeErrorMessage(errno)}");
                }
                // The file system lacks RENAME_NOREPLACE: link() also fails when the name exists.
                if (Link(source, destination) == 0)
                {
                    File.Delete(source);
                    return true;
                }
                errno = Marshal.GetLastPInvokeError();
                if (errno == EExist)
                {
                    return false;
                }
                if (errno is not (EPerm or EXDev or EOpNotSupp))
                {
                    throw new IOException($"cannot move {source} to {destination}: {Marshal.GetPInvokeErrorMessage(errno)}");
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
            }
        }
        // Elsewhere .NET's move without overwrite is itself no-replace (MoveFileEx without REPLACE_EXISTING, or link + unlink).
        try
        {
            File.Move(source, destination, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(destination))
        {
            return false;
        }
    }

    /// <summary>Creates the hard link <paramref name="link"/> to <paramref name="existing"/>; false when that is not possible.</summary>
    public static bool TryLink(string existing, string link)
    {
        try
        {
            return Link(existing, link) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    [LibraryImport("libc.so.6", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string link);
}

/// <summary>A write-only stream that checks for cancellation at every write: writers stream in chunks, so an interrupt stops a large write between chunks.</summary>
internal sealed class CancellableStream(Stream inner, CancellationToken cancellation) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        cancellation.ThrowIfCancellationRequested();
        inner.Write(buffer);
    }

    public override void WriteByte(byte value)
    {
        cancellation.ThrowIfCancellationRequested();
        inner.WriteByte(value);
    }
}

using System.Runtime.InteropServices;

namespace GmmFlow.Cli;

/// <summary>
/// SIGINT and SIGTERM as cancellation (docs/cli-contract.md#signals): the first signal cancels <see cref="Token"/>,
/// which the long loops (EM, transport, chunked file I/O) observe, so the command stops, deletes its temporaries and
/// exits 130 (SIGINT) or 143 (SIGTERM) with one line. A watchdog guarantees the stop within <see cref="Grace"/> even
/// inside a step that does not observe the token (a native LP solve): it deletes the temporaries, forbids any commit,
/// prints the line and exits. A second signal while stopping has the same effect at once.
/// </summary>
internal sealed class CliInterrupt : IDisposable
{
    /// <summary>How long a cancelled command may take to wind down before the watchdog ends the process.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(400);

    private readonly CancellationTokenSource _source = new();
    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly TextWriter? _stderr;
    private int _signal;
    private int _finished, _reported;

    private CliInterrupt(TextWriter? stderr) => _stderr = stderr;

    /// <summary>Cancelled at the first SIGINT/SIGTERM.</summary>
    public CancellationToken Token => _source.Token;

    /// <summary>The signal received (SIGINT or SIGTERM), or null.</summary>
    public PosixSignal? Signal => _signal == 0 ? null : (PosixSignal)_signal;

    /// <summary>Exit code for the received signal: 128 + its number (130 SIGINT, 143 SIGTERM).</summary>
    public int ExitCode => Signal == PosixSignal.SIGTERM ? 143 : 130;

    /// <summary>The one line printed when a run is interrupted.</summary>
    public string Message => $"gmmflow: interrupted by {(Signal == PosixSignal.SIGTERM ? "SIGTERM" : "SIGINT")}; stopped, no output was written.";

    /// <summary>Handles SIGINT and SIGTERM for the process (the CLI's Main), with the watchdog.</summary>
    public static CliInterrupt ForProcess(TextWriter stderr)
    {
        var interrupt = new CliInterrupt(stderr);
        foreach (PosixSignal signal in (ReadOnlySpan<PosixSignal>)[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            interrupt._registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // do not let the runtime end the process: the cancellation path does
                interrupt.Raise(context.Signal);
            }));
        }
        return interrupt;
    }

    /// <summary>An interrupt raised only by <see cref="Raise"/> (tests; no watchdog, no process exit).</summary>
    public static CliInterrupt Manual() => new(null);

    /// <summary>Cancels the run as <paramref name="signal"/> would.</summary>
    public void Raise(PosixSignal signal)
    {
        bool first = Interlocked.CompareExchange(ref _signal, (int)signal, 0) == 0;
        if (_stderr is null)
        {
            _source.Cancel();
            return;
        }
        if (!first)
        {
            Stop();
            return;
        }
        _source.Cancel();
        _ = Task.Delay(Grace).ContinueWith(_ => Stop(), TaskScheduler.Default);
    }

    /// <summary>True for the first caller only: the interrupt line is printed once, by the command or by the watchdog.</summary>
    public bool ClaimReport() => Interlocked.Exchange(ref _reported, 1) == 0;

    /// <summary>Marks the run finished: the watchdog no longer ends the process.</summary>
    public void Finished() => Interlocked.Exchange(ref _finished, 1);

    private void Stop()
    {
        if (Volatile.Read(ref _finished) == 1 || !CliOutputs.AbortAll())
        {
            return; // finished, or committing its outputs: it exits on its own in a moment
        }
        if (ClaimReport())
        {
            _stderr!.WriteLine(Message);
            _stderr.Flush();
        }
        Environment.Exit(ExitCode);
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
        {
            r.Dispose();
        }
        _source.Dispose();
    }
}

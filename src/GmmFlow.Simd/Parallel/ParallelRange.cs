using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace GmmFlow.Simd;

/// <summary>Work over an index range [start, end); implemented by a struct so the call is not virtual and nothing is boxed.</summary>
public interface IRangeBody
{
    void Execute(int start, int end);
}

/// <summary>
/// Runs a range body on all cores with zero allocations per call once warm: a fixed set of worker
/// threads (one fewer than the core count; the caller is the last worker) pulls chunks of
/// <c>grain</c> indices from a shared counter, so uneven items balance themselves.
/// </summary>
/// <remarks>
/// Why not Parallel.For: it allocates a closure, a loop state and partitioner objects on every call,
/// and the batched cost/velocity/E-step APIs promise 0 bytes per call. Only one parallel region runs at
/// a time; a call made while another is running (another thread, or nested inside a body) runs
/// serially on its caller, which is correct and avoids deadlock.
/// </remarks>
public static class ParallelRange
{
    private static readonly int s_workers = Math.Max(0, Environment.ProcessorCount - 1);
    private static readonly SemaphoreSlim s_start = new(0);
    private static readonly ManualResetEventSlim s_done = new(false);
    private static int s_busy;
    private static int s_pending;
    private static bool s_started;
    private static Job? s_job;

    /// <summary>Number of threads a parallel region uses (workers + caller).</summary>
    public static int Concurrency => s_workers + 1;

    /// <summary>
    /// Executes <paramref name="body"/> over [0, <paramref name="count"/>) in chunks of <paramref name="grain"/>.
    /// Runs serially when the range has a single chunk, the machine has one core, or another region is active.
    /// The body is copied once into a per-type job object; mutations inside Execute are not copied back.
    /// </summary>
    public static void For<TBody>(int count, int grain, in TBody body) where TBody : struct, IRangeBody
        => ForCore(count, grain, body);

    /// <summary>
    /// <see cref="For{TBody}"/> for long work: the range runs in consecutive blocks of <paramref name="block"/> indices,
    /// checking <paramref name="cancellationToken"/> before each block and reporting the completed fraction after it.
    /// </summary>
    public static void ForBlocks<TBody>(int count, int grain, int block, in TBody body, IProgress<double>? progress,
        CancellationToken cancellationToken) where TBody : struct, IRangeBody
    {
        block = Math.Max(1, block);
        for (int start = 0; start < count; start += block)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int end = Math.Min(count, start + block);
            ForCore(end - start, grain, new Shifted<TBody>(body, start));
            progress?.Report(end / (double)count);
        }
    }

    /// <summary>A body seen from an offset: Execute(s, e) runs the inner body on [offset + s, offset + e).</summary>
    private readonly struct Shifted<TBody>(TBody body, int offset) : IRangeBody where TBody : struct, IRangeBody
    {
        private readonly TBody _body = body;

        public void Execute(int start, int end) => _body.Execute(offset + start, offset + end);
    }

    private static void ForCore<TBody>(int count, int grain, in TBody body) where TBody : struct, IRangeBody
    {
        if (count <= 0)
        {
            return;
        }
        grain = Math.Max(1, grain);
        if (s_workers == 0 || count <= grain || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            body.Execute(0, count);
            return;
        }
        try
        {
            EnsureStarted();
            var job = Job<TBody>.Instance;
            job.Body = body;
            job.Reset(count, grain);
            int helpers = Math.Min(s_workers, (count + grain - 1) / grain - 1);
            s_job = job;
            s_pending = helpers;
            s_done.Reset();
            s_start.Release(helpers);
            job.Run();
            if (helpers > 0)
            {
                // The caller has run out of chunks. Wake-ups no worker has claimed yet are taken back: those
                // workers would only find the job finished, and on a loaded machine waiting for them to be
                // scheduled costs more than the work. Only workers already running are waited for.
                bool finished = false;
                while (s_start.Wait(0))
                {
                    if (Interlocked.Decrement(ref s_pending) == 0)
                    {
                        finished = true;
                        break;
                    }
                }
                if (!finished)
                {
                    WaitForWorkers();
                }
            }
            s_job = null;
            job.Body = default;
            job.ThrowIfFailed();
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    private static void EnsureStarted()
    {
        if (s_started)
        {
            return;
        }
        for (int i = 0; i < s_workers; i++)
        {
            var thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"GmmFlow worker {i}" };
            thread.Start();
        }
        s_started = true;
    }

    /// <summary>
    /// How long an idle worker, and a caller waiting for the workers' last chunks, poll before blocking (about 0.5 ms).
    /// </summary>
    /// <remarks>
    /// Why: a blocked thread is woken through the kernel, and on virtual machines that took 30–50 µs typically and more
    /// than 300 µs in 40–50 % of wake-ups (measured on the 2-vCPU benchmark VM), while a polling one starts at once.
    /// Batched calls come back to back (integrator steps, EM iterations, benchmark loops), so a worker that polls a
    /// little after its last chunk usually finds the next region already waiting. The cost is bounded: at most this
    /// long of one core per worker after the last region, as OpenMP runtimes do with their (longer) block time.
    /// </remarks>
    private static readonly long s_pollTicks = Stopwatch.Frequency / 2000;

    /// <summary>Waits until every woken worker has finished: polls <see cref="s_done"/> first, then blocks.</summary>
    private static void WaitForWorkers()
    {
        long until = Stopwatch.GetTimestamp() + s_pollTicks;
        while (!s_done.IsSet)
        {
            if (Stopwatch.GetTimestamp() > until)
            {
                s_done.Wait();
                return;
            }
            Thread.SpinWait(8);
        }
    }

    /// <summary>Claims one wake-up: polls the semaphore's count first, then blocks on it.</summary>
    private static void WaitForRegion()
    {
        long until = Stopwatch.GetTimestamp() + s_pollTicks;
        for (int spins = 1; Stopwatch.GetTimestamp() <= until; spins++)
        {
            if (s_start.CurrentCount > 0 && s_start.Wait(0))
            {
                return;
            }
            // Now and then (every few tens of µs) give the core to any other runnable thread: on a machine with few
            // cores a worker spinning for the whole poll starved the runtime's own threads (tiered JIT compilation,
            // GC) and measurably slowed code still warming up. Yielding on every turn instead delayed the worker's
            // start (on the VM, 43 % of regions found it late).
            if ((spins & 63) == 0)
            {
                Thread.Yield();
            }
            else
            {
                Thread.SpinWait(8);
            }
        }
        s_start.Wait();
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            WaitForRegion();
            Volatile.Read(ref s_job)?.Run();
            if (Interlocked.Decrement(ref s_pending) == 0)
            {
                s_done.Set();
            }
        }
    }

    private abstract class Job
    {
        private int _next;
        private int _count;
        private int _grain;
        private ExceptionDispatchInfo? _error;

        public void Reset(int count, int grain)
        {
            _next = 0;
            _count = count;
            _grain = grain;
            _error = null;
        }

        public void Run()
        {
            try
            {
                int start;
                while ((start = Interlocked.Add(ref _next, _grain) - _grain) < _count)
                {
                    if (_error is not null)
                    {
                        return;
                    }
                    Execute(start, Math.Min(start + _grain, _count));
                }
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
        }

        public void ThrowIfFailed() => _error?.Throw();

        protected abstract void Execute(int start, int end);
    }

    private sealed class Job<TBody> : Job where TBody : struct, IRangeBody
    {
        // One instance per body type is enough: only one region runs at a time (s_busy).
        public static readonly Job<TBody> Instance = new();
        public TBody Body;

        protected override void Execute(int start, int end) => Body.Execute(start, end);
    }
}

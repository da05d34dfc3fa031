using System.Runtime.ExceptionServices;

namespace GmmFlow.Simd;

/// <summary>Work split into numbered chunks; <see cref="Run"/> is called concurrently for different chunks.</summary>
/// <remarks>
/// Implementations are structs that write their results to memory they reference (arrays, or pointers the caller
/// pinned for the duration of <see cref="ParallelChunks.Run{TBody}"/>): the runner works on a copy of the body.
/// Chunk c must produce the same result whichever thread runs it, so outputs are independent of thread count.
/// </remarks>
internal interface IChunkBody
{
    void Run(int chunk);
}

/// <summary>
/// A parallel for-loop over chunks that allocates nothing in steady state: the calling thread works too, helpers
/// come from the thread pool through a pooled <see cref="IThreadPoolWorkItem"/>, and chunks are claimed with one
/// interlocked increment each. Parallel.For would allocate a closure, tasks and loop state per call, which shows
/// up when an integrator calls the field thousands of times.
/// </summary>
/// <remarks>
/// Pointer safety: a helper that the thread pool starts after the caller has finished every chunk sees the job
/// closed and returns without touching the body, so bodies may hold pointers into memory the caller pinned only
/// for the duration of <see cref="Run{TBody}"/>. The caller waits only for helpers that actually joined.
/// </remarks>
internal static class ParallelChunks
{
    /// <summary>Worker count for a requested degree of parallelism (≤ 0 means all processors).</summary>
    public static int ResolveWorkers(int maxDegreeOfParallelism)
        => maxDegreeOfParallelism <= 0 ? Environment.ProcessorCount : Math.Min(maxDegreeOfParallelism, Environment.ProcessorCount);

    /// <summary>
    /// Runs <c>body.Run(c)</c> for every c in [0, <paramref name="chunkCount"/>) on up to
    /// <paramref name="maxDegreeOfParallelism"/> threads (≤ 0: all processors) and returns when all are done.
    /// The first exception thrown by a chunk stops the remaining unclaimed chunks and is rethrown here.
    /// </summary>
    public static void Run<TBody>(int chunkCount, in TBody body, int maxDegreeOfParallelism) where TBody : struct, IChunkBody
    {
        int workers = Math.Min(chunkCount, ResolveWorkers(maxDegreeOfParallelism));
        if (workers <= 1)
        {
            TBody local = body;
            for (int c = 0; c < chunkCount; c++)
            {
                local.Run(c);
            }
            return;
        }

        ChunkJob<TBody> job = ChunkJob<TBody>.Rent();
        job.Start(body, chunkCount, helpers: workers - 1);
        for (int h = 1; h < workers; h++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(job, preferLocal: false);
        }
        job.Work();
        ExceptionDispatchInfo? error = job.CloseAndWait();
        job.Release();
        error?.Throw();
    }

    private sealed class ChunkJob<TBody> : IThreadPoolWorkItem where TBody : struct, IChunkBody
    {
        // A few spare jobs per body type. More than one, because a helper that the pool starts late still holds the
        // previous call's job when the next call begins; a caller that finds every slot empty allocates a new job.
        private static readonly ChunkJob<TBody>?[] s_spares = new ChunkJob<TBody>?[4];

        private TBody _body;
        private int _chunkCount;
        private int _nextChunk;
        private int _activeHelpers;
        private int _closed;
        private int _references;
        private ExceptionDispatchInfo? _error;

        public static ChunkJob<TBody> Rent()
        {
            for (int i = 0; i < s_spares.Length; i++)
            {
                ChunkJob<TBody>? job = Interlocked.Exchange(ref s_spares[i], null);
                if (job is not null)
                {
                    return job;
                }
            }
            return new ChunkJob<TBody>();
        }

        public void Start(in TBody body, int chunkCount, int helpers)
        {
            _body = body;
            _chunkCount = chunkCount;
            _nextChunk = 0;
            _activeHelpers = 0;
            _closed = 0;
            _error = null;
            // The caller plus every queued helper hold a reference; the last one out returns the job to the pool,
            // so a late helper never finds its job reused for another call.
            Volatile.Write(ref _references, helpers + 1);
        }

        /// <summary>Claims and runs chunks until none are left.</summary>
        public void Work()
        {
            int c;
            while ((c = Interlocked.Increment(ref _nextChunk) - 1) < _chunkCount)
            {
                try
                {
                    _body.Run(c);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(ex), null);
                    Volatile.Write(ref _nextChunk, _chunkCount); // stop handing out chunks
                }
            }
        }

        /// <summary>Helper entry point (thread pool).</summary>
        void IThreadPoolWorkItem.Execute()
        {
            // Join first, then check: the caller closes first, then waits for joined helpers, so a helper either
            // sees the job open and is waited for, or sees it closed and leaves without touching the body.
            Interlocked.Increment(ref _activeHelpers);
            if (Volatile.Read(ref _closed) == 0)
            {
                Work();
            }
            Interlocked.Decrement(ref _activeHelpers);
            Release();
        }

        public ExceptionDispatchInfo? CloseAndWait()
        {
            Interlocked.Exchange(ref _closed, 1);
            // Joined helpers are running their last chunk: a short spin, yielding and then sleeping if it is not.
            var spin = new SpinWait();
            while (Volatile.Read(ref _activeHelpers) != 0)
            {
                spin.SpinOnce();
            }
            return _error;
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _references) == 0)
            {
                _body = default; // drop references (frames, arrays) held by the body
                _error = null;
                for (int i = 0; i < s_spares.Length; i++)
                {
                    if (Interlocked.CompareExchange(ref s_spares[i], this, null) is null)
                    {
                        return;
                    }
                }
            }
        }
    }
}

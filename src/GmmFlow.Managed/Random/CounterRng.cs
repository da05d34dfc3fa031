using System.Runtime.CompilerServices;

namespace GmmFlow;

/// <summary>
/// Counter-based random numbers: every draw is a pure function of (seed, stream, counter), so a batch
/// split across any number of threads gives the same numbers as a serial run. Streams are typically
/// particle or sample indices and counters the step or coordinate index.
/// </summary>
/// <remarks>
/// The mixer is SplitMix64's finaliser (Steele, Lea &amp; Flood 2014), applied to a Weyl-sequence key
/// built from the three inputs; used as a counter-based generator it passes BigCrush (per its authors
/// and later studies), which is ample for Monte-Carlo transport and mixture sampling.
/// </remarks>
public readonly partial struct CounterRng
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;
    private const ulong CounterStep = 0xD1B54A32D192ED03UL;
    private readonly ulong _key;

    public CounterRng(ulong seed) => _key = Mix(seed ^ 0x5851F42D4C957F2DUL);

    /// <summary>The seed-derived key (for deriving sub-generators reproducibly).</summary>
    public ulong Key => _key;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>64 random bits for (stream, counter).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextBits(ulong stream, ulong counter) => Mix(StreamKey(stream) + (counter + 1) * CounterStep);

    /// <summary>The per-stream half of <see cref="NextBits"/>: a stream's draws are Mix(StreamKey + (counter + 1)·CounterStep).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong StreamKey(ulong stream) => Mix(_key + (stream + 1) * Golden);

    /// <summary>Uniform in the open interval (0, 1): 53 random bits, never exactly 0 (safe for log).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double Uniform(ulong stream, ulong counter)
        => ((NextBits(stream, counter) >> 11) + 0.5) * (1.0 / (1UL << 53));
}

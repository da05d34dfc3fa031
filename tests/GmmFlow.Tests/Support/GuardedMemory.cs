using System.Runtime.InteropServices;

namespace GmmFlow.Tests.Support;

/// <summary>Which end of a <see cref="GuardedBuffer{T}"/> touches an inaccessible page.</summary>
internal enum GuardSide
{
    /// <summary>The buffer ends exactly where a PROT_NONE page begins: a read or write past the end faults.</summary>
    After,

    /// <summary>The buffer starts exactly where a PROT_NONE page ends: a read or write before the start faults.</summary>
    Before,
}

/// <summary>
/// Native memory laid against a guard page (Linux <c>mmap</c> + <c>mprotect(PROT_NONE)</c>), so that a kernel reading or
/// writing even one element outside a caller's span faults at once instead of reading a neighbour's bytes. The fault
/// kills the test host (an AccessViolationException cannot be caught in .NET), which fails the run loudly: that is
/// the point. Ordinary arrays cannot show such bugs: the GC heap around them is mapped, so an overrun reads garbage
/// (often masked off) and crashes only when it happens to cross into an unmapped page, now and then, in CI.
/// </summary>
/// <remarks>
/// libc is loaded with <see cref="NativeLibrary.TryLoad(string, out nint)"/> and called through function pointers
/// (no DllImport, AOT-safe), as <c>HighsThreads</c> does. Elsewhere than Linux <see cref="IsSupported"/> is false and
/// the tests skip.
/// </remarks>
internal static unsafe class GuardedMemory
{
    private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    private static readonly delegate* unmanaged<nint, nuint, int, int, int, nint, nint> s_mmap;
    private static readonly delegate* unmanaged<nint, nuint, int, int> s_mprotect;
    private static readonly delegate* unmanaged<nint, nuint, int> s_munmap;

#pragma warning disable CA1810 // the three exports are looked up together, once
    static GuardedMemory()
    {
        if (OperatingSystem.IsLinux()
            && NativeLibrary.TryLoad("libc.so.6", out nint libc)
            && NativeLibrary.TryGetExport(libc, "mmap", out nint mmap)
            && NativeLibrary.TryGetExport(libc, "mprotect", out nint mprotect)
            && NativeLibrary.TryGetExport(libc, "munmap", out nint munmap))
        {
            s_mmap = (delegate* unmanaged<nint, nuint, int, int, int, nint, nint>)mmap;
            s_mprotect = (delegate* unmanaged<nint, nuint, int, int>)mprotect;
            s_munmap = (delegate* unmanaged<nint, nuint, int>)munmap;
        }
    }
#pragma warning restore CA1810

    /// <summary>True where guard pages can be made (Linux with glibc).</summary>
    public static bool IsSupported => s_munmap != null;

    /// <summary>Why guarded tests skip elsewhere.</summary>
    public const string SkipReason = "Guard pages need Linux (mmap/mprotect from libc.so.6).";

    /// <summary>A zeroed buffer of <paramref name="length"/> elements touching a guard page on <paramref name="side"/>.</summary>
    public static GuardedBuffer<T> Allocate<T>(int length, GuardSide side = GuardSide.After) where T : unmanaged
    {
        if (!IsSupported)
        {
            throw new PlatformNotSupportedException(SkipReason);
        }
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        nuint page = (nuint)Environment.SystemPageSize;
        nuint bytes = (nuint)length * (nuint)sizeof(T);
        nuint dataPages = (bytes + page - 1) / page;
        nuint total = (dataPages + 1) * page;
        nint map = s_mmap(0, total, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (map == -1)
        {
            throw new InvalidOperationException($"mmap of {total} bytes failed (errno {Marshal.GetLastSystemError()}).");
        }
        // After: data pages first, the guard last, the buffer ending on the guard's first byte. Before: the guard first,
        // the buffer starting on the first byte after it. Element alignment holds: page and element sizes are powers of 2.
        nint guard = side == GuardSide.After ? map + (nint)(dataPages * page) : map;
        nint start = side == GuardSide.After ? guard - (nint)bytes : map + (nint)page;
        if (s_mprotect(guard, page, ProtNone) != 0)
        {
            s_munmap(map, total);
            throw new InvalidOperationException($"mprotect failed (errno {Marshal.GetLastSystemError()}).");
        }
        return new GuardedBuffer<T>(map, total, (T*)start, length);
    }

    /// <summary>A guarded copy of <paramref name="values"/>.</summary>
    public static GuardedBuffer<T> Copy<T>(ReadOnlySpan<T> values, GuardSide side = GuardSide.After) where T : unmanaged
    {
        var buffer = Allocate<T>(values.Length, side);
        values.CopyTo(buffer.Span);
        return buffer;
    }

    internal static void Unmap(nint map, nuint total) => s_munmap(map, total);
}

/// <summary>A span of native memory with a guard page at one end (see <see cref="GuardedMemory"/>); dispose to unmap.</summary>
internal sealed unsafe class GuardedBuffer<T> : IDisposable where T : unmanaged
{
    private nint _map;
    private readonly nuint _total;
    private readonly T* _start;

    internal GuardedBuffer(nint map, nuint total, T* start, int length)
    {
        _map = map;
        _total = total;
        _start = start;
        Length = length;
    }

    public int Length { get; }

    public Span<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(_map == 0, this);
            return new Span<T>(_start, Length);
        }
    }

    /// <summary>The element just past the end (<see cref="GuardSide.After"/>) or just before the start (<see cref="GuardSide.Before"/>) lies in the guard page.</summary>
    public T* Start => _start;

    public T[] ToArray() => Span.ToArray();

    public void Dispose()
    {
        if (_map != 0)
        {
            GuardedMemory.Unmap(_map, _total);
            _map = 0;
        }
    }
}

/// <summary>
/// Several guarded buffers with the guard on the same side, unmapped together: one per input and output of a call, so
/// that every span the call receives is checked at once (each has a guard page of its own).
/// </summary>
internal sealed class GuardedArena(GuardSide side) : IDisposable
{
    /// <summary>Both placements, for tests that check overruns and under-runs.</summary>
    public static readonly GuardSide[] Sides = [GuardSide.After, GuardSide.Before];

    private readonly List<IDisposable> _buffers = [];

    public GuardSide Side => side;

    public Span<T> Allocate<T>(int length) where T : unmanaged => AllocateBuffer<T>(length).Span;

    public Span<T> Copy<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        Span<T> span = Allocate<T>(values.Length);
        values.CopyTo(span);
        return span;
    }

    /// <summary>The buffer itself, for callers that keep it beyond a stack frame (a span cannot be stored in a class).</summary>
    public GuardedBuffer<T> AllocateBuffer<T>(int length) where T : unmanaged
    {
        var buffer = GuardedMemory.Allocate<T>(length, side);
        _buffers.Add(buffer);
        return buffer;
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers)
        {
            buffer.Dispose();
        }
        _buffers.Clear();
    }
}

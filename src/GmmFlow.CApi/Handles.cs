using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow.CApi;

/// <summary>
/// Opaque handles: a C pointer is a key into a table of live objects, never an address, so NULL, a freed handle, a
/// handle of the wrong kind or any garbage value is refused with a message instead of crashing the process. Keys
/// are never reused (a 64-bit counter), so a stale handle cannot reach another object.
/// </summary>
internal static unsafe class Handles
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<nint, object> s_live = new();
    private static long s_next;

    public static nint New(object value)
    {
        // Odd keys from a counter: never 0 (NULL), never a plausible aligned pointer.
        nint key = (nint)(Interlocked.Increment(ref s_next) * 2 + 1);
        s_live[key] = value;
        return key;
    }

    public static T Get<T>(nint handle, string name) where T : class
    {
        if (handle == 0)
        {
            throw new ArgumentNullException(name, $"{name} is NULL.");
        }
        if (!s_live.TryGetValue(handle, out object? target))
        {
            throw new ArgumentException($"{name} is not a live handle (freed, or never returned by gmmflow).", name);
        }
        return target as T ?? throw new ArgumentException($"{name} is a {target.GetType().Name} handle, not a {typeof(T).Name} handle.", name);
    }

    public static void Free(nint handle)
    {
        if (handle != 0 && !s_live.TryRemove(handle, out _))
        {
            throw new ArgumentException("The handle passed to free is not live (freed twice, or never returned by gmmflow).", "handle");
        }
    }

    /// <summary>Writes a new handle to <paramref name="destination"/> (checked non-NULL before any work by the caller).</summary>
    public static void Out(nint* destination, object value) => *destination = New(value);

    public static void CheckOut(void* destination, string name)
    {
        if (destination is null)
        {
            throw new ArgumentNullException(name, $"{name} is NULL.");
        }
    }

    /// <summary>A read-only span over caller memory of <paramref name="count"/> doubles; NULL only with count 0.</summary>
    public static ReadOnlySpan<double> In(double* data, long count, string name) => new(Check(data, count, name), (int)count);

    public static Span<double> Out(double* data, long count, string name) => new(Check(data, count, name), (int)count);

    public static Span<int> Out(int* data, long count, string name) => new(Check(data, count, name), (int)count);

    /// <summary>N·d as an int, refusing counts the managed API cannot hold in one span.</summary>
    public static long Elements(long rows, long columns, string name)
    {
        if (rows < 0)
        {
            throw new ArgumentOutOfRangeException(name, rows, $"{name} must not be negative.");
        }
        long total = rows * columns;
        if (columns != 0 && total / columns != rows || total > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(name, rows,
                $"{name} = {rows} rows of {columns} values exceeds one call's limit of {Array.MaxLength} values; split the batch.");
        }
        return total;
    }

    public static string Utf8(byte* text, string name)
    {
        if (text is null)
        {
            throw new ArgumentNullException(name, $"{name} is NULL.");
        }
        return Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(text));
    }

    private static void* Check(void* data, long count, string name)
    {
        if (count < 0 || count > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(name, count, $"{name}: {count} values is out of range.");
        }
        if (data is null && count > 0)
        {
            throw new ArgumentNullException(name, $"{name} is NULL.");
        }
        return data;
    }
}

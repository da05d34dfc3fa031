using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow.CApi;

/// <summary>
/// Opaque handles: a C pointer is a <see cref="GCHandle"/> to the managed object. A handle of the wrong kind,
/// NULL, or one already freed is refused with a message instead of crashing (the GCHandle is checked first).
/// </summary>
internal static unsafe class Handles
{
    public static nint New(object value) => GCHandle.ToIntPtr(GCHandle.Alloc(value));

    public static T Get<T>(nint handle, string name) where T : class
    {
        if (handle == 0)
        {
            throw new ArgumentNullException(name, $"{name} is NULL.");
        }
        object? target = GCHandle.FromIntPtr(handle).Target;
        return target as T ?? throw new ArgumentException($"{name} is not a live {typeof(T).Name} handle.", name);
    }

    public static void Free(nint handle)
    {
        if (handle != 0)
        {
            GCHandle.FromIntPtr(handle).Free();
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

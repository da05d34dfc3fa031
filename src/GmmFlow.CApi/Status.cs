using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow.CApi;

/// <summary>Status codes of every export (include/gmmflow.h: GMF_OK …). Stable: values are never reused.</summary>
internal enum Status
{
    Ok = 0,
    InvalidArgument = 1,
    DataFormat = 2,
    Numerical = 3,
    NativeLibrary = 4,
    Io = 5,
    Cancelled = 6,
    Internal = 7,
    OutOfMemory = 8,
}

/// <summary>
/// The per-thread last-error message and the exception-to-status mapping. No exception may cross the C boundary:
/// every export catches everything and returns <see cref="Report"/>'s code.
/// </summary>
internal static unsafe class Errors
{
    [ThreadStatic]
    private static byte* t_message;

    private static readonly byte* s_empty = (byte*)NativeMemory.AllocZeroed(1);

    /// <summary>The calling thread's last error message (UTF-8, NUL-terminated), "" when the last call succeeded.</summary>
    public static byte* LastMessage => t_message is null ? s_empty : t_message;

    public static void Clear() => Set(null);

    public static Status Fail(Status status, string message)
    {
        Set(message);
        return status;
    }

    /// <summary>Records <paramref name="e"/> as the thread's last error and returns its status code.</summary>
    public static int Report(Exception e) => (int)Fail(Classify(e), OneLine(e));

    public static Status Classify(Exception e) => e switch
    {
        OperationCanceledException => Status.Cancelled,
        OutOfMemoryException or InsufficientExecutionStackException => Status.OutOfMemory,
        NotPositiveDefiniteException or NonFiniteValueException => Status.Numerical,
        DataFormatException or FormatException => Status.DataFormat,
        DllNotFoundException or EntryPointNotFoundException => Status.NativeLibrary,
        ArgumentException or OverflowException => Status.InvalidArgument,
        IOException or UnauthorizedAccessException => Status.Io,
        LapackException or HighsException => Status.Numerical,
        _ => Status.Internal,
    };

    private static string OneLine(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } && e.InnerException is not null)
        {
            e = e.InnerException;
        }
        string kind = e.GetType().Name;
        return $"{kind}: {e.Message.ReplaceLineEndings(" ")}";
    }

    private static void Set(string? message)
    {
        if (t_message is not null)
        {
            NativeMemory.Free(t_message);
            t_message = null;
        }
        if (message is null)
        {
            return;
        }
        int length = Encoding.UTF8.GetByteCount(message);
        var buffer = (byte*)NativeMemory.Alloc((nuint)length + 1);
        Encoding.UTF8.GetBytes(message, new Span<byte>(buffer, length));
        buffer[length] = 0;
        t_message = buffer;
    }
}

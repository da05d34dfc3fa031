using System.Diagnostics;
using System.Text;

namespace GmmFlow.Native.Highs;

/// <summary>
/// Typed setters for HiGHS options. Option names are NUL-terminated UTF-8: pass a literal such as
/// <c>"presolve\0"u8</c> (no allocation), or a <see cref="string"/> that is encoded into a stack buffer.
/// An unknown name or a value out of range is a HiGHS error status and becomes a <see cref="HighsException"/>.
/// </summary>
internal static unsafe class HighsOptions
{
    // kHighsMaximumStringLength in highs_c_api.h; option names and values are far shorter.
    private const int MaxLength = 512;

    internal static void SetBool(SafeHighsHandle highs, ReadOnlySpan<byte> nameZ, bool value)
    {
        AssertTerminated(nameZ);
        fixed (byte* name = nameZ)
        {
            Check("Highs_setBoolOptionValue", nameZ, Interop.Highs.Highs_setBoolOptionValue(highs, name, value ? 1 : 0));
        }
    }

    internal static void SetInt(SafeHighsHandle highs, ReadOnlySpan<byte> nameZ, int value)
    {
        AssertTerminated(nameZ);
        fixed (byte* name = nameZ)
        {
            Check("Highs_setIntOptionValue", nameZ, Interop.Highs.Highs_setIntOptionValue(highs, name, value));
        }
    }

    internal static int GetInt(SafeHighsHandle highs, ReadOnlySpan<byte> nameZ)
    {
        AssertTerminated(nameZ);
        int value;
        fixed (byte* name = nameZ)
        {
            Check("Highs_getIntOptionValue", nameZ, Interop.Highs.Highs_getIntOptionValue(highs, name, &value));
        }

        return value;
    }

    internal static void SetDouble(SafeHighsHandle highs, ReadOnlySpan<byte> nameZ, double value)
    {
        AssertTerminated(nameZ);
        fixed (byte* name = nameZ)
        {
            Check("Highs_setDoubleOptionValue", nameZ, Interop.Highs.Highs_setDoubleOptionValue(highs, name, value));
        }
    }

    internal static void SetString(SafeHighsHandle highs, ReadOnlySpan<byte> nameZ, ReadOnlySpan<byte> valueZ)
    {
        AssertTerminated(nameZ);
        AssertTerminated(valueZ);
        fixed (byte* name = nameZ)
        fixed (byte* value = valueZ)
        {
            Check("Highs_setStringOptionValue", nameZ, Interop.Highs.Highs_setStringOptionValue(highs, name, value));
        }
    }

    /// <summary>Sets a string option by name, e.g. ("solver", "ipm"); for options chosen at run time.</summary>
    internal static void SetString(SafeHighsHandle highs, string name, string value)
    {
        Span<byte> nameZ = stackalloc byte[MaxLength];
        Span<byte> valueZ = stackalloc byte[MaxLength];
        SetString(highs, EncodeZ(name, nameZ, nameof(name)), EncodeZ(value, valueZ, nameof(value)));
    }

    /// <summary>UTF-8 encodes <paramref name="text"/> into <paramref name="buffer"/> and appends the terminating NUL.</summary>
    internal static ReadOnlySpan<byte> EncodeZ(string text, Span<byte> buffer, string paramName)
    {
        int written = 0;
        if (text.Contains('\0') || !Encoding.UTF8.TryGetBytes(text, buffer[..^1], out written))
        {
            ThrowHelper.ThrowArgument($"HiGHS option text \"{text}\" must be shorter than {MaxLength} UTF-8 bytes and contain no NUL.", paramName);
        }

        buffer[written] = 0;
        return buffer[..(written + 1)];
    }

    private static void Check(string call, ReadOnlySpan<byte> nameZ, int status)
    {
        if (status == Interop.Highs.kHighsStatusError)
        {
            ThrowHelper.ThrowHighs(call, status, $"option \"{Encoding.UTF8.GetString(nameZ[..^1])}\" was rejected");
        }
    }

    [Conditional("DEBUG")]
    private static void AssertTerminated(ReadOnlySpan<byte> textZ)
        => Debug.Assert(!textZ.IsEmpty && textZ[^1] == 0, "HiGHS strings must be NUL-terminated.");
}

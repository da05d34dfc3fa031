using System.Runtime.InteropServices;

namespace GmmFlow.Native.Compression;

/// <summary>
/// Decompresses a whole .xz stream in memory through liblzma's single-call decoder (lzma_stream_buffer_decode).
/// </summary>
/// <remarks>
/// Why liblzma and not a managed decoder: .NET has no xz support, and liblzma is part of every Debian system
/// (dpkg itself depends on it), so the library costs nothing to require. It is loaded on first use by file name.
/// </remarks>
public static unsafe class XzDecoder
{
    private const int LzmaOk = 0, LzmaStreamEnd = 1, LzmaBufError = 10;
    private static readonly string[] s_names = ["liblzma.so.5", "liblzma.so", "liblzma.5.dylib"];
    private static IntPtr s_decode;

    /// <summary>True when <paramref name="data"/> starts with the xz magic bytes FD 37 7A 58 5A 00.</summary>
    public static bool IsXz(ReadOnlySpan<byte> data)
        => data.Length >= 6 && data[0] == 0xFD && data[1] == 0x37 && data[2] == 0x7A && data[3] == 0x58 && data[4] == 0x5A && data[5] == 0;

    /// <summary>Decodes <paramref name="input"/> (one or more concatenated .xz streams' first stream) and returns the bytes.</summary>
    /// <exception cref="NativeLibraryNotFoundException">liblzma is not installed.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid .xz stream (liblzma's return code is named).</exception>
    public static byte[] Decode(ReadOnlySpan<byte> input)
    {
        var decode = (delegate* unmanaged<ulong*, uint, IntPtr, byte*, nuint*, nuint, byte*, nuint*, nuint, int>)Load();
        int capacity = Math.Max(1 << 16, input.Length * 8);
        while (true)
        {
            byte[] output = new byte[capacity];
            ulong memLimit = ulong.MaxValue;
            nuint inPos = 0, outPos = 0;
            int ret;
            fixed (byte* pIn = input)
            fixed (byte* pOut = output)
            {
                ret = decode(&memLimit, 0, IntPtr.Zero, pIn, &inPos, (nuint)input.Length, pOut, &outPos, (nuint)output.Length);
            }
            if (ret == LzmaOk || ret == LzmaStreamEnd)
            {
                Array.Resize(ref output, (int)outPos);
                return output;
            }
            // BUF_ERROR from the single-call decoder means the output buffer was too small.
            if (ret == LzmaBufError && capacity < int.MaxValue / 2)
            {
                capacity *= 2;
                continue;
            }
            throw new InvalidDataException($"liblzma could not decode the .xz data (lzma_ret {ret}).");
        }
    }

    private static IntPtr Load()
    {
        IntPtr f = Volatile.Read(ref s_decode);
        if (f != IntPtr.Zero)
        {
            return f;
        }
        foreach (string name in s_names)
        {
            if (NativeLibrary.TryLoad(name, out IntPtr handle) && NativeLibrary.TryGetExport(handle, "lzma_stream_buffer_decode", out f))
            {
                Volatile.Write(ref s_decode, f);
                return f;
            }
        }
        throw new NativeLibraryNotFoundException("liblzma", "Install it: 'apt-get install liblzma5'", "tried " + string.Join(", ", s_names));
    }
}

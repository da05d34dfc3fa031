using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow.Cli.Bench;

/// <summary>
/// float64 .npy files of any shape for the comparison scripts (SampleFiles writes only (N, d) sample arrays;
/// the scripts also need vectors and stacks of matrices).
/// </summary>
internal static class NpyWriter
{
    /// <summary>NPY 1.0: magic, version, little-endian header length, the header dict padded to 64 bytes, C-order data.</summary>
    public static void Write(string path, ReadOnlySpan<double> values, params ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int s in shape)
        {
            count *= s;
        }
        if (count != values.Length)
        {
            throw new ArgumentException($"Shape ({string.Join(", ", shape.ToArray())}) holds {count} values, not {values.Length}.", nameof(shape));
        }
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + dict.Length + 1;
        string header = dict + new string(' ', (total + 63) / 64 * 64 - total) + "\n";
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Span<byte> prefix = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0, 0];
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.ASCII.GetBytes(header));
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        Span<byte> b = stackalloc byte[8];
        foreach (double v in values)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(b, v);
            stream.Write(b);
        }
    }
}

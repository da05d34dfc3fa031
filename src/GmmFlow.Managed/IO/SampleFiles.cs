using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow;

/// <summary>
/// Point sets (N×d, row-major) in NumPy .npy and CSV files. .npy: reads float64 and float32, little-endian,
/// C order, shape (N, d) or (N,) (then d = 1); writes float64 (N, d), format version 1.0. CSV: comma-separated,
/// one point per line, an optional header line (detected when its fields are not numbers), '#' comment lines
/// ignored. Every problem is a <see cref="DataFormatException"/> naming the file and what is wrong; values
/// must be finite.
/// </summary>
public static class SampleFiles
{
    // "\x93NUMPY" as bytes: a u8 string literal would encode U+0093 as two UTF-8 bytes.
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads a .npy or .csv file (chosen by extension, case-insensitive).</summary>
    /// <param name="path">The file.</param>
    /// <param name="dimension">d, the number of coordinates per point.</param>
    /// <returns>The points, row-major N×d.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">Unknown extension, malformed or truncated content, unsupported dtype or order, non-finite values.</exception>
    public static double[] Read(string path, out int dimension)
    {
        bool npy = IsNpy(path);
        if (!npy && !IsCsv(path))
        {
            throw new DataFormatException(path, null, -1, $"{path}: unknown sample file type; use a .npy or .csv file.");
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file.", path);
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return npy ? ReadNpy(stream, path, out dimension) : ReadCsv(stream, path, out dimension);
    }

    /// <summary>Writes a .npy or .csv file (by extension) holding <paramref name="values"/> (row-major N×<paramref name="dimension"/>).</summary>
    public static void Write(string path, ReadOnlySpan<double> values, int dimension)
    {
        bool npy = IsNpy(path);
        if (!npy && !IsCsv(path))
        {
            throw new ArgumentException($"{path}: unknown sample file type; use a .npy or .csv file.", nameof(path));
        }
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        if (npy)
        {
            WriteNpy(stream, values, dimension);
        }
        else
        {
            WriteCsv(stream, values, dimension);
        }
    }

    /// <summary>True when <paramref name="path"/> ends in .npy (case-insensitive).</summary>
    public static bool IsNpy(string path) => path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="path"/> ends in .csv (case-insensitive).</summary>
    public static bool IsCsv(string path) => path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a .npy array from <paramref name="stream"/>; <paramref name="sourceName"/> names it in errors.</summary>
    public static double[] ReadNpy(Stream stream, string sourceName, out int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix[..10], 10, throwOnEndOfStream: false);
        if (got < 10 || !prefix[..6].SequenceEqual(Magic))
        {
            throw Npy(sourceName, "header", "is not a .npy file (missing the \\x93NUMPY magic)");
        }
        byte major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..10]);
        }
        else if (major is 2 or 3)
        {
            if (stream.ReadAtLeast(prefix[10..12], 2, throwOnEndOfStream: false) < 2)
            {
                throw Npy(sourceName, "header", "is truncated inside the header");
            }
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..12]);
            if (len > 1 << 20)
            {
                throw Npy(sourceName, "header", $"declares a header of {len} bytes, which is not plausible");
            }
            headerLength = (int)len;
        }
        else
        {
            throw Npy(sourceName, "header", $"has format version {major}.{prefix[7]}, expected 1.0, 2.0 or 3.0");
        }
        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerLength, throwOnEndOfStream: false) < headerLength)
        {
            throw Npy(sourceName, "header", "is truncated inside the header");
        }
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        (string descr, bool fortran, long[] shape) = ParseHeader(header, sourceName);

        int itemSize = descr switch
        {
            "<f8" => 8,
            "<f4" => 4,
            ">f8" or ">f4" => throw Npy(sourceName, "header", $"has big-endian dtype '{descr}'; save little-endian float64 (X.astype('<f8'))"),
            _ => throw Npy(sourceName, "header", $"has dtype '{descr}'; samples must be float64 ('<f8') or float32 ('<f4')"),
        };
        if (shape.Length is 0 or > 2)
        {
            throw Npy(sourceName, "header", $"has shape ({string.Join(", ", shape)}); expected (N, d) or (N,)");
        }
        if (fortran && shape.Length == 2 && shape[0] > 1 && shape[1] > 1)
        {
            throw Npy(sourceName, "header", "holds a Fortran-ordered (column-major) array; save it in C order (np.ascontiguousarray(X))");
        }
        long n = shape[0], d = shape.Length == 2 ? shape[1] : 1;
        if (d < 1)
        {
            throw Npy(sourceName, "header", $"has shape ({string.Join(", ", shape)}); points need at least one coordinate");
        }
        if (n * d > Array.MaxLength)
        {
            throw Npy(sourceName, "header", $"has shape ({string.Join(", ", shape)}), more values than one array can hold");
        }
        var values = new double[n * d];
        long expectedBytes = n * d * itemSize;
        long read;
        if (itemSize == 8)
        {
            Span<byte> bytes = MemoryMarshal.AsBytes(values.AsSpan());
            read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReverseEndianness(BitConverter.DoubleToInt64Bits(values[i])));
                }
            }
        }
        else
        {
            var floats = new float[n * d];
            Span<byte> bytes = MemoryMarshal.AsBytes(floats.AsSpan());
            read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
            for (int i = 0; i < floats.Length; i++)
            {
                float f = BitConverter.IsLittleEndian ? floats[i] : BitConverter.Int32BitsToSingle(BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(floats[i])));
                values[i] = f;
            }
        }
        if (read < expectedBytes)
        {
            throw Npy(sourceName, "data", $"is truncated: shape ({string.Join(", ", shape)}) needs {expectedBytes} bytes of data, the file has {read}");
        }
        Span<byte> extra = stackalloc byte[1];
        if (stream.Read(extra) > 0)
        {
            throw Npy(sourceName, "data", $"has bytes after the {expectedBytes} bytes that shape ({string.Join(", ", shape)}) declares; the header does not match the data");
        }
        dimension = (int)d;
        CheckFinite(values, dimension, sourceName, csv: false);
        return values;
    }

    /// <summary>Writes <paramref name="values"/> (row-major N×<paramref name="dimension"/>) as a float64 C-order .npy array of shape (N, d).</summary>
    public static void WriteNpy(Stream stream, ReadOnlySpan<double> values, int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckShape(values, dimension);
        WriteNpy(stream, values, [values.Length / dimension, dimension]);
    }

    /// <summary>
    /// Writes <paramref name="values"/> as a float64 C-order .npy array of any <paramref name="shape"/> (e.g. trajectories
    /// as (snapshots, N, d)); the product of the shape must equal the number of values.
    /// </summary>
    public static void WriteNpy(Stream stream, ReadOnlySpan<double> values, ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long count = 1;
        foreach (long extent in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(extent, nameof(shape));
            count *= extent;
        }
        if (count != values.Length)
        {
            throw new ArgumentException($"The shape ({string.Join(", ", shape.ToArray())}) holds {count} values, not {values.Length}.", nameof(shape));
        }
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.ToArray());
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}";
        // Pad with spaces and a final newline so the data starts on a 64-byte boundary (NumPy's convention).
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        Span<byte> prefix = stackalloc byte[10];
        Magic.CopyTo(prefix);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.ASCII.GetBytes(header));
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
        }
        else
        {
            Span<byte> b = stackalloc byte[8];
            foreach (double v in values)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(b, v);
                stream.Write(b);
            }
        }
    }

    /// <summary>Reads CSV points from <paramref name="stream"/> (UTF-8); <paramref name="sourceName"/> names it in errors.</summary>
    public static double[] ReadCsv(Stream stream, string sourceName, out int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var values = new List<double>();
        dimension = -1;
        int lineNumber = 0, row = 0;
        bool firstContent = true;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            ReadOnlySpan<char> text = line.AsSpan().Trim();
            if (text.IsEmpty || text[0] == '#')
            {
                continue;
            }
            int fields = text.Count(',') + 1;
            if (firstContent)
            {
                firstContent = false;
                if (!AllNumbers(text))
                {
                    dimension = fields; // a header line: it fixes the column count
                    continue;
                }
            }
            if (dimension < 0)
            {
                dimension = fields;
            }
            else if (fields != dimension)
            {
                throw new DataFormatException(sourceName, "data", row,
                    $"{sourceName}: line {lineNumber} has {fields} values, expected {dimension} (as in the first line).");
            }
            int column = 0;
            foreach (Range r in text.Split(','))
            {
                ReadOnlySpan<char> token = text[r].Trim();
                if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                {
                    throw new DataFormatException(sourceName, "data", row,
                        $"{sourceName}: line {lineNumber}, column {column + 1}: '{token.ToString()}' is not a number.");
                }
                if (!double.IsFinite(v))
                {
                    throw new DataFormatException(sourceName, "data", row,
                        $"{sourceName}: line {lineNumber}, column {column + 1}: {token.ToString()} is not finite.");
                }
                values.Add(v);
                column++;
            }
            row++;
        }
        if (row == 0)
        {
            throw new DataFormatException(sourceName, null, -1, $"{sourceName}: the file has no data lines.");
        }
        return [.. values];
    }

    /// <summary>Writes CSV: an optional header x0,x1,… then one point per line, numbers in shortest round-trip form.</summary>
    public static void WriteCsv(Stream stream, ReadOnlySpan<double> values, int dimension, bool header = true)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckShape(values, dimension);
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        if (header)
        {
            for (int j = 0; j < dimension; j++)
            {
                w.Write(j == 0 ? "x0" : $",x{j}");
            }
            w.WriteLine();
        }
        Span<char> buffer = stackalloc char[32];
        for (int i = 0; i < values.Length; i += dimension)
        {
            for (int j = 0; j < dimension; j++)
            {
                if (j > 0)
                {
                    w.Write(',');
                }
                values[i + j].TryFormat(buffer, out int written, "R", CultureInfo.InvariantCulture);
                w.Write(buffer[..written]);
            }
            w.WriteLine();
        }
    }

    private static bool AllNumbers(ReadOnlySpan<char> text)
    {
        foreach (Range r in text.Split(','))
        {
            if (!double.TryParse(text[r].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }
        }
        return true;
    }

    private static void CheckShape(ReadOnlySpan<double> values, int dimension)
    {
        if (dimension < 1 || values.Length % dimension != 0)
        {
            throw new ArgumentException($"{values.Length} values do not form points of dimension {dimension}.", nameof(dimension));
        }
    }

    private static void CheckFinite(double[] values, int d, string file, bool csv)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new DataFormatException(file, "data", i / d,
                    $"{file}: row {i / d}, column {i % d} is {values[i]}; samples must be finite{(csv ? "" : " (NaN/inf in the array)")}.");
            }
        }
    }

    private static DataFormatException Npy(string file, string field, string detail)
        => new(file, field, -1, $"{file}: {(field == "header" ? ".npy header" : ".npy data")} {detail}.");

    /// <summary>Parses NumPy's header dict, e.g. {'descr': '&lt;f8', 'fortran_order': False, 'shape': (100, 2), }.</summary>
    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string header, string file)
    {
        string? descr = null;
        bool? fortran = null;
        long[]? shape = null;
        int i = 0;
        Skip(header, ref i);
        Expect(header, ref i, '{', file);
        while (true)
        {
            Skip(header, ref i);
            if (i < header.Length && header[i] == '}')
            {
                break;
            }
            string key = QuotedString(header, ref i, file);
            Skip(header, ref i);
            Expect(header, ref i, ':', file);
            Skip(header, ref i);
            switch (key)
            {
                case "descr":
                    descr = QuotedString(header, ref i, file);
                    break;
                case "fortran_order":
                    if (header.AsSpan(i).StartsWith("True"))
                    {
                        fortran = true;
                        i += 4;
                    }
                    else if (header.AsSpan(i).StartsWith("False"))
                    {
                        fortran = false;
                        i += 5;
                    }
                    else
                    {
                        throw Npy(file, "header", "has a 'fortran_order' that is neither True nor False");
                    }
                    break;
                case "shape":
                    shape = Tuple(header, ref i, file);
                    break;
                default:
                    throw Npy(file, "header", $"has an unexpected key '{key}'");
            }
            Skip(header, ref i);
            if (i < header.Length && header[i] == ',')
            {
                i++;
            }
        }
        if (descr is null || fortran is null || shape is null)
        {
            throw Npy(file, "header", "lacks 'descr', 'fortran_order' or 'shape'");
        }
        return (descr, fortran.Value, shape);
    }

    private static void Skip(string s, ref int i)
    {
        while (i < s.Length && char.IsWhiteSpace(s[i]))
        {
            i++;
        }
    }

    private static void Expect(string s, ref int i, char c, string file)
    {
        if (i >= s.Length || s[i] != c)
        {
            throw Npy(file, "header", $"is malformed (expected '{c}' at position {i})");
        }
        i++;
    }

    private static string QuotedString(string s, ref int i, string file)
    {
        if (i >= s.Length || (s[i] != '\'' && s[i] != '"'))
        {
            throw Npy(file, "header", $"is malformed (expected a quoted string at position {i})");
        }
        char quote = s[i++];
        int end = s.IndexOf(quote, i);
        if (end < 0)
        {
            throw Npy(file, "header", "is malformed (unterminated string)");
        }
        string value = s[i..end];
        i = end + 1;
        return value;
    }

    private static long[] Tuple(string s, ref int i, string file)
    {
        Expect(s, ref i, '(', file);
        var items = new List<long>(2);
        while (true)
        {
            Skip(s, ref i);
            if (i < s.Length && s[i] == ')')
            {
                i++;
                return [.. items];
            }
            int start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            if (i == start || !long.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out long v))
            {
                throw Npy(file, "header", $"has a malformed 'shape' (position {start})");
            }
            items.Add(v);
            Skip(s, ref i);
            if (i < s.Length && s[i] == ',')
            {
                i++;
            }
        }
    }
}

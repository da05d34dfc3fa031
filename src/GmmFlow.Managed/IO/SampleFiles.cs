using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow;

/// <summary>
/// Point sets (N×d, row-major) in NumPy .npy/.npz and CSV/TSV files. .npy: reads float64 and float32 in either byte
/// order, C order, shape (N, d) or (N,) (then d = 1), format versions 1–3, streaming in chunks (files of any size whose
/// values fit one .NET array); writes float64 (N, d), format version 1.0, streaming. .npz: the zip of .npy files that
/// np.savez / np.savez_compressed write (stored or deflated); one array, or the one named by "file.npz:name". CSV: the
/// rules of <see cref="SampleReadOptions"/> (delimiter, header, pandas index column, quotes). Every problem is a
/// <see cref="DataFormatException"/> naming the file and what is wrong; values must be finite.
/// </summary>
public static class SampleFiles
{
    // "\x93NUMPY" as bytes: a u8 string literal would encode U+0093 as two UTF-8 bytes.
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>
    /// Bytes moved per read or write call when streaming .npy data (1 MiB). Internal so tests can shrink it and run
    /// the same chunked code on small arrays.
    /// </summary>
    internal static int ChunkBytes { get; set; } = 1 << 20;

    /// <summary>Reads a .npy, .npz, .csv or .tsv file (chosen by extension, case-insensitive).</summary>
    /// <param name="path">The file; for .npz optionally "file.npz:name" to pick one array.</param>
    /// <param name="dimension">d, the number of coordinates per point.</param>
    /// <returns>The points, row-major N×d.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist or is a directory.</exception>
    /// <exception cref="DataFormatException">Unknown extension, malformed or truncated content, unsupported dtype or order, non-finite values.</exception>
    public static double[] Read(string path, out int dimension) => Read(path, new SampleReadOptions(), out dimension);

    /// <summary>Reads a sample file with explicit CSV rules, a cancellation token and a notice callback.</summary>
    public static double[] Read(string path, SampleReadOptions options, out int dimension)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        string file = path;
        string? member = null;
        int colon = path.LastIndexOf(".npz:", StringComparison.OrdinalIgnoreCase);
        if (colon >= 0)
        {
            file = path[..(colon + 4)];
            member = path[(colon + 5)..];
        }
        if (!IsSampleFile(file))
        {
            throw new DataFormatException(path, null, -1, $"{path}: unknown sample file type; use a .npy, .npz, .csv or .tsv file.");
        }
        if (Directory.Exists(file))
        {
            throw new FileNotFoundException($"{file} is a directory, not a file.", file);
        }
        if (!File.Exists(file))
        {
            throw new FileNotFoundException($"{file}: no such file.", file);
        }
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (IsNpz(file))
        {
            return ReadNpz(stream, file, member, options.CancellationToken, out dimension);
        }
        return IsNpy(file) ? ReadNpy(stream, file, options.CancellationToken, out dimension) : ReadCsv(stream, file, options, out dimension);
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

    /// <summary>True when <paramref name="path"/> ends in .csv or .tsv (case-insensitive): the text formats.</summary>
    public static bool IsCsv(string path) => path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || IsTsv(path);

    /// <summary>True when <paramref name="path"/> ends in .tsv (case-insensitive).</summary>
    public static bool IsTsv(string path) => path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="path"/> ends in .npz (case-insensitive).</summary>
    public static bool IsNpz(string path) => path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for every readable sample file: .npy, .npz (also "file.npz:name"), .csv, .tsv.</summary>
    public static bool IsSampleFile(string path)
        => IsNpy(path) || IsNpz(path) || IsCsv(path) || path.Contains(".npz:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a .npy array from <paramref name="stream"/> (in chunks); <paramref name="sourceName"/> names it in errors.</summary>
    public static double[] ReadNpy(Stream stream, string sourceName, out int dimension) => ReadNpy(stream, sourceName, default, out dimension);

    /// <summary>Reads a .npy array in chunks, observing <paramref name="cancellationToken"/> between chunks.</summary>
    private static double[] ReadNpy(Stream stream, string sourceName, CancellationToken cancellationToken, out int dimension)
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

        // '|' and '=' byte orders: '=' is the writer's native order, which NumPy only writes for one-byte types.
        (int itemSize, bool bigEndian) = descr switch
        {
            "<f8" => (8, false),
            ">f8" => (8, true),
            "<f4" => (4, false),
            ">f4" => (4, true),
            _ => throw Npy(sourceName, "header", $"has dtype '{descr}'; samples must be float64 or float32 ('<f8', '>f8', '<f4', '>f4'): convert with X.astype('<f8')"),
        };
        string shapeText = string.Join(", ", shape);
        if (shape.Length is 0 or > 2)
        {
            throw Npy(sourceName, "header", $"has shape ({shapeText}); expected (N, d) or (N,)");
        }
        if (fortran && shape.Length == 2 && shape[0] > 1 && shape[1] > 1)
        {
            throw Npy(sourceName, "header", "holds a Fortran-ordered (column-major) array; save it in C order (np.ascontiguousarray(X))");
        }
        long n = shape[0], d = shape.Length == 2 ? shape[1] : 1;
        if (d < 1)
        {
            throw Npy(sourceName, "header", $"has shape ({shapeText}); points need at least one coordinate");
        }
        // Overflow-safe: n·d ≤ Array.MaxLength checked as n ≤ Array.MaxLength / d.
        if (n > Array.MaxLength / d)
        {
            throw Npy(sourceName, "header", $"has shape ({shapeText}): {(decimal)n * d} values, more than one .NET array holds ({Array.MaxLength}); split the points into several files");
        }
        var values = new double[n * d];
        long expectedBytes = n * d * itemSize;
        long read = ReadValues(stream, values, itemSize, bigEndian, cancellationToken);
        if (read < expectedBytes)
        {
            throw Npy(sourceName, "data", $"is truncated: shape ({shapeText}) needs {expectedBytes} bytes of data, the file has {read}");
        }
        Span<byte> extra = stackalloc byte[1];
        if (stream.Read(extra) > 0)
        {
            throw Npy(sourceName, "data", $"has bytes after the {expectedBytes} bytes that shape ({shapeText}) declares; the header does not match the data");
        }
        dimension = (int)d;
        CheckFinite(values, dimension, sourceName);
        return values;
    }

    /// <summary>Fills <paramref name="values"/> from the stream chunk by chunk; returns the bytes read (less than needed when truncated).</summary>
    private static long ReadValues(Stream stream, double[] values, int itemSize, bool bigEndian, CancellationToken cancellationToken)
    {
        int perChunk = Math.Max(1, ChunkBytes / itemSize);
        byte[] buffer = new byte[Math.Min((long)perChunk, Math.Max(1, values.Length)) * itemSize];
        long total = 0;
        for (int start = 0; start < values.Length; start += perChunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(perChunk, values.Length - start);
            int bytes = stream.ReadAtLeast(buffer.AsSpan(0, count * itemSize), count * itemSize, throwOnEndOfStream: false);
            total += bytes;
            int whole = bytes / itemSize;
            Span<double> target = values.AsSpan(start, whole);
            ReadOnlySpan<byte> source = buffer.AsSpan(0, whole * itemSize);
            if (itemSize == 8)
            {
                for (int i = 0; i < whole; i++)
                {
                    target[i] = bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(source[(i * 8)..]) : BinaryPrimitives.ReadDoubleLittleEndian(source[(i * 8)..]);
                }
            }
            else
            {
                for (int i = 0; i < whole; i++)
                {
                    target[i] = bigEndian ? BinaryPrimitives.ReadSingleBigEndian(source[(i * 4)..]) : BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                }
            }
            if (bytes < count * itemSize)
            {
                break;
            }
        }
        return total;
    }

    /// <summary>
    /// Reads one array of a .npz (zip of .npy files, stored or deflated): the only array in the file, or the one
    /// named <paramref name="member"/> (with or without ".npy").
    /// </summary>
    public static double[] ReadNpz(Stream stream, string sourceName, string? member, CancellationToken cancellationToken, out int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(sourceName, null, -1, $"{sourceName}: not a .npz file (not a valid zip archive: {e.Message})", e);
        }
        using (zip)
        {
            var arrays = zip.Entries.Where(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)).ToList();
            string names = string.Join(", ", arrays.Select(e => e.FullName[..^4]));
            ZipArchiveEntry entry;
            if (member is not null)
            {
                entry = arrays.FirstOrDefault(e => e.FullName == member || e.FullName == member + ".npy")
                    ?? throw new DataFormatException(sourceName, null, -1, $"{sourceName}: has no array '{member}' (it holds: {(names.Length == 0 ? "none" : names)}).");
            }
            else if (arrays.Count == 1)
            {
                entry = arrays[0];
            }
            else
            {
                throw new DataFormatException(sourceName, null, -1, arrays.Count == 0
                    ? $"{sourceName}: holds no .npy array."
                    : $"{sourceName}: holds {arrays.Count} arrays ({names}); name one as {sourceName}:{arrays[0].FullName[..^4]}.");
            }
            string name = $"{sourceName}:{entry.FullName[..^4]}";
            using Stream data = OpenEntry(entry, name);
            return ReadNpy(data, name, cancellationToken, out dimension);
        }
    }

    private static Stream OpenEntry(ZipArchiveEntry entry, string name)
    {
        try
        {
            return entry.Open();
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(name, null, -1, $"{name}: the array cannot be unpacked ({e.Message}).", e);
        }
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
    /// as (snapshots, N, d)); the product of the shape must equal the number of values. The data is written in chunks
    /// (no single write exceeds <see cref="ChunkBytes"/>, so arrays over 2 GiB stream like small ones).
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
        int perChunk = Math.Max(1, ChunkBytes / 8);
        byte[]? swapped = BitConverter.IsLittleEndian ? null : new byte[perChunk * 8];
        for (int start = 0; start < values.Length; start += perChunk)
        {
            ReadOnlySpan<double> chunk = values.Slice(start, Math.Min(perChunk, values.Length - start));
            if (swapped is null)
            {
                stream.Write(MemoryMarshal.AsBytes(chunk));
            }
            else
            {
                for (int i = 0; i < chunk.Length; i++)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(swapped.AsSpan(i * 8), chunk[i]);
                }
                stream.Write(swapped, 0, chunk.Length * 8);
            }
        }
    }

    /// <summary>Reads CSV points from <paramref name="stream"/> (UTF-8) by the default rules; <paramref name="sourceName"/> names it in errors.</summary>
    public static double[] ReadCsv(Stream stream, string sourceName, out int dimension)
        => ReadCsv(stream, sourceName, new SampleReadOptions(), out dimension);

    /// <summary>Reads CSV/TSV points from <paramref name="stream"/> (UTF-8) by the rules of <paramref name="options"/>.</summary>
    public static double[] ReadCsv(Stream stream, string sourceName, SampleReadOptions options, out int dimension)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        var values = new List<double>();
        var fields = new List<string>();
        dimension = -1;
        int lineNumber = 0, row = 0, skip = 0;
        char delimiter = IsTsv(sourceName) ? '\t' : '\0';
        bool firstContent = true;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if ((lineNumber & 0xFFFF) == 0)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
            }
            ReadOnlySpan<char> text = line.AsSpan().Trim();
            if (text.IsEmpty || text[0] == '#')
            {
                continue;
            }
            if (delimiter == '\0')
            {
                // The first content line decides: tab-separated when it has tabs and no commas.
                delimiter = text.Contains('\t') && !text.Contains(',') ? '\t' : ',';
            }
            SplitFields(text, delimiter, fields, sourceName, lineNumber);
            if (firstContent)
            {
                firstContent = false;
                int numeric = fields.Count(f => double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || IsNonFinite(f));
                bool header = options.Header ?? (numeric == 0 ? true
                    : numeric == fields.Count ? false
                    : throw new DataFormatException(sourceName, "header", 0,
                        $"{sourceName}: line {lineNumber} mixes numbers and text ({string.Join(delimiter == '\t' ? " " : ",", fields)}); " +
                        "it is neither a clear header nor a data row: pass --header or --no-header (or fix the value)."));
                if (header)
                {
                    // pandas' to_csv writes the row index as a first column with an empty (or "Unnamed: 0") name.
                    if (fields.Count > 1 && fields[0] is "" or "Unnamed: 0")
                    {
                        skip = 1;
                        options.Notice?.Invoke($"{sourceName}: the first column (unnamed in the header) is a row index, as pandas writes it; it was dropped.");
                    }
                    dimension = fields.Count - skip;
                    continue;
                }
            }
            if (dimension < 0)
            {
                dimension = fields.Count;
            }
            else if (fields.Count - skip != dimension)
            {
                throw new DataFormatException(sourceName, "data", row,
                    $"{sourceName}: line {lineNumber} has {fields.Count - skip} values, expected {dimension} (as in the first line).");
            }
            for (int column = skip; column < fields.Count; column++)
            {
                string token = fields[column];
                if (IsNonFinite(token))
                {
                    throw new DataFormatException(sourceName, "data", row,
                        $"{sourceName}: line {lineNumber}, column {column + 1}: '{token}' is not a finite number; samples must be finite.");
                }
                if (!double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                {
                    throw new DataFormatException(sourceName, "data", row,
                        $"{sourceName}: line {lineNumber}, column {column + 1}: '{token}' is not a number.");
                }
                if (!double.IsFinite(v))
                {
                    throw new DataFormatException(sourceName, "data", row,
                        $"{sourceName}: line {lineNumber}, column {column + 1}: '{token}' is not a finite number (it overflows a double); samples must be finite.");
                }
                values.Add(v);
            }
            row++;
        }
        if (row == 0)
        {
            throw new DataFormatException(sourceName, null, -1, $"{sourceName}: the file has no data lines.");
        }
        if (dimension < 1)
        {
            throw new DataFormatException(sourceName, null, -1, $"{sourceName}: the rows have no coordinates.");
        }
        return [.. values];
    }

    /// <summary>NaN and infinity spelled any way NumPy, pandas or .NET write them.</summary>
    private static bool IsNonFinite(string token)
    {
        ReadOnlySpan<char> t = token.AsSpan().TrimStart("+-");
        return t.Equals("nan", StringComparison.OrdinalIgnoreCase) || t.Equals("inf", StringComparison.OrdinalIgnoreCase)
            || t.Equals("infinity", StringComparison.OrdinalIgnoreCase) || t.SequenceEqual("∞");
    }

    /// <summary>Splits one line into trimmed fields; a field in double quotes may hold the delimiter, "" is a quote.</summary>
    private static void SplitFields(ReadOnlySpan<char> text, char delimiter, List<string> fields, string sourceName, int lineNumber)
    {
        fields.Clear();
        var field = new StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            while (i < text.Length && text[i] is ' ' && delimiter != ' ')
            {
                i++;
            }
            if (i < text.Length && text[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new DataFormatException(sourceName, "data", -1, $"{sourceName}: line {lineNumber} has an unterminated quoted field.");
                    }
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(text[i++]);
                }
                while (i < text.Length && text[i] != delimiter)
                {
                    if (!char.IsWhiteSpace(text[i]))
                    {
                        throw new DataFormatException(sourceName, "data", -1, $"{sourceName}: line {lineNumber} has text after a closing quote.");
                    }
                    i++;
                }
                fields.Add(field.ToString().Trim());
            }
            else
            {
                int end = text[i..].IndexOf(delimiter);
                ReadOnlySpan<char> raw = end < 0 ? text[i..] : text.Slice(i, end);
                fields.Add(raw.Trim().ToString());
                i = end < 0 ? text.Length : i + end;
            }
            if (i >= text.Length)
            {
                return;
            }
            i++; // the delimiter
            if (i == text.Length)
            {
                fields.Add(""); // a trailing delimiter: one more, empty field
                return;
            }
        }
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

    private static void CheckShape(ReadOnlySpan<double> values, int dimension)
    {
        if (dimension < 1 || values.Length % dimension != 0)
        {
            throw new ArgumentException($"{values.Length} values do not form points of dimension {dimension}.", nameof(dimension));
        }
    }

    private static void CheckFinite(double[] values, int d, string file)
    {
        int bad = FirstNonFinite(values);
        if (bad >= 0)
        {
            string value = double.IsNaN(values[bad]) ? "NaN" : values[bad] > 0 ? "inf" : "-inf";
            throw new DataFormatException(file, "data", bad / d,
                $"{file}: row {bad / d}, column {bad % d}: '{value}' is not a finite number; samples must be finite.");
        }
    }

    private static int FirstNonFinite(double[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                return i;
            }
        }
        return -1;
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

using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using GmmFlow.Native.Compression;

namespace GmmFlow.Sampling;

/// <summary>One column of an R data.frame: numeric values, or a factor's 1-based codes with its levels.</summary>
public sealed class RColumn
{
    internal RColumn(string name, double[] values, string[]? levels)
    {
        Name = name;
        Values = values;
        Levels = levels;
    }

    public string Name { get; }

    /// <summary>Numeric values (NA as NaN), or for a factor its codes 1, 2, … (NA as NaN).</summary>
    public double[] Values { get; }

    /// <summary>The factor's levels (code c is Levels[c − 1]); null for a numeric column.</summary>
    public string[]? Levels { get; }

    public bool IsFactor => Levels is not null;
}

/// <summary>
/// Reads a data.frame of numeric and factor columns from an R data file (.rda/.RData written by save(), or .rds),
/// in R's XDR serialisation format, versions 2 and 3, uncompressed, gzip- or xz-compressed.
/// </summary>
/// <remarks>
/// Only the subset a data.frame needs is decoded: pairlists, symbols, character/logical/integer/double vectors, lists,
/// attributes, back-references, and the compact integer/double sequences R 3.5+ writes for row names. Anything else
/// (environments, closures, byte code, other ALTREP classes) is a <see cref="DataFormatException"/> naming the type.
/// docs/theory/samplers.md#data
/// </remarks>
public static class RDataReader
{
    /// <summary>Reads the data.frame bound to <paramref name="objectName"/> (or the first object when null).</summary>
    public static IReadOnlyList<RColumn> ReadDataFrame(string path, string? objectName = null)
    {
        string fileName = Path.GetFileName(path);
        return ReadDataFrame(File.ReadAllBytes(path), fileName, objectName);
    }

    public static IReadOnlyList<RColumn> ReadDataFrame(byte[] fileBytes, string fileName, string? objectName)
    {
        byte[] raw = Decompress(fileBytes, fileName);
        var p = new Parser(raw, fileName);
        RNode root = p.ReadFile();
        RNode? frame = root;
        if (root.Type == Parser.ListSxp)
        {
            // save() writes a pairlist of (name → object).
            frame = null;
            for (int i = 0; i < root.Items!.Count; i++)
            {
                if (objectName is null || root.Tags![i] == objectName)
                {
                    frame = root.Items[i];
                    break;
                }
            }
            if (frame is null)
            {
                throw new DataFormatException(fileName, objectName, -1, $"no object named '{objectName}' (found: {string.Join(", ", root.Tags!)}).");
            }
        }
        return ToColumns(frame, fileName);
    }

    private static byte[] Decompress(byte[] data, string fileName)
    {
        if (XzDecoder.IsXz(data))
        {
            try
            {
                return XzDecoder.Decode(data);
            }
            catch (InvalidDataException e)
            {
                throw new DataFormatException(fileName, null, -1, e.Message, e);
            }
        }
        if (data.Length >= 2 && data[0] == 0x1F && data[1] == 0x8B)
        {
            using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            return ms.ToArray();
        }
        if (data.Length >= 3 && data[0] == (byte)'B' && data[1] == (byte)'Z' && data[2] == (byte)'h')
        {
            throw new DataFormatException(fileName, null, -1, "bzip2-compressed R data is not supported; re-save it with compress = \"xz\" or \"gzip\".");
        }
        return data;
    }

    private static RColumn[] ToColumns(RNode frame, string fileName)
    {
        if (frame.Type != Parser.VecSxp || frame.Attribute("class")?.Strings is not { } cls || Array.IndexOf(cls, "data.frame") < 0)
        {
            throw new DataFormatException(fileName, null, -1, "the object is not a data.frame.");
        }
        string?[] names = frame.Attribute("names")?.Strings ?? throw new DataFormatException(fileName, null, -1, "the data.frame has no column names.");
        var columns = new RColumn[frame.Items!.Count];
        for (int j = 0; j < columns.Length; j++)
        {
            RNode c = frame.Items[j];
            string name = names[j] ?? $"V{j + 1}";
            string[]? levels = null;
            double[] values;
            if (c.Type == Parser.RealSxp)
            {
                values = c.Reals!;
            }
            else if (c.Type is Parser.IntSxp or Parser.LglSxp)
            {
                values = Array.ConvertAll(c.Ints!, v => v == int.MinValue ? double.NaN : v);
                if (c.Attribute("levels")?.Strings is { } lv)
                {
                    levels = Array.ConvertAll(lv, s => s ?? "NA");
                }
            }
            else
            {
                throw new DataFormatException(fileName, name, j, $"column '{name}' has R type {c.Type}; only numeric and factor columns are supported.");
            }
            columns[j] = new RColumn(name, values, levels);
        }
        return columns;
    }

    internal sealed class RNode
    {
        public int Type;
        public double[]? Reals;
        public int[]? Ints;
        public string?[]? Strings;
        public List<RNode>? Items;
        public List<string?>? Tags;
        public string? Symbol;
        public List<(string Name, RNode Value)>? Attributes;

        public RNode? Attribute(string name)
        {
            if (Attributes is null)
            {
                return null;
            }
            foreach ((string n, RNode v) in Attributes)
            {
                if (n == name)
                {
                    return v;
                }
            }
            return null;
        }
    }

    internal sealed class Parser(byte[] data, string fileName)
    {
        public const int SymSxp = 1, ListSxp = 2, CharSxp = 9, LglSxp = 10, IntSxp = 13, RealSxp = 14, StrSxp = 16, VecSxp = 19;
        private const int NilValue = 254, RefSxp = 255, GlobalEnv = 253, Unbound = 252, MissingArg = 251, BaseNamespace = 247,
            EmptyEnv = 242, BaseEnv = 241, AttrListSxp = 239, AltRepSxp = 238;
        private readonly List<RNode> _refs = [];
        private int _pos;
        private int _depth;

        public RNode ReadFile()
        {
            if (StartsWith("RDX2\n") || StartsWith("RDX3\n"))
            {
                _pos = 5;
            }
            if (!StartsWith("X\n"))
            {
                string kind = StartsWith("A\n") ? "ASCII" : StartsWith("B\n") ? "native binary" : "unknown";
                throw Fail($"serialisation format is {kind}; only XDR (the default of save()) is supported.");
            }
            _pos += 2;
            int version = ReadInt();
            ReadInt(); // R version that wrote it
            ReadInt(); // minimal R version to read it
            if (version == 3)
            {
                int n = ReadInt();
                _pos += n; // native encoding name
            }
            else if (version != 2)
            {
                throw Fail($"serialisation version {version} is not supported (2 or 3).");
            }
            return ReadItem();
        }

        private bool StartsWith(string magic)
        {
            if (data.Length - _pos < magic.Length)
            {
                return false;
            }
            for (int i = 0; i < magic.Length; i++)
            {
                if (data[_pos + i] != magic[i])
                {
                    return false;
                }
            }
            return true;
        }

        private DataFormatException Fail(string message) => new(fileName, null, _pos, $"R data at byte {_pos}: {message}");

        private int ReadInt()
        {
            if (_pos + 4 > data.Length)
            {
                throw Fail("unexpected end of data.");
            }
            int v = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(_pos, 4));
            _pos += 4;
            return v;
        }

        private int ReadLength()
        {
            int n = ReadInt();
            if (n < 0)
            {
                throw Fail("long vectors are not supported.");
            }
            return n;
        }

        private RNode ReadItem()
        {
            if (++_depth > 10_000)
            {
                throw Fail("nesting too deep.");
            }
            try
            {
                return ReadItemCore();
            }
            finally
            {
                _depth--;
            }
        }

        private RNode ReadItemCore()
        {
            int flags = ReadInt();
            int type = flags & 0xFF;
            bool hasAttr = (flags & (1 << 9)) != 0;
            switch (type)
            {
                case NilValue or GlobalEnv or Unbound or MissingArg or BaseNamespace or EmptyEnv or BaseEnv:
                    return new RNode { Type = NilValue };
                case RefSxp:
                {
                    int index = flags >> 8;
                    if (index == 0)
                    {
                        index = ReadInt();
                    }
                    if (index < 1 || index > _refs.Count)
                    {
                        throw Fail($"reference {index} out of range.");
                    }
                    return _refs[index - 1];
                }
                case SymSxp:
                {
                    RNode name = ReadItem();
                    var sym = new RNode { Type = SymSxp, Symbol = name.Strings?[0] };
                    _refs.Add(sym);
                    return sym;
                }
                case ListSxp or AttrListSxp:
                    return ReadPairList(flags);
                case CharSxp:
                {
                    int n = ReadInt();
                    if (n == -1)
                    {
                        return new RNode { Type = CharSxp, Strings = [null] };
                    }
                    if (n < 0 || _pos + n > data.Length)
                    {
                        throw Fail("bad string length.");
                    }
                    string s = Encoding.UTF8.GetString(data, _pos, n);
                    _pos += n;
                    return new RNode { Type = CharSxp, Strings = [s] };
                }
                case LglSxp or IntSxp:
                {
                    int n = ReadLength();
                    var v = new int[n];
                    for (int i = 0; i < n; i++)
                    {
                        v[i] = ReadInt();
                    }
                    return WithAttributes(new RNode { Type = type, Ints = v }, hasAttr);
                }
                case RealSxp:
                {
                    int n = ReadLength();
                    if (_pos + (8L * n) > data.Length)
                    {
                        throw Fail("unexpected end of data.");
                    }
                    var v = new double[n];
                    for (int i = 0; i < n; i++)
                    {
                        v[i] = BinaryPrimitives.ReadDoubleBigEndian(data.AsSpan(_pos + (8 * i), 8));
                    }
                    _pos += 8 * n;
                    return WithAttributes(new RNode { Type = RealSxp, Reals = v }, hasAttr);
                }
                case StrSxp:
                {
                    int n = ReadLength();
                    var v = new string?[n];
                    for (int i = 0; i < n; i++)
                    {
                        v[i] = ReadItem().Strings?[0];
                    }
                    return WithAttributes(new RNode { Type = StrSxp, Strings = v }, hasAttr);
                }
                case VecSxp or 20:
                {
                    int n = ReadLength();
                    var items = new List<RNode>(n);
                    for (int i = 0; i < n; i++)
                    {
                        items.Add(ReadItem());
                    }
                    return WithAttributes(new RNode { Type = VecSxp, Items = items }, hasAttr);
                }
                case AltRepSxp:
                    return ReadAltRep();
                default:
                    throw Fail($"R object type {type} is not supported (a data.frame of numeric and factor columns is expected).");
            }
        }

        // Pairlist cells: [attributes] [tag] car cdr, the cdr being the next cell or NILVALUE; read iteratively.
        private RNode ReadPairList(int flags)
        {
            var list = new RNode { Type = ListSxp, Items = [], Tags = [] };
            while (true)
            {
                if ((flags & (1 << 9)) != 0)
                {
                    ReadItem();
                }
                string? tag = (flags & (1 << 10)) != 0 ? ReadItem().Symbol : null;
                list.Items.Add(ReadItem());
                list.Tags.Add(tag);
                flags = ReadInt();
                int type = flags & 0xFF;
                if (type == NilValue)
                {
                    return list;
                }
                if (type is not (ListSxp or AttrListSxp))
                {
                    throw Fail($"pairlist ends in type {type}.");
                }
            }
        }

        private RNode WithAttributes(RNode node, bool hasAttr)
        {
            if (hasAttr)
            {
                RNode attrs = ReadItem();
                node.Attributes = [];
                for (int i = 0; i < attrs.Items!.Count; i++)
                {
                    node.Attributes.Add((attrs.Tags![i] ?? "", attrs.Items[i]));
                }
            }
            return node;
        }

        // ALTREP: (class info pairlist, state, attributes). Only R's compact sequences, which R writes for 1:n row names.
        private RNode ReadAltRep()
        {
            RNode info = ReadItem();
            RNode state = ReadItem();
            RNode attr = ReadItem();
            string? cls = info.Items is { Count: > 0 } ? info.Items[0].Symbol : null;
            RNode result;
            if (cls is "compact_intseq" or "compact_realseq" && state.Reals is { Length: 3 } s)
            {
                int n = (int)s[0];
                if (cls == "compact_intseq")
                {
                    var v = new int[n];
                    for (int i = 0; i < n; i++)
                    {
                        v[i] = (int)(s[1] + (i * s[2]));
                    }
                    result = new RNode { Type = IntSxp, Ints = v };
                }
                else
                {
                    var v = new double[n];
                    for (int i = 0; i < n; i++)
                    {
                        v[i] = s[1] + (i * s[2]);
                    }
                    result = new RNode { Type = RealSxp, Reals = v };
                }
            }
            else
            {
                throw Fail($"ALTREP class '{cls}' is not supported.");
            }
            if (attr.Items is not null)
            {
                result.Attributes = [];
                for (int i = 0; i < attr.Items.Count; i++)
                {
                    result.Attributes.Add((attr.Tags![i] ?? "", attr.Items[i]));
                }
            }
            return result;
        }
    }
}

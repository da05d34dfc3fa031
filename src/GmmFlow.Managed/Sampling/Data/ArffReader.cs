using System.Globalization;
using System.Text;

namespace GmmFlow.Sampling;

/// <summary>A dense ARFF table: attribute names, their nominal values (empty for numeric ones) and the rows.</summary>
/// <remarks>Nominal values are stored as their 0-based index in the @attribute declaration; missing values ('?') as NaN.</remarks>
public sealed class ArffTable
{
    internal ArffTable(string relation, string[] names, string[][] nominalValues, double[][] rows)
    {
        Relation = relation;
        Names = names;
        NominalValues = nominalValues;
        Rows = rows;
    }

    public string Relation { get; }
    public IReadOnlyList<string> Names { get; }

    /// <summary>Per attribute, its nominal values in declaration order; empty for a numeric attribute.</summary>
    public IReadOnlyList<string[]> NominalValues { get; }
    public IReadOnlyList<double[]> Rows { get; }

    /// <summary>Index of the attribute called <paramref name="name"/>; throws a <see cref="DataFormatException"/> if absent.</summary>
    public int Column(string name, string fileName)
    {
        for (int i = 0; i < Names.Count; i++)
        {
            if (string.Equals(Names[i], name, StringComparison.Ordinal))
            {
                return i;
            }
        }
        throw new DataFormatException(fileName, name, -1, $"attribute '{name}' not found.");
    }
}

/// <summary>Reads Weka's dense ARFF format (the @relation/@attribute/@data text files Weka ships as examples).</summary>
public static class ArffReader
{
    public static ArffTable Read(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, Path.GetFileName(path));
    }

    public static ArffTable Read(TextReader reader, string fileName)
    {
        string relation = "";
        var names = new List<string>();
        var nominal = new List<string[]>();
        var rows = new List<double[]>();
        bool inData = false;
        int lineNumber = 0;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            string t = line.Trim();
            if (t.Length == 0 || t[0] == '%')
            {
                continue;
            }
            if (!inData)
            {
                if (t.StartsWith("@relation", StringComparison.OrdinalIgnoreCase))
                {
                    relation = Unquote(t[9..].Trim());
                }
                else if (t.StartsWith("@attribute", StringComparison.OrdinalIgnoreCase))
                {
                    (string name, string[] values) = ParseAttribute(t[10..].Trim(), fileName, lineNumber);
                    names.Add(name);
                    nominal.Add(values);
                }
                else if (t.StartsWith("@data", StringComparison.OrdinalIgnoreCase))
                {
                    inData = true;
                }
                else
                {
                    throw new DataFormatException(fileName, null, lineNumber, $"line {lineNumber}: unexpected header line '{Shorten(t)}'.");
                }
                continue;
            }
            if (t[0] == '{')
            {
                throw new DataFormatException(fileName, null, lineNumber, $"line {lineNumber}: sparse ARFF rows are not supported.");
            }
            List<string> fields = SplitFields(t, fileName, lineNumber);
            if (fields.Count != names.Count)
            {
                throw new DataFormatException(fileName, null, lineNumber, $"line {lineNumber}: {fields.Count} values, the header declares {names.Count} attributes.");
            }
            var row = new double[names.Count];
            for (int j = 0; j < fields.Count; j++)
            {
                string f = fields[j];
                if (f == "?")
                {
                    row[j] = double.NaN;
                }
                else if (nominal[j].Length > 0)
                {
                    int index = Array.IndexOf(nominal[j], f);
                    if (index < 0)
                    {
                        throw new DataFormatException(fileName, names[j], lineNumber, $"line {lineNumber}: '{f}' is not a declared value of attribute '{names[j]}'.");
                    }
                    row[j] = index;
                }
                else if (!double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out row[j]))
                {
                    throw new DataFormatException(fileName, names[j], lineNumber, $"line {lineNumber}: '{Shorten(f)}' is not a number (attribute '{names[j]}').");
                }
            }
            rows.Add(row);
        }
        if (!inData)
        {
            throw new DataFormatException(fileName, null, lineNumber, "no @data section.");
        }
        return new ArffTable(relation, [.. names], [.. nominal], [.. rows]);
    }

    private static (string Name, string[] Values) ParseAttribute(string rest, string fileName, int lineNumber)
    {
        string name;
        int i;
        if (rest.Length > 0 && (rest[0] == '\'' || rest[0] == '"'))
        {
            int close = rest.IndexOf(rest[0], 1);
            if (close < 0)
            {
                throw new DataFormatException(fileName, null, lineNumber, $"line {lineNumber}: unterminated attribute name.");
            }
            name = rest[1..close];
            i = close + 1;
        }
        else
        {
            i = 0;
            while (i < rest.Length && !char.IsWhiteSpace(rest[i]) && rest[i] != '{')
            {
                i++;
            }
            name = rest[..i];
        }
        string type = rest[i..].Trim();
        if (type.StartsWith('{'))
        {
            int close = type.LastIndexOf('}');
            if (close < 0)
            {
                throw new DataFormatException(fileName, name, lineNumber, $"line {lineNumber}: nominal attribute '{name}' has no closing brace.");
            }
            return (name, [.. SplitFields(type[1..close], fileName, lineNumber)]);
        }
        string lower = type.ToLowerInvariant();
        if (lower is "numeric" or "real" or "integer")
        {
            return (name, []);
        }
        throw new DataFormatException(fileName, name, lineNumber, $"line {lineNumber}: attribute type '{Shorten(type)}' is not supported (numeric or nominal only).");
    }

    // Comma-separated values, each optionally quoted with ' or " (no escapes inside quotes are needed by Weka's files).
    private static List<string> SplitFields(string text, string fileName, int lineNumber)
    {
        var fields = new List<string>();
        int i = 0;
        while (i <= text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
            {
                i++;
            }
            string value;
            if (i < text.Length && (text[i] == '\'' || text[i] == '"'))
            {
                int close = text.IndexOf(text[i], i + 1);
                if (close < 0)
                {
                    throw new DataFormatException(fileName, null, lineNumber, $"line {lineNumber}: unterminated quote.");
                }
                value = text[(i + 1)..close];
                i = close + 1;
                while (i < text.Length && text[i] != ',')
                {
                    i++;
                }
            }
            else
            {
                int comma = text.IndexOf(',', i);
                int end = comma < 0 ? text.Length : comma;
                value = text[i..end].Trim();
                i = end;
            }
            fields.Add(value);
            i++; // past the comma (or past the end, which stops the loop)
        }
        return fields;
    }

    private static string Unquote(string s) => s.Length >= 2 && (s[0] == '\'' || s[0] == '"') && s[^1] == s[0] ? s[1..^1] : s;

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}

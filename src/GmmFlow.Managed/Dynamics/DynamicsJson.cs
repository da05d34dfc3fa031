using System.Text.Json;

namespace GmmFlow;

/// <summary>
/// Dynamics files (docs/theory/linear-dynamics.md#files), reflection-free (Native-AOT safe):
/// <list type="bullet">
/// <item>constant: {"A": [[…]] (n×n), "B": [[…]] (n×m), "horizon": T} (horizon defaults to 1);</item>
/// <item>preset: {"preset": "double-integrator", "positions": p, "horizon": T} or {"preset": "brownian", "dimension": n};</item>
/// <item>grid: {"times": [0, …, T], "A": [[[…]] …], "B": [[[…]] …]}, one matrix per time, linear in between.</item>
/// </list>
/// Noise matrices D are {"D": [[…]]} (or a bare [[…]]).
/// </summary>
public static class DynamicsJson
{
    /// <summary>Reads a dynamics file; errors are <see cref="DataFormatException"/> naming the file and the field.</summary>
    public static LinearDynamics Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Reads dynamics JSON from a stream.</summary>
    public static LinearDynamics Read(Stream stream, string sourceName)
    {
        using var doc = Parse(stream, sourceName);
        return FromElement(doc.RootElement, sourceName);
    }

    /// <summary>Writes <paramref name="dynamics"/> in the file format (delegate systems cannot be written).</summary>
    public static void Write(LinearDynamics dynamics, Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        Write(w, dynamics);
    }

    /// <summary>Writes the dynamics object (also embedded in plan files).</summary>
    public static void Write(Utf8JsonWriter writer, LinearDynamics dynamics)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(dynamics);
        int n = dynamics.StateDimension, m = dynamics.ControlDimension;
        writer.WriteStartObject();
        switch (dynamics.Kind)
        {
            case LinearDynamicsKind.DoubleIntegrator:
                writer.WriteString("preset", "double-integrator");
                writer.WriteNumber("positions", dynamics.PositionDimension);
                writer.WriteNumber("horizon", dynamics.Horizon);
                break;
            case LinearDynamicsKind.TimeInvariant:
                WriteMatrix(writer, "A", dynamics.StoredA, n, n);
                WriteMatrix(writer, "B", dynamics.StoredB, n, m);
                writer.WriteNumber("horizon", dynamics.Horizon);
                break;
            case LinearDynamicsKind.PiecewiseLinear:
                writer.WriteStartArray("times");
                foreach (double t in dynamics.GridTimes)
                {
                    writer.WriteNumberValue(t);
                }
                writer.WriteEndArray();
                int count = dynamics.GridTimes.Length;
                writer.WriteStartArray("A");
                for (int k = 0; k < count; k++)
                {
                    WriteMatrix(writer, null, dynamics.StoredA.Slice(k * n * n, n * n), n, n);
                }
                writer.WriteEndArray();
                writer.WriteStartArray("B");
                for (int k = 0; k < count; k++)
                {
                    WriteMatrix(writer, null, dynamics.StoredB.Slice(k * n * m, n * m), n, m);
                }
                writer.WriteEndArray();
                break;
            default:
                throw new NotSupportedException("Dynamics given by a delegate cannot be written to a file; sample it on a grid (LinearDynamics.PiecewiseLinear).");
        }
        writer.WriteEndObject();
    }

    /// <summary>A noise matrix file: {"D": [[…]]} or a bare array of rows; returns D row-major and its column count.</summary>
    public static double[] ReadNoiseMatrix(Stream stream, string sourceName, out int rows, out int columns)
    {
        using var doc = Parse(stream, sourceName);
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object)
        {
            if (!root.TryGetProperty("D", out var d))
            {
                throw Bad(sourceName, "D", $"{sourceName}: a noise-matrix file is {{\"D\": [[…]]}} or a bare array of rows.");
            }
            root = d;
        }
        return Matrix(root, sourceName, "D", out rows, out columns);
    }

    internal static LinearDynamics FromElement(JsonElement root, string sourceName)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Bad(sourceName, null, $"{sourceName}: a dynamics file is a JSON object.");
        }
        try
        {
            if (root.TryGetProperty("preset", out var preset))
            {
                string name = preset.ValueKind == JsonValueKind.String ? preset.GetString()! : "";
                double horizon = OptionalNumber(root, "horizon", 1, sourceName);
                return name switch
                {
                    "double-integrator" => LinearDynamics.DoubleIntegrator(Int(root, "positions", sourceName), horizon),
                    "brownian" => LinearDynamics.Brownian(Int(root, "dimension", sourceName), horizon),
                    _ => throw Bad(sourceName, "preset", $"{sourceName}: field \"preset\" is {preset.GetRawText()}; expected \"double-integrator\" or \"brownian\"."),
                };
            }
            if (root.TryGetProperty("times", out var times))
            {
                var t = Vector(times, sourceName, "times");
                var a = Stack(root, "A", t.Length, sourceName, out int n, out int na);
                var b = Stack(root, "B", t.Length, sourceName, out int nb, out int m);
                if (na != n || nb != n)
                {
                    throw Bad(sourceName, "A", $"{sourceName}: A must be n×n and B n×m (A is {n}×{na}, B is {nb}×{m}).");
                }
                return LinearDynamics.PiecewiseLinear(t, a, b, n, m);
            }
            if (!root.TryGetProperty("A", out var ae) || !root.TryGetProperty("B", out var be))
            {
                throw Bad(sourceName, null, $"{sourceName}: expected {{\"A\", \"B\", \"horizon\"}}, {{\"preset\": …}} or {{\"times\", \"A\", \"B\"}}.");
            }
            var am = Matrix(ae, sourceName, "A", out int ar, out int ac);
            var bm = Matrix(be, sourceName, "B", out int br, out int bc);
            if (ar != ac || br != ar)
            {
                throw Bad(sourceName, "A", $"{sourceName}: A must be n×n and B n×m (A is {ar}×{ac}, B is {br}×{bc}).");
            }
            return LinearDynamics.TimeInvariant(am, bm, ar, bc, OptionalNumber(root, "horizon", 1, sourceName));
        }
        catch (UncontrollableSystemException e)
        {
            throw Bad(sourceName, null, $"{sourceName}: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw Bad(sourceName, null, $"{sourceName}: {e.Message.Split(" (Parameter")[0]}", e);
        }
    }

    private static JsonDocument Parse(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            return JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw Bad(sourceName, null, $"{sourceName}: not valid JSON ({e.Message})", e);
        }
    }

    private static void WriteMatrix(Utf8JsonWriter w, string? name, ReadOnlySpan<double> a, int rows, int cols)
    {
        if (name is null)
        {
            w.WriteStartArray();
        }
        else
        {
            w.WriteStartArray(name);
        }
        for (int r = 0; r < rows; r++)
        {
            w.WriteStartArray();
            for (int c = 0; c < cols; c++)
            {
                w.WriteNumberValue(a[r * cols + c]);
            }
            w.WriteEndArray();
        }
        w.WriteEndArray();
    }

    private static double[] Vector(JsonElement e, string sourceName, string field)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw Bad(sourceName, field, $"{sourceName}: field \"{field}\" must be an array of numbers.");
        }
        var list = new List<double>();
        foreach (var x in e.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetDouble(out double v) || !double.IsFinite(v))
            {
                throw Bad(sourceName, field, $"{sourceName}: field \"{field}\"[{list.Count}] must be a finite number (got {x.GetRawText()}).");
            }
            list.Add(v);
        }
        return [.. list];
    }

    private static double[] Matrix(JsonElement e, string sourceName, string field, out int rows, out int cols)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0)
        {
            throw Bad(sourceName, field, $"{sourceName}: field \"{field}\" must be a non-empty array of rows.");
        }
        rows = e.GetArrayLength();
        cols = -1;
        var values = new List<double>();
        int r = 0;
        foreach (var row in e.EnumerateArray())
        {
            var v = Vector(row, sourceName, $"{field}[{r}]");
            if (cols >= 0 && v.Length != cols || v.Length == 0)
            {
                throw Bad(sourceName, field, $"{sourceName}: row {r} of \"{field}\" has {v.Length} entries; expected {Math.Max(cols, 1)}.");
            }
            cols = v.Length;
            values.AddRange(v);
            r++;
        }
        return [.. values];
    }

    private static double[] Stack(JsonElement root, string field, int count, string sourceName, out int rows, out int cols)
    {
        if (!root.TryGetProperty(field, out var e) || e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != count)
        {
            throw Bad(sourceName, field, $"{sourceName}: field \"{field}\" must be an array of {count} matrices, one per grid time.");
        }
        rows = cols = -1;
        var values = new List<double>();
        int k = 0;
        foreach (var m in e.EnumerateArray())
        {
            var a = Matrix(m, sourceName, $"{field}[{k}]", out int r, out int c);
            if (rows >= 0 && (r != rows || c != cols))
            {
                throw Bad(sourceName, field, $"{sourceName}: \"{field}\"[{k}] is {r}×{c} but \"{field}\"[0] is {rows}×{cols}.");
            }
            (rows, cols) = (r, c);
            values.AddRange(a);
            k++;
        }
        return [.. values];
    }

    private static double OptionalNumber(JsonElement e, string name, double fallback, string sourceName)
    {
        if (!e.TryGetProperty(name, out var v))
        {
            return fallback;
        }
        return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double x) && double.IsFinite(x) ? x
            : throw Bad(sourceName, name, $"{sourceName}: field \"{name}\" must be a finite number (got {v.GetRawText()}).");
    }

    private static int Int(JsonElement e, string name, string sourceName)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x) ? x
            : throw Bad(sourceName, name, $"{sourceName}: field \"{name}\" (an integer) is missing or not an integer.");

    private static DataFormatException Bad(string sourceName, string? field, string message, Exception? inner = null)
        => new(sourceName, field, -1, message, inner);
}

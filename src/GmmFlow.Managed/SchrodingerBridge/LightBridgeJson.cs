using System.Text.Json;

namespace GmmFlow;

/// <summary>
/// Bridge files: {"format": "gmmflow-bridge", "version": 1, "noise": σ, "covariance_type": "full" | "diag",
/// "weights": [K], "centers": [K][d], "scales": [K][d][d] (full) or [K][d] (diag)}. Reflection-free
/// (Utf8JsonWriter / JsonDocument): Native-AOT safe. Doubles are written in round-trip form.
/// </summary>
public static class LightBridgeJson
{
    private const string Format = "gmmflow-bridge";

    /// <summary>Writes <paramref name="bridge"/> (UTF-8 JSON, indented); <paramref name="objective"/> is stored when finite.</summary>
    public static void Write(LightBridge bridge, Stream stream, double objective = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(bridge);
        ArgumentNullException.ThrowIfNull(stream);
        int d = bridge.Dimension, k = bridge.ComponentCount;
        bool diag = bridge.CovarianceType == CovarianceType.Diagonal;
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteNumber("version", 1);
        w.WriteNumber("noise", bridge.Noise);
        w.WriteString("covariance_type", diag ? "diag" : "full");
        if (double.IsFinite(objective))
        {
            w.WriteNumber("objective", objective);
        }
        w.WriteStartArray("weights");
        foreach (double v in bridge.Weights)
        {
            w.WriteNumberValue(v);
        }
        w.WriteEndArray();
        w.WriteStartArray("centers");
        for (int c = 0; c < k; c++)
        {
            WriteRow(w, bridge.Centers.Slice(c * d, d));
        }
        w.WriteEndArray();
        w.WriteStartArray("scales");
        ReadOnlySpan<double> s = bridge.Scales;
        for (int c = 0; c < k; c++)
        {
            if (diag)
            {
                var row = new double[d];
                for (int i = 0; i < d; i++)
                {
                    row[i] = s[c * d * d + i * d + i];
                }
                WriteRow(w, row);
                continue;
            }
            w.WriteStartArray();
            for (int i = 0; i < d; i++)
            {
                WriteRow(w, s.Slice(c * d * d + i * d, d));
            }
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteRow(Utf8JsonWriter w, ReadOnlySpan<double> values)
    {
        w.WriteStartArray();
        foreach (double v in values)
        {
            w.WriteNumberValue(v);
        }
        w.WriteEndArray();
    }

    /// <summary>Reads a bridge file; malformed content raises <see cref="DataFormatException"/> naming the file and field.</summary>
    /// <exception cref="DataFormatException">Not JSON, the wrong format, a missing or malformed field, inconsistent sizes.</exception>
    /// <exception cref="NotPositiveDefiniteException">A stored scale is not positive definite.</exception>
    public static LightBridge Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(sourceName, null, -1, $"{sourceName}: not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format)
                || format.ValueKind != JsonValueKind.String || format.GetString() != Format)
            {
                throw new DataFormatException(sourceName, "format", -1, $"{sourceName}: field \"format\" must be \"{Format}\" (write one with `gmmflow bridge fit`).");
            }
            double noise = Number(Required(root, "noise", sourceName), sourceName, "noise", -1);
            string type = Required(root, "covariance_type", sourceName).ValueKind == JsonValueKind.String
                ? root.GetProperty("covariance_type").GetString()!
                : "";
            bool diag = type switch
            {
                "diag" => true,
                "full" => false,
                _ => throw new DataFormatException(sourceName, "covariance_type", -1, $"{sourceName}: field \"covariance_type\" must be \"full\" or \"diag\"."),
            };
            double[] weights = Vector(Required(root, "weights", sourceName), sourceName, "weights", -1);
            int k = weights.Length;
            if (k == 0)
            {
                throw new DataFormatException(sourceName, "weights", -1, $"{sourceName}: field \"weights\" is empty.");
            }
            JsonElement centers = Required(root, "centers", sourceName), scales = Required(root, "scales", sourceName);
            if (centers.ValueKind != JsonValueKind.Array || centers.GetArrayLength() != k)
            {
                throw new DataFormatException(sourceName, "centers", -1, $"{sourceName}: field \"centers\" must hold {k} rows (one per weight).");
            }
            if (scales.ValueKind != JsonValueKind.Array || scales.GetArrayLength() != k)
            {
                throw new DataFormatException(sourceName, "scales", -1, $"{sourceName}: field \"scales\" must hold {k} entries (one per weight).");
            }
            int d = -1;
            var r = new List<double>();
            int c = 0;
            foreach (JsonElement row in centers.EnumerateArray())
            {
                double[] v = Vector(row, sourceName, "centers", c);
                if (d < 0)
                {
                    d = v.Length;
                }
                if (v.Length != d || d == 0)
                {
                    throw new DataFormatException(sourceName, "centers", c, $"{sourceName}: center {c} has {v.Length} values; expected {Math.Max(d, 1)}.");
                }
                r.AddRange(v);
                c++;
            }
            var s = new List<double>();
            c = 0;
            foreach (JsonElement entry in scales.EnumerateArray())
            {
                if (diag)
                {
                    double[] v = Vector(entry, sourceName, "scales", c);
                    if (v.Length != d)
                    {
                        throw new DataFormatException(sourceName, "scales", c, $"{sourceName}: scale {c} has {v.Length} values; expected {d}.");
                    }
                    s.AddRange(v);
                }
                else
                {
                    if (entry.ValueKind != JsonValueKind.Array || entry.GetArrayLength() != d)
                    {
                        throw new DataFormatException(sourceName, "scales", c, $"{sourceName}: scale {c} must be a {d}×{d} matrix.");
                    }
                    foreach (JsonElement row in entry.EnumerateArray())
                    {
                        double[] v = Vector(row, sourceName, "scales", c);
                        if (v.Length != d)
                        {
                            throw new DataFormatException(sourceName, "scales", c, $"{sourceName}: scale {c} must be a {d}×{d} matrix.");
                        }
                        s.AddRange(v);
                    }
                }
                c++;
            }
            try
            {
                return new LightBridge(noise, weights, r.ToArray(), s.ToArray(), diag ? CovarianceType.Diagonal : CovarianceType.Full);
            }
            catch (ArgumentException e) when (e is not NotPositiveDefiniteException)
            {
                throw new DataFormatException(sourceName, null, -1, $"{sourceName}: {e.Message}", e);
            }
        }
    }

    private static JsonElement Required(JsonElement root, string name, string file)
        => root.TryGetProperty(name, out var e) ? e : throw new DataFormatException(file, name, -1, $"{file}: missing field \"{name}\".");

    private static double Number(JsonElement e, string file, string field, int index)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out double v))
        {
            throw new DataFormatException(file, field, index, $"{file}: field \"{field}\"{(index >= 0 ? $" entry {index}" : "")} holds a non-number.");
        }
        return v;
    }

    private static double[] Vector(JsonElement e, string file, string field, int index)
    {
        if (e.ValueKind != JsonValueKind.Array)
        {
            throw new DataFormatException(file, field, index, $"{file}: field \"{field}\"{(index >= 0 ? $" entry {index}" : "")} must be an array of numbers.");
        }
        var v = new double[e.GetArrayLength()];
        int i = 0;
        foreach (JsonElement x in e.EnumerateArray())
        {
            v[i++] = Number(x, file, field, index);
        }
        return v;
    }
}

using System.Text.Json;

namespace GmmFlow;

/// <summary>
/// Multi-marginal momentum plan files (UTF-8 JSON, reflection-free): knot times, noise, the knot mixtures, the
/// objective and every active tuple with its components, weight and cost. Reading re-solves the active tuples'
/// Gaussian problems (milliseconds each); the LP is not re-solved.
/// </summary>
public static class MultiMarginalPlanJson
{
    private const string Format = "gmmflow-multimarginal-plan";

    /// <summary>Writes <paramref name="plan"/> to <paramref name="stream"/>.</summary>
    public static void Write(MultiMarginalPlan plan, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteNumber("version", 1);
        w.WriteString("dynamics", "double-integrator");
        w.WriteNumber("noise", plan.Noise);
        w.WriteNumber("objective", plan.Objective);
        w.WriteStartArray("times");
        foreach (double t in plan.Times)
        {
            w.WriteNumberValue(t);
        }
        w.WriteEndArray();
        w.WriteStartArray("marginals");
        foreach (var m in plan.Marginals)
        {
            using var buffer = new MemoryStream();
            MixtureJson.Write(m, buffer);
            buffer.Position = 0;
            using var doc = JsonDocument.Parse(buffer);
            doc.RootElement.WriteTo(w);
        }
        w.WriteEndArray();
        w.WriteStartArray("tuples");
        foreach (var t in plan.Tuples)
        {
            w.WriteStartObject();
            w.WriteStartArray("components");
            foreach (int c in t.Components)
            {
                w.WriteNumberValue(c);
            }
            w.WriteEndArray();
            w.WriteNumber("weight", t.Weight);
            w.WriteNumber("cost", t.Cost);
            w.WriteNumber("mean_cost", t.MeanCost);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Reads a plan file; errors name the file and the field (<see cref="DataFormatException"/>).</summary>
    public static MultiMarginalPlan Read(Stream stream, string sourceName)
    {
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
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var f) || f.GetString() != Format)
            {
                throw Bad(sourceName, $"{sourceName}: not a multi-marginal plan (field \"format\" must be \"{Format}\"; two-marginal plans use `gmmflow transport`).");
            }
            double noise = Number(root, "noise", sourceName, null);
            var times = Array(root, "times", sourceName).Select((e, i) => Value(e, sourceName, $"times[{i}]")).ToArray();
            var marginals = new List<GaussianMixture>();
            int k = 0;
            foreach (var element in Array(root, "marginals", sourceName))
            {
                using var buffer = new MemoryStream();
                using (var w = new Utf8JsonWriter(buffer))
                {
                    element.WriteTo(w);
                }
                buffer.Position = 0;
                marginals.Add(MixtureJson.Read(buffer, $"{sourceName} (marginals[{k++}])", renormalizeWeights: false, out _));
            }
            var tuples = new List<(int[], double)>();
            int e = 0;
            foreach (var element in Array(root, "tuples", sourceName))
            {
                string where = $"tuples[{e++}]";
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("components", out var comps) || comps.ValueKind != JsonValueKind.Array)
                {
                    throw Bad(sourceName, $"{sourceName}: field \"{where}.components\" (an array of component indices) is missing.");
                }
                var index = comps.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.Number && c.TryGetInt32(out int v) ? v
                    : throw Bad(sourceName, $"{sourceName}: field \"{where}.components\" must hold integer component indices.")).ToArray();
                tuples.Add((index, Number(element, "weight", sourceName, where)));
            }
            try
            {
                return MultiMarginalPlan.FromTuples(times, marginals, noise, tuples);
            }
            catch (ArgumentException ex)
            {
                throw Bad(sourceName, $"{sourceName}: {ex.Message.Split(" (Parameter")[0]}");
            }
        }
    }

    private static JsonElement.ArrayEnumerator Array(JsonElement root, string name, string sourceName)
        => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray()
            : throw Bad(sourceName, $"{sourceName}: field \"{name}\" (an array) is missing.");

    private static double Value(JsonElement e, string sourceName, string where)
        => e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double x) && double.IsFinite(x) ? x
            : throw Bad(sourceName, $"{sourceName}: field \"{where}\" must be a finite number.");

    private static double Number(JsonElement e, string name, string sourceName, string? where = null)
    {
        string field = where is null ? name : $"{where}.{name}";
        return e.TryGetProperty(name, out var v) ? Value(v, sourceName, field)
            : throw Bad(sourceName, $"{sourceName}: field \"{field}\" is missing.");
    }

    private static DataFormatException Bad(string sourceName, string message) => new(sourceName, null, -1, message);
}

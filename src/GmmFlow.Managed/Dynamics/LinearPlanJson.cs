using System.Text.Json;

namespace GmmFlow;

/// <summary>
/// Plan files of a <see cref="LinearTransportPlan"/>: the "gmmflow-plan" layout of <see cref="PlanJson"/> (cost "sb",
/// noise, objective, both mixtures, couplings) plus the fields "dynamics" (the <see cref="DynamicsJson"/> object)
/// and, for noise outside the controls, "noise_matrix" (rows of D). Plain plan files have no "dynamics" field and
/// still load with <see cref="PlanJson.Read"/>.
/// </summary>
public static class LinearPlanJson
{
    /// <summary>Writes the plan (UTF-8 JSON, indented).</summary>
    public static void Write(LinearTransportPlan plan, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", "gmmflow-plan");
        w.WriteNumber("version", 1);
        w.WriteString("cost", "sb");
        w.WriteNumber("noise", plan.Options.Noise);
        w.WriteString("cost_variant", "kinetic");
        w.WriteString("coupling", "lp");
        w.WriteNumber("objective", plan.Objective);
        w.WriteNumber("dropped_mass", 0);
        w.WritePropertyName("dynamics");
        DynamicsJson.Write(w, plan.Dynamics);
        if (plan.Options.NoiseMatrix is { } d)
        {
            int p = plan.Options.NoiseColumns;
            w.WriteStartArray("noise_matrix");
            for (int r = 0; r < d.Length / p; r++)
            {
                w.WriteStartArray();
                for (int c = 0; c < p; c++)
                {
                    w.WriteNumberValue(d[r * p + c]);
                }
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        w.WritePropertyName("source");
        PlanJson.WriteMixture(w, plan.Source);
        w.WritePropertyName("target");
        PlanJson.WriteMixture(w, plan.Target);
        PlanJson.WriteCouplings(w, plan.Pairs);
        w.WriteEndObject();
    }

    /// <summary>True when the plan file at <paramref name="path"/> records dynamics (read it with <see cref="Read(Stream, string)"/>).</summary>
    public static bool HasDynamics(string path)
    {
        using var stream = File.OpenRead(path);
        try
        {
            using var doc = JsonDocument.Parse(stream);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("dynamics", out _);
        }
        catch (JsonException)
        {
            return false; // the plan reader reports the syntax error with its context
        }
    }

    /// <summary>Reads a plan file with dynamics; rebuilds the active pairs' bridges (no LP is solved).</summary>
    public static LinearTransportPlan Read(Stream stream, string sourceName)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw PlanJson.Bad(sourceName, $"{sourceName}: not valid JSON ({e.Message})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.GetString() != "gmmflow-plan")
            {
                throw PlanJson.Bad(sourceName, $"{sourceName}: field \"format\" must be \"gmmflow-plan\".");
            }
            if (!root.TryGetProperty("dynamics", out var dynamicsElement))
            {
                throw PlanJson.Bad(sourceName, $"{sourceName}: field \"dynamics\" is missing (a plan without dynamics reads with PlanJson.Read).");
            }
            var dynamics = DynamicsJson.FromElement(dynamicsElement, $"{sourceName} (field \"dynamics\")");
            double noise = PlanJson.Number(root, "noise", sourceName);
            if (noise < 0)
            {
                throw PlanJson.Bad(sourceName, $"{sourceName}: field \"noise\" is {noise}; σ must be ≥ 0.");
            }
            double[]? d = null;
            int columns = 0;
            if (root.TryGetProperty("noise_matrix", out var dElement))
            {
                using var buffer = new MemoryStream();
                using (var w = new Utf8JsonWriter(buffer))
                {
                    dElement.WriteTo(w);
                }
                buffer.Position = 0;
                d = DynamicsJson.ReadNoiseMatrix(buffer, $"{sourceName} (field \"noise_matrix\")", out _, out columns);
            }
            var options = new LinearTransportOptions { Noise = noise, NoiseMatrix = d, NoiseColumns = columns };
            double objective = PlanJson.Number(root, "objective", sourceName);
            var source = PlanJson.ReadMixture(root, "source", sourceName);
            var target = PlanJson.ReadMixture(root, "target", sourceName);
            var entries = PlanJson.ReadCouplings(root, sourceName);
            try
            {
                return LinearTransportPlan.FromCoupling(source, target, dynamics, options, entries, objective);
            }
            catch (ArgumentException e)
            {
                throw PlanJson.Bad(sourceName, $"{sourceName}: {e.Message}");
            }
        }
    }
}

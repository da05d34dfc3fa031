using System.Text.Json;

namespace GmmFlow;

/// <summary>
/// Plan files: the two mixtures (in the mixture JSON format), the cost kind, noise σ, coupling method, objective and
/// the active couplings {"i", "j", "weight"}. Reading rebuilds the bridges from the stored coupling (no LP is solved)
/// after checking that it matches the mixtures. Reflection-free (Utf8JsonWriter / JsonDocument): Native-AOT safe.
/// </summary>
public static class PlanJson
{
    private const string Format = "gmmflow-plan";

    /// <summary>Writes <paramref name="plan"/> to <paramref name="stream"/> (UTF-8 JSON, indented).</summary>
    public static void Write(TransportPlan plan, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(plan);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("format", Format);
        w.WriteNumber("version", 1);
        w.WriteString("cost", CostName(plan.Options.Cost));
        w.WriteNumber("noise", plan.Options.Noise);
        w.WriteString("cost_variant", plan.Options.CostVariant == SchrodingerCostVariant.KineticEnergy ? "kinetic" : "gmmflow-reference");
        w.WriteString("coupling", plan.Options.Coupling == CouplingMethod.ExactLp ? "lp" : "sinkhorn");
        w.WriteNumber("objective", plan.Objective);
        w.WriteNumber("dropped_mass", plan.DroppedMass);
        w.WritePropertyName("source");
        WriteMixture(w, plan.Source);
        w.WritePropertyName("target");
        WriteMixture(w, plan.Target);
        WriteCouplings(w, plan);
        w.WriteEndObject();
    }

    /// <summary>The plan's nonzero couplings as the "couplings" array of (i, j, weight) objects (plan files and `gmmflow plan --json`).</summary>
    internal static void WriteCouplings(Utf8JsonWriter w, TransportPlan plan) => WriteCouplings(w, plan.Pairs);

    internal static void WriteCouplings(Utf8JsonWriter w, IEnumerable<CouplingEntry> pairs)
    {
        w.WriteStartArray("couplings");
        foreach (var e in pairs)
        {
            w.WriteStartObject();
            w.WriteNumber("i", e.Source);
            w.WriteNumber("j", e.Target);
            w.WriteNumber("weight", e.Weight);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Reads a plan file; errors name the file and the field (<see cref="DataFormatException"/>).</summary>
    public static TransportPlan Read(Stream stream, string sourceName)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = false });
        }
        catch (JsonException e)
        {
            throw Bad(sourceName, $"{sourceName}: not valid JSON ({e.Message})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad(sourceName, $"{sourceName}: a plan file is a JSON object.");
            }
            if (!root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.String || format.GetString() != Format)
            {
                throw Bad(sourceName, $"{sourceName}: field \"format\" must be \"{Format}\" (is this a mixture file? use it with --source/--target).");
            }
            if (root.TryGetProperty("dynamics", out _))
            {
                throw Bad(sourceName, $"{sourceName}: this plan was built with linear dynamics; read it with LinearPlanJson.Read.");
            }
            var options = new TransportOptions
            {
                Cost = ParseCost(String(root, "cost", sourceName), sourceName),
                Noise = Number(root, "noise", sourceName),
                CostVariant = String(root, "cost_variant", sourceName) switch
                {
                    "kinetic" => SchrodingerCostVariant.KineticEnergy,
                    "gmmflow-reference" => SchrodingerCostVariant.GmmFlowReference,
                    var v => throw Bad(sourceName, $"{sourceName}: field \"cost_variant\" is \"{v}\"; expected \"kinetic\" or \"gmmflow-reference\"."),
                },
                Coupling = String(root, "coupling", sourceName) switch
                {
                    "lp" => CouplingMethod.ExactLp,
                    "sinkhorn" => CouplingMethod.Sinkhorn,
                    var v => throw Bad(sourceName, $"{sourceName}: field \"coupling\" is \"{v}\"; expected \"lp\" or \"sinkhorn\"."),
                },
            };
            if (options.Noise < 0)
            {
                throw Bad(sourceName, $"{sourceName}: field \"noise\" is {options.Noise}; σ must be ≥ 0.");
            }
            double objective = Number(root, "objective", sourceName);
            var source = ReadMixture(root, "source", sourceName);
            var target = ReadMixture(root, "target", sourceName);
            var entries = ReadCouplings(root, sourceName);
            try
            {
                return TransportPlan.FromCoupling(source, target, options, entries, objective);
            }
            catch (ArgumentException e)
            {
                throw Bad(sourceName, $"{sourceName}: {e.Message}");
            }
        }
    }

    /// <summary>The "couplings" array of a plan file.</summary>
    internal static List<CouplingEntry> ReadCouplings(JsonElement root, string sourceName)
    {
        if (!root.TryGetProperty("couplings", out var couplings) || couplings.ValueKind != JsonValueKind.Array)
        {
            throw Bad(sourceName, $"{sourceName}: field \"couplings\" (an array of {{\"i\", \"j\", \"weight\"}}) is missing.");
        }
        var entries = new List<CouplingEntry>();
        int index = 0;
        foreach (var c in couplings.EnumerateArray())
        {
            string where = $"couplings[{index}]";
            if (c.ValueKind != JsonValueKind.Object)
            {
                throw Bad(sourceName, $"{sourceName}: {where} must be an object {{\"i\", \"j\", \"weight\"}}.");
            }
            entries.Add(new CouplingEntry(Int(c, "i", sourceName, where), Int(c, "j", sourceName, where), Number(c, "weight", sourceName, where)));
            index++;
        }
        return entries;
    }

    /// <summary>The CLI/file name of a cost kind: w2, surrogate, sb, entropic.</summary>
    public static string CostName(CostKind kind) => kind switch
    {
        CostKind.Wasserstein => "w2",
        CostKind.Surrogate => "surrogate",
        CostKind.SchrodingerBridge => "sb",
        _ => "entropic",
    };

    /// <summary>Parses w2 | surrogate | sb | entropic.</summary>
    public static bool TryParseCost(string? name, out CostKind kind)
    {
        (bool ok, kind) = name switch
        {
            "w2" => (true, CostKind.Wasserstein),
            "surrogate" => (true, CostKind.Surrogate),
            "sb" => (true, CostKind.SchrodingerBridge),
            "entropic" => (true, CostKind.EntropicTransport),
            _ => (false, CostKind.Wasserstein),
        };
        return ok;
    }

    private static CostKind ParseCost(string name, string sourceName)
        => TryParseCost(name, out var kind) ? kind
            : throw Bad(sourceName, $"{sourceName}: field \"cost\" is \"{name}\"; expected w2, surrogate, sb or entropic.");

    internal static void WriteMixture(Utf8JsonWriter w, GaussianMixture mixture)
    {
        using var buffer = new MemoryStream();
        MixtureJson.Write(mixture, buffer);
        buffer.Position = 0;
        using var doc = JsonDocument.Parse(buffer);
        doc.RootElement.WriteTo(w);
    }

    internal static GaussianMixture ReadMixture(JsonElement root, string name, string sourceName)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind != JsonValueKind.Object)
        {
            throw Bad(sourceName, $"{sourceName}: field \"{name}\" (a mixture object) is missing.");
        }
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(w);
        }
        buffer.Position = 0;
        return MixtureJson.Read(buffer, $"{sourceName} (field \"{name}\")", renormalizeWeights: false, out _);
    }

    internal static string String(JsonElement e, string name, string sourceName)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
            : throw Bad(sourceName, $"{sourceName}: field \"{name}\" (a string) is missing.");

    internal static double Number(JsonElement e, string name, string sourceName, string? where = null)
    {
        if (e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double x) && double.IsFinite(x))
        {
            return x;
        }
        string field = where is null ? name : $"{where}.{name}";
        throw Bad(sourceName, $"{sourceName}: field \"{field}\" must be a finite number" +
            (e.TryGetProperty(name, out var bad) ? $" (got {bad.GetRawText()})." : " (missing)."));
    }

    internal static int Int(JsonElement e, string name, string sourceName, string where)
    {
        if (e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int x))
        {
            return x;
        }
        throw Bad(sourceName, $"{sourceName}: field \"{where}.{name}\" must be an integer component index.");
    }

    internal static DataFormatException Bad(string sourceName, string message) => new(sourceName, null, -1, message);
}

using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace GmmFlow.Cli;

/// <summary>Option builders, validators and input loaders shared by the commands (one place for each convention).</summary>
internal static class CliOptions
{
    public static Option<bool> Force() => new("--force", "-f") { Description = "Overwrite --out if it exists." };

    public static Option<bool> Json() => new("--json") { Description = "Print machine-readable JSON instead of text." };

    public static Option<string> Mixture(string name, string what)
        => new(name) { Description = $"{what} mixture JSON: {{\"weights\", \"means\", \"covariances\"[, \"covariance_type\": \"diag\"|\"spherical\"]}}.", Required = true };

    /// <summary>--cost w2|surrogate|sb|entropic.</summary>
    public static Option<string> Cost(string name, string description)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => "w2" };
        option.AcceptOnlyFromAmong("w2", "surrogate", "sb", "entropic");
        return option;
    }

    /// <summary>--noise σ ≥ 0 (ε = σ² is the noise variance; POT/OTT reg = 2σ²).</summary>
    public static Option<double> Noise()
    {
        var option = new Option<double>("--noise")
        {
            Description = "Diffusion coefficient σ ≥ 0 of dX = u dt + σ dW, for sb/entropic (noise variance ε = σ²; POT/OTT reg = 2σ²).",
            DefaultValueFactory = _ => 0.0,
        };
        NonNegative(option);
        return option;
    }

    public static Option<string> Variant()
    {
        var option = new Option<string>("--variant")
        {
            Description = "Which Schrödinger-bridge number: 'kinetic' (exact kinetic energy, default) or 'gmmflow-reference' (the GMMflow code's LP cost).",
            DefaultValueFactory = _ => "kinetic",
        };
        option.AcceptOnlyFromAmong("kinetic", "gmmflow-reference");
        return option;
    }

    public static CostKind ParseCost(string name)
        => PlanJson.TryParseCost(name, out var kind) ? kind : throw new CliUsageException($"unknown cost '{name}'.");

    public static SchrodingerCostVariant ParseVariant(string name)
        => name == "gmmflow-reference" ? SchrodingerCostVariant.GmmFlowReference : SchrodingerCostVariant.KineticEnergy;

    public static void AtLeast(Option<int> option, int minimum)
        => option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < minimum)
            {
                r.AddError($"{option.Name} must be at least {minimum} (got {v}).");
            }
        });

    public static void NonNegative(Option<double> option)
        => option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!double.IsFinite(v) || v < 0)
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a finite number ≥ 0 (got {v})."));
            }
        });

    public static void Positive(Option<double> option)
        => option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!double.IsFinite(v) || v <= 0)
            {
                r.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be a finite number > 0 (got {v})."));
            }
        });

    /// <summary>
    /// Loads a mixture file; weights that do not sum to 1 are renormalised and the renormalisation is reported on
    /// stderr (never silently).
    /// </summary>
    public static GaussianMixture LoadMixture(string path, TextWriter stderr)
    {
        var mixture = MixtureJson.Read(path, renormalizeWeights: true, out string? warning);
        if (warning is not null)
        {
            stderr.WriteLine($"gmmflow: warning: {warning}");
        }
        return mixture;
    }

    /// <summary>Loads sample points (.npy or .csv); a wrong extension is a usage error.</summary>
    public static double[] LoadSamples(string path, string optionName, out int dimension)
    {
        if (!SampleFiles.IsNpy(path) && !SampleFiles.IsCsv(path))
        {
            throw new CliUsageException($"{optionName} {path}: use a .npy or .csv file.");
        }
        return SampleFiles.Read(path, out dimension);
    }

    /// <summary>Renders an indented JSON document built by <paramref name="write"/> (reflection-free).</summary>
    public static string JsonText(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            write(w);
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    public static string F(double x, string format = "G6") => x.ToString(format, CultureInfo.InvariantCulture);
}

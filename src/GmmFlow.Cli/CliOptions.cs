using System.CommandLine;
using System.Globalization;
using System.CommandLine.Parsing;
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
        => CliNumbers.Real("--noise",
            "Diffusion coefficient σ ≥ 0 of dX = u dt + σ dW, for sb/entropic (noise variance ε = σ²; POT/OTT reg = 2σ²).", 0.0, 0, strict: false);

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

    /// <summary>Range check of an integer option, done by the shared typed parser (<see cref="CliNumbers"/>).</summary>
    public static void AtLeast(Option<int> option, int minimum)
    {
        string name = option.Name;
        option.CustomParser = r => CliNumbers.ParseInteger(r, name, minimum);
    }

    /// <summary>A finite value ≥ 0, checked by the shared typed parser.</summary>
    public static void NonNegative(Option<double> option)
    {
        string name = option.Name;
        option.CustomParser = r => CliNumbers.ParseReal(r, name, 0, strict: false);
    }

    /// <summary>A finite value &gt; 0, checked by the shared typed parser.</summary>
    public static void Positive(Option<double> option)
    {
        string name = option.Name;
        option.CustomParser = r => CliNumbers.ParseReal(r, name, 0, strict: true);
    }

    /// <summary>--renormalize-weights: the one opt-in for mixture files whose weights do not sum to 1 (docs/cli-contract.md#weights).</summary>
    public static Option<bool> RenormalizeWeights() => new("--renormalize-weights")
    {
        Description = "Accept mixture weights that do not sum to 1 (beyond 1e-6) by dividing them by their sum (reported on stderr).",
    };

    /// <summary>--header / --no-header for CSV/TSV sample inputs.</summary>
    public static (Option<bool> Header, Option<bool> NoHeader) HeaderOptions() =>
        (new Option<bool>("--header") { Description = "CSV/TSV input: the first line is a header (default: a header only when none of its fields is a number)." },
         new Option<bool>("--no-header") { Description = "CSV/TSV input: the first line is data." });

    /// <summary>The header choice of <see cref="HeaderOptions"/>: true, false, or null (the automatic rule).</summary>
    public static bool? HeaderChoice(ParseResult parse, (Option<bool> Header, Option<bool> NoHeader) options)
    {
        bool header = parse.GetValue(options.Header), noHeader = parse.GetValue(options.NoHeader);
        if (header && noHeader)
        {
            throw new CliUsageException("--header and --no-header contradict each other; give one.");
        }
        return header ? true : noHeader ? false : null;
    }

    /// <summary>
    /// Loads a mixture file under the weight rule (docs/cli-contract.md#weights): a sum within 1e-6 of 1 is normalised
    /// silently, a larger difference is refused unless <paramref name="renormalize"/>, which is then reported on stderr.
    /// </summary>
    public static GaussianMixture LoadMixture(string path, string option, bool renormalize, TextWriter stderr)
    {
        CliFiles.CheckInput(path, option);
        var mixture = MixtureJson.Read(path, renormalize, out string? warning);
        if (warning is not null)
        {
            stderr.WriteLine($"gmmflow: warning: {warning}");
        }
        return mixture;
    }

    /// <summary>Loads a mixture file refusing weights that do not sum to 1 (beyond round-off).</summary>
    public static GaussianMixture LoadMixture(string path, TextWriter stderr) => LoadMixture(path, "input", renormalize: false, stderr);

    /// <summary>Loads sample points (.npy, .npz, .csv, .tsv); a wrong extension is a usage error, notices go to stderr.</summary>
    public static double[] LoadSamples(string path, string optionName, bool? header, TextWriter stderr, out int dimension)
    {
        if (!SampleFiles.IsSampleFile(path))
        {
            throw new CliUsageException($"{optionName} {path}: use a .npy, .npz, .csv or .tsv file.");
        }
        string file = path.Contains(".npz:", StringComparison.OrdinalIgnoreCase) ? path[..(path.LastIndexOf(".npz:", StringComparison.OrdinalIgnoreCase) + 4)] : path;
        CliFiles.CheckInput(file, optionName);
        var options = new SampleReadOptions
        {
            Header = header,
            CancellationToken = CliApp.Cancellation,
            Notice = note => stderr.WriteLine($"gmmflow: note: {note}"),
        };
        return SampleFiles.Read(path, options, out dimension);
    }

    /// <summary>Loads sample points with the automatic header rule.</summary>
    public static double[] LoadSamples(string path, string optionName, out int dimension)
        => LoadSamples(path, optionName, header: null, TextWriter.Null, out dimension);

    /// <summary>Writes sample points as .npy or .csv by the extension of <paramref name="path"/> (streaming).</summary>
    public static void WriteSamples(Stream stream, string path, ReadOnlySpan<double> values, int dimension)
    {
        if (SampleFiles.IsNpy(path))
        {
            SampleFiles.WriteNpy(stream, values, dimension);
        }
        else
        {
            SampleFiles.WriteCsv(stream, values, dimension);
        }
    }

    /// <summary>
    /// Writes a number into a --json summary; JSON has no NaN or infinity, so a non-finite value is written as null
    /// (docs/cli-contract.md#json). Every --json writer goes through this.
    /// </summary>
    public static void WriteFinite(this Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value))
        {
            w.WriteNumber(name, value);
        }
        else
        {
            w.WriteNull(name);
        }
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

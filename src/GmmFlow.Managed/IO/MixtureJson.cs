using System.Globalization;
using System.Text;
using System.Text.Json;

namespace GmmFlow;

/// <summary>
/// Reads and writes mixtures in GmmFlow's JSON format:
/// <code>
/// {"weights": [K], "means": [[d], …], "covariances": [[[d], …], …]}             (full, the default)
/// {"covariance_type": "diag", "weights": […], "means": […], "covariances": [[d variances], …]}
/// {"covariance_type": "spherical", "weights": […], "means": […], "covariances": [K variances]}
/// </code>
/// Loading validates everything and reports problems as <see cref="DataFormatException"/> naming the file,
/// field, component and value. Unknown fields are ignored (room for metadata). Native-AOT safe: JsonDocument
/// and Utf8JsonWriter only, no reflection serializer.
/// </summary>
public static class MixtureJson
{
    /// <summary>
    /// Weights whose sum is within this of 1 are divided by their sum without comment (round-off of a file written in
    /// float32 or with few digits); a larger difference is an error unless renormalisation is asked for.
    /// </summary>
    public const double WeightSumTolerance = 1e-6;

    /// <summary>Reads a mixture file; weights must sum to 1 within <see cref="WeightSumTolerance"/>.</summary>
    public static GaussianMixture Read(string path) => Read(path, renormalizeWeights: false, out _);

    /// <summary>
    /// Reads a mixture file. Weights within <see cref="WeightSumTolerance"/> of summing to 1 are divided by their sum
    /// silently. With <paramref name="renormalizeWeights"/>, weights that sum to something else are divided by their
    /// sum and <paramref name="warning"/> says so (naming the file); otherwise that is an error.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">Malformed or truncated JSON, missing fields, wrong dimensions, non-finite values, a non-positive weight, a covariance that is not symmetric positive definite.</exception>
    public static GaussianMixture Read(string path, bool renormalizeWeights, out string? warning)
    {
        if (Directory.Exists(path))
        {
            throw new FileNotFoundException($"{path} is a directory, not a file.", path);
        }
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file.", path);
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(stream, path, renormalizeWeights, out warning);
    }

    /// <summary>Reads a mixture from <paramref name="stream"/>; <paramref name="sourceName"/> names it in errors.</summary>
    public static GaussianMixture Read(Stream stream, string sourceName, bool renormalizeWeights, out string? warning)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), DocumentOptions);
        }
        catch (JsonException e)
        {
            throw JsonError(sourceName, e);
        }
        using (document)
        {
            return Parse(document.RootElement, sourceName, renormalizeWeights, out warning);
        }
    }

    /// <summary>
    /// Writes <paramref name="mixture"/> as indented JSON, one vector or matrix row per line, numbers in
    /// shortest round-trip form (a reload gives bit-identical parameters).
    /// </summary>
    /// <remarks>
    /// Written by hand rather than with Utf8JsonWriter: the content is fixed keys and finite numbers only
    /// (nothing to escape; "R" formatting is valid JSON), and Utf8JsonWriter's indentation would put every
    /// number of a d×d matrix on its own line.
    /// </remarks>
    public static void Write(GaussianMixture mixture, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(mixture);
        ArgumentNullException.ThrowIfNull(stream);
        int k = mixture.ComponentCount, d = mixture.Dimension;
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        w.WriteLine("{");
        if (mixture.CovarianceType != CovarianceType.Full)
        {
            w.WriteLine($"  \"covariance_type\": \"{(mixture.CovarianceType == CovarianceType.Diagonal ? "diag" : "spherical")}\",");
        }
        w.WriteLine($"  \"weights\": {Row(mixture.Weights)},");
        w.WriteLine("  \"means\": [");
        for (int c = 0; c < k; c++)
        {
            w.WriteLine($"    {Row(mixture.Mean(c))}{(c + 1 < k ? "," : "")}");
        }
        w.WriteLine("  ],");
        ReadOnlySpan<double> compact = mixture.CompactCovariances;
        switch (mixture.CovarianceType)
        {
            case CovarianceType.Full:
                w.WriteLine("  \"covariances\": [");
                for (int c = 0; c < k; c++)
                {
                    w.WriteLine("    [");
                    for (int i = 0; i < d; i++)
                    {
                        w.WriteLine($"      {Row(compact.Slice((c * d + i) * d, d))}{(i + 1 < d ? "," : "")}");
                    }
                    w.WriteLine(c + 1 < k ? "    ]," : "    ]");
                }
                w.WriteLine("  ]");
                break;
            case CovarianceType.Diagonal:
                w.WriteLine("  \"covariances\": [");
                for (int c = 0; c < k; c++)
                {
                    w.WriteLine($"    {Row(compact.Slice(c * d, d))}{(c + 1 < k ? "," : "")}");
                }
                w.WriteLine("  ]");
                break;
            default:
                w.WriteLine($"  \"covariances\": {Row(compact)}");
                break;
        }
        w.WriteLine("}");
    }

    /// <summary>Writes <paramref name="mixture"/> to <paramref name="path"/> (replacing it).</summary>
    public static void Write(GaussianMixture mixture, string path)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None);
        Write(mixture, stream);
    }

    private static string Row(ReadOnlySpan<double> values)
    {
        var sb = new StringBuilder(values.Length * 22 + 2);
        sb.Append('[');
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            sb.Append(values[i].ToString("R", CultureInfo.InvariantCulture));
        }
        return sb.Append(']').ToString();
    }

    private static GaussianMixture Parse(JsonElement root, string file, bool renormalize, out string? warning)
    {
        warning = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Error(file, null, -1, $"the top level is {Describe(root)}, expected an object with \"weights\", \"means\" and \"covariances\"");
        }
        CovarianceType type = CovarianceType.Full;
        if (root.TryGetProperty("covariance_type", out JsonElement typeElement))
        {
            string? name = typeElement.ValueKind == JsonValueKind.String ? typeElement.GetString() : null;
            type = name switch
            {
                "full" => CovarianceType.Full,
                "diag" or "diagonal" => CovarianceType.Diagonal,
                "spherical" => CovarianceType.Spherical,
                _ => throw Error(file, "covariance_type", -1, $"is {Describe(typeElement)}, expected \"full\", \"diag\" or \"spherical\""),
            };
        }

        JsonElement weightsElement = Required(root, "weights", file);
        int k = ArrayLength(weightsElement, file, "weights", -1, "an array of K weights");
        if (k == 0)
        {
            throw Error(file, "weights", -1, "is empty: a mixture needs at least one component");
        }
        var weights = new double[k];
        for (int c = 0; c < k; c++)
        {
            double w = Number(weightsElement[c], file, "weights", c, "weight");
            if (!(w > 0))
            {
                throw Error(file, "weights", c, $"weight {w.ToString("R", CultureInfo.InvariantCulture)} is not positive");
            }
            weights[c] = w;
        }

        JsonElement meansElement = Required(root, "means", file);
        int kMeans = ArrayLength(meansElement, file, "means", -1, "an array of K mean vectors");
        if (kMeans != k)
        {
            throw Error(file, "means", -1, $"has {kMeans} mean vectors but \"weights\" has {k} components");
        }
        int d = -1;
        double[] means = [];
        for (int c = 0; c < k; c++)
        {
            JsonElement row = meansElement[c];
            int len = ArrayLength(row, file, "means", c, "an array of d numbers");
            if (d < 0)
            {
                if (len == 0)
                {
                    throw Error(file, "means", c, "is empty: the dimension must be at least 1");
                }
                d = len;
                means = new double[k * d];
            }
            else if (len != d)
            {
                throw Error(file, "means", c, $"has {len} coordinates but component 0 has {d}");
            }
            for (int j = 0; j < d; j++)
            {
                means[c * d + j] = Number(row[j], file, "means", c, $"coordinate {j}");
            }
        }

        JsonElement covElement = Required(root, "covariances", file);
        int kCov = ArrayLength(covElement, file, "covariances", -1, "an array with one covariance per component");
        if (kCov != k)
        {
            throw Error(file, "covariances", -1, $"has {kCov} entries but \"weights\" has {k} components");
        }
        double[] covariances;
        switch (type)
        {
            case CovarianceType.Full:
                covariances = new double[k * d * d];
                for (int c = 0; c < k; c++)
                {
                    JsonElement matrix = covElement[c];
                    int rows = ArrayLength(matrix, file, "covariances", c, $"a {d}×{d} matrix (array of {d} rows)");
                    if (rows != d)
                    {
                        throw Error(file, "covariances", c, $"has {rows} rows, expected {d} (the dimension of the means)");
                    }
                    for (int i = 0; i < d; i++)
                    {
                        JsonElement row = matrix[i];
                        int cols = ArrayLength(row, file, "covariances", c, $"row {i}: an array of {d} numbers");
                        if (cols != d)
                        {
                            throw Error(file, "covariances", c, $"row {i} has {cols} entries, expected {d}");
                        }
                        for (int j = 0; j < d; j++)
                        {
                            covariances[(c * d + i) * d + j] = Number(row[j], file, "covariances", c, $"entry ({i}, {j})");
                        }
                    }
                }
                break;
            case CovarianceType.Diagonal:
                covariances = new double[k * d];
                for (int c = 0; c < k; c++)
                {
                    JsonElement row = covElement[c];
                    int len = ArrayLength(row, file, "covariances", c, $"an array of {d} variances (covariance_type \"diag\")");
                    if (len != d)
                    {
                        throw Error(file, "covariances", c, $"has {len} variances, expected {d}");
                    }
                    for (int j = 0; j < d; j++)
                    {
                        covariances[c * d + j] = Variance(row[j], file, c, $"variance {j}");
                    }
                }
                break;
            default:
                covariances = new double[k];
                for (int c = 0; c < k; c++)
                {
                    covariances[c] = Variance(covElement[c], file, c, "variance (covariance_type \"spherical\")");
                }
                break;
        }

        double sum = 0;
        foreach (double w in weights)
        {
            sum += w;
        }
        bool off = !(Math.Abs(sum - 1) <= WeightSumTolerance);
        if (off && !renormalize)
        {
            throw Error(file, "weights", -1, $"sum to {sum.ToString("G12", CultureInfo.InvariantCulture)}, not 1 (tolerance {WeightSumTolerance:0e0}); fix the file or pass --renormalize-weights");
        }
        if (!off && Math.Abs(sum - 1) > GaussianMixture.WeightSumTolerance)
        {
            // Round-off of a float32 or short-printed file: make the sum 1, silently (docs/cli-contract.md#weights). A sum
            // within 1e-9 is kept as written, so a file GmmFlow wrote reads back bit for bit.
            for (int c = 0; c < k; c++)
            {
                weights[c] /= sum;
            }
        }
        GaussianMixture mixture;
        try
        {
            mixture = new GaussianMixture(weights, means, covariances, type, renormalizeWeights: renormalize);
        }
        catch (NotPositiveDefiniteException e)
        {
            throw Error(file, "covariances", e.Index, $"is not positive definite (its leading minor of order {e.MinorOrder} is not positive)", e);
        }
        catch (ArgumentException e) when (e.ParamName == "covariances")
        {
            throw new DataFormatException(file, "covariances", -1, $"{file}: field \"covariances\": {e.Message}", e);
        }
        if (mixture.WeightsRenormalized)
        {
            warning = $"{file}: {mixture.WeightWarning}";
        }
        return mixture;
    }

    /// <summary>How GmmFlow parses JSON inputs: comments skipped, no trailing commas, a key given twice is an error.</summary>
    internal static JsonDocumentOptions DocumentOptions => new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Skip,
        AllowDuplicateProperties = false,
    };

    /// <summary>The one-line error for a JSON document that does not parse (a duplicated key named as such).</summary>
    internal static DataFormatException JsonError(string sourceName, JsonException e)
    {
        string where = e.LineNumber is long line ? $" at line {line + 1}, byte {e.BytePositionInLine + 1}" : "";
        string what = e.Message.Contains("uplicate", StringComparison.Ordinal) ? "a key appears twice in one object" : "not valid JSON (malformed or truncated)";
        return new DataFormatException(sourceName, null, -1, $"{sourceName}: {what}{where}: {e.Message.ReplaceLineEndings(" ")}", e);
    }

    private static JsonElement Required(JsonElement root, string name, string file)
        => root.TryGetProperty(name, out JsonElement e) ? e : throw Error(file, name, -1, "is missing");

    private static int ArrayLength(JsonElement e, string file, string field, int component, string expected)
        => e.ValueKind == JsonValueKind.Array ? e.GetArrayLength() : throw Error(file, field, component, $"is {Describe(e)}, expected {expected}");

    private static double Number(JsonElement e, string file, string field, int component, string what)
    {
        if (e.ValueKind != JsonValueKind.Number)
        {
            throw Error(file, field, component, $"{what} is {Describe(e)}, expected a number");
        }
        if (!e.TryGetDouble(out double value) || !double.IsFinite(value))
        {
            throw Error(file, field, component, $"{what} is {e.GetRawText()}, which is not a finite double");
        }
        return value;
    }

    private static double Variance(JsonElement e, string file, int component, string what)
    {
        double v = Number(e, file, "covariances", component, what);
        return v > 0 ? v : throw Error(file, "covariances", component, $"{what} is {v.ToString("R", CultureInfo.InvariantCulture)}, variances must be positive");
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => $"an array of {e.GetArrayLength()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => "null",
    };

    private static DataFormatException Error(string file, string? field, int component, string detail, Exception? inner = null)
    {
        string where = field is null ? "" : $" field \"{field}\"" + (component >= 0 ? $", component {component}" : "") + ":";
        return new DataFormatException(file, field, component, $"{file}:{where} {detail}.", inner);
    }
}

using System.Globalization;

namespace GmmFlow.Sampling;

/// <summary>A data file of a Debian package is not installed; the message names the apt command that installs it.</summary>
public sealed class DatasetNotFoundException : FileNotFoundException
{
    public DatasetNotFoundException(string dataset, string package, IReadOnlyList<string> tried)
        : base($"{dataset} data not found (tried {string.Join(", ", tried)}). Install it: 'apt-get install {package}' " +
            $"(or set {BenchmarkDatasets.DataDirectoryVariable} to a folder holding the file).")
    {
        Dataset = dataset;
        Package = package;
        AptCommand = $"apt-get install {package}";
    }

    public string Dataset { get; }
    public string Package { get; }
    public string AptCommand { get; }
}

/// <summary>A logistic-regression data set: n×d design (intercept column first), labels in {0, 1}, and the prior's σ.</summary>
public sealed record ClassificationData(string Name, double[] Design, double[] Labels, int Dimension, double PriorStd)
{
    public int Count => Labels.Length;

    /// <summary>The posterior of Bayesian logistic regression on this data.</summary>
    public LogisticRegressionTarget ToTarget() => new(Name, Design, Labels, PriorStd);
}

/// <summary>
/// The four Bayesian logistic regression benchmarks, read at run time from Debian packages: German credit and
/// Ionosphere from weka's example ARFF files, breast cancer from python3-sklearn's CSV, Sonar from r-cran-mlbench's
/// .rda. Preprocessing as in docs/theory/samplers.md#logistic.
/// </summary>
public static class BenchmarkDatasets
{
    /// <summary>Environment variable naming an extra folder searched first for the data files.</summary>
    public const string DataDirectoryVariable = "GMMFLOW_DATA_DIR";

    private static readonly string[] s_wekaDirs = ["/usr/share/doc/weka/examples", "/usr/share/weka/data", "/usr/share/weka/examples"];
    private static readonly string[] s_sklearnDirs = ["/usr/lib/python3/dist-packages/sklearn/datasets/data"];
    private static readonly string[] s_mlbenchDirs = ["/usr/lib/R/site-library/mlbench/data", "/usr/lib/R/library/mlbench/data"];

    /// <summary>Finds <paramref name="fileName"/> (or its .gz) in the override folder, then the package folders.</summary>
    public static string Locate(string dataset, string fileName, string package, IReadOnlyList<string> directories)
    {
        var tried = new List<string>();
        var dirs = new List<string>();
        string? overrideDir = Environment.GetEnvironmentVariable(DataDirectoryVariable);
        if (!string.IsNullOrEmpty(overrideDir))
        {
            dirs.Add(overrideDir);
        }
        dirs.AddRange(directories);
        foreach (string dir in dirs)
        {
            foreach (string candidate in new[] { Path.Combine(dir, fileName), Path.Combine(dir, fileName + ".gz") })
            {
                tried.Add(candidate);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new DatasetNotFoundException(dataset, package, tried);
    }

    /// <summary>Loads a benchmark by name: credit, cancer, ionosphere or sonar.</summary>
    public static ClassificationData Load(string name) => name switch
    {
        "credit" => GermanCredit(),
        "cancer" => BreastCancer(),
        "ionosphere" => Ionosphere(),
        "sonar" => Sonar(),
        _ => throw new ArgumentException($"Unknown data set '{name}' (credit, cancer, ionosphere, sonar).", nameof(name)),
    };

    /// <summary>German credit (1000 × 24 features + intercept, σ = 10): features divided by their standard deviation, not centred.</summary>
    public static ClassificationData GermanCredit()
    {
        string path = Locate("German credit", "credit-g.arff", "weka", s_wekaDirs);
        return GermanCredit(ReadArff(path), Path.GetFileName(path));
    }

    internal static ClassificationData GermanCredit(ArffTable t, string fileName)
    {
        (double[] features, double[] labels) = GermanCreditFeatures(t, fileName);
        return Build("credit", features, labels, 24, center: false, priorStd: 10);
    }

    /// <summary>The 24 unscaled German credit features (n×24, the layout of docs/theory/samplers.md#logistic) and labels.</summary>
    internal static (double[] Features, double[] Labels) GermanCreditFeatures(ArffTable t, string fileName)
    {
        int Col(string n) => t.Column(n, fileName);
        int checking = Col("checking_status"), duration = Col("duration"), history = Col("credit_history"), purpose = Col("purpose"),
            amount = Col("credit_amount"), savings = Col("savings_status"), employment = Col("employment"), personal = Col("personal_status"),
            parties = Col("other_parties"), residence = Col("residence_since"), property = Col("property_magnitude"), age = Col("age"),
            plans = Col("other_payment_plans"), housing = Col("housing"), credits = Col("existing_credits"), job = Col("job"),
            dependents = Col("num_dependents"), telephone = Col("own_telephone"), foreign = Col("foreign_worker"), cls = Col("class");
        int n = t.Rows.Count;
        const int F = 24;
        var features = new double[n * F];
        var labels = new double[n];
        for (int i = 0; i < n; i++)
        {
            double[] r = t.Rows[i];
            foreach (double v in r)
            {
                if (double.IsNaN(v))
                {
                    throw new DataFormatException(fileName, null, i, $"row {i + 1} has a missing value.");
                }
            }
            // Categorical codes are 1, 2, … in @attribute order (the ARFF stores 0-based indices).
            double[] f =
            [
                r[checking] + 1, r[duration], r[history], Math.Round(r[amount] / 100, MidpointRounding.ToEven), r[savings] + 1,
                r[employment] + 1, r[personal] + 1, r[residence], r[property] + 1, r[age], r[plans] + 1, r[credits],
                r[dependents], r[telephone] + 1, r[foreign] + 1,
                r[purpose] == 0 ? 1 : 0, r[purpose] == 1 ? 1 : 0, r[parties] == 0 ? 1 : 0, r[parties] == 1 ? 1 : 0,
                r[housing] == 0 ? 1 : 0, r[housing] == 1 ? 1 : 0, r[job] == 0 ? 1 : 0, r[job] == 1 ? 1 : 0, r[job] == 2 ? 1 : 0,
            ];
            f.CopyTo(features, i * F);
            labels[i] = r[cls]; // good = 0, bad = 1
        }
        return (features, labels);
    }

    /// <summary>Breast cancer Wisconsin (569 × 30 + intercept, σ = 10): features divided by their standard deviation, not centred.</summary>
    public static ClassificationData BreastCancer()
    {
        string path = Locate("Breast cancer", "breast_cancer.csv", "python3-sklearn", s_sklearnDirs);
        using var reader = OpenText(path);
        return BreastCancer(reader, Path.GetFileName(path));
    }

    internal static ClassificationData BreastCancer(TextReader reader, string fileName)
    {
        // sklearn's layout: a first line "n,p,name0,name1", then n rows of p features and the 0/1 target.
        string header = reader.ReadLine() ?? throw new DataFormatException(fileName, null, 0, "empty file.");
        string[] h = header.Split(',');
        if (h.Length < 2 || !int.TryParse(h[0], CultureInfo.InvariantCulture, out int n) || !int.TryParse(h[1], CultureInfo.InvariantCulture, out int p) || n < 1 || p < 1)
        {
            throw new DataFormatException(fileName, null, 0, "line 1 is not the 'n,p,…' header of sklearn's CSV.");
        }
        var features = new double[n * p];
        var labels = new double[n];
        for (int i = 0; i < n; i++)
        {
            string line = reader.ReadLine() ?? throw new DataFormatException(fileName, null, i + 2, $"the header announces {n} rows, found {i}.");
            string[] cells = line.Split(',');
            if (cells.Length != p + 1)
            {
                throw new DataFormatException(fileName, null, i + 2, $"line {i + 2}: {cells.Length} values, expected {p + 1}.");
            }
            for (int j = 0; j <= p; j++)
            {
                if (!double.TryParse(cells[j], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                {
                    throw new DataFormatException(fileName, null, i + 2, $"line {i + 2}, column {j + 1}: '{cells[j]}' is not a number.");
                }
                if (j < p)
                {
                    features[(i * p) + j] = v;
                }
                else
                {
                    labels[i] = v;
                }
            }
        }
        return Build("cancer", features, labels, p, center: false, priorStd: 10);
    }

    /// <summary>Ionosphere (351 × 34 + intercept, σ = 1): features standardised (a constant column stays 0).</summary>
    public static ClassificationData Ionosphere()
    {
        string path = Locate("Ionosphere", "ionosphere.arff", "weka", s_wekaDirs);
        ArffTable t = ReadArff(path);
        string fileName = Path.GetFileName(path);
        int cls = t.Column("class", fileName);
        int p = t.Names.Count - 1;
        int n = t.Rows.Count;
        var features = new double[n * p];
        var labels = new double[n];
        for (int i = 0; i < n; i++)
        {
            int c = 0;
            for (int j = 0; j < t.Names.Count; j++)
            {
                if (j != cls)
                {
                    features[(i * p) + c++] = t.Rows[i][j];
                }
            }
            labels[i] = t.Rows[i][cls]; // b = 0, g = 1
        }
        return Build("ionosphere", features, labels, p, center: true, priorStd: 1);
    }

    /// <summary>Sonar (208 × 60 + intercept, σ = 1): features standardised.</summary>
    public static ClassificationData Sonar()
    {
        string path = Locate("Sonar", "Sonar.rda", "r-cran-mlbench", s_mlbenchDirs);
        return Sonar(RDataReader.ReadDataFrame(path, "Sonar"), Path.GetFileName(path));
    }

    internal static ClassificationData Sonar(IReadOnlyList<RColumn> columns, string fileName)
    {
        RColumn? cls = null;
        var numeric = new List<RColumn>();
        foreach (RColumn c in columns)
        {
            if (c.IsFactor)
            {
                cls = c;
            }
            else
            {
                numeric.Add(c);
            }
        }
        if (cls is null || cls.Levels!.Length != 2)
        {
            throw new DataFormatException(fileName, "Class", -1, "expected one two-level factor column (the class).");
        }
        int n = cls.Values.Length;
        int p = numeric.Count;
        var features = new double[n * p];
        var labels = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < p; j++)
            {
                features[(i * p) + j] = numeric[j].Values[i];
            }
            labels[i] = cls.Values[i] - 1; // M = 0, R = 1
        }
        return Build("sonar", features, labels, p, center: true, priorStd: 1);
    }

    // Scales each feature by its (population) standard deviation, centring first when asked, and prepends the intercept.
    private static ClassificationData Build(string name, double[] features, double[] labels, int p, bool center, double priorStd)
    {
        int n = labels.Length;
        int d = p + 1;
        var design = new double[n * d];
        for (int j = 0; j < p; j++)
        {
            double mean = 0;
            for (int i = 0; i < n; i++)
            {
                double v = features[(i * p) + j];
                if (!double.IsFinite(v))
                {
                    throw new DataFormatException(name, null, i, $"row {i + 1}, feature {j + 1} is missing or not finite.");
                }
                mean += v;
            }
            mean /= n;
            double ss = 0;
            for (int i = 0; i < n; i++)
            {
                double z = features[(i * p) + j] - mean;
                ss += z * z;
            }
            double sd = Math.Sqrt(ss / n);
            double shift = center ? mean : 0;
            double scale = sd > 0 ? 1 / sd : 1; // a constant feature (Ionosphere's second) is left unscaled
            for (int i = 0; i < n; i++)
            {
                design[(i * d) + 1 + j] = (features[(i * p) + j] - shift) * scale;
            }
        }
        for (int i = 0; i < n; i++)
        {
            design[i * d] = 1;
            if (labels[i] is not (0 or 1))
            {
                throw new DataFormatException(name, null, i, $"row {i + 1}: label {labels[i]} is not 0 or 1.");
            }
        }
        return new ClassificationData(name, design, labels, d, priorStd);
    }

    private static ArffTable ReadArff(string path)
    {
        using var reader = OpenText(path);
        return ArffReader.Read(reader, Path.GetFileName(path));
    }

    private static StreamReader OpenText(string path)
    {
        Stream s = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            s = new System.IO.Compression.GZipStream(s, System.IO.Compression.CompressionMode.Decompress);
        }
        return new StreamReader(s);
    }
}

using System.IO.Compression;
using GmmFlow.Native.Compression;
using GmmFlow.Sampling;

namespace GmmFlow.Tests.Sampling;

/// <summary>
/// The ARFF, CSV and R-data readers against hand-checked rows of the Debian packages' files (skipped, naming the apt
/// command, only when a package is absent), and typed errors for malformed input.
/// </summary>
public class DataReaderTests
{
    private static T OrSkip<T>(Func<T> load)
    {
        try
        {
            return load();
        }
        catch (DatasetNotFoundException e)
        {
            Assert.Skip($"Debian package not installed: {e.AptCommand}");
            throw;
        }
    }

    [Fact]
    public void Arff_reader_parses_quotes_nominals_and_missing_values()
    {
        const string text = """
            % comment
            @relation 'toy data'
            @attribute 'first col' numeric
            @attribute colour { red, 'light blue', green}
            @attribute class {yes,no}
            @data
            1.5,'light blue',no
            ?, red , yes
            """;
        ArffTable t = ArffReader.Read(new StringReader(text), "toy.arff");
        Assert.Equal("toy data", t.Relation);
        Assert.Equal(["first col", "colour", "class"], t.Names);
        Assert.Equal([1.5, 1, 1], t.Rows[0]);
        Assert.True(double.IsNaN(t.Rows[1][0]));
        Assert.Equal([0.0, 0.0], t.Rows[1][1..]);
        var e = Assert.Throws<DataFormatException>(() => ArffReader.Read(new StringReader("@relation r\n@attribute a {x,y}\n@data\nz\n"), "bad.arff"));
        Assert.Contains("'z'", e.Message);
        Assert.Throws<DataFormatException>(() => ArffReader.Read(new StringReader("@relation r\n@attribute a numeric\n@data\n1,2\n"), "bad.arff"));
    }

    [Fact]
    public void German_credit_first_row_matches_the_numeric_encoding()
    {
        string path = OrSkip(() => BenchmarkDatasets.Locate("German credit", "credit-g.arff", "weka", ["/usr/share/doc/weka/examples", "/usr/share/weka/data"]));
        ArffTable t = ArffReader.Read(path);
        (double[] f, double[] y) = BenchmarkDatasets.GermanCreditFeatures(t, "credit-g.arff");
        Assert.Equal(1000, y.Length);
        // Row 1: '<0', 6, critical/other existing credit, radio/tv, 1169, no known savings, >=7, …, skilled, good.
        Assert.Equal([1, 6, 4, 12, 5, 5, 3, 4, 1, 67, 3, 2, 1, 2, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1], f[..24]);
        Assert.Equal(0, y[0]);
        Assert.Equal(1, y[1]);
        Assert.Equal(300, y.Sum());
        ClassificationData data = BenchmarkDatasets.GermanCredit();
        Assert.Equal(25, data.Dimension);
        Assert.Equal(1, data.Design[0]);
        // Duration 6 divided by the column's population standard deviation.
        double[] durations = Enumerable.Range(0, 1000).Select(i => f[(i * 24) + 1]).ToArray();
        double mean = durations.Average();
        double sd = Math.Sqrt(durations.Sum(v => (v - mean) * (v - mean)) / 1000);
        Assert.Equal(6 / sd, data.Design[2], 1e-12);
    }

    [Fact]
    public void Breast_cancer_csv_first_row_and_counts()
    {
        ClassificationData data = OrSkip(BenchmarkDatasets.BreastCancer);
        Assert.Equal(569, data.Count);
        Assert.Equal(31, data.Dimension);
        Assert.Equal(212, data.Labels.Count(v => v == 0)); // malignant
        var raw = BenchmarkDatasets.BreastCancer(new StringReader("2,3,malignant,benign\n17.99,10.38,122.8,0\n20.57,17.77,132.9,1\n"), "toy.csv");
        Assert.Equal([0.0, 1.0], raw.Labels);
        Assert.Equal(17.99 / 1.29, raw.Design[1], 1e-12); // sd of {17.99, 20.57} is 1.29
        Assert.Throws<DataFormatException>(() => BenchmarkDatasets.BreastCancer(new StringReader("2,3,a,b\n1,2,3,0\n"), "short.csv"));
    }

    [Fact]
    public void Ionosphere_arff_counts_and_first_row()
    {
        ClassificationData data = OrSkip(BenchmarkDatasets.Ionosphere);
        Assert.Equal(351, data.Count);
        Assert.Equal(35, data.Dimension);
        Assert.Equal(225, data.Labels.Count(v => v == 1)); // good
        Assert.Equal(0, data.Design[2]); // the constant second feature stays 0 after centring
        double colSum = Enumerable.Range(0, 351).Sum(i => data.Design[(i * 35) + 3]);
        Assert.Equal(0, colSum, 1e-9); // standardised columns are centred
    }

    [Fact]
    public void Sonar_rda_reads_through_xz_and_gzip_and_matches_hand_checked_values()
    {
        string path = OrSkip(() => BenchmarkDatasets.Locate("Sonar", "Sonar.rda", "r-cran-mlbench", ["/usr/lib/R/site-library/mlbench/data"]));
        IReadOnlyList<RColumn> cols = RDataReader.ReadDataFrame(path, "Sonar");
        Assert.Equal(61, cols.Count);
        Assert.Equal("V1", cols[0].Name);
        Assert.Equal([0.0200, 0.0453, 0.0262, 0.0100, 0.0762], cols[0].Values[..5]);
        Assert.Equal(0.0032, cols[59].Values[0], 1e-12); // V60 of row 1
        Assert.Equal(["M", "R"], cols[60].Levels!);
        Assert.Equal(97, cols[60].Values.Count(v => v == 2)); // rocks
        Assert.Equal(2, cols[60].Values[0]);

        // The same data gzip-compressed and uncompressed read identically.
        byte[] raw = XzDecoder.Decode(File.ReadAllBytes(path));
        using var gz = new MemoryStream();
        using (var z = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            z.Write(raw);
        }
        foreach (byte[] bytes in new[] { gz.ToArray(), raw })
        {
            IReadOnlyList<RColumn> again = RDataReader.ReadDataFrame(bytes, "Sonar.rda", "Sonar");
            Assert.Equal(cols[5].Values, again[5].Values);
        }
        Assert.Throws<DataFormatException>(() => RDataReader.ReadDataFrame(raw[..5000], "cut.rda", null));
        Assert.Throws<DataFormatException>(() => RDataReader.ReadDataFrame(raw, "Sonar.rda", "NotThere"));

        ClassificationData data = BenchmarkDatasets.Sonar();
        Assert.Equal(208, data.Count);
        Assert.Equal(61, data.Dimension);
    }

    [Fact]
    public void Missing_data_file_names_the_apt_command()
    {
        var e = Assert.Throws<DatasetNotFoundException>(() => BenchmarkDatasets.Locate("Sonar", "Sonar.rda", "r-cran-mlbench", ["/nonexistent/gmmflow"]));
        Assert.Equal("apt-get install r-cran-mlbench", e.AptCommand);
        Assert.Contains("apt-get install r-cran-mlbench", e.Message);
    }
}

using System.Buffers.Binary;
using System.Text;

namespace GmmFlow.Tests.Mixtures;

public sealed class IoTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gmmflow-io-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Path(string name) => System.IO.Path.Combine(_dir, name);

    private static GaussianMixture Read(string json, bool renormalize = false) => Read(json, renormalize, out _);

    private static GaussianMixture Read(string json, bool renormalize, out string? warning)
        => MixtureJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "model.json", renormalize, out warning);

    [Theory]
    [InlineData(CovarianceType.Full)]
    [InlineData(CovarianceType.Diagonal)]
    [InlineData(CovarianceType.Spherical)]
    public void Json_round_trip_is_exact(CovarianceType type)
    {
        var rng = new Random((int)type);
        var p = NaiveMixture.RandomParameters(rng, 4, 3, type);
        var mixture = new GaussianMixture(p.W, p.M, p.C, type);
        string file = Path("m.json");
        MixtureJson.Write(mixture, file);
        var back = MixtureJson.Read(file);
        Assert.Equal(type, back.CovarianceType);
        Assert.Equal(mixture.Weights.ToArray(), back.Weights.ToArray());
        Assert.Equal(mixture.Means.ToArray(), back.Means.ToArray());
        Assert.Equal(mixture.CompactCovariances.ToArray(), back.CompactCovariances.ToArray());
        string text = File.ReadAllText(file);
        Assert.Equal(type != CovarianceType.Full, text.Contains("covariance_type"));
    }

    [Fact]
    public void Json_in_the_project_format_is_read_including_diag_and_spherical()
    {
        var full = Read("""{"weights": [0.25, 0.75], "means": [[0, 1], [2, 3]], "covariances": [[[1, 0.5], [0.5, 2]], [[1, 0], [0, 1]]]}""");
        Assert.Equal(2, full.Dimension);
        Assert.Equal(0.5, full.Covariance(0)[1]);
        var diag = Read("""{"covariance_type": "diag", "weights": [1], "means": [[0, 1, 2]], "covariances": [[1, 2, 3]], "name": "ignored"}""");
        Assert.Equal(CovarianceType.Diagonal, diag.CovarianceType);
        Assert.Equal([1.0, 2, 3], diag.CompactCovariances.ToArray());
        var sph = Read("""{"covariance_type": "spherical", "weights": [0.5, 0.5], "means": [[0], [1]], "covariances": [2, 3]}""");
        Assert.Equal([2.0, 3], sph.CompactCovariances.ToArray());
    }

    [Theory]
    [InlineData("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 2], [2, 1]]]}""", "covariances", 1, "not positive definite")]
    [InlineData("""{"weights": [1.5, -0.5], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""", "weights", 1, "-0.5 is not positive")]
    [InlineData("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""", "means", 1, "has 3 coordinates but component 0 has 2")]
    [InlineData("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 0, 0], [0, 1]]]}""", "covariances", 1, "row 0 has 3 entries, expected 2")]
    [InlineData("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]]]}""", "covariances", -1, "has 1 entries but \"weights\" has 2 components")]
    [InlineData("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, "x"]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""", "means", 1, "coordinate 1 is the string \"x\", expected a number")]
    [InlineData("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1e999]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""", "means", 1, "not a finite double")]
    [InlineData("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]]}""", "covariances", -1, "is missing")]
    [InlineData("""{"weights": [0.4, 0.5], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""", "weights", -1, "sum to 0.9, not 1")]
    [InlineData("""{"covariance_type": "tied", "weights": [1], "means": [[0]], "covariances": [1]}""", "covariance_type", -1, "expected \"full\", \"diag\" or \"spherical\"")]
    [InlineData("""{"covariance_type": "diag", "weights": [0.5, 0.5], "means": [[0, 0], [1, 1]], "covariances": [[1, 1], [1, 0]]}""", "covariances", 1, "variance 1 is 0, variances must be positive")]
    [InlineData("""{"covariance_type": "spherical", "weights": [1], "means": [[0, 0]], "covariances": [[1]]}""", "covariances", 0, "is an array of 1, expected a number")]
    [InlineData("""{"weights": [], "means": [], "covariances": []}""", "weights", -1, "is empty")]
    [InlineData("""[1, 2]""", null, -1, "the top level is an array of 2")]
    public void Malformed_json_errors_name_the_file_field_component_and_value(string json, string? field, int component, string detail)
    {
        var e = Assert.Throws<DataFormatException>(() => Read(json));
        Assert.Equal("model.json", e.FileName);
        Assert.Equal(field, e.Field);
        Assert.Equal(component, e.Index);
        Assert.StartsWith("model.json:", e.Message);
        Assert.Contains(detail, e.Message);
        if (component >= 0)
        {
            Assert.Contains($"component {component}", e.Message);
        }
    }

    [Fact]
    public void Truncated_json_is_reported_with_its_position()
    {
        var e = Assert.Throws<DataFormatException>(() => Read("""{"weights": [0.5, 0.5], "means": [[0, 0], [1, """));
        Assert.Contains("model.json: not valid JSON (malformed or truncated) at line 1", e.Message);
        Assert.Throws<FileNotFoundException>(() => MixtureJson.Read(Path("missing.json")));
    }

    [Fact]
    public void Weights_off_by_more_than_round_off_are_renormalised_only_on_request_and_reported()
    {
        const string json = """{"weights": [0.2, 0.6], "means": [[0], [1]], "covariances": [[[1]], [[1]]]}""";
        Assert.Throws<DataFormatException>(() => Read(json));
        var m = Read(json, true, out string? warning);
        Assert.NotNull(warning);
        Assert.StartsWith("model.json: ", warning);
        Assert.Contains("0.8", warning);
        Assert.Equal(0.25, m.Weights[0], 1e-15);
        Read("""{"weights": [0.2, 0.8000000001], "means": [[0], [1]], "covariances": [[[1]], [[1]]]}""", false, out string? none);
        Assert.Null(none);
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(3, 257)]
    [InlineData(16, 100)]
    public void Npy_round_trip_and_numpy_compatible_layout(int d, int n)
    {
        var x = NaiveMixture.RandomPoints(new Random(d), n, d, 10);
        string file = Path("x.npy");
        SampleFiles.Write(file, x, d);
        byte[] bytes = File.ReadAllBytes(file);
        Assert.Equal(0x93, bytes[0]);
        Assert.Equal("NUMPY", Encoding.ASCII.GetString(bytes, 1, 5));
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, (10 + headerLength) % 64);
        Assert.Contains($"'shape': ({n}, {d})", Encoding.ASCII.GetString(bytes, 10, headerLength));
        Assert.Equal(10 + headerLength + 8 * n * d, bytes.Length);
        var back = SampleFiles.Read(file, out int dd);
        Assert.Equal(d, dd);
        Assert.Equal(x, back);
    }

    [Fact]
    public void Npy_written_by_numpy_is_read()
    {
        // Saved by numpy 1.24 (np.save) in benchmarks/compare/sklearn_reference.py.
        var x = SampleFiles.Read(SklearnReferenceTests.DataFile("sklearn_reference.npy"), out int d);
        Assert.Equal(3, d);
        Assert.Equal(9000, x.Length);
    }

    private static byte[] Npy(string dict, byte[] data, byte major = 1)
    {
        string header = dict.PadRight(((dict.Length + 11 + (major == 1 ? 0 : 2) + 63) / 64 * 64) - 11 - (major == 1 ? 0 : 2)) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', major, 0]);
        if (major == 1)
        {
            ms.Write(BitConverter.GetBytes((ushort)header.Length));
        }
        else
        {
            ms.Write(BitConverter.GetBytes((uint)header.Length));
        }
        ms.Write(Encoding.ASCII.GetBytes(header));
        ms.Write(data);
        return ms.ToArray();
    }

    private static double[] ReadNpy(byte[] bytes, out int d) => SampleFiles.ReadNpy(new MemoryStream(bytes), "x.npy", out d);

    [Fact]
    public void Npy_reads_float32_one_dimensional_and_version_2_files()
    {
        float[] f = [1.5f, -2.25f, 3f, 4f];
        byte[] data = new byte[16];
        Buffer.BlockCopy(f, 0, data, 0, 16);
        var x = ReadNpy(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", data), out int d);
        Assert.Equal(2, d);
        Assert.Equal([1.5, -2.25, 3, 4], x);
        double[] g = [1, 2, 3];
        byte[] gd = new byte[24];
        Buffer.BlockCopy(g, 0, gd, 0, 24);
        var y = ReadNpy(Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", gd, major: 2), out int d1);
        Assert.Equal(1, d1);
        Assert.Equal(g, y);
    }

    [Theory]
    [InlineData("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", 32, "dtype '<i8'")]
    [InlineData("{'descr': '>i4', 'fortran_order': False, 'shape': (2, 2), }", 16, "dtype '>i4'")]
    [InlineData("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", 32, "Fortran-ordered")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 24, "truncated: shape (2, 2) needs 32 bytes of data, the file has 24")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 40, "bytes after the 32 bytes")]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2, 2), }", 64, "shape (2, 2, 2)")]
    [InlineData("{'descr': '<f8', 'fortran_order': False }", 0, "lacks 'descr', 'fortran_order' or 'shape'")]
    public void Npy_errors_are_clear(string dict, int dataBytes, string detail)
    {
        var e = Assert.Throws<DataFormatException>(() => ReadNpy(Npy(dict, new byte[dataBytes]), out _));
        Assert.StartsWith("x.npy: .npy", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void Npy_rejects_non_numpy_files_and_non_finite_values()
    {
        Assert.Contains("not a .npy file", Assert.Throws<DataFormatException>(() => ReadNpy(Encoding.ASCII.GetBytes("x,y\n1,2\n"), out _)).Message);
        byte[] data = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8), double.NaN);
        var e = Assert.Throws<DataFormatException>(() => ReadNpy(Npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", data), out _));
        Assert.Equal(0, e.Index);
        Assert.Contains("row 0, column 1: 'NaN' is not a finite number", e.Message);
    }

    [Fact]
    public void Csv_round_trip_with_and_without_header()
    {
        var x = NaiveMixture.RandomPoints(new Random(4), 50, 3, 1e5);
        foreach (bool header in (bool[])[true, false])
        {
            var ms = new MemoryStream();
            SampleFiles.WriteCsv(ms, x, 3, header);
            Assert.Equal(header, Encoding.UTF8.GetString(ms.ToArray()).StartsWith("x0,x1,x2\n"));
            ms.Position = 0;
            var back = SampleFiles.ReadCsv(ms, "x.csv", out int d);
            Assert.Equal(3, d);
            Assert.Equal(x, back);
        }
        var withComments = SampleFiles.ReadCsv(new MemoryStream(Encoding.UTF8.GetBytes("# saved by numpy\n 1.5 , 2\n\n3,4e-3\n")), "x.csv", out int d2);
        Assert.Equal(2, d2);
        Assert.Equal([1.5, 2, 3, 4e-3], withComments);
    }

    [Theory]
    [InlineData("a,b\n1,2\n3\n", "line 3 has 1 values, expected 2")]
    [InlineData("1,2\n3,abc\n", "line 2, column 2: 'abc' is not a number")]
    [InlineData("1,2\n3,NaN\n", "line 2, column 2: 'NaN' is not a finite number")]
    [InlineData("x,y\n", "no data lines")]
    public void Csv_errors_name_the_line_and_column(string text, string detail)
    {
        var e = Assert.Throws<DataFormatException>(() => SampleFiles.ReadCsv(new MemoryStream(Encoding.UTF8.GetBytes(text)), "x.csv", out _));
        Assert.StartsWith("x.csv: ", e.Message);
        Assert.Contains(detail, e.Message);
    }

    [Fact]
    public void Sample_files_need_a_known_extension()
    {
        Assert.Throws<DataFormatException>(() => SampleFiles.Read(Path("x.txt"), out _));
        Assert.Throws<ArgumentException>(() => SampleFiles.Write(Path("x.txt"), [1.0], 1));
        Assert.Throws<FileNotFoundException>(() => SampleFiles.Read(Path("x.npy"), out _));
    }
}

using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Cli;

/// <summary>
/// Sample-file formats of docs/cli-contract.md#inputs: streaming .npy (a small chunk size runs the same code as a file
/// over 2 GiB), both byte orders, float32, .npz (stored and deflated), and the CSV/TSV rules.
/// </summary>
[Collection(nameof(ChunkSizeCollection))]
public sealed class SampleFormatTests : CliHarness
{
    private static double[] Points(int n, int d, int seed)
    {
        var rng = new Random(seed);
        var x = new double[n * d];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-5, 6));
        }
        return x;
    }

    private static byte[] Npy(string descr, string shape, byte[] data)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        string header = dict.PadRight(((dict.Length + 11 + 63) / 64 * 64) - 11) + "\n";
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        ms.Write(BitConverter.GetBytes((ushort)header.Length));
        ms.Write(Encoding.ASCII.GetBytes(header));
        ms.Write(data);
        return ms.ToArray();
    }

    [Theory]
    [InlineData(24)]
    [InlineData(8)]
    [InlineData(1000)]
    public void Npy_streams_in_chunks_with_the_same_result(int chunkBytes)
    {
        double[] x = Points(1001, 3, 1);
        int saved = SampleFiles.ChunkBytes;
        SampleFiles.ChunkBytes = chunkBytes;
        try
        {
            var ms = new MemoryStream();
            SampleFiles.WriteNpy(ms, x, [1001, 3]);
            ms.Position = 0;
            Assert.Equal(x, SampleFiles.ReadNpy(ms, "x.npy", out int d));
            Assert.Equal(3, d);
            // Every byte-order/width combination through the chunked reader, against values written by hand.
            foreach (string descr in (string[])["<f8", ">f8", "<f4", ">f4"])
            {
                int size = descr[2] - '0';
                byte[] data = new byte[x.Length * size];
                for (int i = 0; i < x.Length; i++)
                {
                    Span<byte> at = data.AsSpan(i * size, size);
                    switch (descr)
                    {
                        case "<f8": BinaryPrimitives.WriteDoubleLittleEndian(at, x[i]); break;
                        case ">f8": BinaryPrimitives.WriteDoubleBigEndian(at, x[i]); break;
                        case "<f4": BinaryPrimitives.WriteSingleLittleEndian(at, (float)x[i]); break;
                        default: BinaryPrimitives.WriteSingleBigEndian(at, (float)x[i]); break;
                    }
                }
                double[] back = SampleFiles.ReadNpy(new MemoryStream(Npy(descr, "(1001, 3)", data)), "x.npy", out _);
                Assert.Equal(size == 8 ? x : x.Select(v => (double)(float)v).ToArray(), back);
                // Truncated in the middle of a chunk: the byte count is exact.
                var e = Assert.Throws<DataFormatException>(() => SampleFiles.ReadNpy(new MemoryStream(Npy(descr, "(1001, 3)", data[..^5])), "x.npy", out _));
                Assert.Contains($"needs {data.Length} bytes of data, the file has {data.Length - 5}", e.Message);
            }
        }
        finally
        {
            SampleFiles.ChunkBytes = saved;
        }
    }

    [Fact]
    public void Npy_read_observes_cancellation_between_chunks()
    {
        SampleFiles.Write(P("x.npy"), Points(1000, 2, 2), 2);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => SampleFiles.Read(P("x.npy"), new SampleReadOptions { CancellationToken = cancelled.Token }, out _));
    }

    [Theory]
    [InlineData(CompressionLevel.NoCompression)]
    [InlineData(CompressionLevel.Optimal)]
    public void Npz_of_one_or_several_arrays_is_read(CompressionLevel level)
    {
        double[] x = Points(300, 2, 3), y = Points(300, 1, 4);
        string path = P("data.npz");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, values, d) in new[] { ("X", x, 2), ("y", y, 1) })
            {
                using var s = zip.CreateEntry(name + ".npy", level).Open();
                SampleFiles.WriteNpy(s, values, d);
            }
        }
        Assert.Contains("holds 2 arrays (X, y); name one as", Assert.Throws<DataFormatException>(() => SampleFiles.Read(path, out _)).Message);
        Assert.Equal(x, SampleFiles.Read(path + ":X", out int dx));
        Assert.Equal(2, dx);
        Assert.Equal(y, SampleFiles.Read(path + ":y.npy", out int dy));
        Assert.Equal(1, dy);
        string single = P("one.npz");
        using (var zip = ZipFile.Open(single, ZipArchiveMode.Create))
        {
            using var s = zip.CreateEntry("arr_0.npy", level).Open();
            SampleFiles.WriteNpy(s, x, 2);
        }
        Assert.Equal(x, SampleFiles.Read(single, out _));
        // And through the CLI.
        File.WriteAllText(P("a.json"), BadInputFixture.A);
        var r = Run("fit", "--samples", path + ":X", "-k", "2", "--out", P("m.json"));
        Assert.Equal(0, r.Code);
        Assert.Contains("300 points in dimension 2", r.Out);
    }

    private static (double[] Values, int D, List<string> Notes) Csv(string text, bool? header = null, string name = "x.csv")
    {
        var notes = new List<string>();
        var v = SampleFiles.ReadCsv(new MemoryStream(Encoding.UTF8.GetBytes(text)), name, new SampleReadOptions { Header = header, Notice = notes.Add }, out int d);
        return (v, d, notes);
    }

    [Fact]
    public void Csv_header_rule_never_drops_a_numeric_row()
    {
        Assert.Equal([1.0, 2, 3, 4], Csv("1,2\n3,4\n").Values);                          // no header: all numbers
        Assert.Equal([1.0, 2, 3, 4], Csv("x,y\n1,2\n3,4\n").Values);                     // header: no numbers
        Assert.Equal([3.0, 4], Csv("1,2\n3,4\n", header: true).Values);                   // explicit: the first line is skipped
        Assert.Contains("mixes numbers and text", Assert.Throws<DataFormatException>(() => Csv("1,2x\n3,4\n")).Message);
        Assert.Contains("'x' is not a number", Assert.Throws<DataFormatException>(() => Csv("x,y\n1,2\n", header: false)).Message);
        Assert.Equal([3.0, 4], Csv("1,2x\n3,4\n", header: true).Values);                  // a known header may hold anything
    }

    [Fact]
    public void Csv_reads_pandas_index_tsv_and_quotes()
    {
        var pandas = Csv(",x0,x1\n0,1.5,2\n1,3,4\n");
        Assert.Equal(2, pandas.D);
        Assert.Equal([1.5, 2, 3, 4], pandas.Values);
        Assert.Contains("row index", Assert.Single(pandas.Notes));
        Assert.Equal([1.5, 2, 3, 4], Csv("Unnamed: 0,a,b\n0,1.5,2\n1,3,4\n").Values);
        Assert.Equal([0.0, 1.5, 2, 1, 3, 4], Csv("id,a,b\n0,1.5,2\n1,3,4\n").Values); // a named column is data
        Assert.Equal([1.5, 2, 3, 4], Csv("x0\tx1\n1.5\t2\n3\t4\n", name: "x.tsv").Values);
        Assert.Equal([1.5, 2, 3, 4], Csv("x0\tx1\n1.5\t2\n3\t4\n").Values);             // tabs and no commas in a .csv
        Assert.Equal([1.5, 2, 3, 4], Csv("\"x, first\",\"y\"\n\"1.5\",\"2\"\n3,\"4\"\n").Values);
        Assert.Equal([1.5, 2, 3, 4], Csv("x0,x1\r\n1.5,2\r\n3,4\r\n").Values);
        Assert.Empty(Csv("x0,x1\n1,2\n").Notes);
    }

    [Fact]
    public void Csv_non_finite_values_get_one_message_however_spelled()
    {
        foreach (string token in (string[])["nan", "NaN", "inf", "-inf", "Infinity", "-Infinity", "∞", "1e999"])
        {
            var e = Assert.Throws<DataFormatException>(() => Csv($"x,y\n1,{token}\n"));
            Assert.Contains($"line 2, column 2: '{token}' is not a finite number", e.Message);
        }
    }

    /// <summary>A real file over 2 GiB (opt-in: GMMFLOW_TEST_LARGE_FILES=1; ~2.2 GB of disk, ~5 GB of memory, 10–30 s).</summary>
    [Fact]
    public void Npy_over_2_GiB_round_trips()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("GMMFLOW_TEST_LARGE_FILES") == "1", "set GMMFLOW_TEST_LARGE_FILES=1 to write and read a 2.2 GB file");
        const int n = 137_500_000, d = 2; // 2.2 GB of float64
        var x = new double[(long)n * d];
        for (int i = 0; i < x.Length; i += 4099)
        {
            x[i] = i;
        }
        File.WriteAllText(P("a.json"), BadInputFixture.A);
        string path = P("big.npy");
        using (var s = new FileStream(path, FileMode.CreateNew))
        {
            SampleFiles.WriteNpy(s, x, d);
        }
        Assert.True(new FileInfo(path).Length > (2L << 30));
        double[] back = SampleFiles.Read(path, out int dd);
        Assert.Equal(d, dd);
        Assert.True(x.AsSpan().SequenceEqual(back));
    }
}

/// <summary>Tests that change <see cref="SampleFiles.ChunkBytes"/> run one at a time.</summary>
[CollectionDefinition(nameof(ChunkSizeCollection), DisableParallelization = true)]
public sealed class ChunkSizeCollection;

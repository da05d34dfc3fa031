using System.IO.Compression;
using System.Text;

namespace GmmFlow.Tests.Cli;

/// <summary>The input files of the bad-input suite, written into a test's folder (small, valid and invalid).</summary>
internal static class BadInputFixture
{
    public const string A = """
        {"weights": [0.5, 0.5], "means": [[0, 0], [3, 0]],
         "covariances": [[[1, 0.2], [0.2, 0.5]], [[0.5, 0], [0, 0.5]]]}
        """;

    public const string B = """
        {"weights": [0.3, 0.3, 0.4], "means": [[0, 5], [4, 5], [2, -4]],
         "covariances": [[[0.3, 0], [0, 0.3]], [[0.6, 0.1], [0.1, 0.4]], [[1, 0], [0, 1]]]}
        """;

    /// <summary>The content of every pre-existing output (must be left untouched).</summary>
    public const string Keep = "keep: an existing file that a failed command must not touch";

    public static void Write(string dir, Func<string[], (int Code, string Out, string Err)> run)
    {
        string P(string name) => Path.Combine(dir, name);
        File.WriteAllText(P("a.json"), A);
        File.WriteAllText(P("b.json"), B);
        File.WriteAllText(P("w09.json"), """{"weights": [0.45, 0.45], "means": [[0, 0], [3, 0]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""");
        File.WriteAllText(P("dup.json"), """{"weights": [1], "weights": [1], "means": [[0, 0]], "covariances": [[[1, 0], [0, 1]]]}""");
        File.WriteAllText(P("npd.json"), """{"weights": [1], "means": [[0, 0]], "covariances": [[[1, 2], [2, 1]]]}""");
        File.WriteAllText(P("d3.json"), """{"weights": [1], "means": [[0, 0, 0]], "covariances": [[[1, 0, 0], [0, 1, 0], [0, 0, 1]]]}""");
        File.WriteAllText(P("trunc.json"), """{"weights": [0.5, 0.5], "means": [[0, 0], [3""");
        File.WriteAllText(P("negw.json"), """{"weights": [1.5, -0.5], "means": [[0, 0], [3, 0]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""");
        File.WriteAllText(P("nanmean.json"), """{"weights": [1], "means": [[0, NaN]], "covariances": [[[1, 0], [0, 1]]]}""");
        File.WriteAllText(P("array.json"), "[1, 2]");
        File.WriteAllText(P("empty.json"), "");

        var rng = new Random(5);
        double[] x = new double[200 * 2];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextDouble() * 4 - 2;
        }
        SampleFiles.Write(P("x.npy"), x, 2);
        SampleFiles.Write(P("x.csv"), x, 2);
        WriteNpy(P("int.npy"), "<i4", "(4, 2)", new byte[32]);
        WriteNpy(P("cube.npy"), "<f8", "(2, 2, 2)", new byte[64]);
        WriteNpy(P("short.npy"), "<f8", "(4, 2)", new byte[40]);
        WriteNpy(P("long.npy"), "<f8", "(2, 2)", new byte[40]);
        WriteNpy(P("fortran.npy"), "<f8", "(2, 2)", new byte[32], fortran: true);
        WriteNpy(P("huge.npy"), "<f8", "(3000000000, 2)", new byte[16]);
        var nan = new byte[32];
        BitConverter.TryWriteBytes(nan.AsSpan(24), double.NaN);
        WriteNpy(P("nan.npy"), "<f8", "(2, 2)", nan);
        var inf = new byte[32];
        BitConverter.TryWriteBytes(inf.AsSpan(8), double.PositiveInfinity);
        WriteNpy(P("inf.npy"), "<f8", "(2, 2)", inf);
        File.WriteAllText(P("notnpy.npy"), "x0,x1\n1,2\n");
        File.WriteAllText(P("inf.csv"), "x0,x1\n1,2\ninf,3\n");
        File.WriteAllText(P("nan.csv"), "x0,x1\n1,2\n3,nan\n");
        File.WriteAllText(P("typo.csv"), "0.5,1.2x\n1,2\n3,4\n");
        File.WriteAllText(P("word.csv"), "x0,x1\n1,2\n3,four\n");
        File.WriteAllText(P("ragged.csv"), "x0,x1\n1,2\n3\n");
        File.WriteAllText(P("headeronly.csv"), "x0,x1\n");
        File.WriteAllText(P("quote.csv"), "x0,x1\n\"1,2\n");
        File.WriteAllText(P("d3.csv"), "1,2,3\n4,5,6\n");
        File.WriteAllText(P("big.csv"), "x0,x1\n1e999,2\n");
        using (var zip = ZipFile.Open(P("two.npz"), ZipArchiveMode.Create))
        {
            foreach (string name in (string[])["X", "y"])
            {
                using var s = zip.CreateEntry(name + ".npy").Open();
                SampleFiles.WriteNpy(s, x, 2);
            }
        }
        File.WriteAllText(P("notzip.npz"), "not a zip");
        Directory.CreateDirectory(P("folder.npy"));
        Directory.CreateDirectory(P("folder.json"));

        var plan = run(["plan", "--source", P("a.json"), "--target", P("b.json"), "--out", P("plan.json")]);
        if (plan.Code != 0)
        {
            throw new InvalidOperationException(plan.Err);
        }
        string planText = File.ReadAllText(P("plan.json"));
        File.WriteAllText(P("plan99.json"), planText.Replace("\"version\": 1", "\"version\": 99", StringComparison.Ordinal));
        File.WriteAllText(P("planv.json"), planText.Replace("\"version\": 1,", "", StringComparison.Ordinal));
        File.WriteAllText(P("plandup.json"), planText.Replace("\"version\": 1,", "\"version\": 1, \"version\": 1,", StringComparison.Ordinal));
        File.WriteAllText(P("plancost.json"), planText.Replace("\"cost\": \"w2\"", "\"cost\": \"w3\"", StringComparison.Ordinal));
        foreach (string name in (string[])["keep.npy", "keep.json", "keep.csv", "keepT.npy"])
        {
            File.WriteAllText(P(name), Keep);
        }
    }

    private static void WriteNpy(string path, string descr, string shape, byte[] data, bool fortran = false)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
        string header = dict.PadRight(64 - 10 - 1) + "\n";
        using var f = File.Create(path);
        f.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
        f.Write(Encoding.ASCII.GetBytes(header));
        f.Write(data);
    }
}

using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using GmmFlow.Cli;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Bench;

/// <summary>
/// `gmmflow bench` run in-process through CliApp.Run: the JSON report lists every standard case with positive times,
/// the export folder holds inputs from which GmmFlow's own results are reproduced, the study writes its tables, and
/// bad options exit 2. Nothing here asserts how fast anything is.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class BenchCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gmmflow-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static readonly string[] Groups = ["cost", "lp", "em", "field", "point", "pipeline"];

    [Fact]
    public void Quick_json_lists_every_case_with_positive_times()
    {
        var r = Run("bench", "--quick", "--json", "--out", P("bench.json"));
        Assert.True(r.Code == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("quick").GetBoolean());
        var machine = root.GetProperty("machine");
        Assert.True(machine.GetProperty("cores").GetInt32() >= 1);
        Assert.False(string.IsNullOrWhiteSpace(machine.GetProperty("lapack").GetString()));
        var cases = root.GetProperty("cases").EnumerateArray().ToList();
        // 3 sizes × (W2, surrogate), 3 LPs, EM at d = 2 and 16, the field at d = 2 and 16, one point, one pipeline.
        Assert.Equal(15, cases.Count);
        Assert.Equal(Groups, cases.Select(c => c.GetProperty("group").GetString()).Distinct());
        Assert.Equal(6, cases.Count(c => c.GetProperty("group").GetString() == "cost"));
        Assert.Equal(cases.Count, cases.Select(c => c.GetProperty("name").GetString()).Distinct().Count());
        foreach (var c in cases)
        {
            string name = c.GetProperty("name").GetString()!;
            Assert.True(c.GetProperty("medianSeconds").GetDouble() > 0, name);
            Assert.True(c.GetProperty("minSeconds").GetDouble() > 0, name);
            Assert.True(c.GetProperty("minSeconds").GetDouble() <= c.GetProperty("medianSeconds").GetDouble(), name);
            Assert.True(c.GetProperty("throughput").GetDouble() > 0, name);
            Assert.True(c.GetProperty("repeats").GetInt32() >= 1, name);
            Assert.False(string.IsNullOrEmpty(c.GetProperty("throughputUnit").GetString()), name);
            Assert.True(c.GetProperty("parameters").EnumerateObject().Any(), name);
            Assert.Contains($"] {name}", r.Err); // one progress line per case on stderr
        }
        var point = cases.Single(c => c.GetProperty("group").GetString() == "point");
        Assert.Equal(19, point.GetProperty("parameters").GetProperty("pairs").GetInt32());
        Assert.Equal(0, point.GetProperty("extra").GetProperty("allocated_bytes_per_call_this_thread").GetDouble());
        foreach (var field in cases.Where(c => c.GetProperty("group").GetString() == "field"))
        {
            Assert.Equal(19, field.GetProperty("parameters").GetProperty("pairs").GetInt32());
        }
        // --out holds the same report.
        using var file = JsonDocument.Parse(File.ReadAllText(P("bench.json")));
        Assert.Equal(cases.Count, file.RootElement.GetProperty("cases").GetArrayLength());

        // The text form names every case too.
        var text = Run("bench", "--quick");
        Assert.Equal(0, text.Code);
        foreach (var c in cases)
        {
            Assert.Contains(c.GetProperty("name").GetString()!, text.Out);
        }
    }

    [Fact]
    public void Export_holds_inputs_that_reproduce_gmmflows_results()
    {
        string export = P("export");
        var r = Run("bench", "--quick", "--export", export);
        Assert.True(r.Code == 0, r.Err);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(export, "gmmflow.json")));
        var cases = doc.RootElement.GetProperty("cases").EnumerateArray().ToList();

        // Cost matrices: the exported matrix is GaussianCosts on the exported Gaussians.
        foreach (var c in cases.Where(c => c.GetProperty("group").GetString() == "cost"))
        {
            var p = c.GetProperty("parameters");
            int k0 = p.GetProperty("k0").GetInt32(), k1 = p.GetProperty("k1").GetInt32(), d = p.GetProperty("d").GetInt32();
            var kind = p.GetProperty("cost").GetString() == "W2" ? CostKind.Wasserstein : CostKind.Surrogate;
            string size = $"{k0}x{k1}_d{d}";
            double[] m0 = Npy(export, $"{size}_means0.npy", [k0, d]), s0 = Npy(export, $"{size}_covs0.npy", [k0, d, d]);
            double[] m1 = Npy(export, $"{size}_means1.npy", [k1, d]), s1 = Npy(export, $"{size}_covs1.npy", [k1, d, d]);
            double[] matrix = Npy(export, $"{size}_{kind}.npy", [k0, k1]);
            foreach (var (i, j) in new[] { (0, 0), (k0 - 1, k1 - 1), (k0 / 2, 1) })
            {
                double expected = GaussianCosts.Pair(kind, m0.AsSpan(i * d, d), s0.AsSpan(i * d * d, d * d), m1.AsSpan(j * d, d), s1.AsSpan(j * d * d, d * d), d);
                Assert.Equal(expected, matrix[i * k1 + j], 1e-12 * Math.Abs(expected));
            }
        }

        // LP: the exported objective is the optimum of the exported problem.
        foreach (var c in cases.Where(c => c.GetProperty("group").GetString() == "lp"))
        {
            int k = c.GetProperty("parameters").GetProperty("k0").GetInt32();
            var lp = Couplings.ExactLp(Npy(export, $"lp_K{k}_a.npy", [k]), Npy(export, $"lp_K{k}_b.npy", [k]), Npy(export, $"lp_K{k}_cost.npy", [k, k]));
            Assert.Equal(lp.Objective, c.GetProperty("extra").GetProperty("objective").GetDouble(), 1e-12);
        }

        // EM: the export is em_sklearn.py's layout, and the initial mixture loads.
        foreach (int d in new[] { 2, 16 })
        {
            Assert.True(File.Exists(Path.Combine(export, $"X_d{d}.npy")));
            var init = MixtureJson.Read(Path.Combine(export, $"init_d{d}.json"));
            Assert.Equal(d, init.Dimension);
            using var em = JsonDocument.Parse(File.ReadAllText(Path.Combine(export, $"gmmflow_d{d}.json")));
            Assert.True(em.RootElement.GetProperty("iterations_total").GetInt32() >= 3);
            Assert.True(double.IsFinite(em.RootElement.GetProperty("final_mean_log_likelihood").GetDouble()));
        }

        // Field: an independent log-sum-exp evaluation of the exported frame gives the exported velocities.
        foreach (var c in cases.Where(c => c.GetProperty("group").GetString() == "field"))
        {
            var p = c.GetProperty("parameters");
            int d = p.GetProperty("d").GetInt32(), n = p.GetProperty("n").GetInt32(), pairs = p.GetProperty("pairs").GetInt32();
            double[] x = Npy(export, $"field_d{d}_points.npy", [n, d]), v = Npy(export, $"field_d{d}_velocities.npy", [n, d]);
            double[] logw = Npy(export, $"field_d{d}_logw.npy", [pairs]), means = Npy(export, $"field_d{d}_means.npy", [pairs, d]);
            double[] covs = Npy(export, $"field_d{d}_covs.npy", [pairs, d, d]), gains = Npy(export, $"field_d{d}_gains.npy", [pairs, d, d]);
            double[] offsets = Npy(export, $"field_d{d}_offsets.npy", [pairs, d]);
            for (int i = 0; i < n; i += n / 7)
            {
                double[] expected = NaiveField(x.AsSpan(i * d, d), logw, means, covs, gains, offsets, d);
                for (int k = 0; k < d; k++)
                {
                    Assert.Equal(expected[k], v[i * d + k], 1e-9 * (1 + Math.Abs(expected[k])));
                }
            }
        }

        // Pipeline: both samples, both initialisations and the transported particles.
        var pipeline = cases.Single(c => c.GetProperty("group").GetString() == "pipeline").GetProperty("parameters");
        var moved = SampleFiles.Read(Path.Combine(export, "pipeline_result.npy"), out int dim);
        Assert.Equal(2, dim);
        Assert.Equal(pipeline.GetProperty("particles").GetInt32() * 2, moved.Length);
        Assert.Equal(4, MixtureJson.Read(Path.Combine(export, "pipeline_init0.json")).ComponentCount);
        Assert.Equal(8, MixtureJson.Read(Path.Combine(export, "pipeline_init1.json")).ComponentCount);
    }

    [Fact]
    public void Study_writes_its_tables_and_reproduces_the_papers_reconstructed_rows()
    {
        string study = P("study");
        var r = Run("bench", "--study", study, "--quick", "--json");
        Assert.True(r.Code == 0, r.Err);
        foreach (string file in new[] { "study.json", "study_timing.csv", "study_accuracy.csv", "study.md", "time_vs_d.png" })
        {
            Assert.True(new FileInfo(Path.Combine(study, file)).Length > 0, file);
        }
        using var doc = JsonDocument.Parse(r.Out);
        var timing = doc.RootElement.GetProperty("timing").EnumerateArray().ToList();
        Assert.Equal(3 * 3 * 2, timing.Count); // 3 scenarios × 3 dimensions (quick) × 2 methods
        Assert.All(timing, t => Assert.True(t.GetProperty("constructionMedianSeconds").GetDouble() > 0));
        var rows = doc.RootElement.GetProperty("accuracy").EnumerateArray().ToList();
        Assert.Equal(10, rows.Count);
        // Rows 1–6 are reconstructions of Table II of the surrogate paper (docs/theory.md#reference-values): W2² and C_sur agree with the printed two decimals.
        foreach (var row in rows.Take(6))
        {
            string name = row.GetProperty("scenario").GetString()!;
            Assert.True(Math.Abs(row.GetProperty("wasserstein").GetDouble() - row.GetProperty("paperWasserstein").GetDouble()) <= 0.0051, name);
            Assert.True(Math.Abs(row.GetProperty("surrogate").GetDouble() - row.GetProperty("paperSurrogate").GetDouble()) <= 0.0051, name);
            Assert.True(Math.Abs(row.GetProperty("delta").GetDouble() - row.GetProperty("paperDelta").GetDouble()) <= 0.0051, name);
        }
        // The surrogate never undercuts W2² (it is the kinetic energy of one feasible path).
        Assert.All(rows, row => Assert.True(row.GetProperty("gap").GetDouble() >= 0));
    }

    [Fact]
    public void Bad_options_exit_2()
    {
        File.WriteAllText(P("exists.json"), "keep");
        File.WriteAllText(P("afile"), "x");
        foreach (string[] args in new[]
        {
            new[] { "bench", "--bogus" },
            new[] { "bench", "--quick", "extra" },
            new[] { "bench", "--quick", "--out", P("exists.json") },
            new[] { "bench", "--quick", "--out", P("no/such/folder/x.json") },
            new[] { "bench", "--quick", "--export", P("afile") },
            new[] { "bench", "--quick", "--study", P("s"), "--export", P("e") },
            new[] { "bench", "--quick", "--study", P("s"), "--out", P("o.json") },
            new[] { "bench", "--out" },
        })
        {
            var r = Run(args);
            Assert.True(r.Code == 2, $"{string.Join(' ', args)} -> {r.Code}: {r.Err}");
            Assert.StartsWith("gmmflow: ", r.Err);
        }
        Assert.Equal("keep", File.ReadAllText(P("exists.json")));
        Assert.False(Directory.Exists(P("s")) || Directory.Exists(P("e")) || File.Exists(P("o.json")));
    }

    [Fact]
    public void Help_lists_the_cases_and_examples()
    {
        var r = Run("bench", "--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("gmmflow bench --quick --json", r.Out);
        Assert.Contains("--export", r.Out);
        Assert.Contains("--study", r.Out);
    }

    /// <summary>u(x) = Σ_p softmax_p(log w_p + log N(x; m_p, Σ_p)) (b_p + K_p (x − m_p)), with a textbook Cholesky.</summary>
    private static double[] NaiveField(ReadOnlySpan<double> x, double[] logw, double[] means, double[] covs, double[] gains, double[] offsets, int d)
    {
        int pairs = logw.Length;
        var logp = new double[pairs];
        for (int p = 0; p < pairs; p++)
        {
            var l = new double[d * d];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double s = covs[p * d * d + i * d + j];
                    for (int k = 0; k < j; k++)
                    {
                        s -= l[i * d + k] * l[j * d + k];
                    }
                    l[i * d + j] = i == j ? Math.Sqrt(s) : s / l[j * d + j];
                }
            }
            var z = new double[d];
            double quad = 0, logdet = 0;
            for (int i = 0; i < d; i++)
            {
                double s = x[i] - means[p * d + i];
                for (int k = 0; k < i; k++)
                {
                    s -= l[i * d + k] * z[k];
                }
                z[i] = s / l[i * d + i];
                quad += z[i] * z[i];
                logdet += 2 * Math.Log(l[i * d + i]);
            }
            logp[p] = logw[p] - 0.5 * (quad + logdet + d * Math.Log(2 * Math.PI));
        }
        double top = logp.Max(), total = logp.Sum(v => Math.Exp(v - top));
        var u = new double[d];
        for (int p = 0; p < pairs; p++)
        {
            double w = Math.Exp(logp[p] - top) / total;
            for (int i = 0; i < d; i++)
            {
                double vi = offsets[p * d + i];
                for (int j = 0; j < d; j++)
                {
                    vi += gains[p * d * d + i * d + j] * (x[j] - means[p * d + j]);
                }
                u[i] += w * vi;
            }
        }
        return u;
    }

    /// <summary>Reads a float64 C-order .npy of the expected shape (any rank).</summary>
    private static double[] Npy(string dir, string name, int[] shape)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(dir, name));
        Assert.Equal(0x93, bytes[0]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Contains("'descr': '<f8'", header);
        Assert.Contains("'fortran_order': False", header);
        string dims = shape.Length == 1 ? $"({shape[0]},)" : $"({string.Join(", ", shape)})";
        Assert.Contains($"'shape': {dims}", header);
        Assert.Equal(0, (10 + headerLength) % 64);
        var values = new double[(bytes.Length - 10 - headerLength) / 8];
        Assert.Equal(shape.Aggregate(1, (a, b) => a * b), values.Length);
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(10 + headerLength + 8 * i));
        }
        return values;
    }
}

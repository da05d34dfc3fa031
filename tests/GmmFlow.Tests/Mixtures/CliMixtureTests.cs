using System.Text.Json;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Mixtures;

/// <summary>`gmmflow fit` and `gmmflow sample` run in-process through CliApp.Run, checking exit codes and files.</summary>
public sealed class CliMixtureTests : CliHarness
{
    private string WriteModel()
    {
        string model = P("truth.json");
        File.WriteAllText(model, """
            {"weights": [0.3, 0.7],
             "means": [[0, 0], [6, 6]],
             "covariances": [[[1, 0.5], [0.5, 2]], [[0.5, 0], [0, 0.5]]]}
            """);
        return model;
    }

    [Fact]
    public void Sample_then_fit_round_trip_through_the_cli()
    {
        string model = WriteModel();
        var sample = Run("sample", "--model", model, "-n", "20000", "--seed", "5", "--out", P("x.npy"));
        Assert.Equal(0, sample.Code);
        Assert.Contains("wrote 20000 samples", sample.Out);
        var x = SampleFiles.Read(P("x.npy"), out int d);
        Assert.Equal(2, d);
        Assert.Equal(MixtureJson.Read(model).Sample(20000, 5), x);

        var fit = Run("fit", "--samples", P("x.npy"), "--components", "2", "--out", P("fit.json"), "--json");
        Assert.Equal(0, fit.Code);
        using var summary = JsonDocument.Parse(fit.Out);
        var root = summary.RootElement;
        Assert.Equal(2, root.GetProperty("components").GetInt32());
        Assert.True(root.GetProperty("converged").GetBoolean());
        Assert.True(root.GetProperty("iterations").GetInt32() >= 1);
        var fitted = MixtureJson.Read(P("fit.json"));
        double ll = fitted.MeanLogLikelihood(x);
        Assert.Equal(ll, root.GetProperty("meanLogLikelihood").GetDouble(), 1e-12);
        Assert.Equal(fitted.Bic(x), root.GetProperty("bic").GetDouble(), 1e-6);
        Assert.True(ll >= MixtureJson.Read(model).MeanLogLikelihood(x));
        Assert.Equal("", fit.Err); // short fit: no progress lines, no warnings

        // Text output, CSV input, auto K, diag.
        Run("sample", "--model", model, "-n", "3000", "--out", P("x.csv"));
        var auto = Run("fit", "--samples", P("x.csv"), "--components", "auto", "--max-components", "4", "--covariance", "diag", "--out", P("auto.json"));
        Assert.Equal(0, auto.Code);
        Assert.Contains("BIC", auto.Out);
        Assert.Contains("<- lowest", auto.Out);
        Assert.Equal(CovarianceType.Diagonal, MixtureJson.Read(P("auto.json")).CovarianceType);

        // Warm start from the fitted model.
        var warm = Run("fit", "--samples", P("x.npy"), "-k", "2", "--init", P("fit.json"), "--out", P("warm.json"));
        Assert.Equal(0, warm.Code);
    }

    [Fact]
    public void Usage_errors_exit_2_and_write_nothing()
    {
        string model = WriteModel();
        Run("sample", "--model", model, "-n", "100", "--out", P("x.npy"));
        foreach (string[] args in new[]
        {
            new[] { "fit", "--samples", P("x.npy"), "--components", "0", "--out", P("o.json") },
            new[] { "fit", "--samples", P("x.npy"), "--components", "many", "--out", P("o.json") },
            new[] { "fit", "--samples", P("x.npy"), "--components", "2", "--covariance", "tied", "--out", P("o.json") },
            new[] { "fit", "--samples", P("x.npy"), "--components", "2", "--tol", "-1", "--out", P("o.json") },
            new[] { "fit", "--samples", P("x.npy"), "--components", "2", "--n-init", "0", "--out", P("o.json") },
            new[] { "fit", "--samples", P("x.txt"), "--components", "2", "--out", P("o.json") },
            new[] { "fit", "--samples", P("x.npy"), "--out", P("o.json") },
            new[] { "sample", "--model", model, "-n", "0", "--out", P("o.npy") },
            new[] { "sample", "--model", model, "-n", "10", "--out", P("o.txt") },
        })
        {
            var r = Run(args);
            Assert.True(r.Code == 2, $"{string.Join(' ', args)} -> {r.Code}: {r.Err}");
            Assert.StartsWith("gmmflow: ", r.Err);
            Assert.False(File.Exists(P("o.json")) || File.Exists(P("o.npy")) || File.Exists(P("o.txt")));
        }
        // An existing output needs --force.
        File.WriteAllText(P("o.json"), "keep");
        var exists = Run("fit", "--samples", P("x.npy"), "-k", "1", "--out", P("o.json"));
        Assert.Equal(2, exists.Code);
        Assert.Contains("--force", exists.Err);
        Assert.Equal("keep", File.ReadAllText(P("o.json")));
        Assert.Equal(0, Run("fit", "--samples", P("x.npy"), "-k", "1", "--out", P("o.json"), "--force").Code);
        Assert.NotEqual("keep", File.ReadAllText(P("o.json")));
    }

    [Fact]
    public void Bad_data_exits_1_with_a_one_line_error_and_no_output_file()
    {
        File.WriteAllText(P("bad.csv"), "1,2\n3,oops\n");
        File.WriteAllText(P("three.csv"), "1,2\n3,4\n5,6\n");
        File.WriteAllText(P("bad.json"), """{"weights": [0.5, 0.5], "means": [[0, 0], [1, 1]], "covariances": [[[1, 0], [0, 1]], [[1, 2], [2, 1]]]}""");
        var cases = new (string[] Args, string Expected)[]
        {
            (["fit", "--samples", P("bad.csv"), "-k", "2", "--out", P("o.json")], "line 2, column 2: 'oops' is not a number"),
            (["fit", "--samples", P("three.csv"), "-k", "5", "--out", P("o.json")], "K must not exceed N"),
            (["fit", "--samples", P("missing.npy"), "-k", "2", "--out", P("o.json")], "no such file"),
            (["sample", "--model", P("bad.json"), "-n", "10", "--out", P("o.npy")], "field \"covariances\", component 1: is not positive definite"),
        };
        foreach (var (args, expected) in cases)
        {
            var r = Run(args);
            Assert.True(r.Code == 1, $"{string.Join(' ', args)} -> {r.Code}: {r.Err}");
            Assert.Contains(expected, r.Err);
            Assert.Single(r.Err.TrimEnd().Split('\n'));
            Assert.False(File.Exists(P("o.json")) || File.Exists(P("o.npy")));
        }
        Assert.Empty(Directory.GetFiles(Dir, ".*.tmp"));
    }

    [Fact]
    public void Help_shows_examples()
    {
        var fit = Run("fit", "--help");
        Assert.Equal(0, fit.Code);
        Assert.Contains("gmmflow fit --samples X.npy --components 8 --out model.json", fit.Out);
        Assert.Contains("--reg-covar", fit.Out);
        var sample = Run("sample", "--help");
        Assert.Equal(0, sample.Code);
        Assert.Contains("gmmflow sample --model model.json -n 10000 --out X.npy", sample.Out);
    }

    [Fact]
    public void Renormalised_weights_are_reported_on_stderr()
    {
        File.WriteAllText(P("off.json"), """{"weights": [0.2, 0.6], "means": [[0], [5]], "covariances": [[[1]], [[1]]]}""");
        Assert.Equal(1, Run("sample", "--model", P("off.json"), "-n", "10", "--out", P("a.npy")).Code);
        var r = Run("sample", "--model", P("off.json"), "-n", "10", "--out", P("a.npy"), "--renormalize-weights");
        Assert.Equal(0, r.Code);
        Assert.Contains("warning", r.Err);
        Assert.Contains("0.8", r.Err);
    }
}

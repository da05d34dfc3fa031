using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow fit`: EM fit of a Gaussian mixture to samples (.npy or .csv), written as mixture JSON.</summary>
internal static class FitCommand
{
    private const string Examples = """


        Examples:
          gmmflow fit --samples X.npy --components 8 --out model.json
          gmmflow fit --samples X.csv --components auto --max-components 12 --covariance diag --out model.json
          gmmflow fit --samples X.npy --components 10 --n-init 5 --seed 7 --tol 1e-6 --out model.json --force --json
        """;

    public static Command Create()
    {
        var samples = new Option<string>("--samples", "-s")
        {
            Description = "Points to fit: .npy (float64/float32, shape (N, d) or (N,)), .npz (one array, or file.npz:name), or .csv/.tsv (one point per line; see --header).",
            Required = true,
        };
        var components = new Option<string>("--components", "-k")
        {
            Description = "Number of components K, or 'auto' to choose K in 1..--max-components by BIC.",
            Required = true,
        };
        components.Validators.Add(r =>
        {
            string? v = r.GetValueOrDefault<string>();
            if (v != "auto" && (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1))
            {
                r.AddError($"--components must be a positive integer or 'auto' (got '{v}').");
            }
        });
        var maxComponents = CliNumbers.Integer("--max-components", "Largest K tried with --components auto.", minimum: 1, defaultValue: 10);
        var covariance = new Option<string>("--covariance") { Description = "Covariance type.", DefaultValueFactory = _ => "full" };
        covariance.AcceptOnlyFromAmong("full", "diag", "spherical");
        var seed = CliNumbers.Seed("Seed of the initialisation (the same seed gives the same model on any core count).");
        var maxIter = CliNumbers.Integer("--max-iter", "Maximum EM iterations per initialisation.", minimum: 0, defaultValue: 100);
        var tol = CliNumbers.Real("--tol", "Stop when the mean log-likelihood changes by less than this.", 1e-3, 0, strict: false);
        var regCovar = CliNumbers.Real("--reg-covar", "Added to every covariance diagonal to keep it positive definite.", 1e-6, 0, strict: false);
        var nInit = CliNumbers.Integer("--n-init", "Number of k-means++ initialisations; the best fit is kept.", minimum: 1, defaultValue: 1);
        var init = new Option<string?>("--init") { Description = "Start EM from this mixture JSON (warm start) instead of k-means++." };
        var output = new Option<string>("--out", "-o") { Description = "Mixture JSON to write (.json).", Required = true };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite --out if it exists." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var header = CliOptions.HeaderOptions();
        var renormalize = CliOptions.RenormalizeWeights();

        var command = new Command("fit", "Fit a Gaussian mixture to samples by EM (k-means++ initialisation, scikit-learn's defaults) and write it as mixture JSON." + Examples)
        {
            samples, components, maxComponents, covariance, seed, maxIter, tol, regCovar, nInit, init, output, force, json,
            header.Header, header.NoHeader, renormalize,
        };
        command.SetAction(parse =>
        {
            string samplesPath = parse.GetValue(samples)!;
            string outPath = parse.GetValue(output)!;
            if (!SampleFiles.IsSampleFile(samplesPath))
            {
                throw new CliUsageException($"--samples {samplesPath}: use a .npy, .npz, .csv or .tsv file.");
            }
            string? initPath = parse.GetValue(init);
            string k = parse.GetValue(components)!;
            if (initPath is not null && k == "auto")
            {
                throw new CliUsageException("--init fixes the number of components; it cannot be combined with --components auto.");
            }
            bool? hasHeader = CliOptions.HeaderChoice(parse, header);
            // Fail before a long fit, not after it.
            using var files = new CliOutputs(parse.GetValue(force));
            files.Input("--samples", samplesPath).Input("--init", initPath);
            files.Output("--out", outPath, ".json");
            var stderr = parse.InvocationConfiguration.Error;

            double[] points = CliOptions.LoadSamples(samplesPath, "--samples", hasHeader, stderr, out int dimension);
            GaussianMixture? initial = null;
            if (initPath is not null)
            {
                initial = CliOptions.LoadMixture(initPath, "--init", parse.GetValue(renormalize), stderr);
                if (initial.Dimension != dimension)
                {
                    throw new InvalidDataException($"{initPath} has dimension {initial.Dimension} but {samplesPath} has {dimension}.");
                }
            }
            var options = new GaussianMixtureFitOptions
            {
                CovarianceType = parse.GetValue(covariance) switch { "diag" => CovarianceType.Diagonal, "spherical" => CovarianceType.Spherical, _ => CovarianceType.Full },
                Seed = parse.GetValue(seed),
                MaxIterations = parse.GetValue(maxIter),
                Tolerance = parse.GetValue(tol),
                RegCovar = parse.GetValue(regCovar),
                Initializations = parse.GetValue(nInit),
                InitialMixture = initial,
                Progress = new ThrottledProgress(stderr),
            };

            GaussianMixtureFit fit;
            IReadOnlyList<GaussianMixtureFit>? candidates = null;
            if (k == "auto")
            {
                fit = GaussianMixtureFitter.FitBestByBic(points, dimension, 1, parse.GetValue(maxComponents), out candidates, options,
                    cancellationToken: CliApp.Cancellation);
            }
            else
            {
                int kk = int.Parse(k, CultureInfo.InvariantCulture);
                if (initial is not null && initial.ComponentCount != kk)
                {
                    throw new CliUsageException($"--init {initPath} has {initial.ComponentCount} components but --components is {kk}.");
                }
                fit = GaussianMixtureFitter.Fit(points, dimension, kk, options, cancellationToken: CliApp.Cancellation);
            }
            files.Write(outPath, stream => MixtureJson.Write(fit.Mixture, stream));
            files.Commit();

            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(Summary(fit, candidates, points.Length / dimension, dimension, outPath));
            }
            else
            {
                var inv = CultureInfo.InvariantCulture;
                stdout.WriteLine(string.Create(inv, $"fitted {fit.Mixture.ComponentCount} {CovarianceName(fit.Mixture.CovarianceType)} components to {points.Length / dimension} points in dimension {dimension}"));
                if (candidates is not null)
                {
                    foreach (var c in candidates)
                    {
                        stdout.WriteLine(string.Create(inv, $"  K = {c.Mixture.ComponentCount,3}: BIC {c.Bic:G10}{(c == fit ? "  <- lowest" : "")}"));
                    }
                }
                stdout.WriteLine(string.Create(inv, $"iterations          : {fit.Iterations} ({(fit.Converged ? "converged" : "not converged")})"));
                stdout.WriteLine(string.Create(inv, $"mean log-likelihood : {fit.MeanLogLikelihood:G10}"));
                stdout.WriteLine(string.Create(inv, $"BIC                 : {fit.Bic:G10}"));
                stdout.WriteLine(string.Create(inv, $"AIC                 : {fit.Aic:G10}"));
                stdout.WriteLine(string.Create(inv, $"time                : {fit.Elapsed.TotalSeconds:F3} s"));
                stdout.WriteLine($"wrote {outPath}");
            }
            foreach (string w in fit.Warnings)
            {
                stderr.WriteLine($"gmmflow: warning: {w}");
            }
            return CliApp.Success;
        });
        return command;
    }

    private static string CovarianceName(CovarianceType type) => type switch
    {
        CovarianceType.Diagonal => "diag",
        CovarianceType.Spherical => "spherical",
        _ => "full",
    };

    private static string Summary(GaussianMixtureFit fit, IReadOnlyList<GaussianMixtureFit>? candidates, int n, int d, string outPath)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("components", fit.Mixture.ComponentCount);
            w.WriteString("covarianceType", CovarianceName(fit.Mixture.CovarianceType));
            w.WriteNumber("points", n);
            w.WriteNumber("dimension", d);
            w.WriteNumber("iterations", fit.Iterations);
            w.WriteBoolean("converged", fit.Converged);
            w.WriteFinite("meanLogLikelihood", fit.MeanLogLikelihood);
            w.WriteFinite("bic", fit.Bic);
            w.WriteFinite("aic", fit.Aic);
            w.WriteNumber("seconds", fit.Elapsed.TotalSeconds);
            w.WriteString("out", outPath);
            if (candidates is not null)
            {
                w.WriteStartArray("candidates");
                foreach (var c in candidates)
                {
                    w.WriteStartObject();
                    w.WriteNumber("components", c.Mixture.ComponentCount);
                    w.WriteFinite("bic", c.Bic);
                    w.WriteFinite("meanLogLikelihood", c.MeanLogLikelihood);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteStartArray("warnings");
            foreach (string warning in fit.Warnings)
            {
                w.WriteStringValue(warning);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Progress on stderr for long fits only: the first line after one second, then at most one line per second.</summary>
    private sealed class ThrottledProgress(TextWriter stderr) : IProgress<FitProgress>
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan _next = TimeSpan.FromSeconds(1);

        public void Report(FitProgress value)
        {
            if (_clock.Elapsed < _next)
            {
                return;
            }
            _next = _clock.Elapsed + TimeSpan.FromSeconds(1);
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gmmflow: K = {value.Components}, init {value.Initialization}, iteration {value.Iteration}: mean log-likelihood {value.MeanLogLikelihood:F6} (change {value.Change:G3})"));
        }
    }
}

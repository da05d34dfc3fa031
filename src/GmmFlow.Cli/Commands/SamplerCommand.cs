using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using GmmFlow.Cli.Figures;
using GmmFlow.Sampling;

namespace GmmFlow.Cli.Commands;

/// <summary>
/// `gmmflow sampler`: fits a Gaussian-mixture prior to a built-in target by the reverse-KL ELBO (with iterative model
/// refinement), then samples it by importance sampling and by AIS/SMC from the prior; writes samples, the prior, metrics
/// and a picture into a folder.
/// </summary>
internal static class SamplerCommand
{
    private static readonly string[] s_files = ["samples.npy", "prior.json", "metrics.json", "marginals.png"];

    public static Command Create()
    {
        var target = new Option<string>("--target", "-t") { Description = "Target: " + string.Join(", ", BuiltInTargets.Names) + ".", Required = true };
        target.AcceptOnlyFromAmong([.. BuiltInTargets.Names]);
        var components = new Option<int>("--components", "-k") { Description = "Prior components K.", DefaultValueFactory = _ => 10 };
        var imrEvery = new Option<int>("--imr-every") { Description = "Add a component every M iterations (iterative model refinement); 0 starts with all K.", DefaultValueFactory = _ => 200 };
        var iterations = new Option<int>("--iterations") { Description = "Adam iterations of the variational fit.", DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch") { Description = "Samples per Adam iteration.", DefaultValueFactory = _ => 256 };
        var rate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 0.01 };
        var covariance = new Option<string>("--covariance") { Description = "Prior covariances: diag or full.", DefaultValueFactory = _ => "diag" };
        covariance.AcceptOnlyFromAmong("diag", "full");
        var steps = new Option<int>("--steps", "-n") { Description = "Annealing steps N (0: importance sampling only).", DefaultValueFactory = _ => 128 };
        var particles = new Option<int>("--particles", "-p") { Description = "Particles P.", DefaultValueFactory = _ => 2000 };
        var kernel = new Option<string>("--kernel") { Description = "Annealing kernel: ula, mala or hmc.", DefaultValueFactory = _ => "mala" };
        kernel.AcceptOnlyFromAmong("ula", "mala", "hmc");
        var resample = new Option<double>("--resample") { Description = "SMC: resample when the normalised ESS drops below this (0: AIS, the default; its ELBO and ESS are those of the whole path).", DefaultValueFactory = _ => 0 };
        var sinkhorn = new Option<int>("--sinkhorn-samples") { Description = "Samples per side of the Sinkhorn divergence (targets with exact samples).", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed", "-s") { Description = "Seed: the same seed gives the same results on any number of cores.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (samples.npy, prior.json, metrics.json, marginals.png).", Required = true };
        var force = CliOptions.Force();
        CliOptions.AtLeast(components, 1);
        CliOptions.AtLeast(imrEvery, 0);
        CliOptions.AtLeast(iterations, 0);
        CliOptions.AtLeast(batch, 1);
        CliOptions.AtLeast(steps, 0);
        CliOptions.AtLeast(particles, 1);
        CliOptions.AtLeast(sinkhorn, 10);
        CliOptions.Positive(rate);
        CliOptions.NonNegative(resample);
        var command = new Command("sampler",
            "Sample an unnormalised target with a learned Gaussian-mixture prior (variational fit + IS / AIS / SMC).\n\nExamples:\n" +
            "  gmmflow sampler --target funnel --out runs/funnel\n  gmmflow sampler --target credit --components 10 --steps 128 --seed 1 --out runs/credit")
        {
            target, components, imrEvery, iterations, batch, rate, covariance, steps, particles, kernel, resample, sinkhorn, seed, output, force,
        };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            PrepareFolder(dir, overwrite);
            if (parse.GetValue(resample) > 1)
            {
                throw new CliUsageException("--resample must be in [0, 1].");
            }
            string name = parse.GetValue(target)!;
            TextWriter err = parse.InvocationConfiguration.Error;
            TextWriter stdout = parse.InvocationConfiguration.Output;
            var total = Stopwatch.StartNew();
            ITarget t = BuiltInTargets.Create(name);
            TargetDefaults defaults = BuiltInTargets.Defaults(name);
            ulong s = parse.GetValue(seed);
            var vi = new VariationalOptions
            {
                Components = parse.GetValue(components),
                ImrEvery = parse.GetValue(imrEvery),
                Iterations = parse.GetValue(iterations),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(rate),
                CovarianceType = parse.GetValue(covariance) == "full" ? CovarianceType.Full : CovarianceType.Diagonal,
                InitialScale = defaults.InitialScale,
                ExplorationScale = defaults.ExplorationScale,
                Seed = s,
            };
            var viClock = Stopwatch.StartNew();
            VariationalFit fit = VariationalFitter.Fit(t, vi, new Reporter<VariationalProgress>(err, p => p.Iteration == p.Iterations || (p.Iteration - 1) % Math.Max(1, p.Iterations / 10) == 0,
                p => $"fit: iteration {p.Iteration}/{p.Iterations}, K = {p.Components}, ELBO ≈ {CliOptions.F(p.Elbo)}"));
            double viSeconds = viClock.Elapsed.TotalSeconds;
            int pCount = parse.GetValue(particles);
            var isClock = Stopwatch.StartNew();
            SamplerResult importance = AnnealedSampler.Run(t, fit.Prior, new AnnealingOptions { Particles = pCount, Steps = 0, Seed = s + 1 });
            double isSeconds = isClock.Elapsed.TotalSeconds;
            string kernelName = parse.GetValue(kernel)!;
            var annealing = new AnnealingOptions
            {
                Particles = pCount,
                Steps = parse.GetValue(steps),
                Kernel = kernelName switch { "ula" => KernelKind.Ula, "hmc" => KernelKind.Hmc, _ => KernelKind.Mala },
                ResampleThreshold = parse.GetValue(resample),
                Seed = s + 2,
            };
            var aisClock = Stopwatch.StartNew();
            SamplerResult annealed = annealing.Steps == 0 ? importance : AnnealedSampler.Run(t, fit.Prior, annealing,
                new Reporter<AnnealingProgress>(err, p => p.Step % Math.Max(1, p.Steps / 4) == 0, p => $"anneal: step {p.Step}/{p.Steps}, acceptance {CliOptions.F(p.Acceptance, "F2")}"));
            double aisSeconds = aisClock.Elapsed.TotalSeconds;

            int d = t.Dimension;
            double? emc = t is IKnownModes modes ? SamplerMetrics.EntropicModeCoverage(modes, annealed.Samples, d) : null;
            double? emcPrior = t is IKnownModes modes2 ? SamplerMetrics.EntropicModeCoverage(modes2, importance.Samples, d) : null;
            double? sink = null;
            int m = Math.Min(parse.GetValue(sinkhorn), pCount);
            if (t is IExactSampler exact)
            {
                var reference = new double[m * d];
                exact.SampleExact(s + 3, reference);
                sink = SamplerMetrics.SinkhornDivergence(annealed.Samples.AsSpan(0, m * d), reference, d);
            }
            double? logZ = t is IKnownNormalizer known ? known.LogNormalizer : null;
            GaussianMixture mixture = fit.Prior.ToMixture();
            double seconds = total.Elapsed.TotalSeconds;

            string metrics = CliOptions.JsonText(w =>
            {
                w.WriteStartObject();
                w.WriteString("target", name);
                w.WriteNumber("dimension", d);
                w.WriteNumber("seed", s);
                if (logZ is { } lz)
                {
                    w.WriteNumber("log_z_true", lz);
                }
                w.WriteStartObject("fit");
                w.WriteNumber("components", fit.Prior.ComponentCount);
                w.WriteString("covariance", vi.CovarianceType == CovarianceType.Full ? "full" : "diag");
                w.WriteNumber("iterations", vi.Iterations);
                w.WriteNumber("imr_every", vi.ImrEvery);
                w.WriteNumber("batch", vi.BatchSize);
                w.WriteNumber("learning_rate", vi.LearningRate);
                WriteFinite(w, "final_batch_elbo", fit.ElboTrace.Length == 0 ? double.NaN : SamplerMetrics.Mean(fit.ElboTrace.AsSpan(Math.Max(0, fit.ElboTrace.Length - 50))));
                w.WriteNumber("seconds", viSeconds);
                w.WriteEndObject();
                WriteRun(w, "importance", importance, logZ, isSeconds, emcPrior, null, 0, "none");
                WriteRun(w, "annealed", annealed, logZ, aisSeconds, emc, sink, annealing.Steps, kernelName);
                w.WriteNumber("wall_seconds", seconds);
                w.WriteEndObject();
            });
            double[] samples = annealed.Samples;
            RenderedFigure? figure = d >= 2
                ? SamplerFigures.Marginals($"{name}: {(annealing.Steps == 0 ? "importance" : kernelName.ToUpperInvariant())} samples and the fitted prior (K = {mixture.ComponentCount})",
                    $"log Ẑ = {CliOptions.F(annealed.LogNormalizer)}, ESS = {CliOptions.F(annealed.EffectiveSampleSize, "F3")}; ellipses: 2σ marginal contours of the prior's components",
                    samples, d, mixture)
                : null;
            CliFiles.WriteAtomic(Path.Combine(dir, s_files[0]), true, st => SampleFiles.WriteNpy(st, samples, d));
            CliFiles.WriteAtomic(Path.Combine(dir, s_files[1]), true, st => MixtureJson.Write(mixture, st));
            CliFiles.WriteAtomic(Path.Combine(dir, s_files[2]), true, st => st.Write(System.Text.Encoding.UTF8.GetBytes(metrics + "\n")));
            if (figure is not null)
            {
                CliFiles.WriteAtomic(Path.Combine(dir, s_files[3]), true, st => st.Write(figure.Content));
            }
            stdout.WriteLine($"{name}: d = {d}, K = {mixture.ComponentCount}; IS log Ẑ {CliOptions.F(importance.LogNormalizer)} (ESS {CliOptions.F(importance.EffectiveSampleSize, "F3")}); " +
                $"{kernelName} N = {annealing.Steps}: log Ẑ {CliOptions.F(annealed.LogNormalizer)} (ESS {CliOptions.F(annealed.EffectiveSampleSize, "F3")})" +
                (emc is { } e ? $", EMC {CliOptions.F(e, "F3")}" : "") + (sink is { } sk ? $", Sinkhorn {CliOptions.F(sk)}" : "") +
                $"; {CliOptions.F(seconds, "F1")} s; wrote {dir}");
            return CliApp.Success;
        });
        return command;
    }

    private static void PrepareFolder(string dir, bool force)
    {
        if (string.IsNullOrWhiteSpace(dir))
        {
            throw new CliUsageException("--out must name a folder.");
        }
        if (File.Exists(dir))
        {
            throw new CliUsageException($"--out {dir} is a file; the sampler writes a folder.");
        }
        if (Directory.Exists(dir) && !force)
        {
            foreach (string f in s_files)
            {
                if (File.Exists(Path.Combine(dir, f)))
                {
                    throw new CliUsageException($"{dir} already holds sampler outputs ({f}); pass --force to replace them.");
                }
            }
        }
        Directory.CreateDirectory(dir);
    }

    private static void WriteRun(Utf8JsonWriter w, string key, SamplerResult r, double? logZ, double seconds, double? emc, double? sink, int steps, string kernel)
    {
        w.WriteStartObject(key);
        w.WriteString("kernel", kernel);
        w.WriteNumber("steps", steps);
        w.WriteNumber("particles", r.LogWeights.Length);
        WriteFinite(w, "elbo", r.Elbo);
        WriteFinite(w, "log_z", r.LogNormalizer);
        if (logZ is { } lz)
        {
            WriteFinite(w, "delta_log_z", Math.Abs(r.LogNormalizer - lz));
        }
        w.WriteNumber("ess", r.EffectiveSampleSize);
        w.WriteNumber("resamplings", r.Resamplings);
        if (r.AcceptanceRates.Length > 0)
        {
            w.WriteNumber("mean_acceptance", SamplerMetrics.Mean(r.AcceptanceRates));
        }
        if (emc is { } e)
        {
            w.WriteNumber("emc", e);
        }
        if (sink is { } s)
        {
            WriteFinite(w, "sinkhorn", s);
        }
        w.WriteNumber("seconds", seconds);
        w.WriteEndObject();
    }

    private static void WriteFinite(Utf8JsonWriter w, string key, double v)
    {
        if (double.IsFinite(v))
        {
            w.WriteNumber(key, v);
        }
        else
        {
            w.WriteNull(key);
        }
    }

    /// <summary>Prints selected progress reports as lines on stderr (synchronously, unlike Progress&lt;T&gt;).</summary>
    private sealed class Reporter<T>(TextWriter writer, Func<T, bool> select, Func<T, string> format) : IProgress<T>
    {
        public void Report(T value)
        {
            if (select(value))
            {
                writer.WriteLine(format(value));
            }
        }
    }
}

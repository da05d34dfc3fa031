using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>
/// `gmmflow bridge fit | sample | transport | benchmark`: the exact (LightSB-family) Schrödinger bridge between sample
/// sets (docs/theory/exact-sb.md).
/// </summary>
internal static class BridgeCommand
{
    public static Command Create()
    {
        var command = new Command("bridge", """
            Exact Schrödinger bridges between sample sets (Gaussian-mixture Schrödinger potential, LightSB family).

            Examples:
              gmmflow bridge fit --source X0.npy --target X1.npy --noise 1 --components 5 --out bridge.json
              gmmflow bridge sample --bridge bridge.json --samples X.npy --per-point 10 --out Y.npy
              gmmflow bridge transport --bridge bridge.json --samples X.npy --steps 200 --out Y.npy
              gmmflow bridge benchmark --dims 2,16 --noise-variances 0.1,1,10 --seeds 3
            """);
        command.Add(Fit());
        command.Add(Sample());
        command.Add(Transport());
        command.Add(Benchmark());
        return command;
    }

    private static Option<double> BridgeNoise()
    {
        var option = new Option<double>("--noise")
        {
            Description = "Diffusion coefficient σ > 0 of dX = u dt + σ dW (noise variance ε = σ²; POT/OTT reg = 2σ²).",
            Required = true,
        };
        Positive(option);
        return option;
    }

    private static Option<string> Output(string what) => new("--out", "-o") { Description = what, Required = true };

    /// <summary>The bridge file and the points it is applied to, checked for the same dimension.</summary>
    private static (LightBridge Bridge, double[] Points, int Dimension) LoadBridgeAndPoints(string bridgePath, string samplesPath)
    {
        LightBridge bridge;
        using (var stream = CliFiles.OpenInput(bridgePath))
        {
            bridge = LightBridgeJson.Read(stream, bridgePath);
        }
        double[] x = LoadSamples(samplesPath, "--samples", out int d);
        if (d != bridge.Dimension)
        {
            throw new InvalidDataException($"{samplesPath} has dimension {d} but the bridge {bridgePath} has {bridge.Dimension}.");
        }
        return (bridge, x, d);
    }

    private static void CheckSampleOutput(string path, bool force)
    {
        if (!SampleFiles.IsNpy(path) && !SampleFiles.IsCsv(path))
        {
            throw new CliUsageException($"--out {path}: use a .npy or .csv file.");
        }
        CliFiles.CheckWritable(path, force);
    }

    private static void WriteSamples(string path, bool force, double[] values, int d)
        => CliFiles.WriteAtomic(path, force, s =>
        {
            if (SampleFiles.IsNpy(path))
            {
                SampleFiles.WriteNpy(s, values, d);
            }
            else
            {
                SampleFiles.WriteCsv(s, values, d);
            }
        });

    private static Command Fit()
    {
        var source = new Option<string>("--source") { Description = "Source samples X0 (.npy (N, d) or .csv), or a mixture (.json) to draw them from.", Required = true };
        var target = new Option<string>("--target") { Description = "Target samples X1 (.npy (M, d) or .csv; unpaired with X0), or a mixture (.json) to draw them from.", Required = true };
        var perSide = new Option<int>("--samples-per-side") { Description = "Samples drawn from a side given as a mixture (source: seed --seed, target: --seed + 1).", DefaultValueFactory = _ => 10_000 };
        AtLeast(perSide, 1);
        var noise = BridgeNoise();
        var components = new Option<int>("--components", "-k") { Description = "Number K of potential components (default: chosen among 1, 2, 4, 8 by the held-out objective).", DefaultValueFactory = _ => 0 };
        AtLeast(components, 0);
        var diagonal = new Option<bool>("--diagonal") { Description = "Diagonal scales S_k instead of full ones." };
        var family = new Option<bool>("--choose-scales") { Description = "Choose full or diagonal scales by the held-out objective." };
        var shrinkage = new Option<string>("--shrinkage") { Description = "Shrinkage strength λ ≥ 0 of the scales toward their mean, or 'auto' to choose it among 0, 0.003, 0.01, 0.03, 0.1 by the held-out objective.", DefaultValueFactory = _ => "0" };
        var iterations = new Option<int>("--max-iterations") { Description = "L-BFGS iteration cap.", DefaultValueFactory = _ => 500 };
        AtLeast(iterations, 1);
        var restarts = Restarts();
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial EM fit and the held-out split.", DefaultValueFactory = _ => 0 };
        var output = Output("Bridge file (JSON).");
        var force = Force();
        var json = Json();
        var command = new Command("fit", "Fit the bridge with noise σ between unpaired source and target samples (LightSB objective, exact gradients, L-BFGS).")
        {
            source, target, perSide, noise, components, diagonal, family, shrinkage, iterations, restarts, seed, output, force, json,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            CliFiles.CheckWritable(outPath, overwrite);
            string sourcePath = parse.GetValue(source)!, targetPath = parse.GetValue(target)!;
            // A side given as a mixture is sampled exactly as LightBridgeFitter.Fit(mixture, mixture, …) does.
            double[] x0 = LoadSide(sourcePath, "--source", parse.GetValue(perSide), parse.GetValue(seed), out int d0);
            double[] x1 = LoadSide(targetPath, "--target", parse.GetValue(perSide), parse.GetValue(seed) + 1, out int d1);
            if (d0 != d1)
            {
                throw new InvalidDataException($"{sourcePath} has dimension {d0} but {targetPath} has {d1}.");
            }
            int k = parse.GetValue(components);
            var options = new LightBridgeFitOptions
            {
                Components = k > 0 ? k : null,
                CovarianceType = parse.GetValue(diagonal) ? CovarianceType.Diagonal : CovarianceType.Full,
                CovarianceCandidates = parse.GetValue(family) ? [CovarianceType.Full, CovarianceType.Diagonal] : null,
                Shrinkage = ParseShrinkage(parse.GetValue(shrinkage)!),
                MaxIterations = parse.GetValue(iterations),
                Restarts = parse.GetValue(restarts),
                Seed = parse.GetValue(seed),
            };
            var clock = Stopwatch.StartNew();
            LightBridgeFit fit = LightBridgeFitter.Fit(x0, x1, d0, parse.GetValue(noise), options);
            double seconds = clock.Elapsed.TotalSeconds;
            CliFiles.WriteAtomic(outPath, overwrite, s => LightBridgeJson.Write(fit.Bridge, s, fit.Objective));
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("dimension", d0);
                    w.WriteNumber("components", fit.Bridge.ComponentCount);
                    w.WriteNumber("shrinkage", fit.Shrinkage);
                    w.WriteNumber("objective", fit.Objective);
                    w.WriteNumber("iterations", fit.Iterations);
                    w.WriteBoolean("converged", fit.Converged);
                    w.WriteNumber("seconds", seconds);
                    w.WriteStartArray("candidates");
                    foreach (var c in fit.Candidates)
                    {
                        w.WriteStartObject();
                        w.WriteNumber("components", c.Components);
                        w.WriteString("scales", c.CovarianceType == CovarianceType.Diagonal ? "diag" : "full");
                        w.WriteNumber("shrinkage", c.Shrinkage);
                        w.WriteNumber("heldOutObjective", c.HeldOutObjective);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                    w.WriteString("out", outPath);
                    w.WriteEndObject();
                }));
            }
            else
            {
                foreach (var c in fit.Candidates)
                {
                    stdout.WriteLine($"K = {c.Components}, {c.CovarianceType} scales, λ = {F(c.Shrinkage)}: held-out objective {F(c.HeldOutObjective)}");
                }
                stdout.WriteLine($"fitted K = {fit.Bridge.ComponentCount} ({fit.Bridge.CovarianceType}, λ = {F(fit.Shrinkage)}) in d = {d0}: objective {F(fit.Objective)}, " +
                    $"{fit.Iterations} L-BFGS iterations{(fit.Converged ? "" : " (iteration cap reached)")}, {F(seconds, "F3")} s");
                stdout.WriteLine($"wrote {outPath}");
            }
            return CliApp.Success;
        });
        return command;
    }

    private static double[] LoadSide(string path, string option, int count, ulong seed, out int dimension)
    {
        if (!path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return LoadSamples(path, option, out dimension);
        }
        var mixture = LoadMixture(path, option, renormalize: false, TextWriter.Null);
        dimension = mixture.Dimension;
        return mixture.Sample(count, seed);
    }

    private static Command Sample()
    {
        var bridgePath = new Option<string>("--bridge", "-b") { Description = "Bridge file written by `gmmflow bridge fit`.", Required = true };
        var samples = new Option<string>("--samples", "-s") { Description = "Source points x (.npy (N, d) or .csv).", Required = true };
        var perPoint = new Option<int>("--per-point", "-m") { Description = "Samples of π(· | x) per source point (rows i·M … i·M + M − 1 belong to point i).", DefaultValueFactory = _ => 1 };
        AtLeast(perPoint, 1);
        var seed = new Option<ulong>("--seed") { Description = "Random seed; results do not depend on core count.", DefaultValueFactory = _ => 0 };
        var output = Output("Sampled target points (.npy or .csv).");
        var force = Force();
        var command = new Command("sample", "Sample the bridge's conditional plan y ~ π(· | x) in closed form (no simulation).")
        {
            bridgePath, samples, perPoint, seed, output, force,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            CheckSampleOutput(outPath, overwrite);
            var (bridge, x, d) = LoadBridgeAndPoints(parse.GetValue(bridgePath)!, parse.GetValue(samples)!);
            int m = parse.GetValue(perPoint);
            double[] y = bridge.SampleConditional(x, m, parse.GetValue(seed));
            WriteSamples(outPath, overwrite, y, d);
            parse.InvocationConfiguration.Output.WriteLine($"sampled {m} conditional point(s) for each of {x.Length / d} points in d = {d}; wrote {outPath}");
            return CliApp.Success;
        });
        return command;
    }

    private static Command Transport()
    {
        var bridgePath = new Option<string>("--bridge", "-b") { Description = "Bridge file written by `gmmflow bridge fit`.", Required = true };
        var samples = new Option<string>("--samples", "-s") { Description = "Source points (.npy (N, d) or .csv).", Required = true };
        var steps = new Option<int>("--steps") { Description = "Euler–Maruyama steps on [0, 1].", DefaultValueFactory = _ => 100 };
        AtLeast(steps, 1);
        var seed = new Option<ulong>("--seed") { Description = "Seed of the Brownian increments; results do not depend on core count.", DefaultValueFactory = _ => 0 };
        var output = Output("Transported points (.npy or .csv).");
        var force = Force();
        var command = new Command("transport", "Transport points by the SDE dX = u(X, t) dt + σ dW with the bridge's closed-form drift (Euler–Maruyama).")
        {
            bridgePath, samples, steps, seed, output, force,
        };
        command.SetAction(parse =>
        {
            string outPath = parse.GetValue(output)!;
            bool overwrite = parse.GetValue(force);
            CheckSampleOutput(outPath, overwrite);
            var (bridge, x, d) = LoadBridgeAndPoints(parse.GetValue(bridgePath)!, parse.GetValue(samples)!);
            var clock = Stopwatch.StartNew();
            double[] y = bridge.Transport(x, parse.GetValue(steps), parse.GetValue(seed));
            WriteSamples(outPath, overwrite, y, d);
            parse.InvocationConfiguration.Output.WriteLine($"transported {x.Length / d} points in d = {d} over {parse.GetValue(steps)} steps " +
                $"(σ = {F(bridge.Noise)}) in {F(clock.Elapsed.TotalSeconds, "F3")} s; wrote {outPath}");
            return CliApp.Success;
        });
        return command;
    }

    private static Command Benchmark()
    {
        var dims = new Option<string>("--dims") { Description = "Comma-separated dimensions.", DefaultValueFactory = _ => "2,16,64,128" };
        var variances = new Option<string>("--noise-variances") { Description = "Comma-separated ε = σ² values.", DefaultValueFactory = _ => "0.1,1,10" };
        var seeds = new Option<int>("--seeds") { Description = "Benchmark pairs (seeds) per cell.", DefaultValueFactory = _ => 3 };
        AtLeast(seeds, 1);
        var samples = new Option<int>("--samples") { Description = "Training samples per side.", DefaultValueFactory = _ => 10_000 };
        AtLeast(samples, 10);
        var testPoints = new Option<int>("--test-points") { Description = "Test points x for cBW2-UVP.", DefaultValueFactory = _ => 100 };
        AtLeast(testPoints, 1);
        var perPoint = new Option<int>("--per-point") { Description = "Predicted conditional samples per test point.", DefaultValueFactory = _ => 1000 };
        AtLeast(perPoint, 2);
        var components = new Option<int>("--components", "-k") { Description = "K of the fitted potential, the GMMflow EM fits and the benchmark potential.", DefaultValueFactory = _ => 5 };
        AtLeast(components, 1);
        var shrinkage = new Option<string>("--shrinkage") { Description = "Shrinkage λ of the fitted bridge's scales, or 'auto' (chosen by the held-out objective; the fit time includes the choice).", DefaultValueFactory = _ => "0" };
        var restarts = Restarts();
        var chooseScales = new Option<bool>("--choose-scales") { Description = "Choose full or diagonal scales of the fitted bridge by the held-out objective." };
        var trueStart = new Option<bool>("--true-start") { Description = "Diagnostic: also fit from the true potential; adds its cBW2-UVP and the training objectives of both fits." };
        var output = new Option<string?>("--out", "-o") { Description = "Also write the markdown table to this file." };
        var force = Force();
        var command = new Command("benchmark", """
            The entropic-OT benchmark (Gushchin et al. construction): cBW2-UVP and BW2-UVP (%) of the fitted bridge beside the
            exact-sampler floor, the GMMflow plan (SB cost on EM fits) and the Gaussian entropic-OT map, on the same data.
            """)
        {
            dims, variances, seeds, samples, testPoints, perPoint, components, shrinkage, restarts, chooseScales, trueStart, output, force,
        };
        command.SetAction(parse =>
        {
            string? outPath = parse.GetValue(output);
            bool overwrite = parse.GetValue(force);
            if (outPath is not null)
            {
                CliFiles.CheckWritable(outPath, overwrite);
            }
            double? lambda = ParseShrinkage(parse.GetValue(shrinkage)!);
            int[] dList = ParseList(parse.GetValue(dims)!, "--dims").Select(v => (int)v).ToArray();
            double[] eList = ParseList(parse.GetValue(variances)!, "--noise-variances");
            if (dList.Any(v => v < 1) || eList.Any(v => !(v > 0)))
            {
                throw new CliUsageException("--dims must be ≥ 1 and --noise-variances > 0.");
            }
            var stdout = parse.InvocationConfiguration.Output;
            bool diagnose = parse.GetValue(trueStart);
            var table = new System.Text.StringBuilder();
            table.Append("| d | ε | cBW2-UVP floor | LightBridge | GMMflow plan | Gaussian EOT | BW2-UVP floor | LightBridge | GMMflow plan | Gaussian EOT | fit wall s | fit CPU s | L-BFGS its | evaluations | λ |");
            table.AppendLine(diagnose ? " true-start cBW2-UVP | objective | true-start objective |" : "");
            table.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|" + (diagnose ? "---|---|---|" : ""));
            stdout.Write(table.ToString());
            foreach (int d in dList)
            {
                foreach (double eps in eList)
                {
                    var cells = new List<double[]>();
                    for (int s = 0; s < parse.GetValue(seeds); s++)
                    {
                        cells.Add(BridgeBenchmarkRun.Cell(d, eps, (ulong)s, parse.GetValue(samples), parse.GetValue(testPoints),
                            parse.GetValue(perPoint), parse.GetValue(components), lambda, parse.GetValue(restarts), parse.GetValue(chooseScales), diagnose));
                    }
                    string row = $"| {d} | {F(eps)} | " + string.Join(" | ", Enumerable.Range(0, cells[0].Length).Select(i => Summary(cells.Select(c => c[i]).ToArray(), i))) + " |";
                    stdout.WriteLine(row);
                    table.AppendLine(row);
                }
            }
            if (outPath is not null)
            {
                CliFiles.WriteAtomic(outPath, overwrite, s =>
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(table.ToString());
                    s.Write(bytes);
                });
            }
            return CliApp.Success;
        });
        return command;
    }

    private static string Summary(double[] values, int column)
    {
        // Columns: 0–7 UVP metrics, 8–9 seconds, 10–11 counts, 12 λ, 13 a UVP, 14–15 objectives.
        string format = column switch { 10 or 11 => "F0", 12 => "G3", 14 or 15 => "F4", 8 or 9 => "F1", _ => "F2" };
        if (values.Length == 1)
        {
            return F(values[0], format);
        }
        return $"{F(values.Average(), format)} ({F(values.Min(), format)}–{F(values.Max(), format)})";
    }

    private static Option<int> Restarts()
    {
        var option = new Option<int>("--restarts") { Description = "Extra starting points (target EM seeds); the lowest objective on the fitting samples wins.", DefaultValueFactory = _ => 0 };
        AtLeast(option, 0);
        return option;
    }

    /// <summary>--shrinkage: "auto" (null, chosen by the held-out objective) or a finite λ ≥ 0.</summary>
    private static double? ParseShrinkage(string text)
    {
        if (string.Equals(text.Trim(), "auto", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= 0 && double.IsFinite(v))
        {
            return v;
        }
        throw new CliUsageException($"--shrinkage {text}: expected 'auto' or a finite number ≥ 0.");
    }

    private static double[] ParseList(string text, string option)
    {
        try
        {
            return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new CliUsageException($"{option} {text}: expected comma-separated numbers.");
        }
    }
}

using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using GmmFlow.Cli;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Cli;

/// <summary>The rules of docs/cli-contract.md that are not single bad inputs: options in general, weights, outputs under concurrency, interrupts.</summary>
public sealed class CliContractTests : CliHarness
{
    [Fact]
    public void Every_numeric_option_of_every_command_parses_through_the_typed_path()
    {
        var numeric = new HashSet<Type> { typeof(int), typeof(long), typeof(ulong), typeof(double), typeof(double?) };
        var seen = new List<string>();
        foreach (Command command in CliApp.Build().Subcommands)
        {
            foreach (Option option in command.Options.Where(o => numeric.Contains(o.ValueType)))
            {
                foreach (string junk in (string[])["abc", "0x10", "1,5", ""])
                {
                    var r = Run(command.Name, option.Name, junk);
                    string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                    Assert.True(r.Code == 2, $"{command.Name} {option.Name} '{junk}': exit {r.Code}: {r.Err}");
                    Assert.True(lines.Length == 1, $"{command.Name} {option.Name} '{junk}': {r.Err}");
                    Assert.Contains($"option {option.Name}: '{junk}' is not", lines[0]);
                }
                seen.Add($"{command.Name} {option.Name}");
            }
        }
        // The options of the issue, at least.
        foreach (string expected in (string[])["transport --steps", "transport --save-every", "transport --seed", "sample -n", "plan --noise", "plan --tau",
            "cost --noise", "fit --max-components", "fit --max-iter", "fit --n-init", "fit --tol", "fit --reg-covar", "regime --radius", "regime --threshold"])
        {
            Assert.Contains(expected, seen);
        }
    }

    [Fact]
    public void Weights_follow_one_rule_in_every_command()
    {
        // Off by 5e-7: normalised silently. Off by 0.1: refused (see BadInputTests), accepted with --renormalize-weights and reported.
        File.WriteAllText(P("near.json"), """{"weights": [0.5, 0.5000005], "means": [[0, 0], [3, 0]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""");
        File.WriteAllText(P("off.json"), """{"weights": [0.45, 0.45], "means": [[0, 0], [3, 0]], "covariances": [[[1, 0], [0, 1]], [[1, 0], [0, 1]]]}""");
        File.WriteAllText(P("b.json"), BadInputFixture.B);
        var near = MixtureJson.Read(P("near.json"));
        Assert.Equal(1.0, near.Weights[0] + near.Weights[1], 15);
        foreach (string model in (string[])["near.json", "off.json"])
        {
            string[] flag = model == "off.json" ? ["--renormalize-weights"] : [];
            string tag = model[..^5];
            var runs = new[]
            {
                Run([.. (string[])["sample", "--model", P(model), "-n", "5", "--out", P($"s-{tag}.npy")], .. flag]),
                Run([.. (string[])["plan", "--source", P(model), "--target", P("b.json"), "--out", P($"p-{tag}.json")], .. flag]),
                Run([.. (string[])["cost", "--source", P("b.json"), "--target", P(model), "--out", P($"c-{tag}.npy")], .. flag]),
                Run([.. (string[])["regime", "--source", P(model), "--target", P("b.json")], .. flag]),
            };
            foreach (var r in runs)
            {
                Assert.Equal(0, r.Code);
                if (model == "near.json")
                {
                    Assert.Equal("", r.Err);
                }
                else
                {
                    Assert.Contains("warning: ", r.Err);
                    Assert.Contains("0.9", r.Err);
                }
            }
        }
    }

    [Fact]
    public async Task Concurrent_writers_without_force_exactly_one_wins()
    {
        File.WriteAllText(P("a.json"), BadInputFixture.A);
        const int writers = 6;
        for (int round = 0; round < 3; round++)
        {
            string target = P($"race{round}.npy");
            using var start = new Barrier(writers);
            var results = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
            {
                start.SignalAndWait();
                return Run("sample", "--model", P("a.json"), "-n", "20000", "--seed", w.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", target);
            })).ToArray();
            var outcomes = await Task.WhenAll(results);
            var codes = outcomes.Select(r => r.Code).ToArray();
            Assert.Equal(1, codes.Count(c => c == 0));
            Assert.Equal(writers - 1, codes.Count(c => c == 2));
            foreach (var r in outcomes.Where(r => r.Code == 2))
            {
                Assert.Matches("already exists|created by another process", r.Err);
            }
            // The file is the winner's, complete.
            int winner = Array.IndexOf(codes, 0);
            double[] written = SampleFiles.Read(target, out _);
            Assert.Equal(MixtureJson.Read(P("a.json")).Sample(20000, (ulong)winner), written);
        }
        // With --force every writer succeeds and the file is one complete output.
        var forced = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
            Run("sample", "--model", P("a.json"), "-n", "20000", "--seed", w.ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", P("race0.npy"), "--force"))).ToArray();
        Assert.All(await Task.WhenAll(forced), r => Assert.Equal(0, r.Code));
        double[] last = SampleFiles.Read(P("race0.npy"), out _);
        Assert.Contains(Enumerable.Range(0, 4), w => MixtureJson.Read(P("a.json")).Sample(20000, (ulong)w).SequenceEqual(last));
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp*"));
    }

    [Fact]
    public void A_failed_write_or_a_lost_race_commits_no_output_of_the_set()
    {
        // The second write fails: neither output appears, no temporary is left.
        using (var set = new CliOutputs(force: false))
        {
            set.Output("--out", P("one.npy"), ".npy");
            set.Output("--trajectories", P("two.npy"), ".npy");
            set.Write(P("one.npy"), s => s.WriteByte(1));
            var e = Assert.Throws<IOException>(() => set.Write(P("two.npy"), _ => throw new IOException("disk full")));
            Assert.Contains("cannot write --trajectories", e.Message);
            Assert.Contains("two.npy", e.Message);
            Assert.DoesNotContain(".tmp", e.Message);
        }
        Assert.Empty(Directory.GetFiles(Dir));
        // Another process creates the second output after the checks: the commit places neither.
        using (var set = new CliOutputs(force: false))
        {
            set.Output("--out", P("one.npy"), ".npy");
            set.Output("--trajectories", P("two.npy"), ".npy");
            set.Write(P("one.npy"), s => s.WriteByte(1));
            set.Write(P("two.npy"), s => s.WriteByte(2));
            File.WriteAllText(P("two.npy"), "theirs");
            var e = Assert.Throws<CliUsageException>(set.Commit);
            Assert.Contains("created by another process", e.Message);
        }
        Assert.Equal(["two.npy"], Files());
        Assert.Equal("theirs", File.ReadAllText(P("two.npy")));
        // With --force an existing output is replaced, both are placed together.
        using (var set = new CliOutputs(force: true))
        {
            set.Output("--out", P("one.npy"), ".npy");
            set.Output("--trajectories", P("two.npy"), ".npy");
            set.Write(P("one.npy"), s => s.WriteByte(1));
            set.Write(P("two.npy"), s => s.WriteByte(2));
            set.Commit();
        }
        Assert.Equal(["one.npy", "two.npy"], Files());
        Assert.Equal([2], File.ReadAllBytes(P("two.npy")));
    }

    [Theory]
    [InlineData(PosixSignal.SIGINT, 130)]
    [InlineData(PosixSignal.SIGTERM, 143)]
    public async Task An_interrupt_in_process_stops_the_run_and_writes_nothing(PosixSignal signal, int code)
    {
        var (plan, samples) = LongTransportInputs();
        using var interrupt = CliInterrupt.Manual();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var run = Task.Run(() => CliApp.Run(["transport", "--plan", plan, "--samples", samples, "--steps", "1000000", "--trajectories", P("t.npy"), "--save-every", "100000", "--out", P("y.npy")],
            stdout, stderr, interrupt));
        await Task.Delay(300, TestContext.Current.CancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        interrupt.Raise(signal);
        int exit = await run.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"stopped after {clock.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(code, exit);
        string last = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.Equal($"gmmflow: interrupted by {signal}; stopped, no output was written.", last);
        Assert.DoesNotContain(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !l.StartsWith("gmmflow: transport ", StringComparison.Ordinal) && l != last);
        Assert.False(File.Exists(P("y.npy")) || File.Exists(P("t.npy")));
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp"));
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task A_signal_to_the_built_cli_stops_it_within_a_fraction_of_a_second(string signal, int code)
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "POSIX signals");
        string dll = CliBinary.Path;
        var (plan, samples) = LongTransportInputs();
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in (string[])[dll, "transport", "--plan", plan, "--samples", samples, "--steps", "1000000", "--trajectories", P("t.npy"), "--out", P("y.npy")])
        {
            info.ArgumentList.Add(a);
        }
        using var process = System.Diagnostics.Process.Start(info)!;
        var err = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        // Signal once the process is inside the transport loop (which runs for minutes): startup, loading the plan and
        // the points take well under 2 s of CPU; waiting on CPU time rather than wall time keeps this right on a loaded machine.
        var started = System.Diagnostics.Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited && process.TotalProcessorTime < TimeSpan.FromSeconds(2.5))
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.False(process.HasExited, "the run ended before the signal");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(10)), "the run did not stop");
        double ms = clock.Elapsed.TotalMilliseconds;
        Assert.Equal(code, process.ExitCode);
        string[] lines = (await err).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"gmmflow: interrupted by SIG{signal}; stopped, no output was written.", lines[^1]);
        Assert.All(lines[..^1], l => Assert.StartsWith("gmmflow: transport ", l));
        Assert.True(ms < 1500, $"stopped {ms:F0} ms after the signal");
        Assert.False(File.Exists(P("y.npy")) || File.Exists(P("t.npy")));
        Assert.Empty(Directory.GetFiles(Dir, "*.tmp"));
    }

    /// <summary>A plan and 20 000 points whose transport with 10⁶ steps runs far longer than any test.</summary>
    private (string Plan, string Samples) LongTransportInputs()
    {
        File.WriteAllText(P("a.json"), BadInputFixture.A);
        File.WriteAllText(P("b.json"), BadInputFixture.B);
        Assert.Equal(0, Run("plan", "--source", P("a.json"), "--target", P("b.json"), "--out", P("plan.json")).Code);
        Assert.Equal(0, Run("sample", "--model", P("a.json"), "-n", "20000", "--out", P("x.npy")).Code);
        return (P("plan.json"), P("x.npy"));
    }

    [Fact]
    public void Regime_of_identical_components_is_finite_and_surrogate_accurate()
    {
        File.WriteAllText(P("s.json"), """
            {"weights": [0.5, 0.5], "means": [[1, 2, 3], [0, 0, 0]],
             "covariances": [[[2, 0.3, 0.1], [0.3, 1, 0.2], [0.1, 0.2, 0.5]], [[6, 0.9, 0.3], [0.9, 3, 0.6], [0.3, 0.6, 1.5]]]}
            """);
        var r = Run("regime", "--source", P("s.json"), "--target", P("s.json"), "--json");
        Assert.Equal(0, r.Code);
        using var doc = JsonDocument.Parse(r.Out);
        var pairs = doc.RootElement.GetProperty("pairs").EnumerateArray().ToList();
        Assert.Equal(4, pairs.Count);
        foreach (var p in pairs)
        {
            Assert.Equal(JsonValueKind.Number, p.GetProperty("relativeGap").ValueKind);
            Assert.True(double.IsFinite(p.GetProperty("relativeGap").GetDouble()));
        }
        foreach (var p in pairs.Where(p => p.GetProperty("i").GetInt32() == p.GetProperty("j").GetInt32()))
        {
            Assert.Equal(0, p.GetProperty("gap").GetDouble());
            Assert.Equal(0, p.GetProperty("relativeGap").GetDouble());
            Assert.Equal("surrogate-accurate", p.GetProperty("regime").GetString());
        }
        var text = Run("regime", "--source", P("s.json"), "--target", P("s.json"));
        Assert.DoesNotContain("Infinity", text.Out);
        Assert.DoesNotContain("NaN", text.Out);
    }

    [Fact]
    public void A_degenerate_fit_prints_its_huge_bic_in_exponent_form()
    {
        var points = new double[60 * 2];
        for (int i = 0; i < 60; i++)
        {
            points[2 * i] = (i % 3) * 5;
            points[2 * i + 1] = (i % 3) == 1 ? 5 : 0;
        }
        SampleFiles.Write(P("dup.npy"), points, 2);
        var r = Run("fit", "--samples", P("dup.npy"), "-k", "3", "--reg-covar", "0", "--out", P("m.json"));
        Assert.Equal(0, r.Code);
        string bic = r.Out.Split('\n').Single(l => l.StartsWith("BIC", StringComparison.Ordinal));
        Assert.True(bic.Length < 40, bic);
        Assert.Matches(@"BIC +: -?\d\.\d+E[+-]\d+", bic);
    }

    [Fact]
    public void A_dense_sinkhorn_plan_draws_a_warning_naming_its_size()
    {
        int k = 320; // 320 × 320 = 102 400 pairs, just over the warning threshold
        var rng = new Random(3);
        string Mixture() => "{\"weights\": [" + string.Join(", ", Enumerable.Repeat((1.0 / k).ToString("R", System.Globalization.CultureInfo.InvariantCulture), k)) + "], \"means\": [" +
            string.Join(", ", Enumerable.Range(0, k).Select(_ => $"[{rng.NextDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture)}]")) + "], \"covariances\": [" +
            string.Join(", ", Enumerable.Repeat("[[1]]", k)) + "]}";
        File.WriteAllText(P("s.json"), Mixture());
        File.WriteAllText(P("t.json"), Mixture());
        var r = Run("plan", "--source", P("s.json"), "--target", P("t.json"), "--coupling", "sinkhorn", "--tau", "10", "--out", P("p.json"));
        Assert.Equal(0, r.Code);
        Assert.Matches(@"warning: the plan has \d+ active pairs \(about \d+ MB in .*p\.json", r.Err);
        var lp = Run("plan", "--source", P("s.json"), "--target", P("t.json"), "--out", P("q.json"));
        Assert.Equal(0, lp.Code);
        Assert.Equal("", lp.Err);
    }
}

/// <summary>The built `gmmflow` (framework-dependent dll) for tests that need a separate process.</summary>
internal static class CliBinary
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        string here = System.IO.Path.Combine(AppContext.BaseDirectory, "gmmflow.dll");
        if (File.Exists(here) && File.Exists(System.IO.Path.ChangeExtension(here, ".runtimeconfig.json")))
        {
            return here;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (string config in (string[])["Release", "Debug"])
            {
                string candidate = System.IO.Path.Combine(dir.FullName, "src", "GmmFlow.Cli", "bin", config, "net10.0", "gmmflow.dll");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        throw new FileNotFoundException("gmmflow.dll was not found beside the tests or under src/GmmFlow.Cli/bin.");
    }
}

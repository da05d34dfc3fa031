using System.Security.Cryptography;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Cli;

/// <summary>
/// The bad-input suite (docs/cli-contract.md): every class of malformed option, input file and output, each through
/// the CLI in-process. Each case asserts the exit code, one stderr line naming the culprit (no stack trace), that no
/// output or temporary file appears, and that every existing file (including the --out targets that already exist)
/// is byte-for-byte untouched. "@name" in an argument is a file of the case's folder.
/// </summary>
public sealed class BadInputTests : CliHarness
{
    private const string Plan = "@plan.json";

    private static readonly string[] SampleArgs = ["sample", "--model", "@a.json", "-n", "10", "--out", "@o.npy"];
    private static readonly string[] FitArgs = ["fit", "--samples", "@x.npy", "-k", "2", "--out", "@o.json"];
    private static readonly string[] PlanArgs = ["plan", "--source", "@a.json", "--target", "@b.json", "--out", "@o.json"];
    private static readonly string[] CostArgs = ["cost", "--source", "@a.json", "--target", "@b.json", "--out", "@o.npy"];
    private static readonly string[] RegimeArgs = ["regime", "--source", "@a.json", "--target", "@b.json"];
    private static readonly string[] TransportArgs = ["transport", "--plan", Plan, "--samples", "@x.npy", "--out", "@o.npy"];

    public static TheoryData<string, string[], int, string> Cases()
    {
        var data = new TheoryData<string, string[], int, string>();
        foreach (var (name, args, code, mention) in Table())
        {
            data.Add(name, args, code, mention);
        }
        return data;
    }

    private static List<(string Name, string[] Args, int Code, string Mention)> Table()
    {
        var t = new List<(string, string[], int, string)>();
        void Add(string name, string[] args, int code, string mention) => t.Add((name, args, code, mention));
        string[] With(string[] baseArgs, params string[] extra) => [.. baseArgs, .. extra];
        string[] Replace(string[] baseArgs, string option, string value)
        {
            var copy = baseArgs.ToArray();
            copy[Array.IndexOf(copy, option) + 1] = value;
            return copy;
        }

        // 1. Numbers: malformed, not an integer, out of range, not finite, below the minimum, for every numeric option.
        foreach (var (args, option, minimumViolation) in new (string[], string, string)[]
        {
            (TransportArgs, "--steps", "0"), (TransportArgs, "--save-every", "-1"), (SampleArgs, "-n", "0"),
            (FitArgs, "--max-components", "0"), (FitArgs, "--max-iter", "-1"), (FitArgs, "--n-init", "0"),
        })
        {
            string[] a = args.Contains(option) ? args : With(args, option, "1");
            Add($"{option} abc", Replace(a, option, "abc"), 2, $"option {option}: 'abc' is not an integer");
            Add($"{option} 1e3", Replace(a, option, "1e3"), 2, $"option {option}: '1e3' is not an integer written in digits");
            Add($"{option} 10000000000", Replace(a, option, "10000000000"), 2, $"option {option}: 10000000000 is out of range");
            Add($"{option} {minimumViolation}", Replace(a, option, minimumViolation), 2, $"option {option}: {minimumViolation} is out of range");
        }
        foreach (var (args, option, bad) in new (string[], string, string)[]
        {
            (PlanArgs, "--noise", "-0.5"), (CostArgs, "--noise", "-1"), (FitArgs, "--tol", "-1"), (FitArgs, "--reg-covar", "-1e-6"),
            (With(PlanArgs, "--coupling", "sinkhorn"), "--tau", "0"), (RegimeArgs, "--radius", "0"), (RegimeArgs, "--threshold", "-1"),
        })
        {
            Add($"{option} abc", With(args, option, "abc"), 2, $"option {option}: 'abc' is not a number");
            Add($"{option} nan", With(args, option, "nan"), 2, $"option {option}: 'nan' is not a finite number");
            Add($"{option} 1e999", With(args, option, "1e999"), 2, $"option {option}: '1e999' is not a finite number");
            Add($"{option} {bad}", With(args, option, bad), 2, $"option {option}: {bad} is out of range");
        }
        Add("--seed -1", With(SampleArgs, "--seed", "-1"), 2, "option --seed: '-1' is not an integer");
        Add("--seed 2^64", With(TransportArgs, "--seed", "18446744073709551616"), 2, "option --seed: '18446744073709551616' is out of range");
        Add("--seed 1.5", With(FitArgs, "--seed", "1.5"), 2, "option --seed: '1.5' is not an integer");

        // Choices, required options, unknown names.
        Add("--cost w3", With(PlanArgs, "--cost", "w3"), 2, "w3");
        Add("--kind w3", With(CostArgs, "--kind", "w3"), 2, "w3");
        Add("--coupling x", With(PlanArgs, "--coupling", "simplex"), 2, "simplex");
        Add("--integrator x", With(TransportArgs, "--integrator", "euler"), 2, "euler");
        Add("--field x", With(TransportArgs, "--field", "flow"), 2, "flow");
        Add("--covariance tied", With(FitArgs, "--covariance", "tied"), 2, "tied");
        Add("--variant x", With(CostArgs, "--variant", "other"), 2, "other");
        Add("--components many", Replace(FitArgs, "-k", "many"), 2, "--components");
        Add("--components 0", Replace(FitArgs, "-k", "0"), 2, "--components");
        Add("missing --out", ["sample", "--model", "@a.json", "-n", "10"], 2, "--out");
        Add("unknown option", With(RegimeArgs, "--bogus"), 2, "--bogus");
        Add("unknown command", ["bogus-command"], 2, "bogus-command");
        Add("--header with --no-header", With(Replace(FitArgs, "--samples", "@x.csv"), "--header", "--no-header"), 2, "--header and --no-header");
        Add("--init with auto", With(Replace(FitArgs, "-k", "auto"), "--init", "@a.json"), 2, "--init");

        // 2. Sizes: refused before any work, not after it.
        Add("sample beyond one array", Replace(SampleArgs, "-n", "2000000000"), 2, "more than one array holds");
        Add("trajectories beyond one array", With(TransportArgs, "--trajectories", "@t.npy", "--steps", "2000000000", "--save-every", "1"), 2, "more than one array holds");
        Add(".npy beyond one array", Replace(FitArgs, "--samples", "@huge.npy"), 1, "more than one .NET array holds");

        // 8. Input files: missing, a directory, wrong type, malformed content, inconsistent content.
        Add("missing model", Replace(SampleArgs, "--model", "@missing.json"), 1, "missing.json: no such file");
        Add("missing samples", Replace(FitArgs, "--samples", "@missing.npy"), 1, "missing.npy: no such file");
        Add("missing plan", Replace(TransportArgs, "--plan", "@missing.json"), 1, "missing.json: no such file");
        Add("directory as samples", Replace(FitArgs, "--samples", "@folder.npy"), 1, "folder.npy is a directory");
        Add("directory as source", Replace(PlanArgs, "--source", "@folder.json"), 1, "folder.json is a directory");
        Add("directory as plan", Replace(TransportArgs, "--plan", "@folder.json"), 1, "folder.json is a directory");
        Add("directory as regime target", Replace(RegimeArgs, "--target", "@folder.json"), 1, "folder.json is a directory");
        Add("samples .txt", Replace(FitArgs, "--samples", "@x.txt"), 2, "x.txt");
        Add("truncated JSON", Replace(PlanArgs, "--source", "@trunc.json"), 1, "trunc.json: not valid JSON");
        Add("empty JSON", Replace(CostArgs, "--target", "@empty.json"), 1, "empty.json");
        Add("JSON array", Replace(RegimeArgs, "--source", "@array.json"), 1, "array.json");
        Add("NaN in JSON", Replace(SampleArgs, "--model", "@nanmean.json"), 1, "nanmean.json");
        Add("duplicate JSON key", Replace(PlanArgs, "--source", "@dup.json"), 1, "dup.json: a key appears twice");
        Add("duplicate key in --init", With(FitArgs, "--init", "@dup.json"), 1, "dup.json: a key appears twice");
        Add("not positive definite", Replace(CostArgs, "--source", "@npd.json"), 1, "npd.json");
        Add("negative weight", Replace(SampleArgs, "--model", "@negw.json"), 1, "is not positive");
        Add("dimension mismatch", Replace(PlanArgs, "--source", "@d3.json"), 1, "dimension");
        Add("weights sum 0.9 (sample)", Replace(SampleArgs, "--model", "@w09.json"), 1, "w09.json: field \"weights\": sum to 0.9");
        Add("weights sum 0.9 (plan)", Replace(PlanArgs, "--source", "@w09.json"), 1, "w09.json: field \"weights\": sum to 0.9");
        Add("weights sum 0.9 (cost)", Replace(CostArgs, "--target", "@w09.json"), 1, "w09.json: field \"weights\": sum to 0.9");
        Add("weights sum 0.9 (regime)", Replace(RegimeArgs, "--source", "@w09.json"), 1, "w09.json: field \"weights\": sum to 0.9");
        Add("weights sum 0.9 (fit --init)", With(FitArgs, "--init", "@w09.json"), 1, "w09.json: field \"weights\": sum to 0.9");
        Add("int .npy", Replace(TransportArgs, "--samples", "@int.npy"), 1, "int.npy: .npy header has dtype '<i4'");
        Add("3-D .npy", Replace(FitArgs, "--samples", "@cube.npy"), 1, "cube.npy: .npy header has shape (2, 2, 2)");
        Add("truncated .npy", Replace(FitArgs, "--samples", "@short.npy"), 1, "short.npy: .npy data is truncated");
        Add("trailing bytes .npy", Replace(FitArgs, "--samples", "@long.npy"), 1, "long.npy: .npy data has bytes after");
        Add("Fortran .npy", Replace(FitArgs, "--samples", "@fortran.npy"), 1, "fortran.npy: .npy header holds a Fortran-ordered");
        Add("not a .npy", Replace(FitArgs, "--samples", "@notnpy.npy"), 1, "notnpy.npy: .npy header is not a .npy file");
        Add("NaN in .npy", Replace(TransportArgs, "--samples", "@nan.npy"), 1, "nan.npy: row 1, column 1: 'NaN' is not a finite number");
        Add("inf in .npy", Replace(FitArgs, "--samples", "@inf.npy"), 1, "inf.npy: row 0, column 1: 'inf' is not a finite number");
        Add("inf in CSV", Replace(FitArgs, "--samples", "@inf.csv"), 1, "inf.csv: line 3, column 1: 'inf' is not a finite number");
        Add("nan in CSV", Replace(FitArgs, "--samples", "@nan.csv"), 1, "nan.csv: line 3, column 2: 'nan' is not a finite number");
        Add("1e999 in CSV", Replace(FitArgs, "--samples", "@big.csv"), 1, "big.csv: line 2, column 1: '1e999' is not a finite number");
        Add("CSV first-row typo", Replace(FitArgs, "--samples", "@typo.csv"), 1, "typo.csv: line 1 mixes numbers and text");
        Add("CSV first-row typo --no-header", With(Replace(FitArgs, "--samples", "@typo.csv"), "--no-header"), 1, "typo.csv: line 1, column 2: '1.2x' is not a number");
        Add("CSV word", Replace(FitArgs, "--samples", "@word.csv"), 1, "word.csv: line 3, column 2: 'four' is not a number");
        Add("CSV ragged", Replace(TransportArgs, "--samples", "@ragged.csv"), 1, "ragged.csv: line 3 has 1 values, expected 2");
        Add("CSV header only", Replace(FitArgs, "--samples", "@headeronly.csv"), 1, "headeronly.csv: the file has no data lines");
        Add("CSV unterminated quote", Replace(FitArgs, "--samples", "@quote.csv"), 1, "quote.csv: line 2 has an unterminated quoted field");
        Add("CSV dimension vs plan", Replace(TransportArgs, "--samples", "@d3.csv"), 1, "dimension");
        Add(".npz with two arrays", Replace(FitArgs, "--samples", "@two.npz"), 1, "two.npz: holds 2 arrays (X, y)");
        Add(".npz missing member", Replace(FitArgs, "--samples", "@two.npz:z"), 1, "two.npz: has no array 'z'");
        Add(".npz not a zip", Replace(FitArgs, "--samples", "@notzip.npz"), 1, "notzip.npz: not a .npz file");
        Add("plan version 99", Replace(TransportArgs, "--plan", "@plan99.json"), 1, "plan99.json: field \"version\" is 99");
        Add("plan without version", Replace(TransportArgs, "--plan", "@planv.json"), 1, "planv.json: field \"version\" is missing");
        Add("plan duplicate key", Replace(TransportArgs, "--plan", "@plandup.json"), 1, "plandup.json: a key appears twice");
        Add("plan unknown cost", Replace(TransportArgs, "--plan", "@plancost.json"), 1, "plancost.json: field \"cost\" is \"w3\"");
        Add("mixture as plan", Replace(TransportArgs, "--plan", "@a.json"), 1, "gmmflow-plan");

        // 5/8. Outputs: existing without --force (left untouched), a directory, a missing folder, the wrong format,
        // two outputs or an output and an input naming one file.
        Add("sample over existing", Replace(SampleArgs, "--out", "@keep.npy"), 2, "keep.npy already exists; pass --force");
        Add("fit over existing", Replace(FitArgs, "--out", "@keep.json"), 2, "keep.json already exists; pass --force");
        Add("plan over existing", Replace(PlanArgs, "--out", "@keep.json"), 2, "keep.json already exists");
        Add("cost over existing", Replace(CostArgs, "--out", "@keep.npy"), 2, "keep.npy already exists");
        Add("transport over existing", Replace(TransportArgs, "--out", "@keep.csv"), 2, "keep.csv already exists");
        Add("trajectories over existing", With(TransportArgs, "--trajectories", "@keepT.npy"), 2, "--trajectories");
        Add("write error names the output", Replace(SampleArgs, "--out", "/proc/gmmflow-bad-input.npy"), 1, "cannot write --out /proc/gmmflow-bad-input.npy: ");
        Add("out is a directory", Replace(SampleArgs, "--out", "@folder.npy"), 2, "folder.npy is a directory");
        Add("out folder missing", Replace(FitArgs, "--out", "@nowhere/o.json"), 2, "does not exist");
        Add("fit --out .npy", Replace(FitArgs, "--out", "@o.npy"), 2, "--out");
        Add("plan --out .npy", Replace(PlanArgs, "--out", "@o.npy"), 2, "--out");
        Add("cost --out .csv", Replace(CostArgs, "--out", "@o.csv"), 2, "--out");
        Add("sample --out .txt", Replace(SampleArgs, "--out", "@o.txt"), 2, "--out");
        Add("transport --trajectories .csv", With(TransportArgs, "--trajectories", "@t.csv"), 2, "--trajectories");
        Add("--out equals --trajectories", With(TransportArgs, "--trajectories", "@o.npy"), 2, "are the same file");
        Add("--out equals --samples", With(Replace(TransportArgs, "--out", "@x.npy"), "--force"), 2, "is the input --samples");
        Add("--trajectories equals --samples", With(TransportArgs, "--trajectories", "@x.npy", "--force"), 2, "--trajectories");
        Add("fit --out equals --init", With(Replace(FitArgs, "--out", "@a.json"), "--init", "@a.json", "--force"), 2, "is the input --init");
        Add("plan --out equals --source", With(Replace(PlanArgs, "--out", "@a.json"), "--force"), 2, "is the input --source");
        Add("--out equals --samples spelled differently", With(Replace(TransportArgs, "--out", "@sub/../x.npy"), "--force"), 2, "is the input --samples");
        return t;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_input_fails_with_one_line_and_leaves_every_file_as_it_was(string name, string[] args, int code, string mention)
    {
        BadInputFixture.Write(Dir, a => Run(a));
        Directory.CreateDirectory(P("sub"));
        var before = Snapshot();
        var r = Run(args.Select(a => a.StartsWith('@') ? P(a[1..]) : a).ToArray());
        Assert.True(code == r.Code, $"{name}: exit {r.Code}, expected {code}; stderr: {r.Err}");
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{name}: {lines.Length} stderr lines: {r.Err}");
        Assert.StartsWith("gmmflow: ", lines[0]);
        Assert.Contains(mention, lines[0]);
        Assert.Equal("", r.Out);
        Assert.Equal(before, Snapshot()); // nothing created (no output, no temporary), nothing changed
    }

    /// <summary>Every file under the folder with a hash of its content.</summary>
    private SortedDictionary<string, string> Snapshot()
    {
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string f in Directory.EnumerateFiles(Dir, "*", SearchOption.AllDirectories))
        {
            files[Path.GetRelativePath(Dir, f)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)));
        }
        return files;
    }

    [Fact]
    public void The_suite_has_at_least_80_cases_covering_every_command()
    {
        var cases = Table().Select(row => row.Args).ToList();
        Assert.True(cases.Count >= 80, $"{cases.Count} cases");
        foreach (string command in (string[])["sample", "fit", "plan", "cost", "regime", "transport"])
        {
            Assert.Contains(cases, c => c[0] == command);
        }
    }
}

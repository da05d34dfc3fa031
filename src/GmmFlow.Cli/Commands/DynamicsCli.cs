using System.CommandLine;
using System.Diagnostics;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>
/// `--dynamics FILE`, `--noise-matrix FILE` and `--velocity-std S` for `cost`, `plan` and `transport`: transport under
/// linear prior dynamics (docs/theory/linear-dynamics.md#cli). The mixtures and samples live in the state space
/// (n = 2p for the double integrator); position-only ones (dimension p) are lifted with velocities N(0, S²).
/// </summary>
internal sealed class DynamicsCli
{
    public readonly Option<string?> Dynamics = new("--dynamics")
    {
        Description = "Linear prior dynamics JSON: {\"A\", \"B\", \"horizon\"}, {\"preset\": \"double-integrator\", \"positions\": p}, " +
            "or {\"times\", \"A\", \"B\"} (grid). The cost is then the exact kinetic energy of the linear bridge (cost kind sb).",
    };

    public readonly Option<string?> NoiseMatrix = new("--noise-matrix")
    {
        Description = "With --dynamics: noise matrix D (JSON {\"D\": [[…]]}, .npy or .csv, n×p) of dX = (AX + Bu)dt + D dW, instead of σB.",
    };

    public readonly Option<double?> VelocityStd = new("--velocity-std")
    {
        Description = "With the double-integrator preset and position-only mixtures/samples: the velocity law N(0, S²) per component/sample.",
    };

    public DynamicsCli()
    {
        VelocityStd.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<double?>() is { } v && (!double.IsFinite(v) || v <= 0))
            {
                r.AddError($"--velocity-std must be a finite number > 0 (got {v}).");
            }
        });
    }

    public void AddTo(Command command)
    {
        command.Add(Dynamics);
        command.Add(NoiseMatrix);
        command.Add(VelocityStd);
    }

    public bool Requested(ParseResult parse) => parse.GetValue(Dynamics) is not null;

    /// <summary>Checks the option combination: --noise-matrix and --velocity-std need --dynamics; the cost kind must be sb.</summary>
    public void CheckUsage(ParseResult parse, Option<string>? kind)
    {
        bool dynamics = Requested(parse);
        if (!dynamics && (parse.GetValue(NoiseMatrix) is not null || parse.GetValue(VelocityStd) is not null))
        {
            throw new CliUsageException("--noise-matrix and --velocity-std need --dynamics.");
        }
        if (dynamics && kind is not null && parse.GetResult(kind) is { Implicit: false } && parse.GetValue(kind) != "sb")
        {
            throw new CliUsageException($"{kind.Name} {parse.GetValue(kind)}: with --dynamics the pair cost is the linear bridge's (use sb, or omit it).");
        }
    }

    /// <summary>Registers --dynamics and --noise-matrix as inputs (an output may not overwrite them).</summary>
    public void RegisterInputs(ParseResult parse, CliOutputs files)
        => files.Input("--dynamics", parse.GetValue(Dynamics)).Input("--noise-matrix", parse.GetValue(NoiseMatrix));

    public LinearDynamics LoadDynamics(ParseResult parse)
    {
        string path = parse.GetValue(Dynamics)!;
        using var stream = CliFiles.OpenInput(path, "--dynamics");
        return DynamicsJson.Read(stream, path);
    }

    public LinearTransportOptions Options(ParseResult parse, double noise, LinearDynamics dynamics)
    {
        if (parse.GetValue(NoiseMatrix) is not { } path)
        {
            return new LinearTransportOptions { Noise = noise };
        }
        double[] d;
        int rows, columns;
        if (SampleFiles.IsNpy(path) || SampleFiles.IsCsv(path))
        {
            d = SampleFiles.Read(path, out columns);
            rows = d.Length / columns;
        }
        else
        {
            using var stream = CliFiles.OpenInput(path, "--noise-matrix");
            d = DynamicsJson.ReadNoiseMatrix(stream, path, out rows, out columns);
        }
        if (rows != dynamics.StateDimension)
        {
            throw new InvalidDataException($"--noise-matrix {path} has {rows} rows; the dynamics' state dimension is {dynamics.StateDimension}.");
        }
        if (noise != 0)
        {
            throw new CliUsageException("--noise and --noise-matrix are exclusive.");
        }
        return new LinearTransportOptions { NoiseMatrix = d, NoiseColumns = columns };
    }

    /// <summary>The mixture in the state space: as is when n-dimensional, lifted when position-only and --velocity-std is given.</summary>
    public GaussianMixture StateMixture(ParseResult parse, GaussianMixture mixture, LinearDynamics dynamics, string option)
    {
        if (mixture.Dimension == dynamics.StateDimension)
        {
            return mixture;
        }
        if (dynamics.Kind == LinearDynamicsKind.DoubleIntegrator && mixture.Dimension == dynamics.PositionDimension)
        {
            return parse.GetValue(VelocityStd) is { } s ? PhaseSpace.Lift(mixture, s)
                : throw new CliUsageException($"{option} is position-only (d = {mixture.Dimension}); give --velocity-std S to lift it to " +
                    $"(position, velocity) with velocities N(0, S²), or a {dynamics.StateDimension}-dimensional mixture.");
        }
        throw new InvalidDataException($"{option} has dimension {mixture.Dimension}; the dynamics' state dimension is {dynamics.StateDimension}.");
    }

    /// <summary>`gmmflow cost --dynamics`: the K0×K1 matrix of exact linear-bridge costs J_ij.</summary>
    public int RunCost(ParseResult parse, GaussianMixture a, GaussianMixture b, double noise, string outPath, CliOutputs files, bool json)
    {
        var dynamics = LoadDynamics(parse);
        var options = Options(parse, noise, dynamics);
        a = StateMixture(parse, a, dynamics, "--source");
        b = StateMixture(parse, b, dynamics, "--target");
        var clock = Stopwatch.StartNew();
        var costs = LinearTransportPlan.ComputeCosts(a, b, dynamics, options);
        double seconds = clock.Elapsed.TotalSeconds;
        files.Write(outPath, s => SampleFiles.WriteNpy(s, costs, [a.ComponentCount, b.ComponentCount]));
        files.Commit();
        CostCommand.Report(parse.InvocationConfiguration.Output, json, "sb", dynamics.Kind.ToString(), noise, costs,
            a.ComponentCount, b.ComponentCount, seconds, outPath,
            $"linear-bridge costs ({Describe(dynamics)}, {NoiseText(options)}), {a.ComponentCount}×{b.ComponentCount} pairs");
        return CliApp.Success;
    }

    /// <summary>`gmmflow plan --dynamics`: pair costs, the LP coupling and a plan file that records the dynamics.</summary>
    public int RunPlan(ParseResult parse, GaussianMixture a, GaussianMixture b, double noise, string outPath, CliOutputs files, bool json)
    {
        var dynamics = LoadDynamics(parse);
        var options = Options(parse, noise, dynamics);
        a = StateMixture(parse, a, dynamics, "--source");
        b = StateMixture(parse, b, dynamics, "--target");
        var clock = Stopwatch.StartNew();
        var plan = LinearTransportPlan.Create(a, b, dynamics, options);
        double seconds = clock.Elapsed.TotalSeconds;
        files.Write(outPath, s => LinearPlanJson.Write(plan, s));
        files.Commit();
        var stdout = parse.InvocationConfiguration.Output;
        if (json)
        {
            stdout.WriteLine(JsonText(w =>
            {
                w.WriteStartObject();
                w.WriteString("cost", "sb");
                w.WriteString("dynamics", dynamics.Kind.ToString());
                w.WriteFinite("noise", noise);
                w.WriteString("coupling", "lp");
                w.WriteFinite("objective", plan.Objective);
                w.WriteFinite("seconds", seconds);
                PlanJson.WriteCouplings(w, plan.Pairs);
                w.WriteString("out", outPath);
                w.WriteEndObject();
            }));
            return CliApp.Success;
        }
        stdout.WriteLine($"linear-bridge plan ({Describe(dynamics)}, {NoiseText(options)}, lp): objective {F(plan.Objective, "G10")}, " +
            $"{plan.Pairs.Count} active pairs of {a.ComponentCount}×{b.ComponentCount}, {F(seconds * 1e3, "F2")} ms");
        foreach (var e in plan.Pairs.Take(50))
        {
            stdout.WriteLine($"  {e.Source,4} → {e.Target,-4} λ = {F(e.Weight, "G6")}");
        }
        stdout.WriteLine($"wrote {outPath}");
        return CliApp.Success;
    }

    /// <summary>
    /// `gmmflow transport` on a plan with dynamics: position-only samples are lifted with --velocity-std and written back
    /// as positions; state samples stay states.
    /// </summary>
    public LinearTransportPlan ReadPlan(ParseResult parse, string planFile)
    {
        LinearTransportPlan plan;
        using (var stream = CliFiles.OpenInput(planFile, "--plan"))
        {
            plan = LinearPlanJson.Read(stream, planFile);
        }
        if (parse.GetValue(NoiseMatrix) is not null)
        {
            throw new CliUsageException("--noise-matrix is recorded in the plan file; give it to `gmmflow plan`.");
        }
        if (Requested(parse))
        {
            var given = LoadDynamics(parse);
            if (Serialize(given) != Serialize(plan.Dynamics))
            {
                throw new CliUsageException($"--dynamics {parse.GetValue(Dynamics)} differs from the dynamics recorded in {planFile}.");
            }
        }
        return plan;
    }

    public double[] StateSamples(ParseResult parse, LinearTransportPlan plan, double[] x0, int d, ulong seed, string path, out bool lifted)
    {
        var dynamics = plan.Dynamics;
        lifted = false;
        if (d == dynamics.StateDimension)
        {
            return x0;
        }
        if (dynamics.Kind == LinearDynamicsKind.DoubleIntegrator && d == dynamics.PositionDimension)
        {
            if (parse.GetValue(VelocityStd) is not { } s)
            {
                throw new CliUsageException($"{path} holds positions only (d = {d}); give --velocity-std S to draw velocities N(0, S²).");
            }
            lifted = true;
            return PhaseSpace.LiftSamples(x0, d, s, seed ^ 0x5EED_0F_7E10C17UL);
        }
        throw new InvalidDataException($"{path} has dimension {d} but the plan's state dimension is {dynamics.StateDimension}.");
    }

    private static string Serialize(LinearDynamics d)
    {
        using var stream = new MemoryStream();
        DynamicsJson.Write(d, stream);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static string Describe(LinearDynamics d) => d.Kind switch
    {
        LinearDynamicsKind.DoubleIntegrator => $"double integrator, {d.PositionDimension} positions, T = {F(d.Horizon)}",
        LinearDynamicsKind.PiecewiseLinear => $"time-varying grid of {d.GridTimes.Length} times, n = {d.StateDimension}, m = {d.ControlDimension}, T = {F(d.Horizon)}",
        _ => $"LTI n = {d.StateDimension}, m = {d.ControlDimension}, T = {F(d.Horizon)}",
    };

    private static string NoiseText(LinearTransportOptions o)
        => o.NoiseMatrix is null ? $"σ = {F(o.Noise)}" : $"noise matrix D {o.NoiseMatrix.Length / o.NoiseColumns}×{o.NoiseColumns}";
}

using System.CommandLine;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli.Commands;

/// <summary>`gmmflow regime`: the surrogate-vs-exact regime map (docs/theory.md#regime-map) for every component pair.</summary>
internal static class RegimeCommand
{
    public static Command Create()
    {
        var source = Mixture("--source", "Source");
        var target = Mixture("--target", "Target");
        var radius = new Option<double>("--radius")
        {
            Description = "Locality radius r for the path-splitting count n = ⌈‖ΔΣ‖₂ / (r λ_min)⌉.",
            DefaultValueFactory = _ => RegimeDiagnostics.DefaultRadius,
        };
        Positive(radius);
        var threshold = new Option<double>("--threshold")
        {
            Description = "Relative gap (C_sur − W2²)/W2² at or below which the surrogate is labelled accurate.",
            DefaultValueFactory = _ => RegimeDiagnostics.DefaultThreshold,
        };
        Positive(threshold);
        var json = Json();
        var command = new Command("regime", """
            Print the regime map of every component pair: whitened perturbation δ, normalised commutator, condition
            numbers, exact W2² and surrogate cost, their gap, the path-splitting segment count and a regime label.

            Examples:
              gmmflow regime --source a.json --target b.json
              gmmflow regime --source a.json --target b.json --threshold 1e-2 --json
            """)
        {
            source, target, radius, threshold, json,
        };
        command.SetAction(parse =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var a = LoadMixture(parse.GetValue(source)!, stderr);
            var b = LoadMixture(parse.GetValue(target)!, stderr);
            if (a.Dimension != b.Dimension)
            {
                throw new InvalidDataException($"--source has dimension {a.Dimension} but --target has {b.Dimension}.");
            }
            var table = RegimeTable.Compute(GaussianFactors.FromMixture(a, "source"), GaussianFactors.FromMixture(b, "target"),
                parse.GetValue(radius), parse.GetValue(threshold));
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonText(w =>
                {
                    w.WriteStartObject();
                    w.WriteNumber("radius", table.Radius);
                    w.WriteNumber("threshold", table.Threshold);
                    w.WriteString("recommendation", Label(table.Recommendation));
                    w.WriteStartArray("pairs");
                    for (int i = 0; i < table.SourceCount; i++)
                    {
                        for (int j = 0; j < table.TargetCount; j++)
                        {
                            var r = table[i, j];
                            w.WriteStartObject();
                            w.WriteNumber("i", i);
                            w.WriteNumber("j", j);
                            w.WriteNumber("delta", r.WhitenedPerturbation);
                            w.WriteNumber("commutator", r.Commutator);
                            w.WriteNumber("kappaSource", r.SourceCondition);
                            w.WriteNumber("kappaTarget", r.TargetCondition);
                            w.WriteNumber("w2", r.Wasserstein);
                            w.WriteNumber("surrogate", r.Surrogate);
                            w.WriteNumber("gap", r.Gap);
                            w.WriteNumber("relativeGap", r.RelativeGap);
                            w.WriteNumber("segments", r.Segments);
                            w.WriteString("regime", Label(r.Regime));
                            w.WriteEndObject();
                        }
                    }
                    w.WriteEndArray();
                    w.WriteEndObject();
                }));
                return CliApp.Success;
            }
            stdout.WriteLine($"{"i",3} {"j",3} {"δ",10} {"commut.",10} {"κ(Σ0)",10} {"κ(Σ1)",10} {"W2²",12} {"surrogate",12} {"gap",10} {"rel. gap",10} {"seg.",5}  regime");
            for (int i = 0; i < table.SourceCount; i++)
            {
                for (int j = 0; j < table.TargetCount; j++)
                {
                    var r = table[i, j];
                    stdout.WriteLine($"{i,3} {j,3} {F(r.WhitenedPerturbation, "G4"),10} {F(r.Commutator, "G4"),10} {F(r.SourceCondition, "G4"),10} " +
                        $"{F(r.TargetCondition, "G4"),10} {F(r.Wasserstein, "G6"),12} {F(r.Surrogate, "G6"),12} {F(r.Gap, "G3"),10} " +
                        $"{F(r.RelativeGap, "G3"),10} {r.Segments,5}  {Label(r.Regime)}");
                }
            }
            stdout.WriteLine($"{table.SurrogateAccurateCount} of {table.SourceCount * table.TargetCount} pairs within relative gap {F(table.Threshold, "G3")}; " +
                $"max relative gap {F(table.MaxRelativeGap, "G3")}; recommendation: {Label(table.Recommendation)}");
            return CliApp.Success;
        });
        return command;
    }

    private static string Label(TransportRegime regime)
        => regime == TransportRegime.SurrogateAccurate ? "surrogate-accurate" : "exact-preferable";
}

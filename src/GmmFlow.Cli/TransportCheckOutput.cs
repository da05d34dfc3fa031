using System.Text.Json;
using static GmmFlow.Cli.CliOptions;

namespace GmmFlow.Cli;

/// <summary>How `gmmflow transport` reports the scheme, its steps and the built-in check (text and --json).</summary>
internal static class TransportCheckJson
{
    public static string SchemeName(Integrator scheme) => scheme switch
    {
        Integrator.EulerMaruyama => "euler-maruyama",
        Integrator.Heun => "heun",
        Integrator.RungeKutta4 => "rk4",
        _ => "dopri5",
    };

    /// <summary>"dopri5: 48 steps, 17 rejected, 392 field evaluations".</summary>
    public static string Describe(TransportResult result)
    {
        var s = result.Stats;
        string rejected = result.Integrator == Integrator.DormandPrince ? $", {s.RejectedSteps} rejected" : "";
        return $"{SchemeName(result.Integrator)}: {s.AcceptedSteps} steps{rejected}, {s.Evaluations} field evaluations";
    }

    /// <summary>The check in one line: ℓ̄ against E ± SE, z, and the verdict.</summary>
    public static string Line(TransportCheck check)
        => $"check: mean target log-likelihood {F(check.MeanLogLikelihood)} vs expected {F(check.Expected)} ± {F(check.StandardError, "G3")} " +
           $"({(check.ExpectedIsExact ? "exact" : $"Monte Carlo, {check.ReferenceSamples} samples")}), z = {F(check.ZScore, "F2")}: " +
           (check.Passed ? "passed" : check.InputsMatchSource ? "FAILED" : "off, but the inputs are not samples of the source mixture");

    /// <summary>"integrator", "steps", "rejectedSteps", "evaluations", the two timings and "check" (null when off); non-finite numbers are written as null.</summary>
    public static void WriteRun(Utf8JsonWriter w, TransportResult result)
    {
        w.WriteString("integrator", SchemeName(result.Integrator));
        w.WriteNumber("steps", result.Stats.AcceptedSteps);
        w.WriteNumber("rejectedSteps", result.Stats.RejectedSteps);
        w.WriteNumber("evaluations", result.Stats.Evaluations);
        w.WriteFinite("integrationSeconds", result.IntegrationTime.TotalSeconds);
        w.WriteFinite("checkSeconds", result.CheckTime.TotalSeconds);
        if (result.Check is not { } check)
        {
            w.WriteNull("check");
            return;
        }
        w.WriteStartObject("check");
        w.WriteFinite("meanLogLikelihood", check.MeanLogLikelihood);
        w.WriteFinite("expected", check.Expected);
        w.WriteFinite("standardError", check.StandardError);
        w.WriteFinite("z", check.ZScore);
        w.WriteBoolean("expectedExact", check.ExpectedIsExact);
        w.WriteNumber("referenceSamples", check.ReferenceSamples);
        if (check.SourceZScore is { } z)
        {
            w.WriteFinite("sourceZ", z);
        }
        w.WriteNumber("threshold", TransportCheck.Threshold);
        w.WriteBoolean("passed", check.Passed);
        if (check.Warning is { } warning)
        {
            w.WriteString("warning", warning);
        }
        w.WriteEndObject();
    }
}

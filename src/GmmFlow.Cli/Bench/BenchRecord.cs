using System.Globalization;

namespace GmmFlow.Cli.Bench;

/// <summary>A case parameter: a number or a text value.</summary>
internal readonly record struct BenchParameter(string Key, double Number, string? Text = null)
{
    public static implicit operator BenchParameter((string Key, double Number) p) => new(p.Key, p.Number);

    public static implicit operator BenchParameter((string Key, string Text) p) => new(p.Key, double.NaN, p.Text);

    public override string ToString()
        => Text is not null ? $"{Key}={Text}" : string.Create(CultureInfo.InvariantCulture, $"{Key}={Number:G6}");
}

/// <summary>
/// One benchmark case's result: what was timed (group, name, parameters), the timing, and the throughput
/// <see cref="WorkPerOp"/> / median time in <see cref="ThroughputUnit"/>. <see cref="Extra"/> holds case-specific
/// numbers the comparison scripts check (e.g. the EM log-likelihood, the LP objective, the pipeline's stage times).
/// </summary>
internal sealed record BenchRecord(
    string Group,
    string Name,
    IReadOnlyList<BenchParameter> Parameters,
    BenchTiming Timing,
    double WorkPerOp,
    string ThroughputUnit,
    IReadOnlyList<KeyValuePair<string, double>> Extra)
{
    public double Throughput => WorkPerOp / Timing.MedianSeconds;

    public static string FormatSeconds(double seconds) => seconds switch
    {
        < 1e-6 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e9:F1} ns"),
        < 1e-3 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e6:F2} µs"),
        < 1 => string.Create(CultureInfo.InvariantCulture, $"{seconds * 1e3:F2} ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds:F3} s"),
    };

    public static string FormatRate(double rate) => rate switch
    {
        >= 1e9 => string.Create(CultureInfo.InvariantCulture, $"{rate / 1e9:F2} G"),
        >= 1e6 => string.Create(CultureInfo.InvariantCulture, $"{rate / 1e6:F2} M"),
        >= 1e3 => string.Create(CultureInfo.InvariantCulture, $"{rate / 1e3:F2} k"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{rate:F2} "),
    };
}

using System.Diagnostics;
using System.Globalization;

namespace GmmFlow.Cli.Demo;

/// <summary>
/// Progress of a demo run on stderr: one line per stage (with the elapsed time), and for a stage that runs longer
/// than a second a percentage at most once per second. Nothing else: stdout stays for the tables or the JSON.
/// </summary>
internal sealed class DemoProgress(TextWriter stderr)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _gate = new();

    /// <summary>Starts a stage: prints "gmmflow demo [  3.2 s] text".</summary>
    public void Stage(string text)
    {
        lock (_gate)
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gmmflow demo [{_clock.Elapsed.TotalSeconds,5:F1} s] {text}"));
        }
    }

    /// <summary>A fraction-done reporter for a long stage (the integrators report up to ~100 times per run).</summary>
    public IProgress<double> Percent(string what) => new Throttled(this, what);

    private sealed class Throttled(DemoProgress owner, string what) : IProgress<double>
    {
        private readonly Stopwatch _since = Stopwatch.StartNew();
        private TimeSpan _next = TimeSpan.FromSeconds(1);

        public void Report(double value)
        {
            if (_since.Elapsed < _next || value >= 1)
            {
                return;
            }
            _next = _since.Elapsed + TimeSpan.FromSeconds(1);
            owner.Stage(string.Create(CultureInfo.InvariantCulture, $"  {what}: {100 * value:F0}%"));
        }
    }
}

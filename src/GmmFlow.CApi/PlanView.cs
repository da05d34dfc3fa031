using System.Text.Json;

namespace GmmFlow.CApi;

/// <summary>
/// One face for the two plan types behind a gmf_plan handle: the Brownian <see cref="TransportPlan"/> and the
/// <see cref="LinearTransportPlan"/> under linear prior dynamics, so each plan export is written once.
/// </summary>
internal readonly struct PlanView
{
    private readonly TransportPlan? _brownian;
    private readonly LinearTransportPlan? _linear;

    private PlanView(TransportPlan? brownian, LinearTransportPlan? linear)
    {
        _brownian = brownian;
        _linear = linear;
    }

    public static PlanView Of(nint handle) => Handles.Get<object>(handle, "plan") switch
    {
        TransportPlan p => new PlanView(p, null),
        LinearTransportPlan p => new PlanView(null, p),
        var other => throw new ArgumentException($"plan is a {other.GetType().Name} handle, not a plan handle.", "plan"),
    };

    public double Objective => _brownian?.Objective ?? _linear!.Objective;

    public IReadOnlyList<CouplingEntry> Pairs => _brownian?.Pairs ?? _linear!.Pairs;

    public int Dimension => _brownian?.Dimension ?? _linear!.Dimension;

    /// <summary>The end time: 1 without dynamics, the dynamics' horizon T with them.</summary>
    public double Horizon => _brownian is not null ? 1 : _linear!.Dynamics.Horizon;

    public GaussianMixture Source => _brownian?.Source ?? _linear!.Source;

    public GaussianMixture Target => _brownian?.Target ?? _linear!.Target;

    public TransportPlan Brownian(string what) => _brownian
        ?? throw new ArgumentException($"{what} is defined for plans without dynamics only.", "plan");

    public double[] Transport(ReadOnlySpan<double> x, TransportRunOptions run) =>
        _brownian is not null ? _brownian.Transport(x, run) : _linear!.Transport(x, run);

    public double[] SampleMarginal(double t, int count, ulong seed) =>
        _brownian is not null ? _brownian.SampleMarginal(t, count, seed) : _linear!.SampleMarginal(t, count, seed);

    public void Velocities(double t, ReadOnlySpan<double> x, Span<double> v, BridgeField field)
    {
        if (_brownian is not null)
        {
            _brownian.Velocities(t, x, v, field);
        }
        else
        {
            _linear!.CreateField(field).Evaluate(t, x, v);
        }
    }

    public void Write(Stream stream)
    {
        if (_brownian is not null)
        {
            PlanJson.Write(_brownian, stream);
        }
        else
        {
            LinearPlanJson.Write(_linear!, stream);
        }
    }

    /// <summary>Whether a plan JSON document records dynamics (then it is a linear-dynamics plan).</summary>
    public static bool HasDynamics(Stream stream)
    {
        try
        {
            using var doc = JsonDocument.Parse(stream);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("dynamics", out _);
        }
        catch (JsonException)
        {
            return false; // the plan reader reports the syntax error with its context
        }
    }
}

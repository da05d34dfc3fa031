using BenchmarkDotNet.Attributes;

namespace GmmFlow.Benchmarks.Transport;

/// <summary>
/// The mixture policy at N points through <see cref="TransportPlan.Velocities"/> (all cores) with 19 active pairs
/// (K0 = K1 = 10, exact LP, W2 bridges) at t = 0.5, points drawn from the time-t marginal. N shrinks with d so one call
/// stays in the milliseconds: d = 2: 100 000, 5: 50 000, 16: 20 000, 64: 2 000. Points/s = N / mean.
/// The per-time set-up (one Cholesky per pair) is cached by the plan after the first call, as in an integrator step.
/// </summary>
[MemoryDiagnoser]
public class VelocityFieldBenchmarks
{
    private TransportPlan _plan = null!;
    private double[] _points = [];
    private double[] _velocities = [];

    [Params(2, 5, 16, 64)]
    public int D { get; set; }

    public int N => D switch { 2 => 100_000, 5 => 50_000, 16 => 20_000, _ => 2_000 };

    [GlobalSetup]
    public void Setup()
    {
        _plan = BenchmarkPlans.FullSupport(10, D, 10 + D);
        _points = _plan.SampleMarginal(0.5, N, 3);
        _velocities = new double[_points.Length];
        _plan.Velocities(0.5, _points, _velocities);
    }

    [Benchmark]
    public double Velocities()
    {
        _plan.Velocities(0.5, _points, _velocities);
        return _velocities[0];
    }
}

/// <summary>
/// Latency of one <see cref="TransportPlan.Velocity"/> call (K0 = K1 = 10, 19 active pairs, per-time data cached):
/// the interactive / per-particle API, which must stay allocation-free (MemoryDiagnoser) and under a microsecond at d = 2.
/// </summary>
[MemoryDiagnoser]
public class SinglePointVelocityBenchmarks
{
    private TransportPlan _plan = null!;
    private double[] _x = [];
    private double[] _v = [];

    [Params(2, 3)]
    public int D { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _plan = BenchmarkPlans.FullSupport(10, D, 12);
        _x = _plan.SampleMarginal(0.5, 1, 4);
        _v = new double[D];
        _plan.Velocity(0.5, _x, _v);
    }

    [Benchmark]
    public double Velocity() => _plan.Velocity(0.5, _x, _v);
}

/// <summary>
/// A whole transport: N = 10 000 source samples moved along the mixture policy (19 active pairs, W2 bridges) by
/// 100 Heun steps (200 field evaluations, each with its per-time set-up) through <see cref="TransportPlan.Transport"/>.
/// </summary>
[MemoryDiagnoser]
public class TransportBenchmarks
{
    private TransportPlan _plan = null!;
    private double[] _samples = [];
    private readonly TransportRunOptions _options = new() { Steps = 100, Integrator = Integrator.Heun };

    [Params(2, 5)]
    public int D { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _plan = BenchmarkPlans.FullSupport(10, D, 20 + D);
        _samples = _plan.Source.Sample(10_000, 5);
    }

    [Benchmark]
    public double Transport() => _plan.Transport(_samples, _options)[0];
}

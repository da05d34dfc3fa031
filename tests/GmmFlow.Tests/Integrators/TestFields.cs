using GmmFlow.Simd;

namespace GmmFlow.Tests.Integrators;

/// <summary>v(t, x) = A x, optionally multiplied by cos t (then x(t) = exp((sin t − sin t0) A) x0).</summary>
internal sealed class LinearField(double[] a, int dimension, bool cosineInTime = false) : IVelocityField
{
    public int Dimension => dimension;

    public int Calls { get; private set; }

    public void Evaluate(double t, ReadOnlySpan<double> points, Span<double> velocities)
    {
        Calls++;
        int d = dimension;
        double scale = cosineInTime ? Math.Cos(t) : 1.0;
        for (int p = 0; p < points.Length / d; p++)
        {
            for (int i = 0; i < d; i++)
            {
                double s = 0;
                for (int j = 0; j < d; j++)
                {
                    s += a[i * d + j] * points[p * d + j];
                }
                velocities[p * d + i] = scale * s;
            }
        }
    }
}

/// <summary>A mixture-policy field whose pairs drift and breathe with t, built through the real frame.</summary>
internal sealed class MovingMixtureField : FrameVelocityField
{
    private readonly Field.FieldProblem _problem;

    public MovingMixtureField(Field.FieldProblem problem, bool parallel = true)
        : base(problem.Dimension, problem.Pairs)
    {
        _problem = problem;
        Parallel = parallel;
    }

    /// <summary>From this time on, pair 1's offset is NaN (a broken per-time computation).</summary>
    public double BreaksAt { get; init; } = double.PositiveInfinity;

    public int Prepared { get; private set; }

    protected override void Prepare(double t, VelocityFrame frame)
    {
        Prepared++;
        int d = _problem.Dimension;
        var mean = new double[d];
        var factor = new double[d * d];
        for (int p = 0; p < _problem.Pairs; p++)
        {
            for (int i = 0; i < d; i++)
            {
                mean[i] = (1 + t) * _problem.Means[p * d + i];
            }
            for (int i = 0; i < d * d; i++)
            {
                factor[i] = (1 + 0.5 * t) * _problem.Cholesky[p * d * d + i];
            }
            double[] offset = _problem.Offsets.AsSpan(p * d, d).ToArray();
            if (p == 1 && t >= BreaksAt)
            {
                offset[0] = double.NaN;
            }
            frame.SetPair(p, _problem.LogWeights[p], mean, factor, TriangularFactor.Cholesky,
                          _problem.Gains.AsSpan(p * d * d, d * d), offset);
        }
    }
}

/// <summary>Records progress reports synchronously (Progress&lt;T&gt; would post them to the thread pool).</summary>
internal sealed class RecordingProgress(Action<double>? onReport = null) : IProgress<double>
{
    public List<double> Reports { get; } = [];

    public void Report(double value)
    {
        Reports.Add(value);
        onReport?.Invoke(value);
    }
}

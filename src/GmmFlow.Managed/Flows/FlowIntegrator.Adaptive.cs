using System.Numerics.Tensors;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>What an integration run did: steps taken (accepted and rejected) and field evaluations.</summary>
/// <param name="AcceptedSteps">Steps that advanced the particles (for fixed-step schemes: all of them).</param>
/// <param name="RejectedSteps">Adaptive steps whose error estimate exceeded the tolerance and were retried shorter.</param>
/// <param name="Evaluations">Calls of the field (each evaluates every particle once).</param>
/// <param name="SmallestStep">Shortest accepted step |h|.</param>
/// <param name="LargestStep">Longest accepted step |h|.</param>
public readonly record struct IntegrationStats(int AcceptedSteps, int RejectedSteps, int Evaluations, double SmallestStep, double LargestStep);

// The adaptive Dormand–Prince 5(4) pair (docs/theory/transport-accuracy.md#adaptive).
public static partial class FlowIntegrator
{
    // Dormand & Prince (1980): nodes c, stages a (row i holds a_i1 … a_i,i−1), fifth-order weights b (= row 7 of a, so
    // k7 = v(t + h, x_new) is the next step's k1: first same as last) and e = b − b̂ against the embedded fourth order.
    private static readonly double[] DpNodes = [0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1];
    private static readonly double[][] DpStages =
    [
        [],
        [1.0 / 5],
        [3.0 / 40, 9.0 / 40],
        [44.0 / 45, -56.0 / 15, 32.0 / 9],
        [19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729],
        [9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656],
        [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84],
    ];
    private static readonly double[] DpError = [71.0 / 57600, 0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40];

    /// <summary>
    /// The Dormand–Prince 5(4) embedded Runge–Kutta pair with step-size control for dx/dt = v(t, x): each step costs six
    /// field evaluations, estimates its local error from the embedded fourth-order solution and is accepted when every
    /// particle's error RMS, scaled by <see cref="IntegrationOptions.AbsoluteTolerance"/> +
    /// <see cref="IntegrationOptions.Tolerance"/>·|x|, is at most 1; the next step is h·clamp(0.9 err^(−0.17) err_prev^0.04, 0.2, 5)
    /// (PI control; after a rejection the factor is 0.9 err^(−1/5) and no step grows right after one).
    /// Steps are clipped to land exactly on the snapshot times of the grid that <see cref="IntegrationOptions.Steps"/> and
    /// <see cref="IntegrationOptions.SaveEvery"/> define (the same times a fixed-step run saves at), so
    /// <see cref="SnapshotCount"/> applies unchanged; Steps does not otherwise limit the steps taken.
    /// </summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="states">N×d particle positions, overwritten with the positions at the end time.</param>
    /// <param name="options">Time span, tolerances and run control (null: <see cref="IntegrationOptions.Default"/>).</param>
    /// <param name="trajectory">Empty, or <see cref="SnapshotCount"/> × N × d doubles for the snapshots.</param>
    /// <returns>Accepted and rejected steps and evaluations.</returns>
    /// <exception cref="InvalidOperationException">The run needed more than <see cref="IntegrationOptions.MaxSteps"/> steps, or the step size underflowed.</exception>
    public static IntegrationStats DormandPrince(IVelocityField field, Span<double> states, IntegrationOptions? options = null,
                                                 Span<double> trajectory = default)
    {
        options ??= IntegrationOptions.Default;
        int snapshots = CheckArguments(field, states, options, trajectory, out int d);
        int n = states.Length / d;
        if (n == 0)
        {
            return default;
        }
        double t0 = options.StartTime, t1 = options.EndTime;
        double[] x = states.ToArray(), xNew = new double[x.Length], stage = new double[x.Length];
        var k = new double[7][];
        for (int s = 0; s < 7; s++)
        {
            k[s] = new double[x.Length];
        }
        var scaled = new double[7][]; // h·a_ij per stage (index 6: h·e for the error vector), reused every step
        for (int s = 1; s < 7; s++)
        {
            scaled[s] = new double[s];
        }
        double[] scaledError = new double[7];
        int particlesPerChunk = Math.Max(1, ElementsPerChunk / d);
        var norms = new Norms(n, d, particlesPerChunk, options.AbsoluteTolerance, options.Tolerance, options.Parallel);
        bool parallel = options.Parallel;
        int saved = 0;
        if (snapshots > 0)
        {
            x.CopyTo(trajectory);
            saved = 1;
        }
        if (t0 == t1)
        {
            for (; saved < snapshots; saved++)
            {
                x.CopyTo(trajectory.Slice(saved * x.Length, x.Length));
            }
            return default;
        }

        // Stops: the snapshot times, then the end (exact grid times, as in the fixed-step schemes).
        var stops = new List<double>();
        if (snapshots > 0)
        {
            for (int j = options.SaveEvery; j < options.Steps; j += options.SaveEvery)
            {
                stops.Add(options.TimeAt(j));
            }
        }
        stops.Add(t1);

        double direction = Math.Sign(t1 - t0), span = Math.Abs(t1 - t0);
        field.Evaluate(t0, x, k[0]);
        double h = InitialStep(field, t0, x, k[0], stage, k[1], norms, direction, span);
        int evaluations = 2, accepted = 0, rejected = 0, stop = 0;
        double t = t0, smallest = double.PositiveInfinity, largest = 0, reported = 0;
        bool lastRejected = false;
        double previousError = 1e-4;
        while (true)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            if (accepted + rejected >= options.MaxSteps)
            {
                throw new InvalidOperationException($"The adaptive integrator needed more than MaxSteps = {options.MaxSteps} steps to reach " +
                    $"t = {t1} within tolerance {options.Tolerance} (stopped at t = {t}); raise MaxSteps or the tolerance, or use fixed steps.");
            }
            double target = stops[stop];
            double hStep = h;
            bool clipped = Math.Abs(target - t) <= Math.Abs(h) * (1 + 1e-12);
            if (clipped)
            {
                hStep = target - t;
            }
            for (int s = 1; s < 7; s++)
            {
                double[] a = DpStages[s], c = scaled[s];
                for (int j = 0; j < a.Length; j++)
                {
                    c[j] = hStep * a[j];
                }
                double[] output = s == 6 ? xNew : stage;
                For(x.Length, ElementsPerChunk, new StageCombination { X = x, K = k, Coefficients = c, Target = output }, parallel);
                double ts = s == 6 ? (clipped ? target : t + hStep) : t + DpNodes[s] * hStep;
                field.Evaluate(ts, output, k[s]);
            }
            evaluations += 6;
            for (int j = 0; j < 7; j++)
            {
                scaledError[j] = hStep * DpError[j];
            }
            For(x.Length, ElementsPerChunk, new StageCombination { X = null, K = k, Coefficients = scaledError, Target = stage }, parallel);
            double err = norms.Max(stage, x, xNew);

            if (err <= 1)
            {
                accepted++;
                smallest = Math.Min(smallest, Math.Abs(hStep));
                largest = Math.Max(largest, Math.Abs(hStep));
                t = clipped ? target : t + hStep;
                (x, xNew) = (xNew, x);
                (k[0], k[6]) = (k[6], k[0]); // first same as last
                // PI control (Hairer–Wanner's DOPRI5, β = 0.04): the previous accepted error damps the growth, which
                // keeps the step from oscillating between growth and rejection.
                double factor = err == 0 ? 5 : Math.Clamp(0.9 * Math.Pow(err, -0.17) * Math.Pow(previousError, 0.04), 0.2, 5);
                previousError = Math.Max(err, 1e-4);
                if (lastRejected)
                {
                    factor = Math.Min(factor, 1);
                }
                lastRejected = false;
                // A step shortened to hit a stop says nothing against the longer proposal it replaced.
                double proposal = hStep * factor;
                h = clipped && Math.Abs(proposal) < Math.Abs(h) ? h : proposal;
                if (clipped)
                {
                    if (stop == stops.Count - 1)
                    {
                        break;
                    }
                    if (snapshots > 0)
                    {
                        x.CopyTo(trajectory.Slice(saved * x.Length, x.Length));
                        saved++;
                    }
                    stop++;
                }
                if (options.Progress is not null && Math.Abs(t - t0) / span >= reported + 0.01)
                {
                    reported = Math.Abs(t - t0) / span;
                    options.Progress.Report(reported);
                }
            }
            else
            {
                rejected++;
                lastRejected = true;
                h = hStep * (double.IsNaN(err) ? 0.2 : Math.Max(0.2, 0.9 * Math.Pow(err, -0.2)));
                if (Math.Abs(h) <= 1e-14 * Math.Max(Math.Abs(t), span))
                {
                    throw new InvalidOperationException($"The adaptive integrator's step size underflowed at t = {t} (error estimate {err}); " +
                        "the field is too stiff or not smooth there.");
                }
            }
        }
        if (snapshots > 0)
        {
            x.CopyTo(trajectory.Slice(saved * x.Length, x.Length));
        }
        options.Progress?.Report(1.0);
        x.CopyTo(states);
        return new IntegrationStats(accepted, rejected, evaluations, smallest, largest);
    }

    /// <summary>
    /// Hairer–Nørsett–Wanner's starting step (Solving ODEs I, II.4): h0 = 0.01‖x‖/‖v‖ in the error norm, one explicit
    /// Euler trial to estimate the second derivative, then h = min(100 h0, (0.01 / max(‖v‖, ‖v′‖h0))^(1/5)).
    /// </summary>
    private static double InitialStep(IVelocityField field, double t0, double[] x, double[] v0, double[] trial, double[] v1,
                                      Norms norms, double direction, double span)
    {
        double d0 = norms.Max(x, x, null), d1 = norms.Max(v0, x, null);
        double h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1;
        h0 = Math.Min(h0, span);
        For(x.Length, ElementsPerChunk, new Axpy { Target = trial, A = x, B = v0, Scale = direction * h0 }, norms.Parallel);
        field.Evaluate(t0 + direction * h0, trial, v1);
        TensorPrimitives.Subtract(v1, v0, trial);
        double d2 = norms.Max(trial, x, null) / h0;
        double h1 = Math.Max(d1, d2) <= 1e-15 ? Math.Max(1e-6, h0 * 1e-3) : Math.Pow(0.01 / Math.Max(d1, d2), 0.2);
        return direction * Math.Min(Math.Min(100 * h0, h1), span);
    }

    /// <summary>Shared argument checks of the schemes; returns the snapshot count and the dimension.</summary>
    private static int CheckArguments(IVelocityField field, ReadOnlySpan<double> states, IntegrationOptions options, ReadOnlySpan<double> trajectory, out int d)
    {
        ArgumentNullException.ThrowIfNull(field);
        options.Validate();
        d = field.Dimension;
        if (d < 1)
        {
            throw new ArgumentException($"The field's dimension is {d}; it must be at least 1.", nameof(field));
        }
        if (states.Length % d != 0)
        {
            throw new ArgumentException($"states has length {states.Length}, not a multiple of the dimension {d}.", nameof(states));
        }
        int snapshots = SnapshotCount(options);
        if (trajectory.Length != (long)snapshots * states.Length)
        {
            ThrowHelper.ThrowSize(nameof(trajectory), (long)snapshots * states.Length, trajectory.Length);
        }
        FiniteCheck.ThrowIfNonFinite(states, d, "initial state of particle", nameof(states));
        return snapshots;
    }

    /// <summary>Target = X + Σ_j C_j K_j (Target = Σ_j C_j K_j when X is null), stage by stage with TensorPrimitives.</summary>
    private struct StageCombination : IRangeBody
    {
        public double[]? X;
        public double[][] K;
        public double[] Coefficients, Target;

        public readonly void Execute(int s, int e)
        {
            Span<double> target = Target.AsSpan(s, e - s);
            if (X is null)
            {
                TensorPrimitives.Multiply(K[0].AsSpan(s, e - s), Coefficients[0], target);
            }
            else
            {
                TensorPrimitives.MultiplyAdd(K[0].AsSpan(s, e - s), Coefficients[0], X.AsSpan(s, e - s), target);
            }
            for (int j = 1; j < Coefficients.Length; j++)
            {
                if (Coefficients[j] != 0)
                {
                    TensorPrimitives.MultiplyAdd(K[j].AsSpan(s, e - s), Coefficients[j], target, target);
                }
            }
        }
    }

    /// <summary>
    /// The error norm: max over particles of √((1/d) Σ_j (v_j / (atol + rtol·max(|x_j|, |y_j|)))²), the RMS of the worst
    /// particle (every particle must meet the tolerance, since they share the steps). NaN propagates.
    /// </summary>
    private sealed class Norms(int particles, int dimension, int perChunk, double atol, double rtol, bool parallel)
    {
        private readonly double[] _chunkMax = new double[(particles + perChunk - 1) / perChunk];

        public bool Parallel => parallel;

        public double Max(double[] v, double[] x, double[]? y)
        {
            var body = new NormBody { V = v, X = x, Y = y, ChunkMax = _chunkMax, Dimension = dimension, PerChunk = perChunk, Atol = atol, Rtol = rtol };
            For(particles, perChunk, body, parallel);
            double max = 0;
            foreach (double m in _chunkMax)
            {
                max = double.IsNaN(m) || double.IsNaN(max) ? double.NaN : Math.Max(max, m);
            }
            return Math.Sqrt(max);
        }
    }

    private struct NormBody : IRangeBody
    {
        public double[] V, X, ChunkMax;
        public double[]? Y;
        public int Dimension, PerChunk;
        public double Atol, Rtol;

        public readonly void Execute(int s, int e)
        {
            int d = Dimension;
            double max = 0;
            for (int p = s; p < e; p++)
            {
                double sum = 0;
                for (int j = p * d; j < (p + 1) * d; j++)
                {
                    double magnitude = Y is null ? Math.Abs(X[j]) : Math.Max(Math.Abs(X[j]), Math.Abs(Y[j]));
                    double r = V[j] / (Atol + Rtol * magnitude);
                    sum += r * r;
                }
                max = double.IsNaN(sum) || double.IsNaN(max) ? double.NaN : Math.Max(max, sum / d);
            }
            ChunkMax[s / PerChunk] = max;
        }
    }
}

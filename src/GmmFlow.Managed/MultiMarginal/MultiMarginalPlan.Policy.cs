using GmmFlow.Simd;

namespace GmmFlow;

// The mixture policy on phase space, initial velocities, integration and exact marginal samples.
public sealed partial class MultiMarginalPlan
{
    /// <summary>
    /// Per-time data of every active tuple (x-independent, computed once per time and shared by all particles):
    /// m_i(t), the Cholesky factor of Σ_i(t), ½ log det Σ_i(t), gain K_i(t) and feed-forward v_i(t).
    /// </summary>
    private sealed class PolicyFrame
    {
        public readonly int N, Tuples;
        public readonly double[] Mean, Chol, HalfLogDet, Gain, Feed;
        public bool Zero;

        public PolicyFrame(int n, int tuples)
        {
            N = n;
            Tuples = tuples;
            int n2 = 2 * n;
            Mean = new double[tuples * n2];
            Chol = new double[tuples * n2 * n2];
            HalfLogDet = new double[tuples];
            Gain = new double[tuples * n * n2];
            Feed = new double[tuples * n];
        }
    }

    private PolicyFrame NewFrame() => new(Dimension, _tuples.Length);

    /// <summary>Fills the frame at time t. At t_0 the control is 0 (transversality: the knot-0 velocity is free), and the initial law may be singular.</summary>
    private void Prepare(double t, PolicyFrame frame, SegmentScratch ws)
    {
        int n = Dimension, n2 = 2 * n, nn = n2 * n2;
        frame.Zero = t <= _times[0];
        if (frame.Zero)
        {
            return;
        }
        int s = SegmentAt(t);
        for (int i = 0; i < _tuples.Length; i++)
        {
            var chol = frame.Chol.AsSpan(i * nn, nn);
            _tuples[i].Segments[s].Evaluate(t, frame.Mean.AsSpan(i * n2, n2), chol, frame.Gain.AsSpan(i * n * n2, n * n2), frame.Feed.AsSpan(i * n, n), ws);
            if (!PhaseAlgebra.Cholesky(chol, n2))
            {
                throw new NotPositiveDefiniteException($"phase-space covariance of tuple {i} at t = {t:R}", i, 0);
            }
            double h = 0;
            for (int j = 0; j < n2; j++)
            {
                h += Math.Log(chol[j * n2 + j]);
            }
            frame.HalfLogDet[i] = h;
        }
    }

    /// <summary>Mixture control at one state z (2n) with log-sum-exp weights (docs/theory/multimarginal.md#mixture-policy).</summary>
    private static void ControlAt(PolicyFrame frame, double[] logWeights, ReadOnlySpan<double> z, Span<double> u, Span<double> scratch)
    {
        int n = frame.N, n2 = 2 * n, nn = n2 * n2, tuples = frame.Tuples;
        u[..n].Clear();
        if (frame.Zero)
        {
            return;
        }
        var logw = scratch[..tuples];
        var y = scratch.Slice(tuples, n2);
        double max = double.NegativeInfinity;
        for (int i = 0; i < tuples; i++)
        {
            var m = frame.Mean.AsSpan(i * n2, n2);
            for (int j = 0; j < n2; j++)
            {
                y[j] = z[j] - m[j];
            }
            PhaseAlgebra.ForwardSolve(frame.Chol.AsSpan(i * nn, nn), y, n2);
            double q = 0;
            for (int j = 0; j < n2; j++)
            {
                q += y[j] * y[j];
            }
            logw[i] = logWeights[i] - 0.5 * q - frame.HalfLogDet[i];
            max = Math.Max(max, logw[i]);
        }
        double total = 0;
        for (int i = 0; i < tuples; i++)
        {
            double w = Math.Exp(logw[i] - max);
            total += w;
            if (w == 0)
            {
                continue;
            }
            var m = frame.Mean.AsSpan(i * n2, n2);
            var k = frame.Gain.AsSpan(i * n * n2, n * n2);
            var v = frame.Feed.AsSpan(i * n, n);
            for (int r = 0; r < n; r++)
            {
                double s = v[r];
                var kr = k.Slice(r * n2, n2);
                for (int j = 0; j < n2; j++)
                {
                    s += kr[j] * (z[j] - m[j]);
                }
                u[r] += w * s;
            }
        }
        for (int r = 0; r < n; r++)
        {
            u[r] /= total;
        }
    }

    /// <summary>
    /// The mixture control u(t, z) = Σ_i w_i(t, z) u_i(t, z) for phase-space states (N×2n row-major, position then
    /// velocity) into <paramref name="controls"/> (N×n). The SDE is dx = v dt, dv = u dt + σ dW.
    /// </summary>
    public void Control(double t, ReadOnlySpan<double> states, Span<double> controls)
    {
        CheckTime(t, nameof(t));
        int n = Dimension, n2 = 2 * n;
        if (states.Length % n2 != 0)
        {
            throw new ArgumentException($"states has length {states.Length}, not a multiple of 2n = {n2}.", nameof(states));
        }
        int count = states.Length / n2;
        if (controls.Length < count * n)
        {
            throw new ArgumentException($"controls has length {controls.Length}, expected {count * n}.", nameof(controls));
        }
        var frame = NewFrame();
        Prepare(t, frame, new SegmentScratch(n));
        var scratch = new double[_tuples.Length + n2];
        for (int p = 0; p < count; p++)
        {
            ControlAt(frame, _logWeights, states.Slice(p * n2, n2), controls.Slice(p * n, n), scratch);
        }
    }

    /// <summary>
    /// Draws initial velocities for positions x0 (N×n) from the λ-weighted conditional of the tuples' knot-0 laws:
    /// tuple i with probability ∝ λ_i N(x0; μ_i0, Σ_i0), then v ~ N(ν + P_vx Σ⁻¹(x0 − μ), P_vv − P_vx Σ⁻¹ P_xv).
    /// Returns N×n velocities; sample p uses stream p of the seed.
    /// </summary>
    public double[] SampleInitialVelocities(ReadOnlySpan<double> positions, ulong seed)
    {
        int n = Dimension;
        CheckPoints(positions, n, nameof(positions));
        int count = positions.Length / n;
        var cond = new InitialConditionals(this);
        var result = new double[count * n];
        var rng = new CounterRng(seed);
        var scratch = new double[_tuples.Length + 3 * n];
        for (int p = 0; p < count; p++)
        {
            cond.Sample(positions.Slice(p * n, n), result.AsSpan(p * n, n), rng, (ulong)p, 0, scratch);
        }
        return result;
    }

    /// <summary>Knot-0 conditionals v | x of every tuple, precomputed.</summary>
    private sealed class InitialConditionals
    {
        private readonly int _n, _tuples;
        private readonly double[] _mu, _nu, _cholX, _halfLogDet, _regression, _factor, _logWeights;

        public InitialConditionals(MultiMarginalPlan plan)
        {
            int n = plan.Dimension, n2 = 2 * n, t = plan._tuples.Length;
            _n = n;
            _tuples = t;
            _mu = new double[t * n];
            _nu = new double[t * n];
            _cholX = new double[t * n * n];
            _halfLogDet = new double[t];
            _regression = new double[t * n * n];
            _factor = new double[t * n * n];
            _logWeights = plan._logWeights;
            var cov = new double[n * n];
            var scratch = new double[n * n + 2 * n];
            var row = new double[n];
            for (int i = 0; i < t; i++)
            {
                var tuple = plan._tuples[i];
                var p = tuple.KnotCovariances[..(n2 * n2)];
                for (int r = 0; r < n; r++)
                {
                    _mu[i * n + r] = tuple.KnotMeans[r];
                    _nu[i * n + r] = tuple.KnotMeans[n + r];
                }
                var l = _cholX.AsSpan(i * n * n, n * n);
                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < n; c++)
                    {
                        l[r * n + c] = p[r * n2 + c];
                    }
                }
                if (!PhaseAlgebra.Cholesky(l, n))
                {
                    throw new NotPositiveDefiniteException($"knot-0 position covariance of tuple {i}", i, 0);
                }
                double h = 0;
                for (int r = 0; r < n; r++)
                {
                    h += Math.Log(l[r * n + r]);
                }
                _halfLogDet[i] = h;
                // Regression B = P_vx Σ⁻¹ (row r solves Σ b = P_xv column r); conditional covariance P_vv − B P_xv.
                var b = _regression.AsSpan(i * n * n, n * n);
                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < n; c++)
                    {
                        row[c] = p[(n + r) * n2 + c];
                    }
                    PhaseAlgebra.ForwardSolve(l, row, n);
                    PhaseAlgebra.BackSolveTransposed(l, row, n);
                    row.CopyTo(b.Slice(r * n, n));
                }
                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < n; c++)
                    {
                        double s = p[(n + r) * n2 + n + c];
                        for (int k = 0; k < n; k++)
                        {
                            s -= b[r * n + k] * p[k * n2 + n + c];
                        }
                        cov[r * n + c] = s;
                    }
                }
                for (int r = 0; r < n; r++)
                {
                    for (int c = 0; c < r; c++)
                    {
                        double m = 0.5 * (cov[r * n + c] + cov[c * n + r]);
                        cov[r * n + c] = cov[c * n + r] = m;
                    }
                }
                PhaseAlgebra.SemidefiniteFactor(cov, _factor.AsSpan(i * n * n, n * n), n, scratch);
            }
        }

        /// <summary>Draws v for position x; counters from <paramref name="counter"/> (uses ⌈n/2⌉ + 1 counters).</summary>
        public void Sample(ReadOnlySpan<double> x, Span<double> v, CounterRng rng, ulong stream, ulong counter, Span<double> scratch)
        {
            int n = _n, t = _tuples;
            var logw = scratch[..t];
            var y = scratch.Slice(t, n);
            var xi = scratch.Slice(t + n, n);
            double max = double.NegativeInfinity;
            for (int i = 0; i < t; i++)
            {
                for (int r = 0; r < n; r++)
                {
                    y[r] = x[r] - _mu[i * n + r];
                }
                PhaseAlgebra.ForwardSolve(_cholX.AsSpan(i * n * n, n * n), y, n);
                double q = 0;
                for (int r = 0; r < n; r++)
                {
                    q += y[r] * y[r];
                }
                logw[i] = _logWeights[i] - 0.5 * q - _halfLogDet[i];
                max = Math.Max(max, logw[i]);
            }
            double total = 0;
            for (int i = 0; i < t; i++)
            {
                logw[i] = Math.Exp(logw[i] - max);
                total += logw[i];
            }
            double u = rng.Uniform(stream, counter) * total;
            int pick = t - 1;
            for (int i = 0; i < t; i++)
            {
                u -= logw[i];
                if (u <= 0)
                {
                    pick = i;
                    break;
                }
            }
            rng.FillNormal(stream, counter + 1, xi);
            var b = _regression.AsSpan(pick * n * n, n * n);
            var f = _factor.AsSpan(pick * n * n, n * n);
            for (int r = 0; r < n; r++)
            {
                double s = _nu[pick * n + r];
                for (int c = 0; c < n; c++)
                {
                    s += b[r * n + c] * (x[c] - _mu[pick * n + c]) + f[r * n + c] * xi[c];
                }
                v[r] = s;
            }
        }
    }

    /// <summary>
    /// Exact samples of the time-t marginal Σ_i λ_i N(m_i(t), Σ_i(t)) without simulation: positions (count×n), or
    /// phase-space states (count×2n) when <paramref name="phaseSpace"/>. Sample p uses stream p of the seed.
    /// </summary>
    public double[] SampleMarginal(double t, int count, ulong seed, bool phaseSpace = false)
    {
        CheckTime(t, nameof(t));
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int n = Dimension, n2 = 2 * n, nn = n2 * n2, tuples = _tuples.Length;
        int s = SegmentAt(t);
        var means = new double[tuples * n2];
        var factors = new double[tuples * nn];
        var cov = new double[nn];
        var ws = new SegmentScratch(n);
        var scratch = new double[nn + 2 * n2];
        var cumulative = new double[tuples];
        double total = 0;
        for (int i = 0; i < tuples; i++)
        {
            _tuples[i].Segments[s].Evaluate(t, means.AsSpan(i * n2, n2), cov, default, default, ws);
            PhaseAlgebra.SemidefiniteFactor(cov, factors.AsSpan(i * nn, nn), n2, scratch);
            total += _tuples[i].Weight;
            cumulative[i] = total;
        }
        int width = phaseSpace ? n2 : n;
        var result = new double[count * width];
        var rng = new CounterRng(seed);
        var xi = new double[n2];
        for (int p = 0; p < count; p++)
        {
            double u = rng.Uniform((ulong)p, 0) * total;
            int pick = Math.Max(0, Array.FindIndex(cumulative, c => c >= u));
            rng.FillNormal((ulong)p, 1, xi);
            for (int r = 0; r < width; r++)
            {
                double v = means[pick * n2 + r];
                for (int c = 0; c < n2; c++)
                {
                    v += factors[pick * nn + r * n2 + c] * xi[c];
                }
                result[p * width + r] = v;
            }
        }
        return result;
    }

    /// <summary>
    /// Moves positions x0 (N×n, at t_0) along the mixture policy: initial velocities from
    /// <see cref="SampleInitialVelocities"/>, then Euler–Maruyama (σ &gt; 0) or Heun (σ = 0) on a grid that hits every
    /// knot and every requested time. Returns the positions at <paramref name="reportTimes"/> (each in [t_0, t_M]),
    /// as reportTimes.Length × N × n.
    /// </summary>
    public double[] Transport(ReadOnlySpan<double> positions, ReadOnlySpan<double> reportTimes, MomentumRunOptions? options = null)
    {
        options ??= new MomentumRunOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Steps, 1, nameof(options));
        int n = Dimension, n2 = 2 * n;
        CheckPoints(positions, n, nameof(positions));
        foreach (double t in reportTimes)
        {
            CheckTime(t, nameof(reportTimes));
        }
        int count = positions.Length / n;
        var velocities = SampleInitialVelocities(positions, options.Seed);
        var states = new double[count * n2];
        for (int p = 0; p < count; p++)
        {
            positions.Slice(p * n, n).CopyTo(states.AsSpan(p * n2, n));
            velocities.AsSpan(p * n, n).CopyTo(states.AsSpan(p * n2 + n, n));
        }
        var output = new double[reportTimes.Length * count * n];
        double end = _times[0];
        foreach (double t in reportTimes)
        {
            end = Math.Max(end, t);
        }
        // Event times: t_0, the knots up to the end, and the requested times; equal steps of about h between events.
        var events = new SortedSet<double> { _times[0], end };
        foreach (double t in _times)
        {
            if (t <= end)
            {
                events.Add(t);
            }
        }
        foreach (double t in reportTimes)
        {
            events.Add(t);
        }
        double h = (_times[^1] - _times[0]) / options.Steps;
        var grid = new List<double> { _times[0] };
        double previous = _times[0];
        foreach (double e in events)
        {
            if (e <= previous)
            {
                continue;
            }
            int steps = Math.Max(1, (int)Math.Ceiling((e - previous) / h - 1e-9));
            for (int k = 1; k <= steps; k++)
            {
                grid.Add(k == steps ? e : previous + (e - previous) * k / steps);
            }
            previous = e;
        }
        Record(states, _times[0], reportTimes, output, count);
        var frame = NewFrame();
        var frame2 = NewFrame();
        var ws = new SegmentScratch(n);
        bool noisy = Noise > 0;
        var stage = noisy ? null : new double[states.Length];
        var k1 = noisy ? null : new double[count * n];
        var body = new StepBody(this, frame, frame2, states, stage, k1, Noise, new CounterRng(options.Seed));
        for (int j = 0; j + 1 < grid.Count; j++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            double t = grid[j], dt = grid[j + 1] - t;
            Prepare(t, frame, ws);
            if (!noisy)
            {
                Prepare(grid[j + 1], frame2, ws);
            }
            body.SetStep(t, dt, j);
            if (options.Parallel)
            {
                ParallelRange.For(count, Math.Max(16, count / (8 * ParallelRange.Concurrency)), body);
            }
            else
            {
                body.Execute(0, count);
            }
            Record(states, grid[j + 1], reportTimes, output, count);
            if (options.Progress is not null && (j % Math.Max(1, grid.Count / 100) == 0 || j + 2 == grid.Count))
            {
                options.Progress.Report((double)(j + 1) / (grid.Count - 1));
            }
        }
        return output;
    }

    private void Record(double[] states, double t, ReadOnlySpan<double> reportTimes, double[] output, int count)
    {
        int n = Dimension, n2 = 2 * n;
        for (int r = 0; r < reportTimes.Length; r++)
        {
            if (reportTimes[r] == t)
            {
                for (int p = 0; p < count; p++)
                {
                    states.AsSpan(p * n2, n).CopyTo(output.AsSpan((r * count + p) * n, n));
                }
            }
        }
    }

    private sealed class StepState
    {
        public double T, Dt;
        public int Step;
    }

    /// <summary>One time step for a range of particles: Euler–Maruyama (x += v dt, v += u dt + σ√dt ξ) or Heun for σ = 0.</summary>
    private readonly struct StepBody(MultiMarginalPlan plan, PolicyFrame frame, PolicyFrame next, double[] states, double[]? stage, double[]? k1,
        double noise, CounterRng rng) : IRangeBody
    {
        private readonly StepState _step = new();

        public void SetStep(double t, double dt, int step)
        {
            _step.T = t;
            _step.Dt = dt;
            _step.Step = step;
        }

        public void Execute(int start, int end)
        {
            int n = plan.Dimension, n2 = 2 * n;
            double dt = _step.Dt;
            Span<double> u = stackalloc double[n];
            Span<double> u2 = stackalloc double[n];
            Span<double> xi = stackalloc double[n];
            Span<double> z = stackalloc double[n2];
            Span<double> scratch = stackalloc double[plan._tuples.Length + n2];
            double sq = noise * Math.Sqrt(dt);
            for (int p = start; p < end; p++)
            {
                var s = states.AsSpan(p * n2, n2);
                ControlAt(frame, plan._logWeights, s, u, scratch);
                if (stage is null)
                {
                    rng.FillNormal((ulong)p, 1 + (ulong)_step.Step * (ulong)((n + 1) / 2), xi);
                    for (int r = 0; r < n; r++)
                    {
                        s[r] += s[n + r] * dt;
                        s[n + r] += u[r] * dt + sq * xi[r];
                    }
                }
                else
                {
                    // Heun: predictor z̃ = z + dt f(t, z), corrector z += dt/2 (f(t, z) + f(t + dt, z̃)).
                    for (int r = 0; r < n; r++)
                    {
                        z[r] = s[r] + s[n + r] * dt;
                        z[n + r] = s[n + r] + u[r] * dt;
                    }
                    ControlAt(next, plan._logWeights, z, u2, scratch);
                    for (int r = 0; r < n; r++)
                    {
                        s[r] += 0.5 * dt * (s[n + r] + z[n + r]);
                        s[n + r] += 0.5 * dt * (u[r] + u2[r]);
                    }
                }
            }
            _ = k1;
        }
    }

    private static void CheckPoints(ReadOnlySpan<double> points, int n, string paramName)
    {
        if (points.Length == 0 || points.Length % n != 0)
        {
            throw new ArgumentException($"{paramName} has length {points.Length}, not a positive multiple of n = {n}.", paramName);
        }
        for (int i = 0; i < points.Length; i++)
        {
            if (!double.IsFinite(points[i]))
            {
                throw new NonFiniteValueException(paramName, i / n, i % n, points[i], paramName);
            }
        }
    }
}

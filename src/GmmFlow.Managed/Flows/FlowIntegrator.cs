using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// Fixed-step integrators that move a batch of particles (N×d row-major, in place) along an
/// <see cref="IVelocityField"/> from <see cref="IntegrationOptions.StartTime"/> to <see cref="IntegrationOptions.EndTime"/>.
/// </summary>
/// <remarks>
/// <para>The field is evaluated once per stage for the whole batch (it does its per-time work once and may use
/// several threads); the per-particle updates and the noise are split over particle chunks. Every particle's
/// arithmetic is the same whatever the split, so results are bit-identical with and without
/// <see cref="IntegrationOptions.Parallel"/> when the field's are.</para>
/// <para>Allocations: one copy of the states plus one to three scratch arrays of the same size per call (and a small
/// noise buffer for Euler–Maruyama), none per step beyond what the field allocates.</para>
/// </remarks>
public static partial class FlowIntegrator
{
    /// <summary>Doubles per chunk for the elementwise updates (large enough to amortise the hand-off to a thread).</summary>
    private const int ElementsPerChunk = 16 * 1024;

    /// <summary>Normals per chunk for Euler–Maruyama (a few ns each: a chunk is some µs of noise plus the update).</summary>
    private const int NormalsPerChunk = 8 * 1024;

    /// <summary>Number of snapshots a run with these options writes (0 when <see cref="IntegrationOptions.SaveEvery"/> is 0).</summary>
    public static int SnapshotCount(IntegrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.SaveEvery == 0)
        {
            return 0;
        }
        return options.Steps / options.SaveEvery + 1 + (options.Steps % options.SaveEvery != 0 ? 1 : 0);
    }

    /// <summary>
    /// Explicit Euler for dx/dt = v(t, x): x ← x + h v(t, x). First order; the σ = 0 case of
    /// <see cref="EulerMaruyama"/>, bit for bit.
    /// </summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="states">N×d particle positions, overwritten with the positions at the end time.</param>
    /// <param name="options">Time grid and run control (null: <see cref="IntegrationOptions.Default"/>).</param>
    /// <param name="trajectory">
    /// Empty, or <see cref="SnapshotCount"/> × N × d doubles receiving the snapshots (snapshot-major, then particle, then coordinate).
    /// </param>
    public static void Euler(IVelocityField field, Span<double> states, IntegrationOptions? options = null, Span<double> trajectory = default)
        => Integrate(field, states, options ?? IntegrationOptions.Default, trajectory, Scheme.EulerMaruyama, noise: 0.0, seed: 0);

    /// <summary>
    /// Euler–Maruyama for dX = u(t, X) dt + σ dW: X ← X + h u(t, X) + σ √h ξ with ξ ~ N(0, I).
    /// Strong order ½, weak order 1.
    /// </summary>
    /// <param name="field">The drift u.</param>
    /// <param name="states">N×d particle positions, overwritten with the positions at the end time.</param>
    /// <param name="noise">
    /// The diffusion coefficient σ ≥ 0 (a standard deviation per unit time; the noise variance is ε = σ², and POT/OTT's
    /// reg = 2σ²). σ = 0 is the deterministic flow, computed exactly as <see cref="Euler"/>.
    /// </param>
    /// <param name="seed">
    /// Seeds a <see cref="CounterRng"/>: particle i at step k uses stream i (plus <see cref="IntegrationOptions.FirstStream"/>) and counters k⌈d/2⌉ … k⌈d/2⌉ + ⌈d/2⌉ − 1, so
    /// the noise does not depend on thread count. Use different seeds for batches meant to be independent.
    /// </param>
    /// <param name="options">Time grid and run control (null: <see cref="IntegrationOptions.Default"/>).</param>
    /// <param name="trajectory">Empty, or <see cref="SnapshotCount"/> × N × d doubles for the snapshots.</param>
    public static void EulerMaruyama(IVelocityField field, Span<double> states, double noise, ulong seed,
                                     IntegrationOptions? options = null, Span<double> trajectory = default)
    {
        if (!(noise >= 0.0) || !double.IsFinite(noise))
        {
            throw new ArgumentOutOfRangeException(nameof(noise), noise, "The diffusion coefficient σ must be finite and ≥ 0.");
        }
        Integrate(field, states, options ?? IntegrationOptions.Default, trajectory, Scheme.EulerMaruyama, noise, seed);
    }

    /// <summary>
    /// Heun's method (explicit trapezoid) for dx/dt = v(t, x): x̃ = x + h v(t, x), x ← x + h/2 (v(t, x) + v(t + h, x̃)).
    /// Second order, two field evaluations per step.
    /// </summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="states">N×d particle positions, overwritten with the positions at the end time.</param>
    /// <param name="options">Time grid and run control (null: <see cref="IntegrationOptions.Default"/>).</param>
    /// <param name="trajectory">Empty, or <see cref="SnapshotCount"/> × N × d doubles for the snapshots.</param>
    public static void Heun(IVelocityField field, Span<double> states, IntegrationOptions? options = null, Span<double> trajectory = default)
        => Integrate(field, states, options ?? IntegrationOptions.Default, trajectory, Scheme.Heun, noise: 0.0, seed: 0);

    /// <summary>
    /// The classical fourth-order Runge–Kutta method for dx/dt = v(t, x): four field evaluations per step
    /// (at t, t + h/2 twice, t + h), x ← x + h/6 (k1 + 2k2 + 2k3 + k4).
    /// </summary>
    /// <param name="field">The velocity field.</param>
    /// <param name="states">N×d particle positions, overwritten with the positions at the end time.</param>
    /// <param name="options">Time grid and run control (null: <see cref="IntegrationOptions.Default"/>).</param>
    /// <param name="trajectory">Empty, or <see cref="SnapshotCount"/> × N × d doubles for the snapshots.</param>
    public static void RungeKutta4(IVelocityField field, Span<double> states, IntegrationOptions? options = null, Span<double> trajectory = default)
        => Integrate(field, states, options ?? IntegrationOptions.Default, trajectory, Scheme.RungeKutta4, noise: 0.0, seed: 0);

    private enum Scheme
    {
        EulerMaruyama,
        Heun,
        RungeKutta4,
    }

    private static void Integrate(IVelocityField field, Span<double> states, IntegrationOptions options, Span<double> trajectory,
                                  Scheme scheme, double noise, ulong seed)
    {
        int snapshots = CheckArguments(field, states, options, trajectory, out int d);
        int n = states.Length / d;
        if (n == 0)
        {
            return;
        }

        // The particle-chunk workers run on other threads, which cannot see a span: work on an array copy and write
        // back at the end (this also leaves `states` untouched if the run is cancelled or the field throws).
        double[] x = states.ToArray();
        double[] v = new double[x.Length];
        double[]? xt = scheme == Scheme.EulerMaruyama ? null : new double[x.Length];
        double[]? acc = scheme == Scheme.EulerMaruyama ? null : new double[x.Length]; // Heun: k2; RK4: k1 + 2k2 + 2k3
        int particlesPerChunk = Math.Max(1, NormalsPerChunk / d);
        int particleChunks = (n + particlesPerChunk - 1) / particlesPerChunk;
        double[]? normals = noise > 0.0 ? new double[particleChunks * d] : null; // one particle's ξ per chunk
        bool parallel = options.Parallel;
        int saved = 0;
        if (snapshots > 0)
        {
            x.CopyTo(trajectory);
            saved = 1;
        }
        int reportEvery = Math.Max(1, options.Steps / 100);
        var rng = new CounterRng(seed);

        int[]? substeps = options.Substeps;
        long step = 0; // substeps taken so far: numbers the Euler–Maruyama noise counters
        for (int k = 0; k < options.Steps; k++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            double gridStart = options.TimeAt(k), gridEnd = options.TimeAt(k + 1);
            int m = substeps?[k] ?? 1;
            for (int s = 0; s < m; s++, step++)
            {
                // End-of-step evaluations use the grid time itself (not t + h, which can differ in the last bit), so a
                // field that caches its per-time data sees the same t again at the start of the next step.
                double t = s == 0 ? gridStart : gridStart + (gridEnd - gridStart) * s / m;
                double tNext = s + 1 == m ? gridEnd : gridStart + (gridEnd - gridStart) * (s + 1) / m;
                double h = tNext - t;
                switch (scheme)
                {
                    case Scheme.EulerMaruyama:
                        field.Evaluate(t, x, v);
                        if (noise == 0.0)
                        {
                            For(x.Length, ElementsPerChunk, new Axpy { Target = x, A = x, B = v, Scale = h }, parallel);
                        }
                        else
                        {
                            var body = new EulerMaruyamaStep
                            {
                                X = x, V = v, Normals = normals!, Dimension = d, PerChunk = particlesPerChunk, H = h,
                                NoiseScale = noise * Math.Sqrt(h), Rng = rng, FirstCounter = (ulong)step * (ulong)((d + 1) / 2),
                                FirstStream = options.FirstStream,
                            };
                            For(n, particlesPerChunk, body, parallel);
                        }
                        break;

                    case Scheme.Heun:
                        field.Evaluate(t, x, v);
                        For(x.Length, ElementsPerChunk, new Axpy { Target = xt!, A = x, B = v, Scale = h }, parallel);
                        field.Evaluate(tNext, xt!, acc!);
                        For(x.Length, ElementsPerChunk, new HeunFinish { X = x, K1 = v, K2 = acc!, HalfH = 0.5 * h }, parallel);
                        break;

                    default:
                        RungeKutta4Step(field, t, tNext, x, v, xt!, acc!, parallel);
                        break;
                }
            }

            if (snapshots > 0 && ((k + 1) % options.SaveEvery == 0 || k + 1 == options.Steps))
            {
                x.CopyTo(trajectory.Slice(saved * x.Length, x.Length));
                saved++;
            }
            if (options.Progress is not null && ((k + 1) % reportEvery == 0 || k + 1 == options.Steps))
            {
                options.Progress.Report((k + 1) / (double)options.Steps);
            }
        }
        x.CopyTo(states);
    }

    /// <summary>k1 = v(t, x); k2 = v(t + h/2, x + h/2 k1); k3 = v(t + h/2, x + h/2 k2); k4 = v(t + h, x + h k3).</summary>
    private static void RungeKutta4Step(IVelocityField field, double t, double tNext, double[] x, double[] k, double[] xt, double[] acc,
                                        bool parallel)
    {
        double h = tNext - t, half = 0.5 * h;
        field.Evaluate(t, x, k);
        For(x.Length, ElementsPerChunk, new RungeKuttaStage { X = x, K = k, Acc = acc, Xt = xt, First = true, C = half }, parallel);
        field.Evaluate(t + half, xt, k);
        For(x.Length, ElementsPerChunk, new RungeKuttaStage { X = x, K = k, Acc = acc, Xt = xt, First = false, C = half }, parallel);
        field.Evaluate(t + half, xt, k);
        For(x.Length, ElementsPerChunk, new RungeKuttaStage { X = x, K = k, Acc = acc, Xt = xt, First = false, C = h }, parallel);
        field.Evaluate(tNext, xt, k);
        For(x.Length, ElementsPerChunk, new RungeKuttaFinish { X = x, K = k, Acc = acc, SixthH = h / 6.0 }, parallel);
    }

    /// <summary>[0, count) in chunks of <paramref name="grain"/> on all cores, or in one piece on this thread.</summary>
    private static void For<TBody>(int count, int grain, in TBody body, bool parallel) where TBody : struct, IRangeBody
    {
        if (parallel)
        {
            ParallelRange.For(count, grain, body);
        }
        else
        {
            body.Execute(0, count);
        }
    }

    /// <summary>Target = A + Scale·B elementwise (Target may be A).</summary>
    private struct Axpy : IRangeBody
    {
        public double[] Target, A, B;
        public double Scale;

        public readonly void Execute(int s, int e)
        {
            // (b · Scale) + a, unfused: the same rounding as the scalar a + Scale·b.
            TensorPrimitives.MultiplyAdd(B.AsSpan(s, e - s), Scale, A.AsSpan(s, e - s), Target.AsSpan(s, e - s));
        }
    }

    /// <summary>X += h/2 (K1 + K2).</summary>
    private struct HeunFinish : IRangeBody
    {
        public double[] X, K1, K2;
        public double HalfH;

        public readonly void Execute(int s, int e)
        {
            Span<double> x = X.AsSpan(s, e - s);
            ReadOnlySpan<double> k1 = K1.AsSpan(s, e - s), k2 = K2.AsSpan(s, e - s);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += HalfH * (k1[i] + k2[i]);
            }
        }
    }

    /// <summary>Acc = K (first stage) or Acc += 2K; Xt = X + C·K.</summary>
    private struct RungeKuttaStage : IRangeBody
    {
        public double[] X, K, Acc, Xt;
        public bool First;
        public double C;

        public readonly void Execute(int s, int e)
        {
            ReadOnlySpan<double> x = X.AsSpan(s, e - s), k = K.AsSpan(s, e - s);
            Span<double> acc = Acc.AsSpan(s, e - s), xt = Xt.AsSpan(s, e - s);
            for (int i = 0; i < x.Length; i++)
            {
                acc[i] = First ? k[i] : acc[i] + 2.0 * k[i];
                xt[i] = x[i] + C * k[i];
            }
        }
    }

    /// <summary>X += h/6 (Acc + K), Acc = k1 + 2k2 + 2k3 and K = k4.</summary>
    private struct RungeKuttaFinish : IRangeBody
    {
        public double[] X, K, Acc;
        public double SixthH;

        public readonly void Execute(int s, int e)
        {
            Span<double> x = X.AsSpan(s, e - s);
            ReadOnlySpan<double> k = K.AsSpan(s, e - s), acc = Acc.AsSpan(s, e - s);
            for (int i = 0; i < x.Length; i++)
            {
                x[i] += SixthH * (acc[i] + k[i]);
            }
        }
    }

    /// <summary>X_i += h V_i + σ√h ξ_i for the particles of one chunk, ξ_i from stream FirstStream + i of the generator.</summary>
    private struct EulerMaruyamaStep : IRangeBody
    {
        public double[] X, V, Normals;
        public int Dimension, PerChunk;
        public double H, NoiseScale;
        public CounterRng Rng;
        public ulong FirstCounter, FirstStream;

        public readonly void Execute(int s, int e)
        {
            int d = Dimension;
            Span<double> xi = Normals.AsSpan(s / PerChunk * d, d); // chunks start at multiples of PerChunk

            for (int p = s; p < e; p++)
            {
                Rng.FillNormal(FirstStream + (ulong)p, FirstCounter, xi);
                Span<double> x = X.AsSpan(p * d, d);
                ReadOnlySpan<double> v = V.AsSpan(p * d, d);
                int j = 0;
                if (Vector512.IsHardwareAccelerated)
                {
                    // The scalar tail's expression lane for lane (no fused multiply-add), so no coordinate depends on its position.
                    ref double x0 = ref MemoryMarshal.GetReference(x);
                    ref double v0 = ref MemoryMarshal.GetReference(v);
                    ref double xi0 = ref MemoryMarshal.GetReference(xi);
                    for (; j <= d - Vector512<double>.Count; j += Vector512<double>.Count)
                    {
                        Vector512<double> step = Vector512.LoadUnsafe(ref v0, (nuint)j) * H + Vector512.LoadUnsafe(ref xi0, (nuint)j) * NoiseScale;
                        (Vector512.LoadUnsafe(ref x0, (nuint)j) + step).StoreUnsafe(ref x0, (nuint)j);
                    }
                }
                for (; j < d; j++)
                {
                    x[j] += H * v[j] + NoiseScale * xi[j];
                }
            }
        }
    }
}

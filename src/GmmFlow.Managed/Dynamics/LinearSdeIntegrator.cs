using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>Writes the diffusion matrix G(t) (n×q row-major) of dX = f(t, X)dt + G(t)dW.</summary>
public delegate void DiffusionFunction(double t, Span<double> diffusion);

/// <summary>
/// Euler–Maruyama for SDEs with a matrix diffusion, dX = f(t, X)dt + G(t)dW with G n×q (e.g. σB(t) of linear prior
/// dynamics, degenerate for the double integrator): X ← X + h f(t, X) + √h G(t)ξ, ξ ~ N(0, I_q). The sibling of
/// <see cref="FlowIntegrator.EulerMaruyama"/> (isotropic σ), with the same conventions: particle i at step k draws from
/// stream i, counters k⌈q/2⌉ …, so results do not depend on the thread count.
/// </summary>
public static class LinearSdeIntegrator
{
    private const int NormalsPerChunk = 2 * 1024;

    /// <summary>
    /// Moves <paramref name="states"/> (N×n row-major, in place) from <see cref="IntegrationOptions.StartTime"/> to
    /// <see cref="IntegrationOptions.EndTime"/>; <paramref name="trajectory"/> as for <see cref="FlowIntegrator"/>.
    /// </summary>
    public static void EulerMaruyama(IVelocityField field, Span<double> states, DiffusionFunction diffusion, int noiseColumns, ulong seed,
        IntegrationOptions? options = null, Span<double> trajectory = default)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(diffusion);
        ArgumentOutOfRangeException.ThrowIfLessThan(noiseColumns, 1);
        options ??= IntegrationOptions.Default;
        options.Validate();
        int d = field.Dimension;
        if (states.Length % d != 0)
        {
            throw new ArgumentException($"states has length {states.Length}, not a multiple of the dimension {d}.", nameof(states));
        }
        int snapshots = FlowIntegrator.SnapshotCount(options);
        if (trajectory.Length != (long)snapshots * states.Length)
        {
            ThrowHelper.ThrowSize(nameof(trajectory), (long)snapshots * states.Length, trajectory.Length);
        }
        FiniteCheck.ThrowIfNonFinite(states, d, "initial state of particle", nameof(states));
        int n = states.Length / d;
        if (n == 0)
        {
            return;
        }
        double[] x = states.ToArray();
        double[] v = new double[x.Length];
        double[] g = new double[d * noiseColumns];
        int perChunk = Math.Max(1, NormalsPerChunk / Math.Max(d, noiseColumns));
        int chunks = (n + perChunk - 1) / perChunk;
        double[] normals = new double[chunks * noiseColumns];
        int saved = 0;
        if (snapshots > 0)
        {
            x.CopyTo(trajectory);
            saved = 1;
        }
        int reportEvery = Math.Max(1, options.Steps / 100);
        var rng = new CounterRng(seed);
        for (int k = 0; k < options.Steps; k++)
        {
            options.CancellationToken.ThrowIfCancellationRequested();
            double t = options.TimeAt(k), h = options.TimeAt(k + 1) - t;
            field.Evaluate(t, x, v);
            g.AsSpan().Clear();
            diffusion(t, g);
            FiniteCheck.ThrowIfNonFinite(g, noiseColumns, "diffusion matrix row", nameof(diffusion));
            var body = new Step
            {
                X = x, V = v, G = g, Normals = normals, Dimension = d, Columns = noiseColumns, PerChunk = perChunk, H = h,
                SqrtH = Math.Sqrt(Math.Abs(h)), Rng = rng, FirstCounter = (ulong)k * (ulong)((noiseColumns + 1) / 2),
                FirstStream = options.FirstStream,
            };
            if (options.Parallel)
            {
                ParallelRange.For(n, perChunk, body);
            }
            else
            {
                body.Execute(0, n);
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

    private struct Step : IRangeBody
    {
        public double[] X, V, G, Normals;
        public int Dimension, Columns, PerChunk;
        public double H, SqrtH;
        public CounterRng Rng;
        public ulong FirstCounter, FirstStream;

        public readonly void Execute(int start, int end)
        {
            int d = Dimension, q = Columns;
            // One ξ buffer per chunk: chunks never overlap, so the slot is this worker's alone.
            Span<double> xi = Normals.AsSpan(start / PerChunk * q, q);
            for (int i = start; i < end; i++)
            {
                Rng.FillNormal(FirstStream + (ulong)i, FirstCounter, xi);
                Span<double> xs = X.AsSpan(i * d, d);
                ReadOnlySpan<double> vs = V.AsSpan(i * d, d);
                for (int r = 0; r < d; r++)
                {
                    double noise = 0;
                    for (int c = 0; c < q; c++)
                    {
                        noise += G[r * q + c] * xi[c];
                    }
                    xs[r] += H * vs[r] + SqrtH * noise;
                }
            }
        }
    }
}

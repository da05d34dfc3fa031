using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd;

/// <summary>
/// Drives the mixture-velocity kernels over a batch of points: transposes blocks of points into SoA scratch
/// (lanes = points), picks the kernel for the dimension, normalises and transposes back, and splits large batches
/// over threads.
/// </summary>
/// <remarks>
/// Tail handling: a final block with fewer than <c>Count</c> points is padded with copies of its last point, run
/// at the same width, and only the real lanes are written back. Every point is therefore computed by the same
/// instruction sequence wherever it sits (main loop, tail, any chunk of any thread): results are bit-identical
/// with or without threads and for single-point evaluation.
/// </remarks>
internal static class VelocityBatch
{
    /// <summary>Scratch up to this many doubles (16 KB) lives on the stack; beyond it comes from ArrayPool.</summary>
    private const int StackScratchDoubles = 2048;

    /// <summary>Kernel work per parallel chunk below which splitting costs more than it saves (in multiply-adds, ≈ 30–60 µs).</summary>
    private const long MinChunkWork = 1L << 17;

    /// <summary>Lanes per vector for a resolved width (the enum values are the lane counts).</summary>
    public static int Lanes(SimdWidth width) => (int)width;

    public static unsafe void Run(VelocityFrame frame, ReadOnlySpan<double> points, Span<double> velocities,
                                  Span<double> logDensities, bool parallel, SimdWidth width, bool generalOnly)
    {
        int d = frame.Dimension;
        int n = points.Length / d;
        int lanes = Lanes(width);
        long workPerPoint = (long)frame.PairCount * (d * d + d * (d + 1) / 2 + 4 * d + 24);
        int minPoints = (int)Math.Max(lanes, Math.Min(n, MinChunkWork / workPerPoint));
        bool wantLogDensity = !logDensities.IsEmpty;
        double ignored = 0.0;

        if (!parallel || ParallelRange.Concurrency == 1 || n <= minPoints)
        {
            RunRange(frame, ref MemoryMarshal.GetReference(points), ref MemoryMarshal.GetReference(velocities),
                     ref wantLogDensity ? ref MemoryMarshal.GetReference(logDensities) : ref ignored,
                     wantLogDensity, n, width, generalOnly);
            return;
        }

        // About four chunks per thread balances uneven progress (other processes share the cores); chunk sizes are
        // multiples of the lane count so only the last chunk has a padded tail.
        int threads = ParallelRange.Concurrency;
        int grain = Math.Max(minPoints, (n + 4 * threads - 1) / (4 * threads));
        grain = (grain + lanes - 1) / lanes * lanes;
        fixed (double* px = points)
        fixed (double* pv = velocities)
        fixed (double* pl = logDensities)
        {
            var body = new Chunk
            {
                Frame = frame, Points = px, Velocities = pv, LogDensities = pl, WantLogDensity = wantLogDensity,
                Width = width, GeneralOnly = generalOnly,
            };
            // ParallelRange.For returns only when every chunk is done, so the pointers stay pinned throughout.
            ParallelRange.For(n, grain, body);
        }
    }

    /// <summary>Points [start, end) of a parallel batch; the pointers are pinned by <see cref="Run"/> until every chunk is done.</summary>
    private unsafe struct Chunk : IRangeBody
    {
        public VelocityFrame Frame;
        public double* Points;
        public double* Velocities;
        public double* LogDensities;
        public bool WantLogDensity;
        public SimdWidth Width;
        public bool GeneralOnly;

        public readonly void Execute(int start, int end)
        {
            int d = Frame.Dimension;
            double ignored = 0.0;
            RunRange(Frame, ref Unsafe.AsRef<double>(Points + (long)start * d), ref Unsafe.AsRef<double>(Velocities + (long)start * d),
                     ref WantLogDensity ? ref Unsafe.AsRef<double>(LogDensities + start) : ref ignored,
                     WantLogDensity, end - start, Width, GeneralOnly);
        }
    }

    /// <summary>Evaluates <paramref name="count"/> consecutive points on the calling thread.</summary>
    public static void RunRange(VelocityFrame frame, ref double points, ref double velocities, ref double logDensities,
                                bool wantLogDensity, int count, SimdWidth width, bool generalOnly)
    {
        switch (width)
        {
            case SimdWidth.V512:
                RunRange<Simd512, Vector512<double>>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count, generalOnly);
                break;
            case SimdWidth.V256:
                RunRange<Simd256, Vector256<double>>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count, generalOnly);
                break;
            case SimdWidth.V128:
                RunRange<Simd128, Vector128<double>>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count, generalOnly);
                break;
            default:
                RunRange<SimdScalar, double>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count, generalOnly);
                break;
        }
    }

    [SkipLocalsInit]
    private static void RunRange<TOps, TV>(VelocityFrame frame, ref double points, ref double velocities, ref double logDensities,
                                           bool wantLogDensity, int count, bool generalOnly)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        if (frame.GainByPoint)
        {
            RunRangeByPoint<TOps, TV>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count);
            return;
        }
        int d = frame.Dimension;
        int pairCount = frame.PairCount;
        int lanes = TOps.Count;

        // Scratch, each region SoA with `lanes` doubles per row: xs (d rows: coordinate j of each lane's point),
        // ys (d rows, general kernel's x − m_p), acc (d rows: Σ_p w_p u_p, then v), ell (one row per pair: ℓ_p),
        // sm (2 rows: Σ_p w_p and max_p ℓ_p).
        int need = lanes * (3 * d + pairCount + 2);
        double[]? rented = null;
        Span<double> scratch = need <= StackScratchDoubles
            ? stackalloc double[need]
            : (rented = ArrayPool<double>.Shared.Rent(need));
        ref double xs = ref MemoryMarshal.GetReference(scratch);
        ref double ys = ref Unsafe.Add(ref xs, d * lanes);
        ref double acc = ref Unsafe.Add(ref ys, d * lanes);
        ref double ell = ref Unsafe.Add(ref acc, d * lanes);
        ref double sm = ref Unsafe.Add(ref ell, pairCount * lanes);
        int kernel = generalOnly ? 0 : d;

        for (int i = 0; i < count; i += lanes)
        {
            int real = Math.Min(lanes, count - i);
            ref double block = ref Unsafe.Add(ref points, (nint)i * d);

            // AoS → SoA: xs[j·lanes + k] = x_{i+k, j}; padding lanes repeat the last real point (finite, discarded).
            for (int k = 0; k < lanes; k++)
            {
                ref double row = ref Unsafe.Add(ref block, (nint)Math.Min(k, real - 1) * d);
                for (int j = 0; j < d; j++)
                {
                    Unsafe.Add(ref xs, j * lanes + k) = Unsafe.Add(ref row, j);
                }
            }

            TV sum, max;
            switch (kernel)
            {
                case 1:
                    VelocityKernelD1.Block<TOps, TV>(frame, ref xs, ref ell, ref acc, out sum, out max);
                    break;
                case 2:
                    VelocityKernelD2.Block<TOps, TV>(frame, ref xs, ref ell, ref acc, out sum, out max);
                    break;
                case 3:
                    VelocityKernelD3.Block<TOps, TV>(frame, ref xs, ref ell, ref acc, out sum, out max);
                    break;
                default:
                    VelocityKernelGeneral.Block<TOps, TV>(frame, ref xs, ref ys, ref ell, ref acc, out sum, out max);
                    break;
            }

            // v = (Σ_p w_p u_p) / Σ_p w_p; the sum is ≥ 1 (the largest ℓ contributes exp(0)), so no division by 0.
            for (int j = 0; j < d; j++)
            {
                ref double row = ref Unsafe.Add(ref acc, j * lanes);
                TOps.Store(TOps.Divide(TOps.Load(ref row), sum), ref row);
            }

            // SoA → AoS for the real lanes only.
            ref double outBlock = ref Unsafe.Add(ref velocities, (nint)i * d);
            for (int k = 0; k < real; k++)
            {
                ref double row = ref Unsafe.Add(ref outBlock, (nint)k * d);
                for (int j = 0; j < d; j++)
                {
                    Unsafe.Add(ref row, j) = Unsafe.Add(ref acc, j * lanes + k);
                }
            }

            if (wantLogDensity)
            {
                // log Σ_p exp ℓ_p = max + log Σ_p exp(ℓ_p − max): the log-sum-exp, never exp of a raw ℓ.
                TOps.Store(sum, ref sm);
                TOps.Store(max, ref Unsafe.Add(ref sm, lanes));
                for (int k = 0; k < real; k++)
                {
                    Unsafe.Add(ref logDensities, i + k) = Unsafe.Add(ref sm, lanes + k) + Math.Log(Unsafe.Add(ref sm, k));
                }
            }
        }

        if (rented is not null)
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>d ≥ <see cref="VelocityFrame.RowsFromDimension"/>: <see cref="VelocityKernelGeneral.ChunkByPoint{TOps, TV}"/> chunk by chunk.</summary>
    [SkipLocalsInit]
    private static void RunRangeByPoint<TOps, TV>(VelocityFrame frame, ref double points, ref double velocities, ref double logDensities,
                                                  bool wantLogDensity, int count)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        const int c = VelocityKernelGeneral.ChunkPoints;
        int d = frame.Dimension;
        int need = VelocityKernelGeneral.ChunkScratch(frame, TOps.Count);
        double[]? rented = null;
        Span<double> scratch = need <= StackScratchDoubles
            ? stackalloc double[need]
            : (rented = ArrayPool<double>.Shared.Rent(need));
        for (int i = 0; i < count; i += c)
        {
            VelocityKernelGeneral.ChunkByPoint<TOps, TV>(frame, ref Unsafe.Add(ref points, (nint)i * d), ref Unsafe.Add(ref velocities, (nint)i * d),
                ref wantLogDensity ? ref Unsafe.Add(ref logDensities, i) : ref logDensities, wantLogDensity, Math.Min(c, count - i),
                ref MemoryMarshal.GetReference(scratch));
        }
        if (rented is not null)
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }
}

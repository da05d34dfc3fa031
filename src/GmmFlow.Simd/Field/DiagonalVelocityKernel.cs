using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd;

/// <summary>
/// Evaluates a <see cref="DiagonalVelocityFrame"/> over a batch of points, vector lanes along the coordinates:
/// pass 1 forms the pairs' log-weights ℓ_p (the first coordinates of every pair eight points at a time, each loaded
/// w_p and −w_p⊙m_p vector serving eight points in eight independent multiply-add chains; then per point the best pair
/// in full and the others only while they can still matter, see <see cref="Complete{TOps, TV}"/>); pass 2 takes the
/// log-sum-exp and adds w_p u_p for the pairs whose weight is not negligible at that point. Large batches are split over all cores (<see cref="ParallelRange"/>).
/// </summary>
/// <remarks>
/// <para>Determinism: a point's result depends only on the point, the frame and the SIMD width: each of its sums runs
/// in the same order whether it is evaluated alone, in a block of eight, at the end of a batch or on any thread.</para>
/// <para>Pairs left out of pass 2 at a point: those with ℓ_p &lt; M − 60 ln 2, M = max_p ℓ_p (weight below 2⁻⁶⁰ of
/// the largest), the rule of <see cref="VelocityKernelGeneral"/>: together they change v by at most P·2⁻⁶⁰ times the
/// largest |u_p(x)|. In high dimension components separate, so usually one or two pairs remain and pass 2 costs little
/// next to pass 1 (docs/theory/structured-covariances.md#field).</para>
/// <para>Pass 1 forms z = w⊙x − w⊙m as one fused multiply-add with w⊙m rounded once when the frame is built: two
/// operations per coordinate instead of three for w⊙(x − m), the bottleneck at d = 512. The product w x is exact inside
/// the multiply-add, so the only extra error is w⊙m's rounding, ½ ulp of |w m| per coordinate (not the cancellation of
/// the expanded quadratic x²/s − 2xm/s + m²/s, which loses |x|²/s·ulp).</para>
/// </remarks>
internal static class DiagonalVelocityKernel
{
    /// <summary>Scratch up to this many doubles (16 KB) lives on the stack; beyond it comes from ArrayPool.</summary>
    private const int StackScratchDoubles = 2048;

    /// <summary>Kernel work per parallel chunk below which splitting costs more than it saves (multiply-adds).</summary>
    private const long MinChunkWork = 1L << 17;

    /// <summary>Points per pass-1 block.</summary>
    private const int BlockPoints = 8;

    /// <summary>Coordinates of every pair's sum formed for all eight points of a block before any pair is left behind.</summary>
    private const int ProbeLength = 128;

    /// <summary>Coordinates a pair's sum is continued by between two checks of its bound.</summary>
    private const int TileLength = 64;

    /// <summary>Doubles per saved pass-1 accumulator (the widest vector).</summary>
    private const int StateDoubles = 8;

    /// <summary>−60 ln 2: a pair whose ℓ is further than this below the largest is left out (weight &lt; 2⁻⁶⁰).</summary>
    private const double NegligibleLogWeight = -41.588830833596717;

    public static unsafe void Run(DiagonalVelocityFrame frame, ReadOnlySpan<double> points, Span<double> velocities,
                                  Span<double> logDensities, bool parallel, SimdWidth width)
    {
        int d = frame.Dimension;
        int n = points.Length / d;
        long workPerPoint = (long)frame.PairCount * (3 * d + 8) + 4 * d;
        int minPoints = (int)Math.Max(BlockPoints, Math.Min(n, MinChunkWork / workPerPoint));
        bool wantLogDensity = !logDensities.IsEmpty;
        double ignored = 0.0;
        if (!parallel || ParallelRange.Concurrency == 1 || n <= minPoints)
        {
            RunRange(frame, ref MemoryMarshal.GetReference(points), ref MemoryMarshal.GetReference(velocities),
                     ref wantLogDensity ? ref MemoryMarshal.GetReference(logDensities) : ref ignored, wantLogDensity, n, width);
            return;
        }
        // About eight chunks per thread: uneven progress (other processes on the cores, points whose pairs are harder to
        // leave behind) balances out, at a chunk hand-off of well under a microsecond.
        int threads = ParallelRange.Concurrency;
        int grain = Math.Max(minPoints, (n + 8 * threads - 1) / (8 * threads));
        grain = (grain + BlockPoints - 1) / BlockPoints * BlockPoints;
        fixed (double* px = points)
        fixed (double* pv = velocities)
        fixed (double* pl = logDensities)
        {
            var body = new Chunk { Frame = frame, Points = px, Velocities = pv, LogDensities = pl, WantLogDensity = wantLogDensity, Width = width };
            // ParallelRange.For returns when every chunk is done, so the pointers stay pinned throughout.
            ParallelRange.For(n, grain, body);
        }
    }

    private unsafe struct Chunk : IRangeBody
    {
        public DiagonalVelocityFrame Frame;
        public double* Points;
        public double* Velocities;
        public double* LogDensities;
        public bool WantLogDensity;
        public SimdWidth Width;

        public readonly void Execute(int start, int end)
        {
            int d = Frame.Dimension;
            double ignored = 0.0;
            RunRange(Frame, ref Unsafe.AsRef<double>(Points + (long)start * d), ref Unsafe.AsRef<double>(Velocities + (long)start * d),
                     ref WantLogDensity ? ref Unsafe.AsRef<double>(LogDensities + start) : ref ignored, WantLogDensity, end - start, Width);
        }
    }

    /// <summary>Evaluates <paramref name="count"/> consecutive points on the calling thread.</summary>
    public static void RunRange(DiagonalVelocityFrame frame, ref double points, ref double velocities, ref double logDensities,
                                bool wantLogDensity, int count, SimdWidth width)
    {
        switch (width)
        {
            case SimdWidth.V512:
                RunRange<Simd512, Vector512<double>>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count);
                break;
            case SimdWidth.V256:
                RunRange<Simd256, Vector256<double>>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count);
                break;
            case SimdWidth.V128:
                RunRange<Simd128, Vector128<double>>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count);
                break;
            default:
                RunRange<SimdScalar, double>(frame, ref points, ref velocities, ref logDensities, wantLogDensity, count);
                break;
        }
    }

    [SkipLocalsInit]
    private static void RunRange<TOps, TV>(DiagonalVelocityFrame frame, ref double points, ref double velocities, ref double logDensities,
                                           bool wantLogDensity, int count)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, dp = frame.PaddedDimension, pairCount = frame.PairCount;
        // Scratch: eight padded point rows (coordinates d..dp−1 stay 0), the accumulator row, ℓ of eight points (pair-major
        // per point), the pass-1 accumulators of eight points (one 8-double slot per point and pair), plus slack to start
        // on a 64-byte boundary.
        int need = 7 + BlockPoints * dp + dp + BlockPoints * pairCount + BlockPoints * pairCount * StateDoubles;
        double[]? rented = null;
        Span<double> scratch = need <= StackScratchDoubles ? stackalloc double[need] : (rented = ArrayPool<double>.Shared.Rent(need));
        ref double start = ref MemoryMarshal.GetReference(scratch);
        ref double xs = ref Unsafe.Add(ref start, CacheLines.DoublesToBoundary(ref start));
        ref double acc = ref Unsafe.Add(ref xs, BlockPoints * dp);
        ref double states = ref Unsafe.Add(ref acc, dp); // a multiple of 8 doubles from xs: still 64-byte aligned
        ref double ell = ref Unsafe.Add(ref states, BlockPoints * pairCount * StateDoubles);
        MemoryMarshal.CreateSpan(ref xs, BlockPoints * dp).Clear();
        int probe = Math.Min(dp, ProbeLength);

        for (int i = 0; i < count; i += BlockPoints)
        {
            int real = Math.Min(BlockPoints, count - i);
            for (int q = 0; q < real; q++)
            {
                MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref points, (nint)(i + q) * d), d).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref xs, q * dp), d));
            }
            if (real == BlockPoints)
            {
                Probe8<TOps, TV>(frame, ref xs, ref states, probe);
            }
            else
            {
                for (int q = 0; q < real; q++)
                {
                    Probe1<TOps, TV>(frame, ref Unsafe.Add(ref xs, q * dp), ref Unsafe.Add(ref states, q * pairCount * StateDoubles), probe);
                }
            }
            for (int q = 0; q < real; q++)
            {
                ref double xq = ref Unsafe.Add(ref xs, q * dp);
                ref double ellq = ref Unsafe.Add(ref ell, q * pairCount);
                Complete<TOps, TV>(frame, ref xq, ref Unsafe.Add(ref states, q * pairCount * StateDoubles), ref ellq, probe);
                double logDensity = Drift<TOps, TV>(frame, ref xq, ref ellq, ref acc, ref Unsafe.Add(ref velocities, (nint)(i + q) * d));
                if (wantLogDensity)
                {
                    Unsafe.Add(ref logDensities, i + q) = logDensity;
                }
            }
        }
        if (rented is not null)
        {
            ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The first <paramref name="probe"/> coordinates of every pair's sum for eight points (rows of <paramref name="xs"/>,
    /// dp apart), left in <paramref name="states"/> (point q's pair p at (q·P + p)·8): each loaded vector of w_p and
    /// −w_p⊙m_p serves the eight points, whose sums are eight independent chains. Per point the operations are those of
    /// <see cref="Probe1{TOps, TV}"/>, so a point gets the same bits in either.
    /// </summary>
    private static void Probe8<TOps, TV>(DiagonalVelocityFrame frame, ref double xs, ref double states, int probe)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int dp = frame.PaddedDimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count, offW = frame.OffsetW, offShift = frame.OffsetShift;
        int pointStride = pairCount * StateDoubles;
        for (int p = 0; p < pairCount; p++)
        {
            ref double blk = ref Unsafe.Add(ref frame.Pairs, p * stride);
            ref double shift = ref Unsafe.Add(ref blk, offShift);
            ref double w = ref Unsafe.Add(ref blk, offW);
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
            ref double x = ref xs;
            for (int j = 0; j < probe; j += lanes)
            {
                TV sj = TOps.Load(ref Unsafe.Add(ref shift, j)), wj = TOps.Load(ref Unsafe.Add(ref w, j));
                ref double xj = ref Unsafe.Add(ref x, j);
                a0 = Square<TOps, TV>(ref xj, sj, wj, a0);
                a1 = Square<TOps, TV>(ref Unsafe.Add(ref xj, dp), sj, wj, a1);
                a2 = Square<TOps, TV>(ref Unsafe.Add(ref xj, 2 * dp), sj, wj, a2);
                a3 = Square<TOps, TV>(ref Unsafe.Add(ref xj, 3 * dp), sj, wj, a3);
                a4 = Square<TOps, TV>(ref Unsafe.Add(ref xj, 4 * dp), sj, wj, a4);
                a5 = Square<TOps, TV>(ref Unsafe.Add(ref xj, 5 * dp), sj, wj, a5);
                a6 = Square<TOps, TV>(ref Unsafe.Add(ref xj, 6 * dp), sj, wj, a6);
                a7 = Square<TOps, TV>(ref Unsafe.Add(ref xj, 7 * dp), sj, wj, a7);
            }
            ref double slot = ref Unsafe.Add(ref states, p * StateDoubles);
            TOps.Store(a0, ref slot);
            TOps.Store(a1, ref Unsafe.Add(ref slot, pointStride));
            TOps.Store(a2, ref Unsafe.Add(ref slot, 2 * pointStride));
            TOps.Store(a3, ref Unsafe.Add(ref slot, 3 * pointStride));
            TOps.Store(a4, ref Unsafe.Add(ref slot, 4 * pointStride));
            TOps.Store(a5, ref Unsafe.Add(ref slot, 5 * pointStride));
            TOps.Store(a6, ref Unsafe.Add(ref slot, 6 * pointStride));
            TOps.Store(a7, ref Unsafe.Add(ref slot, 7 * pointStride));
        }
    }

    /// <summary>The probe of one point (the tail of a batch, single-point calls); same operations per point as <see cref="Probe8{TOps, TV}"/>.</summary>
    private static void Probe1<TOps, TV>(DiagonalVelocityFrame frame, ref double x, ref double states, int probe)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        for (int p = 0; p < frame.PairCount; p++)
        {
            TOps.Store(TOps.Zero, ref Unsafe.Add(ref states, p * StateDoubles));
            Advance<TOps, TV>(frame, p, ref x, ref Unsafe.Add(ref states, p * StateDoubles), 0, probe);
        }
    }

    /// <summary>
    /// ℓ_p of one point from its probed sums: first the pair with the largest bound is finished, then every other pair
    /// is continued a tile at a time while its bound c_p − ½·(partial sum) still reaches the largest finished ℓ − 60 ln 2.
    /// A pair left behind gets ℓ = −∞: the bound only falls as nonnegative terms are added (rounding is monotone), so its
    /// full ℓ would have been dropped by pass 2 as well, and the finished ℓ are the bits of the full sum in order
    /// (docs/theory/structured-covariances.md#field). NaN bounds are never left behind.
    /// </summary>
    private static void Complete<TOps, TV>(DiagonalVelocityFrame frame, ref double x, ref double states, ref double ell, int probe)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int dp = frame.PaddedDimension, stride = frame.Stride, pairCount = frame.PairCount;
        int best = 0;
        double bestBound = double.NegativeInfinity;
        for (int p = 0; p < pairCount; p++)
        {
            double bound = Unsafe.Add(ref frame.Pairs, p * stride) - 0.5 * TOps.Sum(TOps.Load(ref Unsafe.Add(ref states, p * StateDoubles)));
            Unsafe.Add(ref ell, p) = bound;
            if (bound > bestBound)
            {
                bestBound = bound;
                best = p;
            }
        }
        if (probe == dp)
        {
            return;
        }
        double top = Advance<TOps, TV>(frame, best, ref x, ref Unsafe.Add(ref states, best * StateDoubles), probe, dp);
        Unsafe.Add(ref ell, best) = top;
        double threshold = top + NegligibleLogWeight;
        for (int p = 0; p < pairCount; p++)
        {
            if (p == best)
            {
                continue;
            }
            ref double l = ref Unsafe.Add(ref ell, p);
            for (int pos = probe; ; pos += TileLength)
            {
                if (l < threshold)
                {
                    l = double.NegativeInfinity;
                    break;
                }
                int end = Math.Min(pos + TileLength, dp);
                l = Advance<TOps, TV>(frame, p, ref x, ref Unsafe.Add(ref states, p * StateDoubles), pos, end);
                if (end == dp)
                {
                    threshold = Math.Max(threshold, l + NegligibleLogWeight); // NaN stops further leaving-behind
                    break;
                }
            }
        }
    }

    /// <summary>Continues pair <paramref name="p"/>'s sum over coordinates [from, to) (one chain, in order); returns c_p − ½ Σ.</summary>
    private static double Advance<TOps, TV>(DiagonalVelocityFrame frame, int p, ref double x, ref double state, int from, int to)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        ref double blk = ref Unsafe.Add(ref frame.Pairs, p * frame.Stride);
        ref double shift = ref Unsafe.Add(ref blk, frame.OffsetShift);
        ref double w = ref Unsafe.Add(ref blk, frame.OffsetW);
        TV a = TOps.Load(ref state);
        for (int j = from; j < to; j += lanes)
        {
            a = Square<TOps, TV>(ref Unsafe.Add(ref x, j), TOps.Load(ref Unsafe.Add(ref shift, j)), TOps.Load(ref Unsafe.Add(ref w, j)), a);
        }
        TOps.Store(a, ref state);
        return blk - 0.5 * TOps.Sum(a);
    }

    /// <summary>acc + z², z = w x + shift with shift = −w⊙m (see the class remarks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Square<TOps, TV>(ref double x, TV shift, TV w, TV acc)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        TV z = TOps.MultiplyAdd(w, TOps.Load(ref x), shift);
        return TOps.MultiplyAdd(z, z, acc);
    }

    /// <summary>
    /// v = Σ_p w_p u_p / Σ_p w_p at one point from its ℓ (pairs in ascending order, negligible ones skipped), written to
    /// the d entries at <paramref name="velocity"/>; returns the log-sum-exp M + log Σ_p w_p.
    /// </summary>
    private static double Drift<TOps, TV>(DiagonalVelocityFrame frame, ref double x, ref double ell, ref double acc, ref double velocity)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = frame.Dimension, dp = frame.PaddedDimension, stride = frame.Stride, pairCount = frame.PairCount, lanes = TOps.Count;
        int offK = frame.OffsetK, offB = frame.OffsetB;
        double max = double.NegativeInfinity;
        for (int p = 0; p < pairCount; p++)
        {
            max = Math.Max(max, Unsafe.Add(ref ell, p));
        }
        double floor = max + NegligibleLogWeight, sum = 0.0;
        int kept = 0, last = 0;
        for (int p = 0; p < pairCount; p++)
        {
            if (!(Unsafe.Add(ref ell, p) < floor))
            {
                kept++;
                last = p;
            }
        }
        if (kept == 1 && Unsafe.Add(ref ell, last) == max)
        {
            // One pair left, with weight e^0 = 1 (the usual case in high dimension): v = u_p, the general path's value
            // without its zeroing, weighting and division passes.
            ref double blk1 = ref Unsafe.Add(ref frame.Pairs, last * stride);
            ref double m1 = ref Unsafe.Add(ref blk1, DiagonalVelocityFrame.OffsetMean);
            ref double k1 = ref Unsafe.Add(ref blk1, offK);
            ref double b1 = ref Unsafe.Add(ref blk1, offB);
            // With d a multiple of 8 the result goes straight to the output row, else through acc and a copy of d entries.
            ref double out1 = ref d == dp ? ref velocity : ref acc;
            for (int j = 0; j < dp; j += lanes)
            {
                TV y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, j)), TOps.Load(ref Unsafe.Add(ref m1, j)));
                TOps.Store(TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k1, j)), y, TOps.Load(ref Unsafe.Add(ref b1, j))), ref Unsafe.Add(ref out1, j));
            }
            if (d != dp)
            {
                MemoryMarshal.CreateReadOnlySpan(ref acc, d).CopyTo(MemoryMarshal.CreateSpan(ref velocity, d));
            }
            return max;
        }
        for (int j = 0; j < dp; j += lanes)
        {
            TOps.Store(TOps.Zero, ref Unsafe.Add(ref acc, j));
        }
        for (int p = 0; p < pairCount; p++)
        {
            double l = Unsafe.Add(ref ell, p);
            if (l < floor)
            {
                continue; // NaN is kept, so a NaN point gets a NaN velocity
            }
            double weight = Math.Exp(l - max);
            sum += weight;
            TV wp = TOps.Create(weight);
            ref double blk = ref Unsafe.Add(ref frame.Pairs, p * stride);
            ref double m = ref Unsafe.Add(ref blk, DiagonalVelocityFrame.OffsetMean);
            ref double k = ref Unsafe.Add(ref blk, offK);
            ref double b = ref Unsafe.Add(ref blk, offB);
            for (int j = 0; j < dp; j += lanes)
            {
                TV y = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref x, j)), TOps.Load(ref Unsafe.Add(ref m, j)));
                TV u = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref k, j)), y, TOps.Load(ref Unsafe.Add(ref b, j)));
                ref double a = ref Unsafe.Add(ref acc, j);
                TOps.Store(TOps.MultiplyAdd(wp, u, TOps.Load(ref a)), ref a);
            }
        }
        // The largest weight is e^0 = 1, so sum ≥ 1 for finite ℓ.
        TV s = TOps.Create(sum);
        ref double output = ref d == dp ? ref velocity : ref acc;
        for (int j = 0; j < dp; j += lanes)
        {
            TOps.Store(TOps.Divide(TOps.Load(ref Unsafe.Add(ref acc, j)), s), ref Unsafe.Add(ref output, j));
        }
        if (d != dp)
        {
            MemoryMarshal.CreateReadOnlySpan(ref acc, d).CopyTo(MemoryMarshal.CreateSpan(ref velocity, d));
        }
        return max + Math.Log(sum);
    }
}

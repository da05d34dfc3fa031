using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GmmFlow.Simd;
using GmmFlow.Tests.Field;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Simd;

/// <summary>
/// The velocity kernels (<see cref="VelocityBatch"/>: the d = 1, 2, 3 block kernels, the general one, the point-by-point
/// gain from d = 16 with its 8×8 transposes and 64-point chunks) and the public APIs that feed them read and write only
/// inside the caller's spans: every input and output lies flush against a guard page, after its end and then before its
/// start, at every width this machine runs, for every tail (see <see cref="GuardSizes"/>). A stray access kills the test
/// host; results must also be bit-identical to the same call on ordinary arrays.
/// </summary>
public class GuardPageFieldTests
{
    [Fact]
    public void Velocity_batches_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach (int d in GuardSizes.Dimensions)
        {
            var frames = new VelocityFrame[GuardSizes.Components.Length];
            foreach (int n in GuardSizes.PointCountsFor(d))
            {
                int pairs = GuardSizes.Components[(n + d) % GuardSizes.Components.Length];
                VelocityFrame frame = frames[pairs - 1] ??= GuardedFrame(d, pairs);
                double[] x = GuardSizes.Values(n * d, seed: 1000 * d + n);
                foreach (SimdWidth width in SimdDispatch.Available())
                {
                    Check(frame, x, width, generalOnly: false);
                    if (d <= 3 && n <= 17)
                    {
                        Check(frame, x, width, generalOnly: true);
                    }
                }
            }
        }
    }

    [Fact]
    public void Large_velocity_batches_split_over_threads_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        // Enough points that the batch is split into chunks (a multiple of the lane count each, the last one short).
        foreach ((int d, int n) in new[] { (1, 4099), (2, 3001), (3, 2503), (7, 1001), (16, 333), (17, 301), (33, 129) })
        {
            VelocityFrame frame = GuardedFrame(d, pairs: 5);
            double[] x = GuardSizes.Values(n * d, seed: d);
            foreach (SimdWidth width in SimdDispatch.Available())
            {
                Check(frame, x, width, generalOnly: false);
            }
        }
    }

    [Fact]
    public void Single_point_velocities_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach (int d in GuardSizes.Dimensions)
        {
            VelocityFrame frame = GuardedFrame(d, pairs: 1 + d % 12);
            double[] x = GuardSizes.Values(d, seed: d);
            var expected = new double[d];
            double expectedLog = frame.Evaluate(x, expected);
            foreach (GuardSide side in GuardedArena.Sides)
            {
                using var arena = new GuardedArena(side);
                Span<double> v = arena.Allocate<double>(d);
                Assert.Equal(expectedLog, frame.Evaluate(arena.Copy<double>(x), v));
                GuardSizes.AssertBitIdentical(expected, v, $"d = {d}, {side}");
            }
        }
    }

    /// <summary>
    /// The kernels' scratch layouts, which the batch driver takes from the stack or a pool (where an overrun would go
    /// unnoticed): the block kernels with each SoA region (x, x − m, ℓ, the accumulator) in its own guarded buffer of
    /// exactly lanes × rows, and the point-by-point chunk kernel with a guarded scratch of exactly ChunkScratch doubles.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Velocity_kernel_scratch_stays_inside_its_layout(int lanes)
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        Assert.SkipUnless(SimdDispatch.Available().Contains((SimdWidth)lanes), "This width is not accelerated here.");
        foreach (int d in GuardSizes.Dimensions)
        {
            // The pair count sizes only the ℓ region (and the chunk kernel's weights): a few suffice.
            foreach (int pairs in d < VelocityFrame.RowsFromDimension ? new[] { 1, 3, 12 } : [1, 5])
            {
                VelocityFrame frame = GuardedFrame(d, pairs);
                if (frame.GainByPoint)
                {
                    foreach (int count in new[] { 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 57, 63, 64 })
                    {
                        CheckChunk(lanes, frame, GuardSizes.Values(count * d, seed: count));
                    }
                }
                else
                {
                    CheckBlock(lanes, frame, GuardSizes.Values(d * lanes, seed: d + pairs));
                }
            }
        }
    }

    private static void CheckBlock(int lanes, VelocityFrame frame, double[] xs)
    {
        int d = frame.Dimension, p = frame.PairCount;
        double[] expected = VelocityKernels.Block(lanes, frame, xs, new double[d * lanes], new double[p * lanes], new double[d * lanes]);
        foreach (GuardSide side in GuardedArena.Sides)
        {
            using var arena = new GuardedArena(side);
            double[] actual = VelocityKernels.Block(lanes, frame, arena.Copy<double>(xs), arena.Allocate<double>(d * lanes),
                                                    arena.Allocate<double>(p * lanes), arena.Allocate<double>(d * lanes));
            GuardSizes.AssertBitIdentical(expected, actual, $"block kernel, d = {d}, {p} pairs, {lanes} lanes, guard {side}");
        }
    }

    private static void CheckChunk(int lanes, VelocityFrame frame, double[] x)
    {
        int d = frame.Dimension, n = x.Length / d, scratch = VelocityKernelGeneral.ChunkScratch(frame, lanes);
        double[] expected = VelocityKernels.Chunk(lanes, frame, x, new double[n * d], new double[n], new double[scratch]);
        foreach (GuardSide side in GuardedArena.Sides)
        {
            using var arena = new GuardedArena(side);
            double[] actual = VelocityKernels.Chunk(lanes, frame, arena.Copy<double>(x), arena.Allocate<double>(n * d), arena.Allocate<double>(n),
                                                    arena.Allocate<double>(scratch));
            GuardSizes.AssertBitIdentical(expected, actual, $"chunk kernel, d = {d}, n = {n}, {frame.PairCount} pairs, {lanes} lanes, guard {side}");
        }
    }

    [Fact]
    public void Plan_velocities_and_flows_stay_inside_their_spans()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach ((int d, int k0, int k1) in new[] { (1, 2, 3), (2, 3, 2), (3, 4, 3), (5, 2, 2), (16, 3, 2), (17, 2, 3) })
        {
            var plan = TransportPlan.Create(Mixture(d, k0, seed: d), Mixture(d, k1, seed: -d),
                                            new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.5 });
            foreach (int n in new[] { 1, 2, 3, 7, 8, 9, 15, 16, 17, 63, 65 })
            {
                double[] x = GuardSizes.Values(n * d, seed: n);
                var expected = new double[n * d];
                plan.Velocities(0.4, x, expected);
                var expectedOne = new double[d];
                double expectedLog = plan.Velocity(0.4, x.AsSpan(0, d), expectedOne, BridgeField.ProbabilityFlow);
                var run = new TransportRunOptions { Steps = 3, SaveEvery = 2, Seed = 5 };
                var trajectory = new double[TransportPlan.TrajectorySnapshots(run) * n * d];
                double[] moved = plan.Transport(x, run, trajectory);
                var field = plan.CreateField(BridgeField.ProbabilityFlow);
                var flowOptions = new IntegrationOptions { Steps = 3, SaveEvery = 1, StartTime = 0.1, EndTime = 0.9 };
                var flowTrajectory = new double[FlowIntegrator.SnapshotCount(flowOptions) * n * d];
                double[][] flows = [.. Enumerable.Range(0, 4).Select(scheme => Integrate(scheme, field, x, flowOptions, flowTrajectory))];
                foreach (GuardSide side in GuardedArena.Sides)
                {
                    using var arena = new GuardedArena(side);
                    string context = $"d = {d}, n = {n}, guard {side}";
                    ReadOnlySpan<double> points = arena.Copy<double>(x);
                    Span<double> v = arena.Allocate<double>(n * d);
                    plan.Velocities(0.4, points, v);
                    GuardSizes.AssertBitIdentical(expected, v, context);
                    Span<double> one = arena.Allocate<double>(d);
                    Assert.Equal(expectedLog, plan.Velocity(0.4, arena.Copy<double>(x.AsSpan(0, d)), one, BridgeField.ProbabilityFlow));
                    GuardSizes.AssertBitIdentical(expectedOne, one, context);
                    Span<double> guardedTrajectory = arena.Allocate<double>(trajectory.Length);
                    GuardSizes.AssertBitIdentical(moved, plan.Transport(points, run, guardedTrajectory), context);
                    GuardSizes.AssertBitIdentical(trajectory, guardedTrajectory, context);
                    for (int scheme = 0; scheme < flows.Length; scheme++)
                    {
                        Span<double> states = arena.Copy<double>(x), snapshots = arena.Allocate<double>(flowTrajectory.Length);
                        Integrate(scheme, field, states, flowOptions, snapshots);
                        GuardSizes.AssertBitIdentical(flows[scheme], states, $"{context}, scheme {scheme}");
                    }
                }
            }
        }
    }

    /// <summary>Euler, Euler–Maruyama, Heun or RK4 on <paramref name="states"/> in place; returns the final states.</summary>
    private static double[] Integrate(int scheme, IVelocityField field, Span<double> states, IntegrationOptions options, Span<double> trajectory)
    {
        switch (scheme)
        {
            case 0: FlowIntegrator.Euler(field, states, options, trajectory); break;
            case 1: FlowIntegrator.EulerMaruyama(field, states, 0.3, seed: 4, options, trajectory); break;
            case 2: FlowIntegrator.Heun(field, states, options, trajectory); break;
            default: FlowIntegrator.RungeKutta4(field, states, options, trajectory); break;
        }
        return states.ToArray();
    }

    private static double[] Integrate(int scheme, IVelocityField field, double[] x, IntegrationOptions options, double[] trajectory)
        => Integrate(scheme, field, (double[])x.Clone(), options, trajectory.AsSpan());

    private static GaussianMixture Mixture(int d, int k, int seed)
    {
        double[] weights = [.. Enumerable.Repeat(1.0 / k, k)];
        double[] means = GuardSizes.Values(k * d, seed);
        double[] covariances = [.. Enumerable.Range(0, k).SelectMany(c => TestMatrices.RandomSpd(d, seed + c, shift: 0.5))];
        return new GaussianMixture(weights, means, covariances);
    }

    /// <summary>A frame whose own inputs (weights, means, factors, gains, offsets) were guarded too.</summary>
    private static VelocityFrame GuardedFrame(int d, int pairs)
    {
        var problem = FieldProblem.Random(d, pairs, seed: 31 * d + pairs);
        using var arena = new GuardedArena(GuardSide.After);
        return VelocityFrame.Create(d, arena.Copy<double>(problem.LogWeights), arena.Copy<double>(problem.Means),
            arena.Copy<double>(problem.Cholesky), TriangularFactor.Cholesky, arena.Copy<double>(problem.Gains), arena.Copy<double>(problem.Offsets));
    }

    /// <summary>The batch at <paramref name="width"/> on guarded spans (with and without log-densities) against ordinary arrays.</summary>
    private static void Check(VelocityFrame frame, double[] x, SimdWidth width, bool generalOnly)
    {
        int d = frame.Dimension, n = x.Length / d;
        var expected = new double[n * d];
        var expectedLog = new double[n];
        frame.EvaluateBatch(x, expected, expectedLog, parallel: false, width, generalOnly);
        foreach (GuardSide side in GuardedArena.Sides)
        {
            using var arena = new GuardedArena(side);
            ReadOnlySpan<double> points = arena.Copy<double>(x);
            Span<double> v = arena.Allocate<double>(n * d);
            Span<double> log = arena.Allocate<double>(n);
            string context = $"d = {d}, n = {n}, {width}, general only {generalOnly}, guard {side}";
            frame.EvaluateBatch(points, v, log, parallel: true, width, generalOnly);
            GuardSizes.AssertBitIdentical(expected, v, context);
            GuardSizes.AssertBitIdentical(expectedLog, log, context);
            if (side == GuardSide.After)
            {
                v.Clear();
                frame.EvaluateBatch(points, v, default, parallel: true, width, generalOnly);
                GuardSizes.AssertBitIdentical(expected, v, context);
            }
        }
    }

    /// <summary>One width's velocity kernels called directly on the given buffers; each returns everything it wrote.</summary>
    private static class VelocityKernels
    {
        public static double[] Block(int lanes, VelocityFrame frame, Span<double> xs, Span<double> ys, Span<double> ell, Span<double> acc) => lanes switch
        {
            1 => Block<SimdScalar, double>(frame, xs, ys, ell, acc),
            2 => Block<Simd128, Vector128<double>>(frame, xs, ys, ell, acc),
            4 => Block<Simd256, Vector256<double>>(frame, xs, ys, ell, acc),
            _ => Block<Simd512, Vector512<double>>(frame, xs, ys, ell, acc),
        };

        public static double[] Chunk(int lanes, VelocityFrame frame, Span<double> x, Span<double> v, Span<double> log, Span<double> scratch) => lanes switch
        {
            1 => Chunk<SimdScalar, double>(frame, x, v, log, scratch),
            2 => Chunk<Simd128, Vector128<double>>(frame, x, v, log, scratch),
            4 => Chunk<Simd256, Vector256<double>>(frame, x, v, log, scratch),
            _ => Chunk<Simd512, Vector512<double>>(frame, x, v, log, scratch),
        };

        /// <summary>The fixed-d kernel for d ≤ 3, then the general one (both run for d ≤ 3).</summary>
        private static double[] Block<TOps, TV>(VelocityFrame frame, Span<double> xs, Span<double> ys, Span<double> ell, Span<double> acc)
            where TOps : struct, ISimdOps<TV>
            where TV : struct
        {
            var sums = new double[4 * TOps.Count];
            TV sum, max;
            switch (frame.Dimension)
            {
                case 1: VelocityKernelD1.Block<TOps, TV>(frame, ref Ref(xs), ref Ref(ell), ref Ref(acc), out sum, out max); break;
                case 2: VelocityKernelD2.Block<TOps, TV>(frame, ref Ref(xs), ref Ref(ell), ref Ref(acc), out sum, out max); break;
                case 3: VelocityKernelD3.Block<TOps, TV>(frame, ref Ref(xs), ref Ref(ell), ref Ref(acc), out sum, out max); break;
                default: VelocityKernelGeneral.Block<TOps, TV>(frame, ref Ref(xs), ref Ref(ys), ref Ref(ell), ref Ref(acc), out sum, out max); break;
            }
            TOps.Store(sum, ref sums[0]);
            TOps.Store(max, ref sums[TOps.Count]);
            double[] fixedD = [.. sums.AsSpan(0, 2 * TOps.Count), .. acc, .. ell];
            if (frame.Dimension > 3)
            {
                return fixedD;
            }
            VelocityKernelGeneral.Block<TOps, TV>(frame, ref Ref(xs), ref Ref(ys), ref Ref(ell), ref Ref(acc), out sum, out max);
            TOps.Store(sum, ref sums[2 * TOps.Count]);
            TOps.Store(max, ref sums[3 * TOps.Count]);
            return [.. fixedD, .. sums.AsSpan(2 * TOps.Count), .. acc, .. ell];
        }

        private static double[] Chunk<TOps, TV>(VelocityFrame frame, Span<double> x, Span<double> v, Span<double> log, Span<double> scratch)
            where TOps : struct, ISimdOps<TV>
            where TV : struct
        {
            VelocityKernelGeneral.ChunkByPoint<TOps, TV>(frame, ref Ref(x), ref Ref(v), ref Ref(log), wantLogDensity: true, log.Length, ref Ref(scratch));
            return [.. v, .. log];
        }

        private static ref double Ref(Span<double> span) => ref MemoryMarshal.GetReference(span);
    }
}

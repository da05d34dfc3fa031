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
                    if (d <= 3)
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
            v.Clear();
            frame.EvaluateBatch(points, v, default, parallel: true, width, generalOnly);
            GuardSizes.AssertBitIdentical(expected, v, context);
        }
    }
}

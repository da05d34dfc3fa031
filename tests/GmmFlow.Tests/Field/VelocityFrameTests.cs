using GmmFlow.Simd;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Field;

public class VelocityFrameTests
{
    public static TheoryData<int> Dimensions()
    {
        var data = new TheoryData<int>();
        for (int d = 1; d <= 20; d++)
        {
            data.Add(d);
        }
        data.Add(64);
        return data;
    }

    internal static void AssertClose(FieldProblem problem, ReadOnlySpan<double> x, ReadOnlySpan<double> v, double logDensity, string context)
    {
        int d = problem.Dimension;
        int n = x.Length / d;
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> xi = x.Slice(i * d, d);
            (double[] vRef, double ldRef) = problem.Reference(xi);
            double scale = 1.0;
            for (int p = 0; p < problem.Pairs; p++)
            {
                scale = Math.Max(scale, problem.Drift(p, xi).Max(Math.Abs));
            }
            for (int j = 0; j < d; j++)
            {
                double err = Math.Abs(v[i * d + j] - vRef[j]);
                Assert.True(err <= 1e-10 * scale, $"{context}: point {i} coord {j}: {v[i * d + j]} vs {vRef[j]} (err {err:E2}, scale {scale:G3})");
            }
            if (!double.IsNaN(logDensity))
            {
                Assert.True(Math.Abs(logDensity - ldRef) <= 1e-10 * (1 + Math.Abs(ldRef)), $"{context}: point {i} log-density {logDensity} vs {ldRef}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Dimensions))]
    public void Batch_MatchesScalarReference_EveryWidthAndKernel(int d)
    {
        var problem = FieldProblem.Random(d, pairs: 5, seed: 100 + d);
        VelocityFrame frame = problem.BuildFrame();
        const int n = 37; // not a multiple of 2, 4 or 8: every width runs a padded tail
        double[] x = problem.RandomPoints(n, seed: d);
        var v = new double[n * d];
        var ld = new double[n];
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            foreach (bool general in new[] { false, true })
            {
                Array.Fill(v, double.NaN);
                Array.Fill(ld, double.NaN);
                frame.EvaluateBatch(x, v, ld, parallel: false, width, general);
                for (int i = 0; i < n; i++)
                {
                    AssertClose(problem, x.AsSpan(i * d, d), v.AsSpan(i * d, d), ld[i], $"d={d} {width} general={general}");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(13)]
    [InlineData(16)]
    [InlineData(20)]
    public void EveryWidth_GivesBitIdenticalResults(int d)
    {
        // The kernels use fused multiply-adds and their own exp at every width, so forcing a width must not change a
        // single bit. Widely spread means make some weights underflow in some lanes but not in others.
        var problem = FieldProblem.Random(d, pairs: 7, seed: 50 + d, meanSpread: 6.0);
        VelocityFrame frame = problem.BuildFrame();
        const int n = 45;
        double[] x = problem.RandomPoints(n, seed: 1, scale: 12.0);
        var v0 = new double[n * d];
        var l0 = new double[n];
        frame.EvaluateBatch(x, v0, l0, parallel: false, SimdWidth.Scalar, generalOnly: false);
        var v = new double[n * d];
        var l = new double[n];
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(x, v, l, parallel: false, width, generalOnly: false);
            Assert.Equal(v0, v);
            Assert.Equal(l0, l);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void InverseFactor_GivesSameFieldAsCholeskyFactor(int d)
    {
        var problem = FieldProblem.Random(d, pairs: 4, seed: 7 * d);
        VelocityFrame fromL = problem.BuildFrame();
        VelocityFrame fromW = VelocityFrame.Create(d, problem.LogWeights, problem.Means, problem.InverseCholesky(),
                                                   TriangularFactor.InverseCholesky, problem.Gains, problem.Offsets);
        double[] x = problem.RandomPoints(19, seed: 3);
        var v1 = new double[x.Length];
        var v2 = new double[x.Length];
        var l1 = new double[19];
        var l2 = new double[19];
        fromL.EvaluateBatch(x, v1, l1);
        fromW.EvaluateBatch(x, v2, l2);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(v1[i], v2[i], 1e-11);
        }
        for (int i = 0; i < l1.Length; i++)
        {
            Assert.Equal(l1[i], l2[i], 1e-11);
        }
    }

    [Theory]
    [InlineData(1, 1e3)]
    [InlineData(2, 1e3)]
    [InlineData(2, 1e6)]
    [InlineData(3, 1e5)]
    [InlineData(5, 1e4)]
    [InlineData(16, 1e6)]
    public void FarFromData_VelocityIsTheMostLikelyPairsDrift(int d, double radius)
    {
        var problem = FieldProblem.Random(d, pairs: 6, seed: 11 * d);
        VelocityFrame frame = problem.BuildFrame();
        var rng = new Random(5);
        const int n = 21;
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            // Random direction scaled to |x| = radius.
            double norm = 0;
            for (int j = 0; j < d; j++)
            {
                x[i * d + j] = rng.NextDouble() - 0.5;
                norm += x[i * d + j] * x[i * d + j];
            }
            for (int j = 0; j < d; j++)
            {
                x[i * d + j] *= radius / Math.Sqrt(norm);
            }
        }
        var v = new double[n * d];
        var ld = new double[n];
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(x, v, ld, parallel: false, width, generalOnly: false);
            for (int i = 0; i < n; i++)
            {
                ReadOnlySpan<double> xi = x.AsSpan(i * d, d);
                double[] terms = problem.PairLogTerms(xi);
                int best = Array.IndexOf(terms, terms.Max());
                double[] u = problem.Drift(best, xi);
                Assert.True(double.IsFinite(ld[i]), $"log-density not finite at |x| = {radius}");
                Assert.Equal(terms[best], ld[i], Math.Abs(terms[best]) * 1e-11);
                for (int j = 0; j < d; j++)
                {
                    Assert.True(double.IsFinite(v[i * d + j]));
                    Assert.True(Math.Abs(v[i * d + j] - u[j]) <= 1e-11 * u.Max(Math.Abs),
                                $"{width} point {i} coord {j}: {v[i * d + j]} vs u_best {u[j]}");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(9)]
    public void SinglePair_VelocityIsExactlyItsDrift(int d)
    {
        // Small integers everywhere: b + K (x − m) is exact in floating point, so v must equal it bit for bit
        // (the single weight is e^0 = 1 and the normalisation divides by exactly 1).
        var rng = new Random(d);
        double[] m = Enumerable.Range(0, d).Select(_ => (double)rng.Next(-5, 6)).ToArray();
        double[] l = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            l[i * d + i] = 1 + rng.Next(0, 3);
            for (int j = 0; j < i; j++)
            {
                l[i * d + j] = rng.Next(-1, 2);
            }
        }
        double[] k = Enumerable.Range(0, d * d).Select(_ => (double)rng.Next(-4, 5)).ToArray();
        double[] b = Enumerable.Range(0, d).Select(_ => (double)rng.Next(-9, 10)).ToArray();
        VelocityFrame frame = VelocityFrame.Create(d, [Math.Log(1.0)], m, l, TriangularFactor.Cholesky, k, b);
        const int n = 13;
        double[] x = Enumerable.Range(0, n * d).Select(_ => (double)rng.Next(-100, 101)).ToArray();
        var v = new double[n * d];
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            foreach (bool general in new[] { false, true })
            {
                frame.EvaluateBatch(x, v, default, parallel: false, width, general);
                for (int i = 0; i < n; i++)
                {
                    for (int r = 0; r < d; r++)
                    {
                        double u = b[r];
                        for (int j = 0; j < d; j++)
                        {
                            u += k[r * d + j] * (x[i * d + j] - m[j]);
                        }
                        Assert.Equal(u, v[i * d + r]);
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(16)]
    public void SinglePoint_IsBitIdenticalToBatch(int d)
    {
        var problem = FieldProblem.Random(d, pairs: 10, seed: 21);
        VelocityFrame frame = problem.BuildFrame();
        double[] x = problem.RandomPoints(11, seed: 2);
        var v = new double[x.Length];
        var ld = new double[11];
        frame.EvaluateBatch(x, v, ld);
        var vi = new double[d];
        for (int i = 0; i < 11; i++)
        {
            double l = frame.Evaluate(x.AsSpan(i * d, d), vi);
            Assert.Equal(ld[i], l);
            Assert.Equal(v.AsSpan(i * d, d).ToArray(), vi);
        }
    }

    [Fact]
    public void Rebuilding_ForNewTime_ReusesStorageAndReplacesPairs()
    {
        var a = FieldProblem.Random(3, pairs: 6, seed: 1);
        var b = FieldProblem.Random(3, pairs: 2, seed: 2);
        VelocityFrame frame = a.BuildFrame();
        frame.Load(b.LogWeights, b.Means, b.Cholesky, TriangularFactor.Cholesky, b.Gains, b.Offsets);
        Assert.Equal(2, frame.PairCount);
        double[] x = b.RandomPoints(5, seed: 1);
        var v = new double[x.Length];
        var ld = new double[5];
        frame.EvaluateBatch(x, v, ld);
        for (int i = 0; i < 5; i++)
        {
            AssertClose(b, x.AsSpan(i * 3, 3), v.AsSpan(i * 3, 3), ld[i], "reloaded");
        }
    }

    [Fact]
    public void Frame_GrowsWhenPairsAreAppended()
    {
        var problem = FieldProblem.Random(2, pairs: 9, seed: 8);
        var frame = new VelocityFrame(2, pairCapacity: 1);
        for (int p = 0; p < 9; p++)
        {
            frame.SetPair(p, problem.LogWeights[p], problem.Means.AsSpan(p * 2, 2), problem.Cholesky.AsSpan(p * 4, 4),
                          TriangularFactor.Cholesky, problem.Gains.AsSpan(p * 4, 4), problem.Offsets.AsSpan(p * 2, 2));
        }
        double[] x = problem.RandomPoints(3, seed: 1);
        var v = new double[6];
        var ld = new double[3];
        frame.EvaluateBatch(x, v, ld);
        for (int i = 0; i < 3; i++)
        {
            AssertClose(problem, x.AsSpan(i * 2, 2), v.AsSpan(i * 2, 2), ld[i], "grown");
        }
    }

    [Fact]
    public void Kernel_DoesNotThrowOnNaN_AndANaNPointLeavesItsLaneNeighboursIntact()
    {
        // The kernel is not the validating layer: a NaN point gives a NaN velocity, and the other points in the same
        // vector are unaffected (lanes never mix).
        var problem = FieldProblem.Random(3, pairs: 4, seed: 6);
        VelocityFrame frame = problem.BuildFrame();
        double[] x = problem.RandomPoints(8, seed: 2);
        var clean = new double[x.Length];
        frame.EvaluateBatch(x, clean, default, parallel: false, SimdDispatch.Best, generalOnly: false);
        foreach (bool general in new[] { false, true })
        {
            double[] dirty = (double[])x.Clone();
            dirty[3 * 3 + 1] = double.NaN; // point 3
            var v = new double[x.Length];
            var ld = new double[8];
            frame.EvaluateBatch(dirty, v, ld, parallel: false, SimdDispatch.Best, general);
            for (int i = 0; i < 8; i++)
            {
                for (int j = 0; j < 3; j++)
                {
                    if (i == 3)
                    {
                        Assert.True(double.IsNaN(v[i * 3 + j]));
                    }
                    else
                    {
                        Assert.Equal(clean[i * 3 + j], v[i * 3 + j], 1e-15);
                    }
                }
            }
            Assert.True(double.IsNaN(ld[3]));
        }
    }

    [Fact]
    public void ShapeErrors_AreArgumentExceptions()
    {
        var problem = FieldProblem.Random(3, pairs: 2, seed: 1);
        VelocityFrame frame = problem.BuildFrame();
        Assert.Throws<ArgumentException>(() => frame.EvaluateBatch(new double[7], new double[7]));
        Assert.Throws<ArgumentException>(() => frame.EvaluateBatch(new double[6], new double[3]));
        Assert.Throws<ArgumentException>(() => frame.EvaluateBatch(new double[6], new double[6], new double[3]));
        Assert.Throws<ArgumentException>(() => frame.Evaluate(new double[2], new double[3]));
        Assert.Throws<InvalidOperationException>(() => new VelocityFrame(3).EvaluateBatch(new double[3], new double[3]));
        double[] badL = (double[])problem.Cholesky.Clone();
        badL[3 * 3 + 4] = 0; // pair 1, diagonal entry 1
        Assert.Throws<ArgumentOutOfRangeException>(() => VelocityFrame.Create(3, problem.LogWeights, problem.Means, badL,
            TriangularFactor.Cholesky, problem.Gains, problem.Offsets));
    }
}

[Collection(nameof(RunsAlone))]
public class VelocityFrameRunsAloneTests
{
    [Theory]
    [InlineData(2, 19)]
    [InlineData(16, 19)]
    [InlineData(3, 1)]
    public void Parallel_IsBitIdenticalToSerial(int d, int pairs)
    {
        var problem = FieldProblem.Random(d, pairs, seed: 4);
        VelocityFrame frame = problem.BuildFrame();
        const int n = 20_003;
        double[] x = problem.RandomPoints(n, seed: 9);
        var serial = new double[x.Length];
        var threaded = new double[x.Length];
        var ldSerial = new double[n];
        var ldParallel = new double[n];
        frame.EvaluateBatch(x, serial, ldSerial, parallel: false);
        frame.EvaluateBatch(x, threaded, ldParallel, parallel: true);
        Assert.Equal(serial, threaded);
        Assert.Equal(ldSerial, ldParallel);
        // And a few points against the reference, so the comparison is not between two wrong answers.
        for (int i = 0; i < n; i += 4001)
        {
            VelocityFrameTests.AssertClose(problem, x.AsSpan(i * d, d), threaded.AsSpan(i * d, d), ldParallel[i], "parallel");
        }
    }


    [Theory]
    [InlineData(2, 10)]
    [InlineData(16, 19)]
    public void Evaluation_AllocatesNothing(int d, int pairs)
    {
        var problem = FieldProblem.Random(d, pairs, seed: 3);
        VelocityFrame frame = problem.BuildFrame();
        int n = d == 2 ? 50_000 : 10_000;
        double[] x = problem.RandomPoints(n, seed: 1);
        var v = new double[x.Length];
        var ld = new double[n];
        var vi = new double[d];
        // Warm up (JIT, the pooled parallel job).
        frame.Evaluate(x.AsSpan(0, d), vi);
        frame.EvaluateBatch(x, v, ld, parallel: false);
        frame.EvaluateBatch(x, v, ld);
        frame.EvaluateBatch(x, v, ld);

        // This thread: some round of 100 single-point calls and one serial batch allocates nothing. One round, not
        // several, failed 2 of ~10 full-suite runs on a slowed VM with 8 048 bytes (never alone, never in the
        // sixty runs before; the source, in the runtime or the pool, was not identified). An allocation of the
        // evaluation itself would show in every round.
        var perRound = new List<long>();
        for (int round = 0; round < 5 && (perRound.Count == 0 || perRound[^1] != 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                frame.Evaluate(x.AsSpan(d * i, d), vi);
            }
            frame.EvaluateBatch(x, v, ld, parallel: false);
            perRound.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(perRound[^1] == 0, $"this thread allocated {string.Join(", ", perRound)} bytes in 5 rounds of 100 calls and a batch");

        // All threads (this collection runs alone). The runtime may allocate now and then on its own (tiering,
        // thread statics), so steady state means: some round of ten calls allocates nothing at all.
        long allocated = long.MaxValue;
        for (int round = 0; round < 5 && allocated != 0; round++)
        {
            long total = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 10; i++)
            {
                frame.EvaluateBatch(x, v, ld);
            }
            allocated = GC.GetTotalAllocatedBytes(precise: true) - total;
        }
        Assert.True(allocated == 0, $"parallel evaluation allocated {allocated} bytes in each of 5 rounds of 10 calls");
    }
}

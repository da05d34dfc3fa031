using GmmFlow.Simd;

namespace GmmFlow.Tests.Field;

/// <summary>
/// The d ≥ <see cref="VelocityFrame.RowsFromDimension"/> (16) path (<see cref="VelocityFrame.GainByPoint"/>): drifts applied point by point, only for the pairs whose
/// weight is at least 2⁻⁶⁰ of the largest at that point.
/// </summary>
public class PointwiseGainTests
{
    /// <summary>Widely separated pairs, points drawn near randomly chosen pair means (so neighbours in a block differ in their dominant pair).</summary>
    private static (FieldProblem Problem, double[] Points) Separated(int d, int pairs, int n, int seed)
    {
        var problem = FieldProblem.Random(d, pairs, seed, meanSpread: 3.0);
        var rng = new Random(seed + 1);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var x = new double[n * d];
        var xi = new double[d];
        for (int i = 0; i < n; i++)
        {
            int p = rng.Next(pairs);
            for (int j = 0; j < d; j++)
            {
                xi[j] = Normal();
            }
            for (int r = 0; r < d; r++)
            {
                double s = problem.Means[p * d + r];
                for (int j = 0; j <= r; j++)
                {
                    s += problem.Cholesky[(p * d + r) * d + j] * xi[j];
                }
                x[i * d + r] = s;
            }
        }
        return (problem, x);
    }

    /// <summary>Mean number of pairs per point whose weight relative to the largest is below 2⁻⁶⁰ (by the reference).</summary>
    private static double NegligiblePerPoint(FieldProblem problem, double[] x)
    {
        int d = problem.Dimension, n = x.Length / d, count = 0;
        for (int i = 0; i < n; i++)
        {
            double[] terms = problem.PairLogTerms(x.AsSpan(i * d, d));
            double max = terms.Max();
            count += terms.Count(t => t - max < -60 * Math.Log(2));
        }
        return (double)count / n;
    }

    private static void AssertNear(FieldProblem problem, double[] x, double[] v, double[] ld, double tolerance, string context)
    {
        int d = problem.Dimension;
        for (int i = 0; i < x.Length / d; i++)
        {
            ReadOnlySpan<double> xi = x.AsSpan(i * d, d);
            (double[] vRef, double ldRef) = problem.Reference(xi);
            double scale = 1.0;
            for (int p = 0; p < problem.Pairs; p++)
            {
                scale = Math.Max(scale, problem.Drift(p, xi).Max(Math.Abs));
            }
            for (int j = 0; j < d; j++)
            {
                double err = Math.Abs(v[i * d + j] - vRef[j]);
                Assert.True(err <= tolerance * scale, $"{context}: point {i} coord {j}: {v[i * d + j]} vs {vRef[j]} (err {err:E2}, scale {scale:G3})");
            }
            Assert.True(Math.Abs(ld[i] - ldRef) <= tolerance * (1 + Math.Abs(ldRef)), $"{context}: point {i} log-density {ld[i]} vs {ldRef}");
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(20)]
    [InlineData(24)]
    [InlineData(33)]
    public void SeparatedPairs_MostLeftOut_MatchReference_EveryWidth(int d)
    {
        var (problem, x) = Separated(d, pairs: 19, n: 61, seed: 300 + d);
        // The case must exercise the skipping: most pairs are negligible at most points.
        Assert.True(NegligiblePerPoint(problem, x) > 10, $"only {NegligiblePerPoint(problem, x):F1} of 19 pairs negligible per point");
        var v = new double[x.Length];
        var ld = new double[x.Length / d];
        VelocityFrame frame = problem.BuildFrame();
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            Array.Fill(v, double.NaN);
            frame.EvaluateBatch(x, v, ld, parallel: false, width, generalOnly: false);
            AssertNear(problem, x, v, ld, 1e-12, $"d={d} {width}");
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(17)]
    public void OverlappingPairs_NoneLeftOut_MatchReference_EveryWidth(int d)
    {
        // All means at 0 and points near them: (almost) every pair carries weight at every point.
        var problem = FieldProblem.Random(d, pairs: 7, seed: 40 + d, meanSpread: 0.0);
        double[] x = problem.RandomPoints(37, seed: 3, scale: 0.5);
        Assert.True(NegligiblePerPoint(problem, x) < 0.5, $"{NegligiblePerPoint(problem, x):F2} of 7 pairs negligible per point");
        VelocityFrame frame = problem.BuildFrame();
        var v = new double[x.Length];
        var ld = new double[37];
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(x, v, ld, parallel: false, width, generalOnly: false);
            AssertNear(problem, x, v, ld, 1e-12, $"d={d} {width}");
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(19)]
    [InlineData(20)]
    [InlineData(40)]
    public void PointsVelocity_DoesNotDependOnItsBlockMatesOrWidth(int d)
    {
        // Which pairs are left out is decided per point, so shuffling the batch (new neighbours in every vector),
        // evaluating one point at a time or changing the width must not change a single bit.
        var (problem, x) = Separated(d, pairs: 19, n: 45, seed: 70 + d);
        VelocityFrame frame = problem.BuildFrame();
        int n = x.Length / d;
        var v0 = new double[x.Length];
        var l0 = new double[n];
        frame.EvaluateBatch(x, v0, l0, parallel: false, SimdWidth.Scalar, generalOnly: false);

        int[] order = Enumerable.Range(0, n).OrderBy(i => (i * 7919) % n).Reverse().ToArray();
        var xs = new double[x.Length];
        for (int i = 0; i < n; i++)
        {
            x.AsSpan(order[i] * d, d).CopyTo(xs.AsSpan(i * d, d));
        }
        var v = new double[x.Length];
        var l = new double[n];
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(xs, v, l, parallel: false, width, generalOnly: false);
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(v0.AsSpan(order[i] * d, d).ToArray(), v.AsSpan(i * d, d).ToArray());
                Assert.Equal(l0[order[i]], l[i]);
            }
        }
        var vi = new double[d];
        for (int i = 0; i < n; i++)
        {
            double li = frame.Evaluate(x.AsSpan(i * d, d), vi);
            Assert.Equal(v0.AsSpan(i * d, d).ToArray(), vi);
            Assert.Equal(l0[i], li);
        }
    }

    [Theory]
    [InlineData(16, 37)]
    [InlineData(17, 64)]
    [InlineData(19, 21)]
    [InlineData(26, 65)]
    [InlineData(18, 22)]
    [InlineData(23, 39)]
    public void GroupedPoints_OverlappingPairs_BitIdenticalToOnePointAtATime(int d, int n)
    {
        // Overlapping pairs count at (almost) every point, so a chunk applies each pair's drift to its points four at a
        // time (sharing K's loads), with n mod 4 = 1, 2 or 3 left over; one point at a time always takes the
        // single-point route. Both must give the same bits at every width (odd d exercises the odd last column, d = 17,
        // 19, 23 a row vector left over at some widths; n = 65 leaves a chunk of one point).
        var problem = FieldProblem.Random(d, pairs: 7, seed: 90 + d, meanSpread: 0.0);
        double[] x = problem.RandomPoints(n, seed: 5, scale: 0.5);
        VelocityFrame frame = problem.BuildFrame();
        var v = new double[x.Length];
        var ld = new double[n];
        var vi = new double[d];
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(x, v, ld, parallel: false, width, generalOnly: false);
            for (int i = 0; i < n; i++)
            {
                frame.EvaluateBatch(x.AsSpan(i * d, d), vi, ld.AsSpan(0, 0), parallel: false, width, generalOnly: false);
                Assert.Equal(vi, v.AsSpan(i * d, d).ToArray());
            }
        }
    }

    [Fact]
    public void TinyWeightWithHugeDrift_IsLeftOutWithinTheDocumentedBound()
    {
        // Pair 1 sits where its weight relative to pair 0 is about 2⁻⁷⁰ (not 0 in double precision, so the old
        // "exactly zero" rule kept it) while its drift is 10⁸: leaving it out moves v by at most 2⁻⁶⁰ |u_1| per
        // the kernel's documentation, here ~10⁻¹³ relative to |u_1|, and far less in absolute terms than |u_0|.
        const int d = 16;
        Assert.True(d >= VelocityFrame.RowsFromDimension);
        double[] means = new double[2 * d];
        double[] chol = new double[2 * d * d];
        double[] gains = new double[2 * d * d];
        double[] offsets = new double[2 * d];
        for (int i = 0; i < d; i++)
        {
            chol[i * d + i] = 1.0;
            chol[d * d + i * d + i] = 1.0;
            gains[i * d + i] = -1.0;
            gains[d * d + i * d + i] = 1e8;
            offsets[i] = 1.0;
        }
        // |x − m_1|² − |x − m_0|² = 2·70 ln 2 at x = 0 when m_1 = (s, 0, …) with s² = 140 ln 2.
        means[d] = Math.Sqrt(140 * Math.Log(2));
        var problem = new FieldProblem
        {
            Dimension = d, Pairs = 2, LogWeights = [Math.Log(0.5), Math.Log(0.5)], Means = means, Cholesky = chol, Gains = gains, Offsets = offsets,
        };
        double[] x = new double[5 * d];
        for (int i = 0; i < 5; i++)
        {
            x[i * d + 1] = 0.01 * i; // orthogonal to m_1 − m_0: the same relative weight 2⁻⁷⁰ at every point
        }
        double[] terms = problem.PairLogTerms(x.AsSpan(0, d));
        Assert.InRange(terms[1] - terms[0], -70.5 * Math.Log(2), -69.5 * Math.Log(2));

        VelocityFrame frame = problem.BuildFrame();
        var v = new double[x.Length];
        var ld = new double[5];
        frame.EvaluateBatch(x, v, ld, parallel: false);
        for (int i = 0; i < 5; i++)
        {
            ReadOnlySpan<double> xi = x.AsSpan(i * d, d);
            (double[] vRef, _) = problem.Reference(xi);
            double[] u0 = problem.Drift(0, xi), u1 = problem.Drift(1, xi);
            for (int j = 0; j < d; j++)
            {
                double bound = Math.ScaleB(Math.Abs(u1[j]), -60) + 1e-15 * Math.Max(Math.Abs(u0[j]), Math.ScaleB(Math.Abs(u1[j]), -70));
                Assert.True(Math.Abs(v[i * d + j] - vRef[j]) <= bound, $"point {i} coord {j}: {v[i * d + j]} vs {vRef[j]}, bound {bound:E2}");
                // Left out, not merely rounded away: v is pair 0's drift alone.
                Assert.Equal(u0[j], v[i * d + j], 1e-15);
            }
        }
    }

    [Fact]
    public void NaNPoint_GivesNaN_AndLeavesItsLaneNeighboursIntact()
    {
        var (problem, x) = Separated(16, pairs: 19, n: 16, seed: 5);
        VelocityFrame frame = problem.BuildFrame();
        var clean = new double[x.Length];
        frame.EvaluateBatch(x, clean, default, parallel: false);
        x[5 * 16 + 7] = double.NaN;
        var v = new double[x.Length];
        var ld = new double[16];
        frame.EvaluateBatch(x, v, ld, parallel: false);
        for (int i = 0; i < 16; i++)
        {
            for (int j = 0; j < 16; j++)
            {
                if (i == 5)
                {
                    Assert.True(double.IsNaN(v[i * 16 + j]));
                }
                else
                {
                    Assert.Equal(clean[i * 16 + j], v[i * 16 + j]);
                }
            }
        }
        Assert.True(double.IsNaN(ld[5]));
    }
}

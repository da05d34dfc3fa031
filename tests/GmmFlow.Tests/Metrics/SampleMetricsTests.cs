using CsCheck;
using GmmFlow.Simd;

namespace GmmFlow.Tests.Metrics;

public class SampleMetricsTests
{
    /// <summary>n points of N(mean, I_d) from a seeded System.Random (independent of the library's generator).</summary>
    private static double[] Gaussian(int n, int d, double[] mean, int seed, double scale = 1.0)
    {
        var rng = new Random(seed);
        var x = new double[n * d];
        for (int i = 0; i < x.Length; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = mean[i % d] + scale * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return x;
    }

    private static double Distance(double[] a, int i, double[] b, int j, int d)
    {
        double s = 0;
        for (int k = 0; k < d; k++)
        {
            s += (a[i * d + k] - b[j * d + k]) * (a[i * d + k] - b[j * d + k]);
        }
        return Math.Sqrt(s);
    }

    /// <summary>Textbook unbiased MMD², straight from the definition.</summary>
    private static double MmdReference(double[] x, double[] y, int d, double[] h)
    {
        double K(double[] a, int i, double[] b, int j)
        {
            double r = Distance(a, i, b, j, d);
            return h.Average(hb => Math.Exp(-r * r / (2 * hb * hb)));
        }
        int m = x.Length / d, n = y.Length / d;
        double sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
                if (i != j) sxx += K(x, i, x, j);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) syy += K(y, i, y, j);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                sxy += K(x, i, y, j);
        return sxx / (m * (m - 1.0)) + syy / (n * (n - 1.0)) - 2 * sxy / ((double)m * n);
    }

    private static double EnergyReference(double[] x, double[] y, int d)
    {
        int m = x.Length / d, n = y.Length / d;
        double sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
                sxx += Distance(x, i, x, j, d);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                syy += Distance(y, i, y, j, d);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                sxy += Distance(x, i, y, j, d);
        return 2 * sxy / ((double)m * n) - sxx / ((double)m * m) - syy / ((double)n * n);
    }

    [Theory]
    [InlineData(1, 37, 29)]
    [InlineData(3, 37, 29)]
    [InlineData(5, 16, 9)]
    public void MmdAndEnergy_MatchTextbookFormulas_AtEveryWidth(int d, int m, int n)
    {
        double[] x = Gaussian(m, d, new double[d], seed: 1);
        double[] y = Gaussian(n, d, Enumerable.Repeat(0.4, d).ToArray(), seed: 2, scale: 1.3);
        double[] h = [0.7, 1.5, 3.0];
        double mmdRef = MmdReference(x, y, d, h);
        double energyRef = EnergyReference(x, y, d);
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            Assert.Equal(mmdRef, SampleMetrics.MmdSquared(x, y, d, h, parallel: true, width), 1e-13);
            Assert.Equal(energyRef, SampleMetrics.EnergyDistance(x, y, d, parallel: true, width), 1e-12);
        }
    }

    [Fact]
    public void PermutationStatistics_AreTheMmdOfEachRelabelledSplit()
    {
        const int d = 2, m = 41, n = 23;
        double[] x = Gaussian(m, d, [0, 0], seed: 3);
        double[] y = Gaussian(n, d, [0.5, 0], seed: 4);
        double[] h = [0.5, 1, 2];
        const int permutations = 13; // 15 label columns + padding: exercises the partial vector blocks
        double[] stats = SampleMetrics.PermutationStatistics(x, y, d, permutations, seed: 77, h, parallel: true, SimdWidth.Auto, out _);
        Assert.Equal(MmdReference(x, y, d, h), stats[0], 1e-12);

        double[] pooled = [.. x, .. y];
        var order = new int[m + n];
        for (int b = 1; b <= permutations; b++)
        {
            SampleMetrics.FirstSampleOfRelabelling(new CounterRng(77), b, m + n, m, order);
            var inFirst = new bool[m + n];
            foreach (int i in order.AsSpan(0, m))
            {
                inFirst[i] = true;
            }
            double[] xb = Enumerable.Range(0, m + n).Where(i => inFirst[i]).SelectMany(i => pooled.AsSpan(i * d, d).ToArray()).ToArray();
            double[] yb = Enumerable.Range(0, m + n).Where(i => !inFirst[i]).SelectMany(i => pooled.AsSpan(i * d, d).ToArray()).ToArray();
            Assert.Equal(MmdReference(xb, yb, d, h), stats[b], 1e-12);
        }

        // Same numbers at every width and thread count (the tiles are summed in order).
        foreach (SimdWidth width in SimdDispatch.Available())
        {
            Assert.Equal(stats, SampleMetrics.PermutationStatistics(x, y, d, permutations, 77, h, parallel: false, width, out _));
        }
    }

    [Fact]
    public void PermutationTest_SameDistribution_GivesUnremarkablePValues()
    {
        // Under the null the p-value is (super-)uniform: with fixed seeds none of these should be below 0.01, and
        // their mean should be near ½.
        var pValues = new List<double>();
        for (int trial = 0; trial < 8; trial++)
        {
            double[] x = Gaussian(300, 2, [1, -1], seed: 100 + trial);
            double[] y = Gaussian(250, 2, [1, -1], seed: 200 + trial);
            MmdTestResult r = SampleMetrics.MmdPermutationTest(x, y, 2, permutations: 200, seed: (ulong)trial);
            Assert.Equal(200, r.Permutations);
            Assert.Equal(3, r.Bandwidths.Count);
            pValues.Add(r.PValue);
        }
        Assert.All(pValues, p => Assert.True(p > 0.01, $"p = {p}"));
        Assert.InRange(pValues.Average(), 0.25, 0.75);
    }

    [Fact]
    public void PermutationTest_ShiftedGaussians_GivesTheSmallestPossiblePValue()
    {
        double[] x = Gaussian(300, 3, [0, 0, 0], seed: 5);
        double[] y = Gaussian(300, 3, [0.5, 0, 0], seed: 6);
        MmdTestResult r = SampleMetrics.MmdPermutationTest(x, y, 3, permutations: 200, seed: 1);
        Assert.Equal(1.0 / 201, r.PValue);
        Assert.True(r.MmdSquared > 0);
    }

    [Fact]
    public void EnergyDistance_IsZeroForIdenticalSetsAndPositiveOtherwise()
    {
        double[] x = Gaussian(200, 3, [0, 0, 0], seed: 1);
        Assert.Equal(0.0, SampleMetrics.EnergyDistance(x, x, 3));
        // The same points in another order: still the same empirical distribution.
        double[] shuffled = Enumerable.Range(0, 200).Reverse().SelectMany(i => x.AsSpan(i * 3, 3).ToArray()).ToArray();
        Assert.True(SampleMetrics.EnergyDistance(x, shuffled, 3) < 1e-13);
        double[] y = Gaussian(150, 3, [0.3, 0, 0], seed: 2);
        Assert.True(SampleMetrics.EnergyDistance(x, y, 3) > 0.01);
    }

    [Fact]
    public void Metrics_AreSymmetricAndNonNegative_Property()
    {
        Gen<(int D, double[] X, double[] Y)> gen =
            from d in Gen.Int[1, 4]
            from m in Gen.Int[2, 30]
            from n in Gen.Int[2, 30]
            from x in Gen.Double[-3, 3].Array[m * d]
            from y in Gen.Double[-3, 3].Array[n * d]
            select (d, x, y);
        gen.Sample(t =>
        {
            (int d, double[] x, double[] y) = t;
            double[] h = [0.5, 1, 2];
            double e1 = SampleMetrics.EnergyDistance(x, y, d), e2 = SampleMetrics.EnergyDistance(y, x, d);
            Assert.True(e1 >= 0);
            Assert.Equal(e1, e2, 1e-12 * (1 + e1));
            double m1 = SampleMetrics.MmdSquared(x, y, d, h), m2 = SampleMetrics.MmdSquared(y, x, d, h);
            Assert.Equal(m1, m2, 1e-12);
            double s1 = SampleMetrics.SlicedWasserstein2Squared(x, y, d, 16, 3), s2 = SampleMetrics.SlicedWasserstein2Squared(y, x, d, 16, 3);
            Assert.True(s1 >= 0);
            Assert.Equal(s1, s2);
        }, iter: 60);
    }

    [Fact]
    public void SlicedW2_OfShiftedGaussians_IsSquaredShiftOverDimension()
    {
        // E_θ (θ·μ)² = |μ|²/d for θ uniform on the sphere; the empirical 1-D W2² adds a small positive bias O(log n / n).
        const int d = 4, n = 4000;
        double[] mu = [1.5, -1.0, 0.5, 1.0]; // |μ|² = 4.5, |μ|²/d = 1.125
        double[] x = Gaussian(n, d, new double[d], seed: 11);
        double[] y = Gaussian(n, d, mu, seed: 12);
        double sw = SampleMetrics.SlicedWasserstein2Squared(x, y, d, directions: 2000, seed: 5);
        // Direction sampling: sd of (θ·μ)² is |μ|² √(2(d−1)/(d²(d+2))) ≈ 1.42 here, /√2000 ≈ 0.032.
        Assert.InRange(sw, 1.125 - 0.1, 1.125 + 0.1);
        // Deterministic in the seed and the thread count.
        Assert.Equal(sw, SampleMetrics.SlicedWasserstein2Squared(x, y, d, 2000, 5, parallel: false));
    }

    [Fact]
    public void OneDimensionalW2_MatchesBruteForceQuantileIntegration()
    {
        var rng = new Random(4);
        foreach ((int m, int n) in new[] { (3, 5), (7, 7), (1, 4), (12, 8) })
        {
            double[] a = Enumerable.Range(0, m).Select(_ => rng.NextDouble() * 4 - 2).Order().ToArray();
            double[] b = Enumerable.Range(0, n).Select(_ => rng.NextDouble() * 4 - 2).Order().ToArray();
            // Both quantile functions are constant on cells of width 1/(mn): average over cell midpoints.
            double brute = 0;
            for (int k = 0; k < m * n; k++)
            {
                double u = (k + 0.5) / (m * n);
                double diff = a[(int)(u * m)] - b[(int)(u * n)];
                brute += diff * diff;
            }
            brute /= m * n;
            Assert.Equal(brute, SampleMetrics.Wasserstein2SquaredSorted(a, b), 1e-14);
        }
        // A shifted copy: exactly the squared shift.
        double[] s = [0.0, 1.0, 2.5];
        Assert.Equal(0.25, SampleMetrics.Wasserstein2SquaredSorted(s, s.Select(v => v + 0.5).ToArray()), 1e-15);
    }

    [Fact]
    public void MedianHeuristic_IsTheMedianPairwiseDistance()
    {
        double[] x = Gaussian(20, 2, [0, 0], seed: 1);
        double[] y = Gaussian(15, 2, [1, 0], seed: 2);
        double[] pooled = [.. x, .. y];
        var distances = new List<double>();
        for (int i = 0; i < 35; i++)
            for (int j = i + 1; j < 35; j++)
                distances.Add(Distance(pooled, i, pooled, j, 2));
        distances.Sort();
        int c = distances.Count; // 595, odd
        double median = distances[c / 2];
        double[] h = SampleMetrics.MedianHeuristicBandwidths(x, y, 2);
        Assert.Equal([0.5 * median, median, 2 * median], h);

        // Even count and the selection routine against a full sort.
        var rng = new Random(9);
        double[] values = Enumerable.Range(0, 1000).Select(_ => Math.Round(rng.NextDouble() * 50)).ToArray(); // many ties
        double[] sorted = values.Order().ToArray();
        Assert.Equal(0.5 * (sorted[499] + sorted[500]), Selection.Median((double[])values.Clone()));
    }

    [Fact]
    public void InvalidSamples_AreRejected()
    {
        double[] ok = [0, 1, 2, 3];
        var error = Assert.Throws<NonFiniteValueException>(() => SampleMetrics.EnergyDistance(ok, [0, 1, double.NaN, 2], 2));
        Assert.Equal(1, error.Index);
        Assert.Equal(0, error.Position);
        Assert.Throws<ArgumentException>(() => SampleMetrics.MmdSquared(ok, [1, 2, 3], 2));
        Assert.Throws<ArgumentException>(() => SampleMetrics.MmdSquared(ok, [1, 2], 2)); // one point: no unbiased estimate
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleMetrics.MmdSquared(ok, ok, 2, [1.0, -1.0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SampleMetrics.SlicedWasserstein2Squared(ok, ok, 2, directions: 0));
    }
}

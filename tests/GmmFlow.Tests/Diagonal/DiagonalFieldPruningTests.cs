using GmmFlow.Simd;

namespace GmmFlow.Tests.Diagonal;

/// <summary>
/// The diagonal field kernel leaves a pair's log-weight sum unfinished once its bound falls 60 ln 2 below a finished
/// pair's ℓ. On separated groups of near-identical pairs (most pairs left behind after the first coordinates, a few
/// kept and mixed), points between groups (two groups kept) and a NaN in the last coordinate (nothing may be left
/// behind), the result must equal the plain-loop policy over all pairs, at every SIMD width, alone as in a batch.
/// </summary>
public class DiagonalFieldPruningTests
{
    [Theory]
    [InlineData(136)] // one tile after the probe, partly filled
    [InlineData(200)]
    [InlineData(512)]
    public void Field_with_pairs_left_behind_equals_the_direct_policy_over_all_pairs(int d)
    {
        const int groups = 4, perGroup = 3, pairs = groups * perGroup;
        var rng = new Random(d);
        var centers = new double[groups * d];
        for (int i = 0; i < centers.Length; i++)
        {
            centers[i] = rng.NextDouble() < 0.5 ? -1.0 : 1.0;
        }
        var frame = new DiagonalVelocityFrame(d, 2);
        var logW = new double[pairs];
        var m = new double[pairs * d];
        var s = new double[pairs * d];
        var k = new double[pairs * d];
        var bOff = new double[pairs * d];
        for (int p = 0; p < pairs; p++)
        {
            int g = p % groups; // groups interleaved in pair order, so the best pair is rarely the first
            logW[p] = Math.Log(0.2 + rng.NextDouble());
            for (int j = 0; j < d; j++)
            {
                m[p * d + j] = centers[g * d + j] + 0.02 * (rng.NextDouble() - 0.5);
                s[p * d + j] = 0.05 + 0.05 * rng.NextDouble();
                k[p * d + j] = rng.NextDouble() - 0.5;
                bOff[p * d + j] = rng.NextDouble() - 0.5;
            }
            frame.SetPair(p, logW[p], m.AsSpan(p * d, d), s.AsSpan(p * d, d), k.AsSpan(p * d, d), bOff.AsSpan(p * d, d));
        }

        // 16 points in the groups, 4 halfway between two groups, 8 closer to one group by a log-weight gap of about
        // 0, 4, …, 28 (weights e^−gap: the pairs a wrong bound would drop first), 1 with NaN last (29: three blocks and a tail).
        const int inGroups = 16, between = 12, n = inGroups + between + 1;
        var x = new double[n * d];
        for (int i = 0; i < inGroups; i++)
        {
            int g = i % groups;
            for (int j = 0; j < d; j++)
            {
                x[i * d + j] = centers[g * d + j] + 0.25 * Normal(rng);
            }
        }
        for (int i = inGroups; i < inGroups + between; i++)
        {
            int g = i % groups, h = (g + 1) % groups, r = i - inGroups - 4;
            // ℓ_g − ℓ_h ≈ ½ Σ_j Δ_j² (1 − 2α)/s ≈ 13.9·d·(1 − 2α) for x = c_g + α (c_h − c_g), Δ_j ∈ {0, ±2} half the time.
            double alpha = r < 0 ? 0.5 : 0.5 - 4.0 * r / (2 * 13.9 * d);
            double jitter = r < 0 ? 0.01 : 0.0;
            for (int j = 0; j < d; j++)
            {
                x[i * d + j] = centers[g * d + j] + alpha * (centers[h * d + j] - centers[g * d + j]) + jitter * Normal(rng);
            }
        }
        x.AsSpan((n - 1) * d, d).Fill(0.5);
        x[n * d - 1] = double.NaN;

        var reference = new double[n * d];
        var referenceLd = new double[n];
        for (int i = 0; i < n - 1; i++)
        {
            referenceLd[i] = DiagonalMixtures.DirectField(x.AsSpan(i * d, d), logW, m, s, k, bOff, reference.AsSpan(i * d, d));
        }
        var v = new double[n * d];
        var ld = new double[n];
        var single = new double[d];
        foreach (var width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(x, v, ld, parallel: false, width);
            for (int i = 0; i < n - 1; i++)
            {
                // In a group the kept pairs' ℓ are O(d) apart at most, so their weights carry ~1e-13 relative error; between
                // groups the two groups' ℓ are O(d·Δ²/s) ≈ 10⁴ in size, and their rounding moves the weights by up to ~1e-11.
                double tolerance = i < inGroups ? 1e-12 : 1e-9;
                string what = $"{width} d = {d} point {i}";
                double rel = DiagonalMixtures.Relative(v.AsSpan(i * d, d), reference.AsSpan(i * d, d));
                Assert.True(rel <= tolerance, $"{what}: velocity differs by {rel:g3}");
                Assert.True(Math.Abs(ld[i] - referenceLd[i]) <= 1e-12 * Math.Abs(referenceLd[i]), $"{what}: log-density {ld[i]:R} vs {referenceLd[i]:R}");
            }
            Assert.All(v.AsSpan((n - 1) * d, d).ToArray(), value => Assert.True(double.IsNaN(value)));
            Assert.True(double.IsNaN(ld[n - 1]));
        }

        // The public single-point call gives the bits of the batch, for every point.
        frame.EvaluateBatch(x, v, ld, parallel: false);
        for (int i = 0; i < n - 1; i++)
        {
            double logDensity = frame.Evaluate(x.AsSpan(i * d, d), single);
            Assert.Equal(v.AsSpan(i * d, d).ToArray(), single);
            Assert.Equal(ld[i], logDensity);
        }
    }

    [Theory]
    [InlineData(136)]
    [InlineData(512)]
    public void Pairs_just_above_the_cut_are_kept_and_those_below_it_dropped_without_changing_the_result(int d)
    {
        // Pairs share mean, variance and weight except in coordinate 0, and the points sit on the shared mean elsewhere:
        // a pair's bound after the first coordinates is then its final ℓ, ℓ_p = ℓ_best − gap_p. Pairs with gaps 5 … 40
        // (weights e^−5 … e^−40) must be kept in full, those at 45 … 55 may be dropped.
        double[] gaps = [20, 0, 45, 5, 35, 10, 55, 15, 40, 25, 50, 30];
        int pairs = gaps.Length;
        var rng = new Random(d + 1);
        var logW = new double[pairs];
        var m = new double[pairs * d];
        var s = new double[pairs * d];
        var k = new double[pairs * d];
        var bOff = new double[pairs * d];
        var frame = new DiagonalVelocityFrame(d, 2);
        var shared = new double[d];
        for (int j = 0; j < d; j++)
        {
            shared[j] = rng.NextDouble() - 0.5;
        }
        for (int p = 0; p < pairs; p++)
        {
            shared.CopyTo(m.AsSpan(p * d, d));
            m[p * d] = Math.Sqrt(2 * gaps[p]); // ½ (x₀ − m₀)² = gap at x₀ = 0
            s.AsSpan(p * d, d).Fill(1.0);
            for (int j = 0; j < d; j++)
            {
                k[p * d + j] = rng.NextDouble() - 0.5;
                bOff[p * d + j] = 10 * (rng.NextDouble() - 0.5);
            }
            frame.SetPair(p, 0.0, m.AsSpan(p * d, d), s.AsSpan(p * d, d), k.AsSpan(p * d, d), bOff.AsSpan(p * d, d));
        }
        const int n = 11;
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            shared.CopyTo(x.AsSpan(i * d, d));
            x[i * d] = 0.1 * (i - 5); // small moves of x₀ keep the order of the pairs, shift the gaps slightly
        }
        var v = new double[n * d];
        var ld = new double[n];
        var reference = new double[d];
        foreach (var width in SimdDispatch.Available())
        {
            frame.EvaluateBatch(x, v, ld, parallel: false, width);
            for (int i = 0; i < n; i++)
            {
                double referenceLd = DiagonalMixtures.DirectField(x.AsSpan(i * d, d), logW, m, s, k, bOff, reference);
                double rel = DiagonalMixtures.Relative(v.AsSpan(i * d, d), reference);
                Assert.True(rel <= 1e-13, $"{width} d = {d} point {i}: velocity differs by {rel:g3}");
                Assert.True(Math.Abs(ld[i] - referenceLd) <= 1e-13 * Math.Abs(referenceLd), $"{width} d = {d} point {i}: log-density");
            }
        }
    }

    private static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}

using System.Numerics.Tensors;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// Distances between two samples (N×d and M×d row-major): kernel MMD with a permutation test, energy distance
/// and sliced Wasserstein-2. Used to check that transported samples match a target mixture.
/// </summary>
/// <remarks>
/// The O(N²) sums run on all cores with SIMD lanes over pairs; every result is independent of the thread count
/// (each row or tile is summed in a fixed order and the partial sums are combined in index order).
/// Randomness (permutations, projection directions) comes from <see cref="CounterRng"/> and the given seed.
/// </remarks>
public static class SampleMetrics
{
    /// <summary>Median-heuristic scale factors: bandwidths h·{½, 1, 2}.</summary>
    private static readonly double[] HeuristicScales = [0.5, 1.0, 2.0];

    /// <summary>Points of the pooled sample used for the median heuristic (evenly strided when there are more).</summary>
    private const int HeuristicPoints = 1000;

    /// <summary>
    /// Bandwidths h·{½, 1, 2} with h the median Euclidean distance between points of the pooled sample
    /// (of an evenly strided subset of 1000 points when larger). If the median is 0 (mostly repeated points), h is
    /// the mean distance, and 1 if every point coincides.
    /// </summary>
    public static double[] MedianHeuristicBandwidths(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension)
    {
        Validate(x, y, dimension, minimumPoints: 1);
        int d = dimension;
        int nx = x.Length / d, total = nx + y.Length / d;
        int used = Math.Min(total, HeuristicPoints);
        var pts = new double[used * d];
        for (int s = 0; s < used; s++)
        {
            int idx = (int)((long)s * total / used);
            ReadOnlySpan<double> src = idx < nx ? x.Slice(idx * d, d) : y.Slice((idx - nx) * d, d);
            src.CopyTo(pts.AsSpan(s * d, d));
        }
        var dist = new double[used * (used - 1) / 2];
        double mean = 0.0;
        for (int i = 0, k = 0; i < used; i++)
        {
            ReadOnlySpan<double> pi = pts.AsSpan(i * d, d);
            for (int j = i + 1; j < used; j++, k++)
            {
                dist[k] = TensorPrimitives.Distance(pi, pts.AsSpan(j * d, d));
                mean += dist[k];
            }
        }
        double h = dist.Length == 0 ? 0.0 : Selection.Median(dist);
        if (h == 0.0)
        {
            h = dist.Length == 0 ? 0.0 : mean / dist.Length;
        }
        if (h == 0.0)
        {
            h = 1.0;
        }
        var result = new double[HeuristicScales.Length];
        for (int b = 0; b < result.Length; b++)
        {
            result[b] = h * HeuristicScales[b];
        }
        return result;
    }

    /// <summary>
    /// Unbiased MMD² (Gretton et al. 2012, eq. 3) with the kernel k(x, y) = (1/B) Σ_b exp(−|x − y|² / (2 h_b²)):
    /// mean k over distinct pairs within x, plus within y, minus twice the mean over cross pairs. Can be slightly
    /// negative when the distributions agree. Needs at least two points in each sample.
    /// </summary>
    /// <param name="x">First sample, N×d row-major.</param>
    /// <param name="y">Second sample, M×d row-major.</param>
    /// <param name="dimension">d.</param>
    /// <param name="bandwidths">h_b &gt; 0; empty: <see cref="MedianHeuristicBandwidths"/>.</param>
    public static double MmdSquared(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, ReadOnlySpan<double> bandwidths = default)
        => MmdSquared(x, y, dimension, bandwidths, parallel: true, SimdWidth.Auto);

    internal static double MmdSquared(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, ReadOnlySpan<double> bandwidths,
                                      bool parallel, SimdWidth width)
    {
        Validate(x, y, dimension, minimumPoints: 2);
        double[] h = ResolveBandwidths(x, y, dimension, bandwidths);
        var term = new GaussianKernelTerm(h);
        (double sxx, double syy, double sxy) = PairSums(x, y, dimension, term, parallel, width);
        double m = x.Length / dimension, n = y.Length / dimension;
        // Within-sample sums are over i < j; each unordered pair counts twice among the m(m−1) ordered ones.
        return 2.0 * sxx / (m * (m - 1)) + 2.0 * syy / (n * (n - 1)) - 2.0 * sxy / (m * n);
    }

    /// <summary>
    /// Energy distance 2 E|X − Y| − E|X − X'| − E|Y − Y'| (Székely &amp; Rizzo) between the two empirical
    /// distributions (the V-statistic: means over all ordered pairs, including i = j). It is ≥ 0, and 0 exactly when
    /// the two samples hold the same points; negative round-off (≲ 1e−16 relative) is returned as 0.
    /// </summary>
    public static double EnergyDistance(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension)
        => EnergyDistance(x, y, dimension, parallel: true, SimdWidth.Auto);

    internal static double EnergyDistance(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, bool parallel, SimdWidth width)
    {
        Validate(x, y, dimension, minimumPoints: 1);
        (double sxx, double syy, double sxy) = PairSums(x, y, dimension, new DistanceTerm(), parallel, width);
        double m = x.Length / dimension, n = y.Length / dimension;
        double e = 2.0 * sxy / (m * n) - 2.0 * sxx / (m * m) - 2.0 * syy / (n * n);
        return Math.Max(0.0, e);
    }

    /// <summary>
    /// Sliced Wasserstein-2, squared: the mean over <paramref name="directions"/> random unit vectors θ (uniform on
    /// the sphere) of W2²(θ·X, θ·Y), each 1-D distance exact between the sorted projections (quantile functions
    /// matched on the merged grid of i/N and j/M, so unequal sample sizes are fine). For N(μ₁, Σ) against N(μ₂, Σ)
    /// its expectation over directions is |μ₁ − μ₂|²/d.
    /// </summary>
    /// <param name="x">First sample, N×d row-major.</param>
    /// <param name="y">Second sample, M×d row-major.</param>
    /// <param name="dimension">d.</param>
    /// <param name="directions">Number of random directions (≥ 1).</param>
    /// <param name="seed">Direction l is drawn from stream l of <c>new CounterRng(seed)</c>.</param>
    public static double SlicedWasserstein2Squared(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, int directions = 128, ulong seed = 0)
        => SlicedWasserstein2Squared(x, y, dimension, directions, seed, parallel: true);

    internal static double SlicedWasserstein2Squared(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, int directions, ulong seed,
                                                     bool parallel)
    {
        Validate(x, y, dimension, minimumPoints: 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(directions, 1);
        var perDirection = new double[directions];
        var body = new SlicedDirection
        {
            X = x.ToArray(), Y = y.ToArray(), D = dimension, Rng = new CounterRng(seed), Result = perDirection,
        };
        if (parallel)
        {
            ParallelRange.For(directions, 1, body);
        }
        else
        {
            body.Execute(0, directions);
        }
        double sum = 0.0;
        foreach (double w in perDirection)
        {
            sum += w;
        }
        return sum / directions;
    }

    /// <summary>
    /// Two-sample permutation test of "x and y come from the same distribution" with the unbiased MMD² statistic:
    /// the pooled sample is split at random into sizes N and M <paramref name="permutations"/> times and the
    /// statistic recomputed each time. All relabellings are evaluated in one pass over the pooled pairs
    /// (N_pool²/2 kernel values plus N_pool²/2 · (permutations + 2)/8 vector multiply-adds).
    /// </summary>
    /// <param name="x">First sample, N×d row-major (N ≥ 2).</param>
    /// <param name="y">Second sample, M×d row-major (M ≥ 2).</param>
    /// <param name="dimension">d.</param>
    /// <param name="permutations">Random relabellings (≥ 1); the smallest attainable p-value is 1/(permutations + 1).</param>
    /// <param name="seed">Relabelling b uses stream b of <c>new CounterRng(seed)</c>.</param>
    /// <param name="bandwidths">h_b &gt; 0; empty: <see cref="MedianHeuristicBandwidths"/> of the pooled sample.</param>
    public static MmdTestResult MmdPermutationTest(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, int permutations = 200,
                                                   ulong seed = 0, ReadOnlySpan<double> bandwidths = default)
    {
        double[] statistics = PermutationStatistics(x, y, dimension, permutations, seed, bandwidths, parallel: true, SimdWidth.Auto, out double[] h);
        int atLeast = 0;
        for (int b = 1; b <= permutations; b++)
        {
            if (statistics[b] >= statistics[0])
            {
                atLeast++;
            }
        }
        return new MmdTestResult(statistics[0], (1.0 + atLeast) / (1.0 + permutations), permutations, h);
    }

    /// <summary>Statistic of the identity labelling (index 0) and of each relabelling b (index b).</summary>
    internal static double[] PermutationStatistics(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, int permutations, ulong seed,
                                                   ReadOnlySpan<double> bandwidths, bool parallel, SimdWidth width, out double[] usedBandwidths)
    {
        Validate(x, y, dimension, minimumPoints: 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(permutations, 1);
        usedBandwidths = ResolveBandwidths(x, y, dimension, bandwidths);
        int d = dimension, m = x.Length / d, n = y.Length / d, total = m + n;
        var z = new double[total * d];
        x.CopyTo(z);
        y.CopyTo(z.AsSpan(x.Length));
        double[] zSoa = PairwiseRowSums.ToSoa(z, d, PermutationKernelSums.SoaStride(total));

        // Label columns: 0 = the samples as given, 1..B = relabellings, B + 1 = all ones, then zero padding to a multiple of 8.
        int onesColumn = permutations + 1;
        int columns = (permutations + 2 + 7) / 8 * 8;
        var labels = new double[(long)total * columns];
        for (int i = 0; i < total; i++)
        {
            labels[(long)i * columns + onesColumn] = 1.0;
        }
        for (int i = 0; i < m; i++)
        {
            labels[(long)i * columns] = 1.0;
        }
        var rng = new CounterRng(seed);
        var order = new int[total];
        for (int b = 1; b <= permutations; b++)
        {
            FirstSampleOfRelabelling(rng, b, total, m, order);
            for (int k = 0; k < m; k++)
            {
                labels[(long)order[k] * columns + b] = 1.0;
            }
        }

        var p = new double[columns];
        var q = new double[columns];
        var v = new double[columns];
        PermutationKernelSums.Compute(z, zSoa, d, labels, columns, onesColumn, new GaussianKernelTerm(usedBandwidths), p, q, v,
                                      parallel, width);

        // Per labelling with e its 0/1 column and r_i = Σ_{j≠i} K_ij: within-first = 2P, eᵀr = V + Q, all pairs = 2U
        // with U = Q[ones]; cross = eᵀr − within-first; within-second = all − 2eᵀr + within-first.
        double all = 2.0 * q[onesColumn];
        double mm = m, nn = n;
        var statistics = new double[permutations + 1];
        for (int b = 0; b <= permutations; b++)
        {
            double sxx = 2.0 * p[b];
            double er = v[b] + q[b];
            double sxy = er - sxx;
            double syy = all - 2.0 * er + sxx;
            statistics[b] = sxx / (mm * (mm - 1)) + syy / (nn * (nn - 1)) - 2.0 * sxy / (mm * nn);
        }
        return statistics;
    }

    /// <summary>
    /// Pooled indices assigned to the first sample by relabelling <paramref name="b"/>: the first
    /// <paramref name="m"/> entries of <paramref name="order"/> after a partial Fisher–Yates shuffle of 0..total−1
    /// whose k-th swap uses counter k of stream b.
    /// </summary>
    internal static void FirstSampleOfRelabelling(CounterRng rng, int b, int total, int m, int[] order)
    {
        for (int i = 0; i < total; i++)
        {
            order[i] = i;
        }
        for (int k = 0; k < m; k++)
        {
            int span = total - k;
            int j = k + Math.Min(span - 1, (int)(rng.Uniform((ulong)b, (ulong)k) * span));
            (order[k], order[j]) = (order[j], order[k]);
        }
    }

    /// <summary>(Σ_{i&lt;j} within x, Σ_{i&lt;j} within y, Σ over all cross pairs) of a pair term.</summary>
    private static (double Sxx, double Syy, double Sxy) PairSums<TTerm>(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int d, TTerm term,
                                                                        bool parallel, SimdWidth width)
        where TTerm : struct, IPairTerm
    {
        double[] xa = x.ToArray(), ya = y.ToArray();
        int m = xa.Length / d, n = ya.Length / d;
        double[] xSoa = PairwiseRowSums.ToSoa(xa, d, m);
        double[] ySoa = PairwiseRowSums.ToSoa(ya, d, n);
        var rowsX = new double[m];
        var rowsY = new double[n];
        PairwiseRowSums.Compute(xa, xSoa, m, m, d, upperOnly: true, term, rowsX, parallel, width);
        double sxx = SumInOrder(rowsX);
        PairwiseRowSums.Compute(ya, ySoa, n, n, d, upperOnly: true, term, rowsY, parallel, width);
        double syy = SumInOrder(rowsY);
        PairwiseRowSums.Compute(xa, ySoa, n, n, d, upperOnly: false, term, rowsX, parallel, width);
        double sxy = SumInOrder(rowsX);
        return (sxx, syy, sxy);
    }

    private static double SumInOrder(double[] values)
    {
        double s = 0.0;
        foreach (double v in values)
        {
            s += v;
        }
        return s;
    }

    private static double[] ResolveBandwidths(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, ReadOnlySpan<double> bandwidths)
    {
        if (bandwidths.IsEmpty)
        {
            return MedianHeuristicBandwidths(x, y, dimension);
        }
        foreach (double h in bandwidths)
        {
            if (!(h > 0.0) || !double.IsFinite(h))
            {
                throw new ArgumentOutOfRangeException(nameof(bandwidths), h, "Kernel bandwidths must be finite and positive.");
            }
        }
        return bandwidths.ToArray();
    }

    private static void Validate(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int dimension, int minimumPoints)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (x.Length % dimension != 0)
        {
            throw new ArgumentException($"x has length {x.Length}, not a multiple of the dimension {dimension}.", nameof(x));
        }
        if (y.Length % dimension != 0)
        {
            throw new ArgumentException($"y has length {y.Length}, not a multiple of the dimension {dimension}.", nameof(y));
        }
        if (x.Length / dimension < minimumPoints || y.Length / dimension < minimumPoints)
        {
            throw new ArgumentException($"Each sample needs at least {minimumPoints} point(s).");
        }
        FiniteCheck.ThrowIfNonFinite(x, dimension, "point of sample x", nameof(x));
        FiniteCheck.ThrowIfNonFinite(y, dimension, "point of sample y", nameof(y));
    }

    /// <summary>
    /// From this d on, one TensorPrimitives.Dot per point beats the scalar loop (1.5–3.9× at d = 16–64); below it the
    /// call overhead dominates and the scalar loop is about 2× faster at d = 2 (tp-quick in the benchmarks).
    /// </summary>
    private const int TensorDotMinimumDimension = 8;

    /// <summary>One random direction: project both samples, sort, exact 1-D W2² between the empirical quantile functions.</summary>
    private struct SlicedDirection : IRangeBody
    {
        public double[] X, Y, Result;
        public int D;
        public CounterRng Rng;

        public readonly void Execute(int start, int end)
        {
            for (int direction = start; direction < end; direction++)
            {
                Run(direction);
            }
        }

        private readonly void Run(int direction)
        {
            int d = D;
            Span<double> theta = d <= 256 ? stackalloc double[d] : new double[d];
            double norm;
            ulong counter = 0;
            do
            {
                // A standard normal vector normalised is uniform on the sphere; redraw in the (probability ~0) case of 0.
                Rng.FillNormal((ulong)direction, counter, theta);
                counter += (ulong)(d + 1) / 2;
                norm = TensorPrimitives.SumOfSquares<double>(theta);
            }
            while (norm == 0.0);
            TensorPrimitives.Multiply(theta, 1.0 / Math.Sqrt(norm), theta);
            double[] a = Project(X, theta);
            double[] b = Project(Y, theta);
            Array.Sort(a);
            Array.Sort(b);
            Result[direction] = Wasserstein2SquaredSorted(a, b);
        }

        private static double[] Project(double[] points, ReadOnlySpan<double> theta)
        {
            int d = theta.Length;
            var p = new double[points.Length / d];
            if (d >= TensorDotMinimumDimension)
            {
                for (int i = 0; i < p.Length; i++)
                {
                    p[i] = TensorPrimitives.Dot(points.AsSpan(i * d, d), theta);
                }
                return p;
            }
            for (int i = 0; i < p.Length; i++)
            {
                double s = 0.0;
                for (int k = 0; k < d; k++)
                {
                    s += points[i * d + k] * theta[k];
                }
                p[i] = s;
            }
            return p;
        }
    }

    /// <summary>
    /// ∫₀¹ (F⁻¹(u) − G⁻¹(u))² du for the empirical distributions of sorted <paramref name="a"/> (m atoms) and
    /// <paramref name="b"/> (n atoms): both quantile functions are constant between consecutive points of the merged
    /// grid {i/m} ∪ {j/n}, compared in integer units of 1/(mn) so the breakpoints are exact.
    /// </summary>
    internal static double Wasserstein2SquaredSorted(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        long m = a.Length, n = b.Length;
        long previous = 0;
        int i = 0, j = 0;
        double sum = 0.0;
        while (i < m && j < n)
        {
            long nextA = (i + 1) * n, nextB = (j + 1) * m;
            long next = Math.Min(nextA, nextB);
            double diff = a[i] - b[j];
            sum += (next - previous) * diff * diff;
            previous = next;
            if (nextA == next)
            {
                i++;
            }
            if (nextB == next)
            {
                j++;
            }
        }
        return sum / ((double)m * n);
    }
}

using GmmFlow.Simd.Mixtures;

namespace GmmFlow.Fitting;

/// <summary>
/// The training points, copied once per fit into the layout the kernels read: chunks of
/// <see cref="Chunk"/> points, each stored coordinate-major (d rows, <see cref="Stride"/> doubles apart) and
/// zero-padded, with a weight per point (0 for padding, so padding never contributes).
/// </summary>
/// <remarks>
/// Chunks are grouped into a fixed number of reduction blocks that does not depend on the core count:
/// each block sums its chunks in order and the blocks are added in order, so a fit gives bit-identical
/// results on 1 or 64 cores.
/// </remarks>
internal sealed class EmData
{
    public const int Chunk = MixtureEvaluator.ChunkSize;

    /// <summary>
    /// Distance between coordinate rows (and between component rows of the scratch blocks): the chunk
    /// size plus 8. A stride of exactly 256 doubles (2 KiB) maps every row to the same few L1 sets, so a
    /// kernel touching 30+ rows at once thrashes the cache (measured 1.7× slower at d = 33).
    /// </summary>
    public const int Stride = MixtureEvaluator.RowStride;
    private const int MaxBlocks = 64;

    /// <summary>From this dimension on, full-covariance statistics use the point-major kernel (measured faster from d ≈ 5).</summary>
    public const int PointMajorFromDimension = 5;

    public EmData(ReadOnlySpan<double> points, int dimension, ReadOnlySpan<double> sampleWeights, bool pointMajor)
    {
        int n = points.Length / dimension, d = dimension;
        Count = n;
        Dimension = d;
        Chunks = (n + Chunk - 1) / Chunk;
        Blocks = Math.Min(Chunks, MaxBlocks);
        Points = new double[(long)Chunks * d * Stride];
        PaddedDimension = WeightedMomentsKernel.PaddedDimension(d);
        RowMajor = pointMajor ? new double[(long)Chunks * Chunk * PaddedDimension] : [];
        Weights = new double[(long)Chunks * Chunk];
        Mean = new double[d];
        Variance = new double[d];
        double total = 0;
        int positive = 0;
        for (int i = 0; i < n; i++)
        {
            double w = sampleWeights.IsEmpty ? 1.0 : sampleWeights[i];
            Weights[i] = w;
            total += w;
            positive += w > 0 ? 1 : 0;
            int c = i / Chunk, o = i % Chunk;
            long baseIndex = (long)c * d * Stride + o;
            for (int j = 0; j < d; j++)
            {
                Points[baseIndex + j * Stride] = points[i * d + j];
            }
            if (pointMajor)
            {
                points.Slice(i * d, d).CopyTo(RowMajor.AsSpan(i * PaddedDimension, d));
            }
        }
        TotalWeight = total;
        PositiveCount = positive;

        // Weighted per-coordinate mean and variance (two passes, for accuracy): k-means' tolerance scale
        // and the fallback covariance of a re-seeded component.
        for (int i = 0; i < n; i++)
        {
            double w = Weights[i];
            for (int j = 0; j < d; j++)
            {
                Mean[j] += w * points[i * d + j];
            }
        }
        for (int j = 0; j < d; j++)
        {
            Mean[j] /= total;
        }
        for (int i = 0; i < n; i++)
        {
            double w = Weights[i];
            for (int j = 0; j < d; j++)
            {
                double e = points[i * d + j] - Mean[j];
                Variance[j] += w * e * e;
            }
        }
        for (int j = 0; j < d; j++)
        {
            Variance[j] /= total;
        }
    }

    /// <summary>N, the number of points.</summary>
    public int Count { get; }

    public int Dimension { get; }

    public int Chunks { get; }

    /// <summary>Reduction blocks (a fixed function of N).</summary>
    public int Blocks { get; }

    /// <summary>Chunks × d × Stride, coordinate-major per chunk.</summary>
    public double[] Points { get; }

    /// <summary>
    /// Point-major copy (Chunks × Chunk rows of <see cref="PaddedDimension"/> doubles, zero padded) for the
    /// full-covariance statistics kernel, or empty when not requested.
    /// </summary>
    public double[] RowMajor { get; }

    public bool HasRowMajor => RowMajor.Length > 0;

    /// <summary>d rounded up to a multiple of 8 (row length of <see cref="RowMajor"/>).</summary>
    public int PaddedDimension { get; }

    /// <summary>Chunks × Chunk sample weights, 0 for padding.</summary>
    public double[] Weights { get; }

    public double TotalWeight { get; }

    /// <summary>Points with a positive weight.</summary>
    public int PositiveCount { get; }

    public double[] Mean { get; }

    public double[] Variance { get; }

    /// <summary>The chunks block <paramref name="block"/> reduces: [first, end).</summary>
    public (int First, int End) BlockChunks(int block)
    {
        long first = (long)block * Chunks / Blocks, end = (long)(block + 1) * Chunks / Blocks;
        return ((int)first, (int)end);
    }

    /// <summary>Real points in chunk <paramref name="chunk"/> and that count padded for the kernels.</summary>
    public (int Count, int Padded) ChunkSize(int chunk)
    {
        int n = Math.Min(Chunk, Count - chunk * Chunk);
        return (n, PointBlock.Padded(n));
    }

    /// <summary>The coordinate-major block of chunk <paramref name="chunk"/> (d rows, <see cref="Stride"/> apart).</summary>
    public ReadOnlySpan<double> ChunkPoints(int chunk) => Points.AsSpan(chunk * Dimension * Stride, Dimension * Stride);

    /// <summary>The point-major block of chunk <paramref name="chunk"/> (Chunk rows of <see cref="PaddedDimension"/>).</summary>
    public ReadOnlySpan<double> ChunkRows(int chunk) => RowMajor.AsSpan(chunk * Chunk * PaddedDimension, Chunk * PaddedDimension);

    public ReadOnlySpan<double> ChunkWeights(int chunk) => Weights.AsSpan(chunk * Chunk, Chunk);

    /// <summary>Copies point <paramref name="index"/> into <paramref name="destination"/>.</summary>
    public void GetPoint(int index, Span<double> destination)
    {
        int d = Dimension, c = index / Chunk, o = index % Chunk;
        long baseIndex = (long)c * d * Stride + o;
        for (int j = 0; j < d; j++)
        {
            destination[j] = Points[baseIndex + j * Stride];
        }
    }
}

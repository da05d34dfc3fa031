using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.Simd;

/// <summary>How the triangular factor handed to <see cref="VelocityFrame.SetPair"/> is to be read.</summary>
internal enum TriangularFactor
{
    /// <summary>L with Σ = L Lᵀ (lower triangle, positive diagonal); the frame inverts it.</summary>
    Cholesky,

    /// <summary>W = L⁻¹ already inverted (lower triangle, positive diagonal).</summary>
    InverseCholesky,
}

/// <summary>
/// Everything the mixture-policy velocity needs at one time t, for all active component pairs, laid out for the
/// point-parallel kernels (docs/theory.md#mixture-policy). Built once per t, then evaluated for any number of points:
/// <code>
/// z_p = W_p (x − m_p),  ℓ_p = c_p − ½|z_p|²,  u_p = b_p + K_p (x − m_p),  v(x) = Σ_p softmax(ℓ)_p u_p
/// </code>
/// with c_p = log λ_p − log det L_p − (d/2) log 2π, so that log Σ_p exp ℓ_p = log Σ_p λ_p N(x; m_p, Σ_p).
/// </summary>
/// <remarks>
/// <para>Layout: one contiguous block per pair, <see cref="Stride"/> doubles apart (a multiple of 8),
/// <c>[c | m (d) | W lower triangle (d(d+1)/2) | K (d²) | b (d)]</c>. The kernels broadcast each entry to all
/// lanes (lanes are points) and walk W and K with a single moving pointer, so both are stored in the order the
/// general kernel consumes them: rows in groups of four, interleaved by column. For a group of rows i..i+3,
/// K holds <c>K[i][j], K[i+1][j], K[i+2][j], K[i+3][j]</c> for j = 0..d−1; W holds the same interleave for the
/// columns j &lt; i and then its 4×4 diagonal triangle column by column (w_ii, w_i+1,i, w_i+2,i, w_i+3,i, w_i+1,i+1, …,
/// w_i+3,i+3). The d mod 4 rows after the last full group are stored plainly by rows (W packed, K row-major).
/// For d ≤ 3 there is no full group, so W is packed by rows and K is row-major: the fixed-d kernels rely on that.</para>
/// <para>From d = <see cref="RowsFromDimension"/> on, W starts with panels of eight rows, stored like the groups of four
/// (columns left of the panel interleaved by eight, then its 8×8 diagonal triangle column by column, 36 entries); the
/// d mod 8 rows after the last panel follow as above (a group of four if there are four or more, then plain rows).</para>
/// <para>From d = <see cref="RowsFromDimension"/> on, the gain is applied one point at a time with the vector lanes
/// along the rows (only to the pairs whose weight matters at that point, see <see cref="VelocityKernelGeneral"/>), so K
/// is stored column-major instead, each column padded with zeros to <see cref="PaddedDimension"/> (d rounded up to
/// 8, a multiple of every vector width) rows, and b is padded the same way:
/// <c>[c | 7 zeros | m (PaddedDimension) | W (as above) | zeros to a multiple of 8 | K (d columns × PaddedDimension) |
/// b (PaddedDimension)]</c>: m and K start on 64-byte boundaries, since both are loaded as whole vectors.</para>
/// <para>The frame is reusable: <see cref="Reset"/> then <see cref="SetPair"/> for the next t allocates nothing
/// while the pair count stays within the capacity. Evaluation only reads the frame, so several threads may
/// evaluate one frame concurrently; rebuilding it while it is evaluated is not allowed.</para>
/// <para>This layer checks shapes only. Inputs are assumed finite; the managed facade validates them and throws
/// typed exceptions (a NaN point here yields NaN velocity, never an exception).</para>
/// </remarks>
internal sealed class VelocityFrame
{
    /// <summary>
    /// Dimension from which K is stored column-major and applied point by point (see the class remarks). Below it the
    /// lanes-per-point kernel stays: a gain of fewer than 16 rows fills at most two vectors, and the fixed cost of each
    /// point and pair then outweighs what skipping saves when components overlap (measured at d = 8 and 12 with
    /// overlapping components: up to 1.7× slower than the lanes kernel). From 16 on, overlapping components measured
    /// the same as before and separated ones up to twice as fast.
    /// </summary>
    internal const int RowsFromDimension = 16;

    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2.0 * Math.PI);

    private double[] _data;
    private int _base;
    private int _capacity;

    /// <summary>Creates an empty frame for dimension <paramref name="dimension"/> with room for <paramref name="pairCapacity"/> pairs.</summary>
    public VelocityFrame(int dimension, int pairCapacity = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(pairCapacity);
        Dimension = dimension;
        GainByPoint = dimension >= RowsFromDimension;
        PaddedDimension = GainByPoint ? checked((dimension + 7) & ~7) : dimension;
        int tri = dimension * (dimension + 1) / 2;
        // With the point-by-point gain m and K's columns are loaded as whole vectors: both start on a 64-byte boundary
        // (blocks are, see Allocate) so that no load straddles two cache lines, and m is padded with zeros to
        // PaddedDimension like the columns.
        OffsetMean = GainByPoint ? 8 : 1;
        OffsetW = OffsetMean + PaddedDimension;
        OffsetK = GainByPoint ? checked((OffsetW + tri + 7) & ~7) : OffsetW + tri;
        Stride = checked((OffsetK + dimension * PaddedDimension + PaddedDimension + 7) & ~7);
        _capacity = Math.Max(pairCapacity, 1);
        (_data, _base) = Allocate(checked(_capacity * Stride));
    }

    /// <summary>Point dimension d.</summary>
    public int Dimension { get; }

    /// <summary>Number of active pairs set so far.</summary>
    public int PairCount { get; private set; }

    /// <summary>Doubles between the starts of consecutive pair blocks.</summary>
    internal int Stride { get; }

    /// <summary>Where m starts in a pair's block: 1, or 8 with <see cref="GainByPoint"/> (64-byte aligned; c is followed by padding).</summary>
    internal int OffsetMean { get; }

    internal int OffsetW { get; }

    internal int OffsetK { get; }

    internal int OffsetB => OffsetK + Dimension * PaddedDimension;

    /// <summary>True when K is column-major with padded columns and the gain is applied point by point (d ≥ <see cref="RowsFromDimension"/>).</summary>
    internal bool GainByPoint { get; }

    /// <summary>Rows of each stored K column and length of the stored b: d rounded up to 8 when <see cref="GainByPoint"/>, else d.</summary>
    internal int PaddedDimension { get; }

    /// <summary>First double of pair 0's block (kernels index from here).</summary>
    internal ref double Pairs => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_data), _base);

    /// <summary>Builds a frame from per-pair arrays (pair-major: means P×d, factors and gains P×d×d row-major, offsets P×d).</summary>
    public static VelocityFrame Create(
        int dimension,
        ReadOnlySpan<double> logWeights,
        ReadOnlySpan<double> means,
        ReadOnlySpan<double> factors,
        TriangularFactor factorKind,
        ReadOnlySpan<double> gains,
        ReadOnlySpan<double> offsets)
    {
        var frame = new VelocityFrame(dimension, logWeights.Length);
        frame.Load(logWeights, means, factors, factorKind, gains, offsets);
        return frame;
    }

    /// <summary>Replaces the frame's content with the given pairs (same layout as <see cref="Create"/>).</summary>
    public void Load(
        ReadOnlySpan<double> logWeights,
        ReadOnlySpan<double> means,
        ReadOnlySpan<double> factors,
        TriangularFactor factorKind,
        ReadOnlySpan<double> gains,
        ReadOnlySpan<double> offsets)
    {
        int d = Dimension, p = logWeights.Length;
        CheckLength(means, (long)p * d, nameof(means));
        CheckLength(factors, (long)p * d * d, nameof(factors));
        CheckLength(gains, (long)p * d * d, nameof(gains));
        CheckLength(offsets, (long)p * d, nameof(offsets));
        Reset();
        for (int i = 0; i < p; i++)
        {
            SetPair(i, logWeights[i], means.Slice(i * d, d), factors.Slice(i * d * d, d * d), factorKind,
                    gains.Slice(i * d * d, d * d), offsets.Slice(i * d, d));
        }
    }

    /// <summary>Forgets all pairs (keeps the storage).</summary>
    public void Reset() => PairCount = 0;

    /// <summary>
    /// Sets pair <paramref name="index"/> (0 ≤ index ≤ <see cref="PairCount"/>; setting index = PairCount appends).
    /// </summary>
    /// <param name="index">Pair slot.</param>
    /// <param name="logWeight">log λ_p of the coupling weight.</param>
    /// <param name="mean">m_p(t), length d.</param>
    /// <param name="factor">d×d row-major lower-triangular L_p (Σ_p = L_p L_pᵀ) or W_p = L_p⁻¹; the strict upper triangle is ignored.</param>
    /// <param name="factorKind">Which of the two <paramref name="factor"/> is.</param>
    /// <param name="gain">K_p(t), d×d row-major.</param>
    /// <param name="offset">b_p(t), length d (for the GMMflow drift b_p = Δm_p, evaluated at x − m_p).</param>
    public void SetPair(int index, double logWeight, ReadOnlySpan<double> mean, ReadOnlySpan<double> factor,
                        TriangularFactor factorKind, ReadOnlySpan<double> gain, ReadOnlySpan<double> offset)
    {
        int d = Dimension;
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, PairCount);
        CheckLength(mean, d, nameof(mean));
        CheckLength(factor, (long)d * d, nameof(factor));
        CheckLength(gain, (long)d * d, nameof(gain));
        CheckLength(offset, d, nameof(offset));
        for (int i = 0; i < d; i++)
        {
            if (!(factor[i * d + i] > 0.0))
            {
                throw new ArgumentOutOfRangeException(nameof(factor), factor[i * d + i],
                    $"Diagonal entry {i} of the triangular factor of pair {index} must be positive.");
            }
        }
        if (index == _capacity)
        {
            Grow();
        }

        Span<double> block = _data.AsSpan(_base + index * Stride, Stride);
        block.Clear();
        double[] rented = ArrayPool<double>.Shared.Rent(d * d);
        Span<double> w = rented.AsSpan(0, d * d);
        double logDetL = 0.0;
        if (factorKind == TriangularFactor.InverseCholesky)
        {
            factor.CopyTo(w);
            for (int i = 0; i < d; i++)
            {
                logDetL -= Math.Log(factor[i * d + i]);
            }
        }
        else
        {
            InvertLower(factor, d, w);
            for (int i = 0; i < d; i++)
            {
                logDetL += Math.Log(factor[i * d + i]);
            }
        }
        PackLowerGrouped(w, d, GainByPoint, block.Slice(OffsetW, d * (d + 1) / 2));
        ArrayPool<double>.Shared.Return(rented);
        if (GainByPoint)
        {
            PackColumns(gain, d, PaddedDimension, block.Slice(OffsetK, d * PaddedDimension));
        }
        else
        {
            PackGrouped(gain, d, block.Slice(OffsetK, d * d));
        }

        block[0] = logWeight - logDetL - d * HalfLog2Pi;
        mean.CopyTo(block.Slice(OffsetMean, d));
        offset.CopyTo(block.Slice(OffsetB, d));
        if (index == PairCount)
        {
            PairCount++;
        }
    }

    /// <summary>
    /// Finds the first non-finite number among the pairs' parameters (as stored: c, m, W, K, b), for the validating
    /// layer. Returns false when all are finite; otherwise the pair, the offset in its block and the value.
    /// </summary>
    public bool TryFindNonFinite(out int pair, out int position, out double value)
    {
        for (pair = 0; pair < PairCount; pair++)
        {
            ReadOnlySpan<double> block = _data.AsSpan(_base + pair * Stride, Stride);
            for (position = 0; position < block.Length; position++)
            {
                if (!double.IsFinite(block[position]))
                {
                    value = block[position];
                    return true;
                }
            }
        }
        pair = position = -1;
        value = 0.0;
        return false;
    }

    /// <summary>
    /// Single point: writes v(x) to <paramref name="velocity"/> and returns log Σ_p λ_p N(x; m_p, Σ_p). Allocation-free;
    /// runs the same kernel and width as the batch path, so it is bit-identical to evaluating x inside a batch.
    /// </summary>
    public double Evaluate(ReadOnlySpan<double> point, Span<double> velocity)
    {
        CheckLength(point, Dimension, nameof(point));
        CheckLength(velocity, Dimension, nameof(velocity));
        CheckNotEmpty();
        double logDensity = 0.0;
        VelocityBatch.RunRange(this, ref MemoryMarshal.GetReference(point), ref MemoryMarshal.GetReference(velocity),
                               ref logDensity, wantLogDensity: true, count: 1, SimdDispatch.Best, generalOnly: false);
        return logDensity;
    }

    /// <summary>
    /// Batch: <paramref name="points"/> is N×d row-major, <paramref name="velocities"/> the same shape;
    /// <paramref name="logDensities"/> is empty or length N. With <paramref name="parallel"/> large batches are split
    /// over the shared worker threads (<see cref="ParallelRange"/>, every core); otherwise everything runs on the
    /// calling thread. Results are bit-identical either way. Allocation-free once warm.
    /// </summary>
    public void EvaluateBatch(ReadOnlySpan<double> points, Span<double> velocities, Span<double> logDensities = default,
                              bool parallel = true)
        => EvaluateBatch(points, velocities, logDensities, parallel, SimdWidth.Auto, generalOnly: false);

    /// <summary>As the public overload, with the SIMD width and the kernel choice forced (for tests and benchmarks).</summary>
    internal void EvaluateBatch(ReadOnlySpan<double> points, Span<double> velocities, Span<double> logDensities,
                                bool parallel, SimdWidth width, bool generalOnly)
    {
        int d = Dimension;
        if (points.Length % d != 0)
        {
            throw new ArgumentException($"points has length {points.Length}, not a multiple of the dimension {d}.", nameof(points));
        }
        int n = points.Length / d;
        CheckLength(velocities, points.Length, nameof(velocities));
        if (!logDensities.IsEmpty)
        {
            CheckLength(logDensities, n, nameof(logDensities));
        }
        if (n == 0)
        {
            return;
        }
        CheckNotEmpty();
        VelocityBatch.Run(this, points, velocities, logDensities, parallel, SimdDispatch.Resolve(width), generalOnly);
    }

    private void CheckNotEmpty()
    {
        if (PairCount == 0)
        {
            throw new InvalidOperationException("The velocity frame has no pairs.");
        }
    }

    private void Grow()
    {
        int capacity = checked(_capacity * 2);
        var (data, start) = Allocate(checked(capacity * Stride));
        _data.AsSpan(_base, PairCount * Stride).CopyTo(data.AsSpan(start));
        _data = data;
        _base = start;
        _capacity = capacity;
    }

    /// <summary>
    /// Storage for <paramref name="length"/> doubles starting on a 64-byte boundary: a pinned array (the pinned heap
    /// never moves it, so the offset stays valid) with room to skip up to 7 doubles.
    /// </summary>
    private static (double[] Data, int Start) Allocate(int length)
    {
        double[] data = GC.AllocateArray<double>(checked(length + 7), pinned: true);
        return (data, CacheLines.DoublesToBoundary(ref MemoryMarshal.GetArrayDataReference(data)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CheckLength(ReadOnlySpan<double> span, long expected, string name)
    {
        if (span.Length != expected)
        {
            throw new ArgumentException($"{name} has length {span.Length}, expected {expected}.", name);
        }
    }

    /// <summary>
    /// W = L⁻¹ for lower-triangular L (row-major d×d; the strict upper triangle of L is ignored and W's is left 0).
    /// Column j of W solves L w = e_j by forward substitution: W_jj = 1/L_jj and, for i &gt; j,
    /// W_ij = −(Σ_{k=j}^{i−1} L_ik W_kj) / L_ii. O(d³/6), once per pair per t.
    /// </summary>
    private static void InvertLower(ReadOnlySpan<double> l, int d, Span<double> w)
    {
        w.Clear();
        for (int j = 0; j < d; j++)
        {
            w[j * d + j] = 1.0 / l[j * d + j];
            for (int i = j + 1; i < d; i++)
            {
                double s = 0.0;
                for (int k = j; k < i; k++)
                {
                    s += l[i * d + k] * w[k * d + j];
                }
                w[i * d + j] = -s / l[i * d + i];
            }
        }
    }

    /// <summary>Lower triangle of row-major <paramref name="a"/> in the grouped order described on the class.</summary>
    private static void PackLowerGrouped(ReadOnlySpan<double> a, int d, bool panels, Span<double> dst)
    {
        int k = 0, i = 0;
        for (; panels && i + 8 <= d; i += 8)
        {
            for (int j = 0; j < i; j++)
            {
                for (int r = 0; r < 8; r++)
                {
                    dst[k++] = a[(i + r) * d + j];
                }
            }
            for (int jj = 0; jj < 8; jj++)
            {
                for (int r = jj; r < 8; r++)
                {
                    dst[k++] = a[(i + r) * d + i + jj];
                }
            }
        }
        for (; i + 4 <= d; i += 4)
        {
            for (int j = 0; j < i; j++)
            {
                for (int r = 0; r < 4; r++)
                {
                    dst[k++] = a[(i + r) * d + j];
                }
            }
            for (int jj = 0; jj < 4; jj++)
            {
                for (int r = jj; r < 4; r++)
                {
                    dst[k++] = a[(i + r) * d + i + jj];
                }
            }
        }
        for (; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                dst[k++] = a[i * d + j];
            }
        }
    }

    /// <summary>Square row-major <paramref name="a"/> column by column, each column padded with zeros to <paramref name="rows"/>.</summary>
    private static void PackColumns(ReadOnlySpan<double> a, int d, int rows, Span<double> dst)
    {
        for (int j = 0; j < d; j++)
        {
            for (int i = 0; i < d; i++)
            {
                dst[j * rows + i] = a[i * d + j];
            }
        }
    }

    /// <summary>Square row-major <paramref name="a"/> in the grouped order described on the class.</summary>
    private static void PackGrouped(ReadOnlySpan<double> a, int d, Span<double> dst)
    {
        int k = 0, i = 0;
        for (; i + 4 <= d; i += 4)
        {
            for (int j = 0; j < d; j++)
            {
                for (int r = 0; r < 4; r++)
                {
                    dst[k++] = a[(i + r) * d + j];
                }
            }
        }
        for (; i < d; i++)
        {
            a.Slice(i * d, d).CopyTo(dst.Slice(k, d));
            k += d;
        }
    }
}

using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.Simd;

/// <summary>
/// The mixture policy at one time t when every active pair's Σ_p(t) and gain K_p(t) are diagonal (diagonal or
/// spherical mixtures on both sides, docs/theory/structured-covariances.md#field):
/// <code>
/// ℓ_p = c_p − ½ Σ_j (w_pj (x_j − m_pj))²,  u_p = b_p + k_p ⊙ (x − m_p),  v(x) = Σ_p softmax(ℓ)_p u_p
/// </code>
/// with w_p = Σ_p(t)^(−½) and c_p = log λ_p − Σ_j log √Σ_p,jj − (d/2) log 2π, so log Σ_p e^ℓ_p = log Σ_p λ_p N(x; m_p, Σ_p).
/// O(P·d) per point against the O(P·d²) of <see cref="VelocityFrame"/>.
/// </summary>
/// <remarks>
/// <para>Layout: one block per pair, <see cref="Stride"/> doubles apart, every part starting on a 64-byte boundary:
/// <c>[c | 7 zeros | m | w | k | b | −w⊙m]</c>, each vector <see cref="PaddedDimension"/> long (d rounded up to 8) and
/// padded with zeros, so the kernel loads whole vectors at every width and the padding contributes exactly 0 (w = 0
/// there). The last vector lets pass 1 form z = w⊙x − w⊙m in one fused multiply-add.</para>
/// <para>Same contract as <see cref="VelocityFrame"/>: reusable (<see cref="Reset"/>, <see cref="SetPair"/>) without
/// allocation within the capacity, read-only during evaluation, shapes checked here and values by the managed layer.</para>
/// </remarks>
internal sealed class DiagonalVelocityFrame
{
    /// <summary>
    /// Below this dimension the transport plan feeds diagonal pairs to <see cref="VelocityFrame"/> instead: its fixed-d
    /// kernels put points in the lanes, while this frame puts coordinates there and would leave most lanes idle.
    /// </summary>
    public const int MinimumDimension = 8;

    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2.0 * Math.PI);

    private double[] _data;
    private int _base;
    private int _capacity;

    public DiagonalVelocityFrame(int dimension, int pairCapacity = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(pairCapacity);
        Dimension = dimension;
        PaddedDimension = checked((dimension + 7) & ~7);
        Stride = checked(8 + 5 * PaddedDimension);
        _capacity = Math.Max(pairCapacity, 1);
        (_data, _base) = Allocate(checked(_capacity * Stride));
    }

    public int Dimension { get; }

    public int PairCount { get; private set; }

    /// <summary>d rounded up to a multiple of 8: the stored length of m, w, k and b.</summary>
    internal int PaddedDimension { get; }

    internal int Stride { get; }

    internal const int OffsetMean = 8;

    internal int OffsetW => OffsetMean + PaddedDimension;

    internal int OffsetK => OffsetMean + 2 * PaddedDimension;

    internal int OffsetB => OffsetMean + 3 * PaddedDimension;

    /// <summary>Where −w⊙m starts (rounded once here; see <see cref="DiagonalVelocityKernel"/>).</summary>
    internal int OffsetShift => OffsetMean + 4 * PaddedDimension;

    internal ref double Pairs => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_data), _base);

    public void Reset() => PairCount = 0;

    /// <summary>
    /// Sets pair <paramref name="index"/> (0 ≤ index ≤ <see cref="PairCount"/>; index = PairCount appends) from its
    /// log-weight, mean, diagonal covariance (the d variances of Σ_p(t)), diagonal gain and offset (all length d).
    /// </summary>
    public void SetPair(int index, double logWeight, ReadOnlySpan<double> mean, ReadOnlySpan<double> variances,
                        ReadOnlySpan<double> gain, ReadOnlySpan<double> offset)
    {
        int d = Dimension;
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(index, PairCount);
        CheckLength(mean, d, nameof(mean));
        CheckLength(variances, d, nameof(variances));
        CheckLength(gain, d, nameof(gain));
        CheckLength(offset, d, nameof(offset));
        for (int j = 0; j < d; j++)
        {
            if (!(variances[j] > 0.0))
            {
                throw new ArgumentOutOfRangeException(nameof(variances), variances[j],
                    $"Variance {j} of pair {index} must be positive.");
            }
        }
        if (index == _capacity)
        {
            Grow();
        }
        Span<double> block = _data.AsSpan(_base + index * Stride, Stride);
        block.Clear();
        Span<double> w = block.Slice(OffsetW, d), shift = block.Slice(OffsetShift, d);
        // The Cholesky factor of a diagonal matrix is its square root: the same w and log det L as the full frame.
        // Vectorised (a plan's field rebuilds P·d of these per time step, on one thread): shift holds log √s first.
        TensorPrimitives.Sqrt(variances, w);
        TensorPrimitives.Log(w, shift);
        double logDetL = TensorPrimitives.Sum(shift);
        TensorPrimitives.Divide(1.0, w, w);
        TensorPrimitives.Multiply(w, mean, shift);
        TensorPrimitives.Negate(shift, shift);
        block[0] = logWeight - logDetL - d * HalfLog2Pi;
        mean.CopyTo(block.Slice(OffsetMean, d));
        gain.CopyTo(block.Slice(OffsetK, d));
        offset.CopyTo(block.Slice(OffsetB, d));
        if (index == PairCount)
        {
            PairCount++;
        }
    }

    /// <summary>The first non-finite stored parameter (block order [c | m | w | k | b | −w⊙m]), for the validating layer.</summary>
    public bool TryFindNonFinite(out int pair, out int position, out double value)
        => VelocityFrame.FindNonFinite(_data.AsSpan(_base), Stride, PairCount, out pair, out position, out value);

    /// <summary>
    /// One point: writes v(x) and returns log Σ_p λ_p N(x; m_p, Σ_p). Allocation-free, and the same instructions as
    /// the batch path, so bit-identical to evaluating x inside any batch.
    /// </summary>
    public double Evaluate(ReadOnlySpan<double> point, Span<double> velocity)
    {
        CheckLength(point, Dimension, nameof(point));
        CheckLength(velocity, Dimension, nameof(velocity));
        CheckNotEmpty();
        double logDensity = 0.0;
        DiagonalVelocityKernel.RunRange(this, ref MemoryMarshal.GetReference(point), ref MemoryMarshal.GetReference(velocity),
                                        ref logDensity, wantLogDensity: true, count: 1, SimdDispatch.Best);
        return logDensity;
    }

    /// <summary>
    /// N points (N×d row-major) on all cores with <paramref name="parallel"/>; <paramref name="logDensities"/> empty or
    /// length N. Bit-identical with or without threads; allocation-free once warm.
    /// </summary>
    public void EvaluateBatch(ReadOnlySpan<double> points, Span<double> velocities, Span<double> logDensities = default,
                              bool parallel = true)
        => EvaluateBatch(points, velocities, logDensities, parallel, SimdWidth.Auto);

    /// <summary>As the public overload with the SIMD width forced (tests).</summary>
    internal void EvaluateBatch(ReadOnlySpan<double> points, Span<double> velocities, Span<double> logDensities,
                                bool parallel, SimdWidth width)
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
        DiagonalVelocityKernel.Run(this, points, velocities, logDensities, parallel, SimdDispatch.Resolve(width));
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

    private static (double[] Data, int Start) Allocate(int length) => VelocityFrame.Allocate(length);

    private static void CheckLength(ReadOnlySpan<double> span, long expected, string name) => VelocityFrame.CheckLength(span, expected, name);
}

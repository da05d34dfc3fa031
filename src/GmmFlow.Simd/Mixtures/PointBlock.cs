namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// The layout every mixture kernel reads: a block of points stored transposed, coordinate-major
/// (row j holds coordinate j of every point, rows <c>stride</c> doubles apart), so one vector load
/// fetches the same coordinate of consecutive points and every lane does the same arithmetic.
/// Callers pad the point count to a multiple of <see cref="Multiple"/> (padding lanes compute finite
/// garbage that is ignored or weighted by 0), which removes every tail loop from the kernels.
/// </summary>
internal static class PointBlock
{
    /// <summary>Point counts passed to kernels are multiples of this: 4 vectors of the widest width (4 × 8 lanes).</summary>
    public const int Multiple = 32;

    /// <summary>Rounds <paramref name="count"/> up to a multiple of <see cref="Multiple"/>.</summary>
    public static int Padded(int count) => (count + Multiple - 1) / Multiple * Multiple;

    internal static void CheckCount(int count, int stride)
    {
        if (count < 0 || count % Multiple != 0 || count > stride)
        {
            throw new ArgumentException($"Point count {count} must be a non-negative multiple of {Multiple} and at most the stride {stride}.", nameof(count));
        }
    }

    internal static void CheckLength(int actual, long required, string name)
    {
        if (actual < required)
        {
            throw new ArgumentException($"{name} has length {actual}, expected at least {required}.", name);
        }
    }

    /// <summary>Length a coordinate-major block of <paramref name="dimension"/> rows needs.</summary>
    internal static long BlockLength(int dimension, int stride, int count) => dimension == 0 ? 0 : (long)(dimension - 1) * stride + count;
}

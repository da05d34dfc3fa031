using System.Runtime.CompilerServices;

namespace GmmFlow.Simd;

/// <summary>A function of the squared distance between two points, evaluated lane-wise (lanes = pairs).</summary>
internal interface IPairTerm
{
    TV Apply<TOps, TV>(TV squaredDistance)
        where TOps : struct, ISimdOps<TV>
        where TV : struct;
}

/// <summary>
/// The multi-bandwidth Gaussian kernel k = (1/B) Σ_b exp(−|x − y|² / (2 h_b²)), so k(x, x) = 1.
/// Scalar equivalent: <c>coefficients.Average(c =&gt; Math.Exp(c * sq))</c> with c_b = −1/(2 h_b²).
/// </summary>
internal readonly struct GaussianKernelTerm : IPairTerm
{
    private readonly double[] _coefficients;
    private readonly double _inverseCount;

    /// <param name="bandwidths">h_b &gt; 0.</param>
    public GaussianKernelTerm(ReadOnlySpan<double> bandwidths)
    {
        _coefficients = new double[bandwidths.Length];
        for (int b = 0; b < bandwidths.Length; b++)
        {
            _coefficients[b] = -0.5 / (bandwidths[b] * bandwidths[b]);
        }
        _inverseCount = 1.0 / bandwidths.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Apply<TOps, TV>(TV squaredDistance)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        TV sum = TOps.Zero;
        double[] c = _coefficients;
        for (int b = 0; b < c.Length; b++)
        {
            sum = TOps.Add(sum, SimdMath.ExpNonPositive<TOps, TV>(TOps.Multiply(TOps.Create(c[b]), squaredDistance)));
        }
        return TOps.Multiply(sum, TOps.Create(_inverseCount));
    }
}

/// <summary>The Euclidean distance |x − y| (energy distance). Scalar equivalent: <c>Math.Sqrt(sq)</c>.</summary>
internal readonly struct DistanceTerm : IPairTerm
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TV Apply<TOps, TV>(TV squaredDistance)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => TOps.Sqrt(squaredDistance);
}

using System.Runtime.CompilerServices;

namespace GmmFlow.Simd;

/// <summary>Transcendentals for the lanes = points kernels, written once over <see cref="ISimdOps{TV}"/>.</summary>
internal static class SimdMath
{
    /// <summary>Arguments below this give 0 in <see cref="ExpNonPositive{TOps, TV}"/> (e^−708 ≈ 3·10⁻³⁰⁸, the bottom of the normal range).</summary>
    public const double ExpUnderflow = -708.0;

    /// <summary>Arguments below this give 0 in <see cref="ExpUnderflowToZero{TOps, TV}"/> (e^−700 ≈ 1·10⁻³⁰⁴).</summary>
    public const double ExpFloor = -700.0;

    private const double InvLn2 = 1.4426950408889634;
    private const double RoundMagic = 6755399441055744.0; // 1.5·2^52: x + magic rounds x to an integer held in the low bits
    private const double Ln2Hi = 6.93147180369123816490e-01; // ln 2 split so n·Ln2Hi is exact for |n| < 2^11 (fdlibm)
    private const double Ln2Lo = 1.90821492927058770002e-10;

    /// <summary>
    /// e^x for x ≤ 0 (the max-shifted log-weights and Gaussian kernel exponents), within about 1 ulp of the true value;
    /// x &lt; −708 gives exactly 0, NaN gives NaN. Scalar equivalent: <c>x &lt; −708 ? 0 : Math.Exp(x)</c>.
    /// </summary>
    /// <remarks>
    /// Why not Vector512.Exp: it falls back to one scalar exp per lane whenever any lane is below −709, which is
    /// the common case here (far-apart components), and that fallback is both slow and computed differently, so a
    /// point's result would depend on its neighbours in the vector. This routine is branch-free and the same
    /// operation sequence at every width, including the scalar path.
    /// Method: n = round(x / ln 2), r = x − n ln 2 (two-part ln 2, |r| ≤ ln 2 / 2), e^r by its Taylor series to r¹³
    /// (truncation ≤ 0.35¹⁴/14! ≈ 4·10⁻¹⁸, below half an ulp), written as 1 + (r + r² P(r)) so the leading terms
    /// round once; then scaled by 2^n through the exponent bits (n ≥ −1022 for x ≥ −708, so 2^n is normal).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpNonPositive<TOps, TV>(TV x)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        TV magicRounded = TOps.MultiplyAdd(x, TOps.Create(InvLn2), TOps.Create(RoundMagic));
        TV n = TOps.Subtract(magicRounded, TOps.Create(RoundMagic));
        TV r = TOps.MultiplyAdd(n, TOps.Create(-Ln2Hi), x);
        r = TOps.MultiplyAdd(n, TOps.Create(-Ln2Lo), r);

        // P(r) = Σ_{k=2}^{13} r^{k−2} / k!, Horner.
        TV p = TOps.Create(1.0 / 6227020800.0);                  // 1/13!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 479001600.0)); // 1/12!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 39916800.0));  // 1/11!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 3628800.0));   // 1/10!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 362880.0));    // 1/9!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 40320.0));     // 1/8!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 5040.0));      // 1/7!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 720.0));       // 1/6!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 120.0));       // 1/5!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 24.0));        // 1/4!
        p = TOps.MultiplyAdd(p, r, TOps.Create(1.0 / 6.0));         // 1/3!
        p = TOps.MultiplyAdd(p, r, TOps.Create(0.5));               // 1/2!
        TV expR = TOps.Add(TOps.Create(1.0), TOps.MultiplyAdd(TOps.Multiply(r, r), p, r));

        // Lanes below the threshold may hold a garbage exponent (or NaN from −∞): they are replaced by 0.
        return TOps.ZeroWhereLess(TOps.ScaleByPowerOfTwo(expR, magicRounded), x, TOps.Create(ExpUnderflow));
    }

    /// <summary>
    /// The BCL's exp for x ≥ <see cref="ExpFloor"/>, exactly 0 below it (NaN stays NaN). Scalar equivalent:
    /// <c>x &lt; −700 ? 0 : Math.Exp(x)</c>. Used by the mixture kernels' log-sum-exp, whose arguments have the
    /// maximum subtracted (x ≤ 0): the flushed terms are below 1e-304, far under the round-off of a sum that contains
    /// exp(0) = 1; and the BCL's vector Exp leaves its fast path for arguments below about −708 (measured 14–26 ns
    /// instead of 1 ns per element), which well-separated components hit on almost every point.
    /// </summary>
    /// <remarks>
    /// Unlike <see cref="ExpNonPositive{TOps, TV}"/> this is the BCL's exp, so widths may differ in the last bit;
    /// the mixture kernels' tests allow for that. The clamp uses the IEEE <see cref="ISimdOps{TV}.Max"/> so a NaN
    /// argument is not turned into e^−700.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ExpUnderflowToZero<TOps, TV>(TV x)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        TV floor = TOps.Create(ExpFloor);
        return TOps.ZeroWhereLess(TOps.Exp(TOps.Max(x, floor)), x, floor);
    }
}

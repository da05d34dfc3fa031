namespace GmmFlow.Simd;

/// <summary>
/// The double-precision arithmetic a "lanes = points" kernel needs, abstracted over the vector type so one kernel
/// body is instantiated for Vector512, Vector256, Vector128 and plain double (the scalar path): <see cref="Simd512"/>,
/// <see cref="Simd256"/>, <see cref="Simd128"/>, <see cref="SimdScalar"/>. Implementers are empty structs, so the JIT
/// specialises and inlines every call (the TensorPrimitives operator pattern) and the generated loop is the same as
/// hand-written Vector512 code. Shared by the mixture (EM), velocity-field and metric kernels.
/// </summary>
/// <remarks>
/// Why our own trait and not <c>ISimdVector&lt;TSelf, T&gt;</c>: that interface is internal to the BCL in .NET 10.
/// Every operation is lane-wise and identical in all lanes, so a value computed in lane k does not depend on k or on
/// what the other lanes hold: kernels may pad a partial block with copies of a real point.
/// Multiply-add is fused at every width (or at none, on hardware without FMA). Apart from <see cref="Exp"/> and
/// <see cref="Log"/> (the BCL's, used by the mixture kernels through <see cref="SimdMath.ExpUnderflowToZero{TOps, TV}"/>)
/// there is no library transcendental here; kernels that need every width to agree bit for bit use
/// <see cref="SimdMath.ExpNonPositive{TOps, TV}"/>, built from these operations.
/// At tier 0 the static abstract calls are not inlined (about 10× slower): hot kernels that are called once or a few
/// times (mixture blocks, O(N²) metrics) are marked AggressiveOptimization; the velocity kernels are not, because they
/// are called many times and their tier-1 code (with PGO) measured about 35% faster than the fully-optimised-at-once code.
/// </remarks>
internal interface ISimdOps<TV> where TV : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract TV Zero { get; }

    /// <summary>Every lane set to <paramref name="value"/> (a broadcast).</summary>
    static abstract TV Create(double value);

    /// <summary>Loads <see cref="Count"/> contiguous doubles starting at <paramref name="source"/>.</summary>
    static abstract TV Load(ref double source);

    static abstract void Store(TV value, ref double destination);

    static abstract TV Add(TV a, TV b);

    static abstract TV Subtract(TV a, TV b);

    static abstract TV Multiply(TV a, TV b);

    static abstract TV Divide(TV a, TV b);

    /// <summary>
    /// a·b + c, with a single rounding wherever the hardware fuses (see <see cref="SimdDispatch.HardwareFma"/>) and a
    /// multiply then an add where it does not (never the slow software emulation): what MultiplyAddEstimate gives in
    /// optimised code, but spelt out so tier-0 and tier-1 code agree. The implementations spell the condition out
    /// instead of reading SimdDispatch: touching a class with static fields from a kernel adds an initialisation
    /// check that measurably slowed the general velocity kernel (about 20% at d = 16).
    /// </summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);

    /// <summary>IEEE 754 maximum: NaN if either lane is NaN, and +0 &gt; −0 (the column maximum of a log-sum-exp).</summary>
    static abstract TV Max(TV a, TV b);

    /// <summary>Lane-wise maximum with the hardware's NaN and ±0 handling (cheaper; for callers whose inputs are finite or −∞).</summary>
    static abstract TV MaxNative(TV a, TV b);

    /// <summary>Lane-wise: <paramref name="x"/> &lt; <paramref name="threshold"/> ? 0 : <paramref name="value"/>.</summary>
    static abstract TV ZeroWhereLess(TV value, TV x, TV threshold);

    /// <summary>
    /// <paramref name="value"/> · 2^n where n is the integer held in the low mantissa bits of
    /// <paramref name="magicRounded"/> = n + 1.5·2^52 (the round-to-nearest trick); n must lie in [−1022, 1023].
    /// </summary>
    static abstract TV ScaleByPowerOfTwo(TV value, TV magicRounded);

    static abstract TV Sqrt(TV x);

    /// <summary>
    /// 1/√x for positive normal x, within a few ulps (not correctly rounded): on AVX-512 the 14-bit estimate
    /// (vrsqrt14pd) refined by two Newton steps, about half the latency of a square root followed by a division;
    /// elsewhere 1/√x computed exactly. 0, subnormal, negative or non-finite x give a non-finite or meaningless
    /// result, so callers must screen them.
    /// </summary>
    static abstract TV ReciprocalSqrt(TV x);

    /// <summary>The BCL's exp (Vector512.Exp etc., Math.Exp for the scalar path).</summary>
    static abstract TV Exp(TV x);

    /// <summary>The BCL's natural logarithm (Vector512.Log etc., Math.Log for the scalar path).</summary>
    static abstract TV Log(TV x);

    /// <summary>Sum of the lanes, in a fixed order for a given width.</summary>
    static abstract double Sum(TV x);

    /// <summary>True when every lane is exactly zero (used to skip work whose contribution is exactly 0).</summary>
    static abstract bool AllZero(TV x);

    // ---- comparisons and lane masks (the lockstep eigensolver: each lane is a different matrix and converges at
    // its own pace). A mask has every bit of a lane set (true) or clear (false), as the hardware compares produce.

    /// <summary>|x| in every lane.</summary>
    static abstract TV Abs(TV x);

    /// <summary>The magnitude of <paramref name="magnitude"/> with the sign bit of <paramref name="sign"/>.</summary>
    static abstract TV CopySign(TV magnitude, TV sign);

    /// <summary>Mask of the lanes where a ≤ b (false where either is NaN).</summary>
    static abstract TV LessThanOrEqualMask(TV a, TV b);

    /// <summary>Mask of the lanes where a &lt; b (false where either is NaN).</summary>
    static abstract TV LessThanMask(TV a, TV b);

    /// <summary>Mask of the lanes where a == b.</summary>
    static abstract TV EqualsMask(TV a, TV b);

    /// <summary>Lanes of <paramref name="ifTrue"/> where <paramref name="mask"/> is set, of <paramref name="ifFalse"/> elsewhere.</summary>
    static abstract TV Select(TV mask, TV ifTrue, TV ifFalse);

    /// <summary>Bitwise a AND b (masks: both set).</summary>
    static abstract TV And(TV a, TV b);

    /// <summary>Bitwise a OR b (masks: either set).</summary>
    static abstract TV Or(TV a, TV b);

    /// <summary>Bitwise a AND NOT b (masks: a set, b clear).</summary>
    static abstract TV AndNot(TV a, TV b);

    /// <summary>True when any lane of the mask is set.</summary>
    static abstract bool AnySet(TV mask);

    /// <summary>Bit k set when lane k of the mask is set.</summary>
    static abstract int MaskBits(TV mask);

    /// <summary>The largest lane (lanes must not be NaN).</summary>
    static abstract double MaxAcross(TV x);
    /// <summary>Bit k set when lane k is not zero (NaN counts as not zero): which lanes carry anything.</summary>
    static abstract uint NonZeroLanes(TV x);
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GmmFlow.Simd;

/// <summary>
/// Which vector width a kernel runs at. <see cref="Auto"/> picks the widest accelerated one; the others
/// exist so tests can force every code path on one machine.
/// </summary>
internal enum SimdWidth
{
    Auto = 0,
    Scalar = 1,
    V128 = 2,
    V256 = 4,
    V512 = 8,
}

/// <summary>
/// The arithmetic a "lanes = points" kernel needs, abstracted over the vector type so one kernel body is
/// instantiated for Vector512, Vector256, Vector128 and plain double (the scalar path). Implementers are
/// empty structs, so the JIT specialises and inlines every call (the TensorPrimitives operator pattern).
/// </summary>
/// <remarks>
/// Every operation is lane-wise and identical in all lanes, so a value computed in lane k does not depend on k
/// or on what the other lanes hold: kernels may pad a partial block with copies of a real point.
/// The O(N²) metric kernels are marked AggressiveOptimization (a metric is often called once, and its first call
/// would otherwise start in tier-0 code: 3–5× slower); the velocity kernels are not, because they are called many
/// times and their tier-1 code (with PGO) measured about 35% faster than the fully-optimised-at-once code.
/// Multiply-add is fused at every width (or at none, on hardware without FMA) and there is no library
/// transcendental here (exp is <see cref="SimdMath.ExpNonPositive{TOps, TV}"/>, built from these operations), so
/// every width computes bit-identical lane values: forcing a width changes speed, never results.
/// </remarks>
internal interface ISimdOps<TV> where TV : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract TV Zero { get; }

    static abstract TV Create(double value);

    /// <summary>Loads <see cref="Count"/> contiguous doubles starting at <paramref name="source"/>.</summary>
    static abstract TV Load(ref double source);

    static abstract void Store(TV value, ref double destination);

    static abstract TV Add(TV a, TV b);

    static abstract TV Subtract(TV a, TV b);

    static abstract TV Multiply(TV a, TV b);

    static abstract TV Divide(TV a, TV b);

    /// <summary>
    /// a·b + c, with a single rounding wherever the hardware fuses (see <see cref="SimdDispatch.HardwareFma"/>). The
    /// implementations spell that condition out instead of reading SimdDispatch: touching a class with static fields
    /// from a kernel adds an initialisation check that measurably slowed the general kernel (about 20% at d = 16).
    /// </summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);

    /// <summary>Lane-wise maximum; NaN handling is the hardware's (only finite inputs matter to callers).</summary>
    static abstract TV Max(TV a, TV b);

    /// <summary>Lane-wise: <paramref name="x"/> &lt; <paramref name="threshold"/> ? 0 : <paramref name="value"/>.</summary>
    static abstract TV ZeroWhereLess(TV value, TV x, TV threshold);

    /// <summary>
    /// <paramref name="value"/> · 2^n where n is the integer held in the low mantissa bits of
    /// <paramref name="magicRounded"/> = n + 1.5·2^52 (the round-to-nearest trick); n must lie in [−1022, 1023].
    /// </summary>
    static abstract TV ScaleByPowerOfTwo(TV value, TV magicRounded);

    static abstract TV Sqrt(TV x);

    /// <summary>Sum of the lanes, in a fixed order for a given width.</summary>
    static abstract double Sum(TV x);

    /// <summary>True when every lane is exactly zero (used to skip work whose contribution is exactly 0).</summary>
    static abstract bool AllZero(TV x);
}

/// <summary>8 doubles per vector (AVX-512).</summary>
internal readonly struct Simd512 : ISimdOps<Vector512<double>>
{
    public static int Count => Vector512<double>.Count;
    public static Vector512<double> Zero => Vector512<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Create(double value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Load(ref double source) => Vector512.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<double> value, ref double destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Subtract(Vector512<double> a, Vector512<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Multiply(Vector512<double> a, Vector512<double> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Divide(Vector512<double> a, Vector512<double> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> MultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Fma.IsSupported || AdvSimd.Arm64.IsSupported ? Vector512.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Max(Vector512<double> a, Vector512<double> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> ZeroWhereLess(Vector512<double> value, Vector512<double> x, Vector512<double> threshold) => Vector512.AndNot(value, Vector512.LessThan(x, threshold));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> ScaleByPowerOfTwo(Vector512<double> value, Vector512<double> magicRounded) => value * ((magicRounded.AsUInt64() + Vector512.Create(1023UL)) << 52).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Sqrt(Vector512<double> x) => Vector512.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector512<double> x) => Vector512.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector512<double> x) => Vector512.EqualsAll(x, Vector512<double>.Zero);
}

/// <summary>4 doubles per vector (AVX2).</summary>
internal readonly struct Simd256 : ISimdOps<Vector256<double>>
{
    public static int Count => Vector256<double>.Count;
    public static Vector256<double> Zero => Vector256<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Create(double value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Load(ref double source) => Vector256.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<double> value, ref double destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Subtract(Vector256<double> a, Vector256<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Multiply(Vector256<double> a, Vector256<double> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Divide(Vector256<double> a, Vector256<double> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> MultiplyAdd(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Fma.IsSupported || AdvSimd.Arm64.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Max(Vector256<double> a, Vector256<double> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> ZeroWhereLess(Vector256<double> value, Vector256<double> x, Vector256<double> threshold) => Vector256.AndNot(value, Vector256.LessThan(x, threshold));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> ScaleByPowerOfTwo(Vector256<double> value, Vector256<double> magicRounded) => value * ((magicRounded.AsUInt64() + Vector256.Create(1023UL)) << 52).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Sqrt(Vector256<double> x) => Vector256.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector256<double> x) => Vector256.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector256<double> x) => Vector256.EqualsAll(x, Vector256<double>.Zero);
}

/// <summary>2 doubles per vector (SSE2 / AdvSimd).</summary>
internal readonly struct Simd128 : ISimdOps<Vector128<double>>
{
    public static int Count => Vector128<double>.Count;
    public static Vector128<double> Zero => Vector128<double>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Create(double value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Load(ref double source) => Vector128.LoadUnsafe(ref source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<double> value, ref double destination) => value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Add(Vector128<double> a, Vector128<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Subtract(Vector128<double> a, Vector128<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Multiply(Vector128<double> a, Vector128<double> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Divide(Vector128<double> a, Vector128<double> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> MultiplyAdd(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Fma.IsSupported || AdvSimd.Arm64.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Max(Vector128<double> a, Vector128<double> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> ZeroWhereLess(Vector128<double> value, Vector128<double> x, Vector128<double> threshold) => Vector128.AndNot(value, Vector128.LessThan(x, threshold));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> ScaleByPowerOfTwo(Vector128<double> value, Vector128<double> magicRounded) => value * ((magicRounded.AsUInt64() + Vector128.Create(1023UL)) << 52).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Sqrt(Vector128<double> x) => Vector128.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector128<double> x) => Vector128.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector128<double> x) => Vector128.EqualsAll(x, Vector128<double>.Zero);
}

/// <summary>One double per "vector": the portable path and the reference the vector paths must agree with.</summary>
internal readonly struct SimdScalar : ISimdOps<double>
{
    public static int Count => 1;
    public static double Zero => 0.0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Create(double value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Load(ref double source) => source;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(double value, ref double destination) => destination = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Add(double a, double b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Subtract(double a, double b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Multiply(double a, double b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Divide(double a, double b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double MultiplyAdd(double a, double b, double c) => Fma.IsSupported || AdvSimd.Arm64.IsSupported ? Math.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Max(double a, double b) => a > b ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ZeroWhereLess(double value, double x, double threshold) => x < threshold ? 0.0 : value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ScaleByPowerOfTwo(double value, double magicRounded) => value * BitConverter.UInt64BitsToDouble((BitConverter.DoubleToUInt64Bits(magicRounded) + 1023UL) << 52);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sqrt(double x) => Math.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(double x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(double x) => x == 0.0;
}

/// <summary>Resolves <see cref="SimdWidth.Auto"/> and rejects widths the hardware cannot run.</summary>
internal static class SimdDispatch
{
    /// <summary>
    /// Whether multiply-add is fused in hardware (x64 FMA3, Arm64). A JIT-time constant. Where it is not (an x64
    /// Native-AOT build for the default x86-64-v2 baseline), the fused operation is a software routine some 20 times
    /// slower, so the kernels use a·b + c there instead: every width still agrees with every other on that machine.
    /// Publish Native AOT with IlcInstructionSet=x86-64-v3 (or native) to get FMA, AVX2 and AVX-512 paths.
    /// </summary>
    public static bool HardwareFma
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Fma.IsSupported || AdvSimd.Arm64.IsSupported;
    }

    /// <summary>The width <see cref="SimdWidth.Auto"/> resolves to on this machine (the one <see cref="SimdCapabilities"/> reports).</summary>
    public static SimdWidth Best { get; } = (SimdWidth)SimdCapabilities.DoubleLanes; // enum values are lane counts

    public static SimdWidth Resolve(SimdWidth requested)
    {
        bool ok = requested switch
        {
            SimdWidth.Auto => true,
            SimdWidth.Scalar => true,
            SimdWidth.V128 => Vector128.IsHardwareAccelerated,
            SimdWidth.V256 => Vector256.IsHardwareAccelerated,
            SimdWidth.V512 => Vector512.IsHardwareAccelerated,
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "This SIMD width is not accelerated on this machine.");
        }
        return requested == SimdWidth.Auto ? Best : requested;
    }

    /// <summary>Widths that can run here, widest first (for tests that force every path).</summary>
    public static SimdWidth[] Available()
    {
        var list = new List<SimdWidth>(4);
        if (Vector512.IsHardwareAccelerated) list.Add(SimdWidth.V512);
        if (Vector256.IsHardwareAccelerated) list.Add(SimdWidth.V256);
        if (Vector128.IsHardwareAccelerated) list.Add(SimdWidth.V128);
        list.Add(SimdWidth.Scalar);
        return list.ToArray();
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GmmFlow.Simd;

/// <summary>
/// One double per "vector": the portable path (no SIMD accelerated) and the reference the vector paths must agree
/// with. Each operation is the scalar equivalent of the vector one, lane for lane (Max is Math.Max's IEEE maximum,
/// MaxNative the plain comparison the hardware instructions make).
/// </summary>
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Max(double a, double b) => Math.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double MaxNative(double a, double b) => a > b ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ZeroWhereLess(double value, double x, double threshold) => x < threshold ? 0.0 : value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ScaleByPowerOfTwo(double value, double magicRounded) => value * BitConverter.UInt64BitsToDouble((BitConverter.DoubleToUInt64Bits(magicRounded) + 1023UL) << 52);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sqrt(double x) => Math.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double ReciprocalSqrt(double x) => 1 / Math.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Exp(double x) => Math.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Log(double x) => Math.Log(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(double x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(double x) => x == 0.0;

    // Masks: a lane is "set" when all 64 bits are (a NaN pattern); comparisons return that or +0.0.
    private static readonly double s_allBits = BitConverter.UInt64BitsToDouble(ulong.MaxValue);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Abs(double x) => Math.Abs(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double CopySign(double magnitude, double sign) => Math.CopySign(magnitude, sign);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double LessThanOrEqualMask(double a, double b) => a <= b ? s_allBits : 0.0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double LessThanMask(double a, double b) => a < b ? s_allBits : 0.0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double EqualsMask(double a, double b) => a == b ? s_allBits : 0.0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Select(double mask, double ifTrue, double ifFalse) => BitConverter.DoubleToUInt64Bits(mask) != 0 ? ifTrue : ifFalse;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double And(double a, double b) => BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(a) & BitConverter.DoubleToUInt64Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Or(double a, double b) => BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(a) | BitConverter.DoubleToUInt64Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double AndNot(double a, double b) => BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(a) & ~BitConverter.DoubleToUInt64Bits(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnySet(double mask) => BitConverter.DoubleToUInt64Bits(mask) >> 63 != 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int MaskBits(double mask) => (int)(BitConverter.DoubleToUInt64Bits(mask) >> 63);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double MaxAcross(double x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint NonZeroLanes(double x) => x == 0.0 ? 0u : 1u;
}

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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Exp(double x) => Math.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Log(double x) => Math.Log(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(double x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(double x) => x == 0.0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint NonZeroLanes(double x) => x == 0.0 ? 0u : 1u;
}

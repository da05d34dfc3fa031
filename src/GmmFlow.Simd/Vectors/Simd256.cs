using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GmmFlow.Simd;

/// <summary>4 doubles per vector (AVX2). See <see cref="ISimdOps{TV}"/> for what each operation guarantees.</summary>
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Max(Vector256<double> a, Vector256<double> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> MaxNative(Vector256<double> a, Vector256<double> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> ZeroWhereLess(Vector256<double> value, Vector256<double> x, Vector256<double> threshold) => Vector256.AndNot(value, Vector256.LessThan(x, threshold));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> ScaleByPowerOfTwo(Vector256<double> value, Vector256<double> magicRounded) => value * ((magicRounded.AsUInt64() + Vector256.Create(1023UL)) << 52).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Sqrt(Vector256<double> x) => Vector256.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Exp(Vector256<double> x) => Vector256.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<double> Log(Vector256<double> x) => Vector256.Log(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector256<double> x) => Vector256.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector256<double> x) => Vector256.EqualsAll(x, Vector256<double>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint NonZeroLanes(Vector256<double> x) => (~Vector256.Equals(x, Vector256<double>.Zero)).ExtractMostSignificantBits();
}

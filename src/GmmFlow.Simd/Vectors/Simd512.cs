using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GmmFlow.Simd;

/// <summary>8 doubles per vector (AVX-512). See <see cref="ISimdOps{TV}"/> for what each operation guarantees.</summary>
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Max(Vector512<double> a, Vector512<double> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> MaxNative(Vector512<double> a, Vector512<double> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> ZeroWhereLess(Vector512<double> value, Vector512<double> x, Vector512<double> threshold) => Vector512.AndNot(value, Vector512.LessThan(x, threshold));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> ScaleByPowerOfTwo(Vector512<double> value, Vector512<double> magicRounded) => value * ((magicRounded.AsUInt64() + Vector512.Create(1023UL)) << 52).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Sqrt(Vector512<double> x) => Vector512.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Exp(Vector512<double> x) => Vector512.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<double> Log(Vector512<double> x) => Vector512.Log(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector512<double> x) => Vector512.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector512<double> x) => Vector512.EqualsAll(x, Vector512<double>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint NonZeroLanes(Vector512<double> x) => (uint)(~Vector512.Equals(x, Vector512<double>.Zero)).ExtractMostSignificantBits();
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GmmFlow.Simd;

/// <summary>2 doubles per vector (SSE2 / AdvSimd). See <see cref="ISimdOps{TV}"/> for what each operation guarantees.</summary>
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Max(Vector128<double> a, Vector128<double> b) => Vector128.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> MaxNative(Vector128<double> a, Vector128<double> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> ZeroWhereLess(Vector128<double> value, Vector128<double> x, Vector128<double> threshold) => Vector128.AndNot(value, Vector128.LessThan(x, threshold));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> ScaleByPowerOfTwo(Vector128<double> value, Vector128<double> magicRounded) => value * ((magicRounded.AsUInt64() + Vector128.Create(1023UL)) << 52).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Sqrt(Vector128<double> x) => Vector128.Sqrt(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Exp(Vector128<double> x) => Vector128.Exp(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<double> Log(Vector128<double> x) => Vector128.Log(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector128<double> x) => Vector128.Sum(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector128<double> x) => Vector128.EqualsAll(x, Vector128<double>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint NonZeroLanes(Vector128<double> x) => (~Vector128.Equals(x, Vector128<double>.Zero)).ExtractMostSignificantBits();
}

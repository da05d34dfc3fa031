using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// The handful of double-precision vector operations the mixture kernels need, as static abstract
/// members so one kernel body is written once and instantiated per width (Vector512/256/128 and a
/// scalar "vector" of one lane). The JIT specialises a generic method per struct type argument and
/// inlines these calls, so the generated loop is the same as hand-written Vector512 code.
/// </summary>
/// <remarks>
/// Why our own trait and not <c>ISimdVector&lt;TSelf, T&gt;</c>: that interface is internal to the BCL
/// in .NET 10. Fused multiply-add uses MultiplyAddEstimate: a true FMA where the hardware has one, and
/// a multiply then add where it does not (never a slow software emulation).
/// </remarks>
internal interface IVectorOps<TVec> where TVec : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract TVec Zero { get; }

    static abstract TVec Broadcast(double value);

    static abstract TVec Load(ref double source);

    static abstract void Store(TVec value, ref double destination);

    static abstract TVec Add(TVec a, TVec b);

    static abstract TVec Subtract(TVec a, TVec b);

    static abstract TVec Multiply(TVec a, TVec b);

    static abstract TVec Divide(TVec a, TVec b);

    /// <summary>a·b + c.</summary>
    static abstract TVec MultiplyAdd(TVec a, TVec b, TVec c);

    static abstract TVec Max(TVec a, TVec b);

    /// <summary>
    /// exp(x) for x ≥ <see cref="VectorOpsConstants.ExpFloor"/>, exactly 0 below it. For arguments of a
    /// log-sum-exp after the maximum was subtracted (x ≤ 0) the flushed terms are below 1e-304, far under
    /// the round-off of a sum that contains exp(0) = 1; and the BCL's vector Exp leaves its fast path for
    /// arguments below about −708 (measured 14–26 ns instead of 1 ns per element), which well-separated
    /// components hit on almost every point.
    /// </summary>
    static abstract TVec ExpUnderflowToZero(TVec x);

    static abstract TVec Log(TVec x);

    /// <summary>Sum of the lanes.</summary>
    static abstract double Sum(TVec v);
}

internal static class VectorOpsConstants
{
    /// <summary>Below this, <see cref="IVectorOps{TVec}.ExpUnderflowToZero"/> returns 0 (exp(−700) ≈ 1e-304).</summary>
    public const double ExpFloor = -700.0;
}

/// <summary>AVX-512: 8 doubles per vector.</summary>
internal readonly struct VectorOps512 : IVectorOps<Vector512<double>>
{
    public static int Count => Vector512<double>.Count;
    public static Vector512<double> Zero => Vector512<double>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Broadcast(double value) => Vector512.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Load(ref double source) => Vector512.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<double> value, ref double destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Subtract(Vector512<double> a, Vector512<double> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Multiply(Vector512<double> a, Vector512<double> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Divide(Vector512<double> a, Vector512<double> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> MultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Max(Vector512<double> a, Vector512<double> b) => Vector512.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ExpUnderflowToZero(Vector512<double> x)
    {
        Vector512<double> floor = Vector512.Create(VectorOpsConstants.ExpFloor);
        Vector512<double> e = Vector512.Exp(Vector512.Max(x, floor));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, floor), Vector512<double>.Zero, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Log(Vector512<double> x) => Vector512.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector512<double> v) => Vector512.Sum(v);
}

/// <summary>AVX2: 4 doubles per vector.</summary>
internal readonly struct VectorOps256 : IVectorOps<Vector256<double>>
{
    public static int Count => Vector256<double>.Count;
    public static Vector256<double> Zero => Vector256<double>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Broadcast(double value) => Vector256.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Load(ref double source) => Vector256.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<double> value, ref double destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Subtract(Vector256<double> a, Vector256<double> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Multiply(Vector256<double> a, Vector256<double> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Divide(Vector256<double> a, Vector256<double> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> MultiplyAdd(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Max(Vector256<double> a, Vector256<double> b) => Vector256.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ExpUnderflowToZero(Vector256<double> x)
    {
        Vector256<double> floor = Vector256.Create(VectorOpsConstants.ExpFloor);
        Vector256<double> e = Vector256.Exp(Vector256.Max(x, floor));
        return Vector256.ConditionalSelect(Vector256.LessThan(x, floor), Vector256<double>.Zero, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Log(Vector256<double> x) => Vector256.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector256<double> v) => Vector256.Sum(v);
}

/// <summary>SSE2/NEON: 2 doubles per vector.</summary>
internal readonly struct VectorOps128 : IVectorOps<Vector128<double>>
{
    public static int Count => Vector128<double>.Count;
    public static Vector128<double> Zero => Vector128<double>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Broadcast(double value) => Vector128.Create(value);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Load(ref double source) => Vector128.LoadUnsafe(ref source);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<double> value, ref double destination) => value.StoreUnsafe(ref destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Add(Vector128<double> a, Vector128<double> b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Subtract(Vector128<double> a, Vector128<double> b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Multiply(Vector128<double> a, Vector128<double> b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Divide(Vector128<double> a, Vector128<double> b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> MultiplyAdd(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Max(Vector128<double> a, Vector128<double> b) => Vector128.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> ExpUnderflowToZero(Vector128<double> x)
    {
        Vector128<double> floor = Vector128.Create(VectorOpsConstants.ExpFloor);
        Vector128<double> e = Vector128.Exp(Vector128.Max(x, floor));
        return Vector128.ConditionalSelect(Vector128.LessThan(x, floor), Vector128<double>.Zero, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Log(Vector128<double> x) => Vector128.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(Vector128<double> v) => Vector128.Sum(v);
}

/// <summary>The scalar path: a one-lane "vector" (used when no SIMD is accelerated, and by tests as the reference width).</summary>
internal readonly struct ScalarOps : IVectorOps<double>
{
    public static int Count => 1;
    public static double Zero => 0.0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Broadcast(double value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Load(ref double source) => source;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(double value, ref double destination) => destination = value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Add(double a, double b) => a + b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Subtract(double a, double b) => a - b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Multiply(double a, double b) => a * b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Divide(double a, double b) => a / b;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double MultiplyAdd(double a, double b, double c) => double.MultiplyAddEstimate(a, b, c);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Max(double a, double b) => Math.Max(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ExpUnderflowToZero(double x) => x < VectorOpsConstants.ExpFloor ? 0 : Math.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Log(double x) => Math.Log(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Sum(double v) => v;
}

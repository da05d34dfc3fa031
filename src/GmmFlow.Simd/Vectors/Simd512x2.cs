using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd;

/// <summary>Two AVX-512 vectors used as one 16-lane vector (see <see cref="Simd512x2"/>).</summary>
internal readonly struct Vector512x2(Vector512<double> lo, Vector512<double> hi)
{
    public readonly Vector512<double> Lo = lo;
    public readonly Vector512<double> Hi = hi;
}

/// <summary>
/// 16 doubles per "vector": every operation is done on two independent AVX-512 vectors. For kernels whose cost is
/// one long dependency chain per step (the lockstep eigensolver's QL sweep: a division and a square root per
/// step), the second half's chain runs in the first half's latency shadow, doubling the work per step at almost
/// the same time per step. The JIT keeps both fields of the two-field struct in registers. Lane k &lt; 8 is lane k of
/// <c>Lo</c>, lane k ≥ 8 lane k − 8 of <c>Hi</c>; memory order is Lo then Hi, so loads and stores are contiguous.
/// </summary>
internal readonly struct Simd512x2 : ISimdOps<Vector512x2>
{
    public static int Count => 2 * Vector512<double>.Count;
    public static Vector512x2 Zero => new(Vector512<double>.Zero, Vector512<double>.Zero);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Create(double value) => new(Vector512.Create(value), Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Load(ref double source) => new(Vector512.LoadUnsafe(ref source), Vector512.LoadUnsafe(ref Unsafe.Add(ref source, Vector512<double>.Count)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512x2 value, ref double destination)
    {
        value.Lo.StoreUnsafe(ref destination);
        value.Hi.StoreUnsafe(ref Unsafe.Add(ref destination, Vector512<double>.Count));
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Add(Vector512x2 a, Vector512x2 b) => new(Simd512.Add(a.Lo, b.Lo), Simd512.Add(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Subtract(Vector512x2 a, Vector512x2 b) => new(Simd512.Subtract(a.Lo, b.Lo), Simd512.Subtract(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Multiply(Vector512x2 a, Vector512x2 b) => new(Simd512.Multiply(a.Lo, b.Lo), Simd512.Multiply(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Divide(Vector512x2 a, Vector512x2 b) => new(Simd512.Divide(a.Lo, b.Lo), Simd512.Divide(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Max(Vector512x2 a, Vector512x2 b) => new(Simd512.Max(a.Lo, b.Lo), Simd512.Max(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 MaxNative(Vector512x2 a, Vector512x2 b) => new(Simd512.MaxNative(a.Lo, b.Lo), Simd512.MaxNative(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 ScaleByPowerOfTwo(Vector512x2 a, Vector512x2 b) => new(Simd512.ScaleByPowerOfTwo(a.Lo, b.Lo), Simd512.ScaleByPowerOfTwo(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 CopySign(Vector512x2 a, Vector512x2 b) => new(Simd512.CopySign(a.Lo, b.Lo), Simd512.CopySign(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 LessThanOrEqualMask(Vector512x2 a, Vector512x2 b) => new(Simd512.LessThanOrEqualMask(a.Lo, b.Lo), Simd512.LessThanOrEqualMask(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 LessThanMask(Vector512x2 a, Vector512x2 b) => new(Simd512.LessThanMask(a.Lo, b.Lo), Simd512.LessThanMask(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 EqualsMask(Vector512x2 a, Vector512x2 b) => new(Simd512.EqualsMask(a.Lo, b.Lo), Simd512.EqualsMask(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 And(Vector512x2 a, Vector512x2 b) => new(Simd512.And(a.Lo, b.Lo), Simd512.And(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Or(Vector512x2 a, Vector512x2 b) => new(Simd512.Or(a.Lo, b.Lo), Simd512.Or(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 AndNot(Vector512x2 a, Vector512x2 b) => new(Simd512.AndNot(a.Lo, b.Lo), Simd512.AndNot(a.Hi, b.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Sqrt(Vector512x2 x) => new(Simd512.Sqrt(x.Lo), Simd512.Sqrt(x.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 ReciprocalSqrt(Vector512x2 x) => new(Simd512.ReciprocalSqrt(x.Lo), Simd512.ReciprocalSqrt(x.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Exp(Vector512x2 x) => new(Simd512.Exp(x.Lo), Simd512.Exp(x.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Log(Vector512x2 x) => new(Simd512.Log(x.Lo), Simd512.Log(x.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Abs(Vector512x2 x) => new(Simd512.Abs(x.Lo), Simd512.Abs(x.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 MultiplyAdd(Vector512x2 a, Vector512x2 b, Vector512x2 c) => new(Simd512.MultiplyAdd(a.Lo, b.Lo, c.Lo), Simd512.MultiplyAdd(a.Hi, b.Hi, c.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 ZeroWhereLess(Vector512x2 value, Vector512x2 x, Vector512x2 threshold) => new(Simd512.ZeroWhereLess(value.Lo, x.Lo, threshold.Lo), Simd512.ZeroWhereLess(value.Hi, x.Hi, threshold.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512x2 Select(Vector512x2 mask, Vector512x2 ifTrue, Vector512x2 ifFalse) => new(Simd512.Select(mask.Lo, ifTrue.Lo, ifFalse.Lo), Simd512.Select(mask.Hi, ifTrue.Hi, ifFalse.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double Sum(Vector512x2 x) => Simd512.Sum(x.Lo) + Simd512.Sum(x.Hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllZero(Vector512x2 x) => Simd512.AllZero(x.Lo) && Simd512.AllZero(x.Hi);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint NonZeroLanes(Vector512x2 x) => Simd512.NonZeroLanes(x.Lo) | Simd512.NonZeroLanes(x.Hi) << Vector512<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnySet(Vector512x2 mask) => Simd512.AnySet(Simd512.Or(mask.Lo, mask.Hi));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static int MaskBits(Vector512x2 mask) => Simd512.MaskBits(mask.Lo) | Simd512.MaskBits(mask.Hi) << Vector512<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double MaxAcross(Vector512x2 x) => Simd512.MaxAcross(Simd512.Max(x.Lo, x.Hi));
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GmmFlow.Simd;

namespace GmmFlow;

/// <summary>
/// The per-coordinate sums of the diagonal closed-form costs (docs/theory/structured-covariances.md#costs), a SIMD
/// vector of coordinates at a time: W2 Σ (√s1 − √s0)², surrogate Σ (s1 − s0)(log s1 − log s0), Schrödinger bridge and
/// entropic Σ (−δ + ε log(δ + ε)), δ = √(4 s0 s1 + ε²). At d = 512 the SB sum is one square root and one logarithm per
/// coordinate: scalar Math.Log made the 10×10 cost matrix slower than numpy's vectorised one.
/// </summary>
internal static class DiagonalCostKernels
{
    /// <summary>Below this dimension the scalar loops of <see cref="PairKernels"/> are used (no full vector).</summary>
    public const int MinimumDimension = 8;

    /// <summary>The sum for <paramref name="kind"/> (Wasserstein, Surrogate, or an SB-family kind) over the d coordinates.</summary>
    public static double Sum(CostKind kind, double eps, ReadOnlySpan<double> r0, ReadOnlySpan<double> r1,
                             ReadOnlySpan<double> v0, ReadOnlySpan<double> v1, ReadOnlySpan<double> l0, ReadOnlySpan<double> l1)
        => SimdDispatch.Best switch
        {
            SimdWidth.V512 => Sum<Simd512, Vector512<double>>(kind, eps, r0, r1, v0, v1, l0, l1),
            SimdWidth.V256 => Sum<Simd256, Vector256<double>>(kind, eps, r0, r1, v0, v1, l0, l1),
            SimdWidth.V128 => Sum<Simd128, Vector128<double>>(kind, eps, r0, r1, v0, v1, l0, l1),
            _ => Sum<SimdScalar, double>(kind, eps, r0, r1, v0, v1, l0, l1),
        };

    private static double Sum<TOps, TV>(CostKind kind, double eps, ReadOnlySpan<double> r0, ReadOnlySpan<double> r1,
                                        ReadOnlySpan<double> v0, ReadOnlySpan<double> v1, ReadOnlySpan<double> l0, ReadOnlySpan<double> l1)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int d = r0.Length, lanes = TOps.Count, j = 0;
        TV acc = TOps.Zero;
        double tail = 0;
        switch (kind)
        {
            case CostKind.Wasserstein:
            {
                ref double a = ref MemoryMarshal.GetReference(r0), b = ref MemoryMarshal.GetReference(r1);
                for (; j + lanes <= d; j += lanes)
                {
                    TV e = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref b, j)), TOps.Load(ref Unsafe.Add(ref a, j)));
                    acc = TOps.MultiplyAdd(e, e, acc);
                }
                for (; j < d; j++)
                {
                    double e = r1[j] - r0[j];
                    tail += e * e;
                }
                break;
            }
            case CostKind.Surrogate:
            {
                ref double a = ref MemoryMarshal.GetReference(v0), b = ref MemoryMarshal.GetReference(v1);
                ref double la = ref MemoryMarshal.GetReference(l0), lb = ref MemoryMarshal.GetReference(l1);
                for (; j + lanes <= d; j += lanes)
                {
                    TV dv = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref b, j)), TOps.Load(ref Unsafe.Add(ref a, j)));
                    TV dl = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref lb, j)), TOps.Load(ref Unsafe.Add(ref la, j)));
                    acc = TOps.MultiplyAdd(dv, dl, acc);
                }
                for (; j < d; j++)
                {
                    tail += (v1[j] - v0[j]) * (l1[j] - l0[j]);
                }
                break;
            }
            default:
            {
                ref double a = ref MemoryMarshal.GetReference(r0), b = ref MemoryMarshal.GetReference(r1);
                TV e = TOps.Create(eps), e2 = TOps.Create(eps * eps), four = TOps.Create(4);
                for (; j + lanes <= d; j += lanes)
                {
                    // √γ = √s0 √s1; δ = √(4γ + ε²).
                    TV root = TOps.Multiply(TOps.Load(ref Unsafe.Add(ref a, j)), TOps.Load(ref Unsafe.Add(ref b, j)));
                    TV delta = TOps.Sqrt(TOps.MultiplyAdd(TOps.Multiply(four, root), root, e2));
                    acc = TOps.MultiplyAdd(e, TOps.Log(TOps.Add(delta, e)), TOps.Subtract(acc, delta));
                }
                for (; j < d; j++)
                {
                    double root = r0[j] * r1[j], delta = Math.Sqrt(4 * root * root + eps * eps);
                    tail += -delta + eps * Math.Log(delta + eps);
                }
                break;
            }
        }
        return TOps.Sum(acc) + tail;
    }
}

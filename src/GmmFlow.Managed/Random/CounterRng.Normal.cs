using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GmmFlow.Simd;

namespace GmmFlow;

// Standard normals by Box–Muller, eight counters at a time in the lanes of a Vector512 (docs/theory.md#gaussian-noise).
// The block layout is part of the stream's definition and does not depend on the machine's vector width: without
// AVX-512 the BCL runs the same lane-wise operations on two 256-bit (or four 128-bit) halves.
public readonly partial struct CounterRng
{
    /// <summary>Counters per block: one Box–Muller draw per lane of a Vector512.</summary>
    private const int BlockCounters = 8;

    /// <summary>Normals per full block: the eight cosine normals, then the eight sine normals.</summary>
    private const int BlockNormals = 2 * BlockCounters;

    private const ulong SignBit = 0x8000000000000000UL;
    private const ulong OneBits = 0x3FF0000000000000UL;                   // 1.0: or-ed with 52 mantissa bits gives [1, 2)
    private const double RoundMagic = 6755399441055744.0;                 // 1.5·2^52: w + magic holds round(w) in its low bits
    private const ulong LogShift = 0x3FF0000000000000UL - 0x3FE6A09E00000000UL; // moves the mantissa split to √2 (fdlibm)

    /// <summary>
    /// Fills <paramref name="destination"/> with independent standard normals for one stream, using counters
    /// <paramref name="firstCounter"/> … <paramref name="firstCounter"/> + ⌈n/2⌉ − 1 for n values (each counter gives one
    /// Box–Muller pair). The values are cut into blocks of 16 (the last one shorter, r values): a block of r values uses
    /// ⌈r/2⌉ consecutive counters and holds first their cosine normals, then their sine normals
    /// (docs/theory.md#gaussian-noise). So a value depends only on (seed, stream, counter, its slot), a fill split at
    /// a multiple of 16 values equals the whole fill, and <see cref="NormalPair"/> equals a fill of two values.
    /// </summary>
    public void FillNormal(ulong stream, ulong firstCounter, Span<double> destination)
    {
        ulong streamKey = StreamKey(stream);
        ref double first = ref MemoryMarshal.GetReference(destination);
        int full = destination.Length / BlockNormals;
        ulong counter = firstCounter;
        for (int b = 0; b < full; b++, counter += BlockCounters)
        {
            (Vector512<double> cos, Vector512<double> sin) = NormalLanes(streamKey, counter);
            cos.StoreUnsafe(ref first, (nuint)(b * BlockNormals));
            sin.StoreUnsafe(ref first, (nuint)(b * BlockNormals + BlockCounters));
        }
        int rest = destination.Length - full * BlockNormals;
        if (rest > 0)
        {
            // Lanes past the ⌈rest/2⌉ counters this block owns are computed and dropped (each lane depends on its counter only).
            (Vector512<double> cos, Vector512<double> sin) = NormalLanes(streamKey, counter);
            Span<double> tail = destination[(full * BlockNormals)..];
            int half = (rest + 1) / 2;
            for (int m = 0; m < rest; m++)
            {
                tail[m] = m < half ? cos.GetElement(m) : sin.GetElement(m - half);
            }
        }
    }

    /// <summary>
    /// Two independent standard normals from counter <paramref name="counter"/> (Box–Muller): the cosine and the sine
    /// normal, bit-identical to <see cref="FillNormal"/> of two values at that counter.
    /// </summary>
    public (double, double) NormalPair(ulong stream, ulong counter)
    {
        (Vector512<double> cos, Vector512<double> sin) = NormalLanes(StreamKey(stream), counter);
        return (cos.ToScalar(), sin.ToScalar());
    }

    /// <summary>
    /// Box–Muller for counters c … c + 7 of a stream: lane j has bits b = Mix(streamKey + (c + j + 1)·CounterStep)
    /// (= <see cref="NextBits"/>), b' = Mix(b ⊕ golden), u1 = (⌊b/2¹²⌋ + ½)/2⁵² ∈ (0, 1), u2 = ⌊b'/2¹²⌋/2⁵² ∈ [0, 1),
    /// and gives √(−2 ln u1)·(cos 2πu2, sin 2πu2).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<double> Cos, Vector512<double> Sin) NormalLanes(ulong streamKey, ulong firstCounter)
    {
        Vector512<ulong> counters = Vector512.Create(firstCounter + 1) + Vector512<ulong>.Indices;
        Vector512<ulong> bits = Mix(Vector512.Create(streamKey) + counters * CounterStep);
        Vector512<ulong> bits2 = Mix(bits ^ Vector512.Create(Golden));
        // 52 mantissa bits under the exponent of 1.0 give 1 + k/2⁵²; subtracting 1 is exact (Sterbenz), adding 2⁻⁵³ too.
        Vector512<double> one = Vector512<double>.One;
        Vector512<double> u1 = ((bits >> 12) | Vector512.Create(OneBits)).AsDouble() - one + Vector512.Create(1.0 / (1UL << 53));
        Vector512<double> u2 = ((bits2 >> 12) | Vector512.Create(OneBits)).AsDouble() - one;
        Vector512<double> radius = Vector512.Sqrt(LogUnit(u1) * -2.0);
        (Vector512<double> sin, Vector512<double> cos) = SinCosTurn(u2);
        return (radius * cos, radius * sin);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mix(Vector512<ulong> z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> MultiplyAdd(Vector512<double> a, Vector512<double> b, Vector512<double> c)
        => SimdDispatch.HardwareFma ? Vector512.FusedMultiplyAdd(a, b, c) : a * b + c; // see SimdDispatch.HardwareFma

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> MultiplyAdd(Vector512<double> a, Vector512<double> b, double c)
        => MultiplyAdd(a, b, Vector512.Create(c));

    /// <summary>
    /// ln x for normal positive x (here x ∈ (0, 1)), within 1 ulp: fdlibm's e_log.c without its special cases. x = 2ᵏ(1 + f)
    /// with 1 + f ∈ [√½, √2), s = f/(2 + f), ln(1 + f) = f − (f²/2 − s(f²/2 + R(s²))), R a degree-7 minimax polynomial.
    /// Why not Vector512.Log: measured 4–6× slower here, and its special-value handling is not needed for x ∈ (0, 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> LogUnit(Vector512<double> x)
    {
        const double ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10;
        Vector512<ulong> ix = x.AsUInt64() + Vector512.Create(LogShift);
        // k = biased exponent − 1023, converted through the 2⁵² trick (exact for these small integers).
        Vector512<double> k = ((ix >> 52) | Vector512.Create(0x4330000000000000UL)).AsDouble() - Vector512.Create(4503599627370496.0 + 1023.0);
        Vector512<double> f = ((ix & Vector512.Create(0x000FFFFFFFFFFFFFUL)) + Vector512.Create(0x3FE6A09E00000000UL)).AsDouble()
                              - Vector512<double>.One;
        Vector512<double> hfsq = 0.5 * f * f;
        Vector512<double> s = f / (Vector512.Create(2.0) + f);
        Vector512<double> z = s * s, w = z * z;
        Vector512<double> t1 = w * MultiplyAdd(w, MultiplyAdd(w, Vector512.Create(1.531383769920937332e-01), 2.222219843214978396e-01),
                                               3.999999999940941908e-01);
        Vector512<double> t2 = z * MultiplyAdd(w, MultiplyAdd(w, MultiplyAdd(w, Vector512.Create(1.479819860511658591e-01),
                                                                            1.818357216161805012e-01), 2.857142874366239149e-01),
                                               6.666666666666735130e-01);
        Vector512<double> r = t2 + t1;
        return k * ln2Hi - ((hfsq - (s * (hfsq + r) + k * ln2Lo)) - f);
    }

    /// <summary>
    /// (sin 2πu, cos 2πu) for u ∈ [0, 1), each within 1 ulp of sin/cos of the reduced angle: the quarter turn is found
    /// exactly in u (w = 4u, q = round(w), y = (w − q)·π/2 ∈ [−π/4, π/4], no Cody–Waite reduction needed), then fdlibm's
    /// __kernel_sin / __kernel_cos polynomials on y and the quadrant's swap and signs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<double> Sin, Vector512<double> Cos) SinCosTurn(Vector512<double> u)
    {
        Vector512<double> w = u * 4.0;
        Vector512<double> rounded = w + Vector512.Create(RoundMagic);
        Vector512<double> y = (w - (rounded - Vector512.Create(RoundMagic))) * (Math.PI / 2);
        Vector512<ulong> q = rounded.AsUInt64(); // low two bits: the quadrant
        Vector512<double> z = y * y;

        Vector512<double> sr = MultiplyAdd(z, MultiplyAdd(z, MultiplyAdd(z, MultiplyAdd(z, Vector512.Create(1.58969099521155010221e-10),
            -2.50507602534068634195e-08), 2.75573137070700676789e-06), -1.98412698298579493134e-04), 8.33333333332248946124e-03);
        Vector512<double> sinY = MultiplyAdd(z * y, MultiplyAdd(z, sr, -1.66666666666666324348e-01), y);

        Vector512<double> cr = z * MultiplyAdd(z, MultiplyAdd(z, MultiplyAdd(z, MultiplyAdd(z, MultiplyAdd(z,
            Vector512.Create(-1.13596475577881948265e-11), 2.08757232129817482790e-09), -2.75573143513906633035e-07),
            2.48015872894767294178e-05), -1.38888888888741095749e-03), 4.16666666666666019037e-02);
        Vector512<double> hz = 0.5 * z, one = Vector512<double>.One, oneMinusHz = one - hz;
        Vector512<double> cosY = oneMinusHz + (((one - oneMinusHz) - hz) + z * cr);

        // Quadrant q: odd q swaps sin and cos; q ∈ {2, 3} negates the sine, q ∈ {1, 2} the cosine.
        Vector512<double> odd = (Vector512<ulong>.Zero - (q & Vector512<ulong>.One)).AsDouble();
        Vector512<double> sin = Vector512.ConditionalSelect(odd, cosY, sinY);
        Vector512<double> cos = Vector512.ConditionalSelect(odd, sinY, cosY);
        Vector512<ulong> sinSign = (q << 62) & Vector512.Create(SignBit);
        Vector512<ulong> cosSign = ((q + Vector512<ulong>.One) << 62) & Vector512.Create(SignBit);
        return ((sin.AsUInt64() ^ sinSign).AsDouble(), (cos.AsUInt64() ^ cosSign).AsDouble());
    }
}

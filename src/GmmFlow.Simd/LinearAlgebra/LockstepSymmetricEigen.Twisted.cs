using System.Runtime.CompilerServices;

namespace GmmFlow.Simd.LinearAlgebra;

/// <summary>
/// The eigenvector path of <see cref="LockstepSymmetricEigen"/>: eigenvalues of the tridiagonal T by the root-free
/// iteration, each eigenvector of T from one twisted factorization of T − λI, and B·Q·S as one product.
/// </summary>
/// <remarks>
/// <para>Why: accumulating the QL rotations costs one rotation of two columns of B per QL step (419 steps for eight
/// lanes at d = 16, 6480 at d = 64) and each step's chain carries a square root; the root-free iteration has half the
/// chain, a twisted factorization is O(d) per eigenvalue with the d eigenvalues independent of each other, and the
/// product is d³ fused multiply-adds at full throughput.</para>
/// <para>Method (Parlett and Dhillon's twisted factorizations, as in LAPACK's dlar1v): with the stationary
/// T − λI = L₊D₊L₊ᵀ from the top and the progressive U₋D₋U₋ᵀ from the bottom, γ_i = D₊(i) + D₋(i) − (a_i − λ) is
/// 1 / [(T − λI)⁻¹]_ii, and the twist r = argmin |γ_i| gives the vector z with z_r = 1, (T − λI) z = γ_r e_r:
/// z_i = −L₊(i) z_{i+1} above r and z_{i+1} = −U₋(i) z_i below. For an eigenvalue accurate to a few ulps of ‖T‖ its
/// error is about ε‖T‖ / gap, so close eigenvalues leave a pair of vectors with an overlap E_jk = s_jᵀs_k of that
/// order. The overlaps are computed (E = S·Sᵀ − I) and removed to first order by the symmetric orthonormalisation
/// S ← (I − ½E)S, which leaves about ⅜|E|²; what then remains of the error is a rotation within each pair of close
/// eigenvalues, which moves the surrogate's Σ f(μ_k)‖B s_k‖² by about |f(μ_j) − f(μ_k)| times the angle, the angle
/// being about ε‖T‖ / gap: the product stays at rounding level. A group with any lane whose |E_jk| exceeds
/// <see cref="TwistOrthogonalityTolerance"/> (eigenvalues too close for the vectors to be told apart, or a NaN) goes
/// back to the rotation-based QL, which is orthogonal by construction.</para>
/// </remarks>
internal static partial class LockstepSymmetricEigen
{
    /// <summary>
    /// Largest |s_jᵀ s_k − δ_jk| accepted from the twisted factorizations before a group takes the rotations. The
    /// first-order correction S ← (I − ½E)S leaves about ⅜|E|², below 1e-16 at this bound.
    /// </summary>
    internal const double TwistOrthogonalityTolerance = 1e-8;

    /// <summary>
    /// Largest overlap <see cref="SolveSpread{TOps, TV}"/> accepts: the symmetric correction S ← (I − ½E)S leaves about
    /// ¾|E|², so three corrections bring 1e-3 below <see cref="TwistOrthogonalityTolerance"/> and the final one to rounding.
    /// What the rows keep of their error is a rotation within a pair of eigenvalues closer than ε‖A‖/1e-3, which moves
    /// a smooth f(A) = W f(Λ) Wᵀ by |f(λ_j) − f(λ_k)| times the angle: below what the eigenvalues' own ε‖A‖ error
    /// already moves it.
    /// </summary>
    internal const double SpreadTwistTolerance = 1e-3;

    private const int MaxRefinements = 3;

    /// <summary>
    /// Pivots of the scaled T − λI (entries ≤ 1) smaller than this are replaced by −PivotFloor, as dlar1v does with its
    /// pivmin: e² / pivot then stays finite, and an exact eigenvalue of a leading block does not divide by zero.
    /// </summary>
    private const double PivotFloor = 1e-290;

    /// <summary>
    /// For tests: the reduction and this path alone, without the rotation fallback. Returns the failed-lane mask, or −1
    /// when the group declined (some lane's vectors failed the orthonormality check).
    /// </summary>
    internal static int SolveWithTwistsOnly<TOps, TV>(Span<double> a, Span<double> b, Span<double> values, Span<double> scratch, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => SolveCore<TOps, TV>(a, b, values, scratch, d, rotationFallback: false);

    /// <summary>For tests: <see cref="SolveSpread{TOps, TV}"/> without the rotation fallback (−1 when the group declined).</summary>
    internal static int SolveSpreadWithTwistsOnly<TOps, TV>(Span<double> a, Span<double> b, Span<double> values, Span<double> scratch, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => SolveCore<TOps, TV>(a, b, values, scratch, d, rotationFallback: false, twistTolerance: SpreadTwistTolerance);

    /// <summary>
    /// Eigenvalues into <paramref name="diag"/> and B (already B·Q) replaced by (B·Q·S)ᵀ, S the eigenvectors of the
    /// tridiagonal (diag, off). Returns the failed-lane mask, or −1 when some lane's vectors failed the orthonormality
    /// check: then (diag, off) hold T again and B is untouched, for the rotation-based QL.
    /// </summary>
    /// <param name="a">The d·d·lanes input buffer (its Householder vectors are no longer needed): receives the product.</param>
    /// <param name="b">d·d·lanes, B·Q on entry (rows contiguous), (B·Q·S)ᵀ on success.</param>
    /// <param name="diag">T's diagonal on entry, the eigenvalues on success.</param>
    /// <param name="off">T's off-diagonal on entry (destroyed on success).</param>
    /// <param name="d">Matrix order.</param>
    /// <param name="work">7·d·lanes doubles: copies of T, its scaled copy and the factorizations' L₊, D₊, U₋.</param>
    /// <param name="vectors">2·d·d·lanes doubles: row k receives the unit eigenvector of eigenvalue k, then −½(S·Sᵀ − I).</param>
    /// <param name="tolerance">Largest overlap accepted before the corrections (<see cref="TwistOrthogonalityTolerance"/> or
    /// <see cref="SpreadTwistTolerance"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SolveThroughTwists<TOps, TV>(ref double a, ref double b, ref double diag, ref double off, ref double work,
                                                    ref double vectors, int d, double tolerance)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, n = d * lanes;
        ref double tDiag = ref work;
        ref double tOff = ref Unsafe.Add(ref work, n);
        ref double sDiag = ref Unsafe.Add(ref work, 4 * n);
        ref double sOff = ref Unsafe.Add(ref work, 5 * n);
        for (int e = 0; e < n; e += lanes)
        {
            TV x = TOps.Load(ref Unsafe.Add(ref diag, e)), y = TOps.Load(ref Unsafe.Add(ref off, e));
            TOps.Store(x, ref Unsafe.Add(ref tDiag, e));
            TOps.Store(y, ref Unsafe.Add(ref tOff, e));
            TOps.Store(x, ref Unsafe.Add(ref sDiag, e));
            TOps.Store(y, ref Unsafe.Add(ref sOff, e));
        }
        // The factorizations run on T scaled to entries ≤ 1 (so e² / pivot cannot overflow); same eigenvectors.
        TV inverseScale = TOps.Divide(TOps.Create(1.0), ScaleToUnit<TOps, TV>(ref sDiag, ref sOff, d));
        int failed = QlRootFree<TOps, TV>(ref diag, ref off, d);

        for (int k = 0; k < d; k++)
        {
            TwistedVector<TOps, TV>(ref sDiag, ref sOff, ref work, TOps.Multiply(TOps.Load(ref Unsafe.Add(ref diag, k * lanes)), inverseScale),
                                    ref Unsafe.Add(ref vectors, k * n), d);
        }

        // Lanes that failed already go to LAPACK whatever their vectors look like.
        ref double overlaps = ref Unsafe.Add(ref vectors, d * n);
        int bad = Overlaps<TOps, TV>(ref vectors, ref overlaps, d, TwistOrthogonalityTolerance) & ~failed;
        if (bad != 0 && tolerance > TwistOrthogonalityTolerance &&
            (Overlaps<TOps, TV>(ref vectors, ref overlaps, d, tolerance) & ~failed) == 0)
        {
            // Overlaps within the loose bound: S ← (I − ½E)S until they are within the strict one (a is free scratch).
            for (int round = 0; round < MaxRefinements && bad != 0; round++)
            {
                CorrectRows<TOps, TV>(ref overlaps, ref vectors, ref a, d);
                Unsafe.CopyBlockUnaligned(ref Unsafe.As<double, byte>(ref vectors), ref Unsafe.As<double, byte>(ref a), (uint)(d * n * sizeof(double)));
                bad = Overlaps<TOps, TV>(ref vectors, ref overlaps, d, TwistOrthogonalityTolerance) & ~failed;
            }
        }
        if (bad != 0)
        {
            for (int e = 0; e < n; e += lanes)
            {
                TOps.Store(TOps.Load(ref Unsafe.Add(ref tDiag, e)), ref Unsafe.Add(ref diag, e));
                TOps.Store(TOps.Load(ref Unsafe.Add(ref tOff, e)), ref Unsafe.Add(ref off, e));
            }
            return -1;
        }

        // P = S·(B·Q)ᵀ, then the first-order symmetric orthonormalisation S ← (I − ½E)S applied to P: B ← P − ½E·P.
        RowProducts<TOps, TV>(ref vectors, ref b, ref a, d);
        CorrectRows<TOps, TV>(ref overlaps, ref a, ref b, d);
        return failed;
    }

    /// <summary>
    /// One eigenvector per lane of the scaled tridiagonal (sDiag, sOff) for the eigenvalue <paramref name="lambda"/>
    /// (same scale), normalised, into <paramref name="z"/> (d slots).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TwistedVector<TOps, TV>(ref double sDiag, ref double sOff, ref double work, TV lambda, ref double z, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, n = d * lanes;
        ref double negLower = ref Unsafe.Add(ref work, 2 * n);
        ref double pivots = ref Unsafe.Add(ref work, 3 * n);
        ref double negUpper = ref Unsafe.Add(ref work, 6 * n);
        TV one = TOps.Create(1.0);

        // Top down: D₊(i+1) = (a_{i+1} − λ) − e_i² / D₊(i), L₊(i) = e_i / D₊(i) (stored negated).
        TV dp = GuardPivot<TOps, TV>(TOps.Subtract(TOps.Load(ref sDiag), lambda));
        TOps.Store(dp, ref pivots);
        for (int i = 0; i + 1 < d; i++)
        {
            TV e = TOps.Load(ref Unsafe.Add(ref sOff, i * lanes));
            TV negL = TOps.Divide(TOps.Subtract(TOps.Zero, e), dp);
            TOps.Store(negL, ref Unsafe.Add(ref negLower, i * lanes));
            dp = GuardPivot<TOps, TV>(TOps.MultiplyAdd(negL, e, TOps.Subtract(TOps.Load(ref Unsafe.Add(ref sDiag, (i + 1) * lanes)), lambda)));
            TOps.Store(dp, ref Unsafe.Add(ref pivots, (i + 1) * lanes));
        }

        // Bottom up: D₋(i) = (a_i − λ) − e_i² / D₋(i+1), U₋(i) = e_i / D₋(i+1) (negated), and the twist.
        TV shifted = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref sDiag, (d - 1) * lanes)), lambda);
        TV dm = GuardPivot<TOps, TV>(shifted);
        TV best = TOps.Abs(TOps.Subtract(TOps.Add(dp, dm), shifted));
        TV twist = TOps.Create(d - 1);
        for (int i = d - 2; i >= 0; i--)
        {
            TV e = TOps.Load(ref Unsafe.Add(ref sOff, i * lanes));
            TV negU = TOps.Divide(TOps.Subtract(TOps.Zero, e), dm);
            TOps.Store(negU, ref Unsafe.Add(ref negUpper, i * lanes));
            shifted = TOps.Subtract(TOps.Load(ref Unsafe.Add(ref sDiag, i * lanes)), lambda);
            dm = GuardPivot<TOps, TV>(TOps.MultiplyAdd(negU, e, shifted));
            TV gamma = TOps.Abs(TOps.Subtract(TOps.Add(TOps.Load(ref Unsafe.Add(ref pivots, i * lanes)), dm), shifted));
            TV better = TOps.LessThanMask(gamma, best);
            best = TOps.Select(better, gamma, best);
            twist = TOps.Select(better, TOps.Create(i), twist);
        }

        // z_r = 1; upwards from the twist z_i = −L₊(i) z_{i+1}; entries below it stay 0 for now.
        TV next = TOps.Select(TOps.EqualsMask(TOps.Create(d - 1), twist), one, TOps.Zero);
        TOps.Store(next, ref Unsafe.Add(ref z, (d - 1) * lanes));
        for (int i = d - 2; i >= 0; i--)
        {
            TV iv = TOps.Create(i);
            TV up = TOps.Multiply(TOps.Load(ref Unsafe.Add(ref negLower, i * lanes)), next);
            next = TOps.Select(TOps.EqualsMask(iv, twist), one, TOps.Select(TOps.LessThanMask(iv, twist), up, TOps.Zero));
            TOps.Store(next, ref Unsafe.Add(ref z, i * lanes));
        }
        // Downwards from the twist z_{i+1} = −U₋(i) z_i, with the squared norm.
        TV previous = TOps.Load(ref z);
        TV norm = TOps.Multiply(previous, previous);
        for (int i = 1; i < d; i++)
        {
            ref double zi = ref Unsafe.Add(ref z, i * lanes);
            TV down = TOps.Multiply(TOps.Load(ref Unsafe.Add(ref negUpper, (i - 1) * lanes)), previous);
            previous = TOps.Select(TOps.LessThanMask(twist, TOps.Create(i)), down, TOps.Load(ref zi));
            TOps.Store(previous, ref zi);
            norm = TOps.MultiplyAdd(previous, previous, norm);
        }
        TV inverseNorm = TOps.Divide(one, TOps.Sqrt(norm));
        for (int i = 0; i < d; i++)
        {
            ref double zi = ref Unsafe.Add(ref z, i * lanes);
            TOps.Store(TOps.Multiply(TOps.Load(ref zi), inverseNorm), ref zi);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV GuardPivot<TOps, TV>(TV pivot)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => TOps.Select(TOps.LessThanMask(TOps.Abs(pivot), TOps.Create(PivotFloor)), TOps.Create(-PivotFloor), pivot);

    /// <summary>
    /// −½E with E = S·Sᵀ − I for the rows s_k of <paramref name="rows"/> (full symmetric, into
    /// <paramref name="halfOverlaps"/>), and the bit mask of the lanes with some |E_jk| above
    /// <paramref name="bound"/>; a NaN or an infinity anywhere counts as above.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Overlaps<TOps, TV>(ref double rows, ref double halfOverlaps, int d, double bound)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, n = d * lanes;
        TV tolerance = TOps.Create(bound);
        TV minusHalf = TOps.Create(-0.5);
        TV bad = TOps.Zero;
        for (int j = 0; j < d; j++)
        {
            ref double rj = ref Unsafe.Add(ref rows, j * n);
            for (int k = j; k < d; k++)
            {
                ref double rk = ref Unsafe.Add(ref rows, k * n);
                TV dot = TOps.Zero;
                for (int i = 0; i < n; i += lanes)
                {
                    dot = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref rj, i)), TOps.Load(ref Unsafe.Add(ref rk, i)), dot);
                }
                TV overlap = j == k ? TOps.Subtract(dot, TOps.Create(1.0)) : dot;
                // "Not ≤ tolerance" rather than "> tolerance", so that NaN is caught.
                bad = TOps.Or(bad, TOps.AndNot(AllSet<TOps, TV>(), TOps.LessThanOrEqualMask(TOps.Abs(overlap), tolerance)));
                TV half = TOps.Multiply(minusHalf, overlap);
                TOps.Store(half, ref Unsafe.Add(ref halfOverlaps, j * n + k * lanes));
                TOps.Store(half, ref Unsafe.Add(ref halfOverlaps, k * n + j * lanes));
            }
        }
        return TOps.MaskBits(bad);
    }

    /// <summary>
    /// output[k][r] = p[k][r] + Σ_j h[k][j]·p[j][r] (h = −½E): the correction applied to P = S·(B·Q)ᵀ.
    /// </summary>
    private static void CorrectRows<TOps, TV>(ref double h, ref double p, ref double output, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => BlockProducts<TOps, TV>(ref h, ref p, TOps.Count, d * TOps.Count, ref p, ref output, d);

    /// <summary>
    /// product[k][r] = ⟨s_k, b_r⟩ for the rows s_k of <paramref name="s"/> and b_r of <paramref name="b"/>, that is
    /// (B·S)ᵀ with S's columns the s_k.
    /// </summary>
    private static void RowProducts<TOps, TV>(ref double s, ref double b, ref double product, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => BlockProducts<TOps, TV>(ref s, ref b, d * TOps.Count, TOps.Count, ref Unsafe.NullRef<double>(), ref product, d);

    /// <summary>
    /// output[k][r] = initial[k][r] (or 0 when <paramref name="initial"/> is a null reference) + Σ_j x[k][j]·Y(j, r),
    /// every entry a lane vector, x row-major d×d, Y(j, r) at y + r·<paramref name="yColumnStride"/> +
    /// j·<paramref name="yStepStride"/>. Four rows k by four columns r per block, so the 16 accumulators share their
    /// loads (16 FMAs per 8 loads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BlockProducts<TOps, TV>(ref double x, ref double y, int yColumnStride, int yStepStride, ref double initial,
                                                ref double output, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, n = d * lanes;
        bool hasInitial = !Unsafe.IsNullRef(ref initial);
        for (int k = 0; k < d; k += 4)
        {
            for (int r = 0; r < d; r += 4)
            {
                if (k + 4 > d || r + 4 > d)
                {
                    // Edge blocks, one entry at a time.
                    for (int kk = k; kk < Math.Min(k + 4, d); kk++)
                    {
                        for (int rr = r; rr < Math.Min(r + 4, d); rr++)
                        {
                            TV acc = hasInitial ? TOps.Load(ref Unsafe.Add(ref initial, kk * n + rr * lanes)) : TOps.Zero;
                            for (int j = 0; j < d; j++)
                            {
                                acc = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref x, kk * n + j * lanes)),
                                    TOps.Load(ref Unsafe.Add(ref y, rr * yColumnStride + j * yStepStride)), acc);
                            }
                            TOps.Store(acc, ref Unsafe.Add(ref output, kk * n + rr * lanes));
                        }
                    }
                    continue;
                }
                TV c00 = TOps.Zero, c01 = TOps.Zero, c02 = TOps.Zero, c03 = TOps.Zero;
                TV c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero, c13 = TOps.Zero;
                TV c20 = TOps.Zero, c21 = TOps.Zero, c22 = TOps.Zero, c23 = TOps.Zero;
                TV c30 = TOps.Zero, c31 = TOps.Zero, c32 = TOps.Zero, c33 = TOps.Zero;
                ref double x0 = ref Unsafe.Add(ref x, k * n);
                ref double x1 = ref Unsafe.Add(ref x0, n);
                ref double x2 = ref Unsafe.Add(ref x1, n);
                ref double x3 = ref Unsafe.Add(ref x2, n);
                ref double y0 = ref Unsafe.Add(ref y, r * yColumnStride);
                for (int j = 0; j < d; j++)
                {
                    ref double yj = ref Unsafe.Add(ref y0, j * yStepStride);
                    TV v0 = TOps.Load(ref yj), v1 = TOps.Load(ref Unsafe.Add(ref yj, yColumnStride));
                    TV v2 = TOps.Load(ref Unsafe.Add(ref yj, 2 * yColumnStride)), v3 = TOps.Load(ref Unsafe.Add(ref yj, 3 * yColumnStride));
                    int o = j * lanes;
                    TV u = TOps.Load(ref Unsafe.Add(ref x0, o));
                    c00 = TOps.MultiplyAdd(u, v0, c00); c01 = TOps.MultiplyAdd(u, v1, c01);
                    c02 = TOps.MultiplyAdd(u, v2, c02); c03 = TOps.MultiplyAdd(u, v3, c03);
                    u = TOps.Load(ref Unsafe.Add(ref x1, o));
                    c10 = TOps.MultiplyAdd(u, v0, c10); c11 = TOps.MultiplyAdd(u, v1, c11);
                    c12 = TOps.MultiplyAdd(u, v2, c12); c13 = TOps.MultiplyAdd(u, v3, c13);
                    u = TOps.Load(ref Unsafe.Add(ref x2, o));
                    c20 = TOps.MultiplyAdd(u, v0, c20); c21 = TOps.MultiplyAdd(u, v1, c21);
                    c22 = TOps.MultiplyAdd(u, v2, c22); c23 = TOps.MultiplyAdd(u, v3, c23);
                    u = TOps.Load(ref Unsafe.Add(ref x3, o));
                    c30 = TOps.MultiplyAdd(u, v0, c30); c31 = TOps.MultiplyAdd(u, v1, c31);
                    c32 = TOps.MultiplyAdd(u, v2, c32); c33 = TOps.MultiplyAdd(u, v3, c33);
                }
                StoreRow<TOps, TV>(c00, c01, c02, c03, ref initial, hasInitial, ref output, k * n + r * lanes);
                StoreRow<TOps, TV>(c10, c11, c12, c13, ref initial, hasInitial, ref output, (k + 1) * n + r * lanes);
                StoreRow<TOps, TV>(c20, c21, c22, c23, ref initial, hasInitial, ref output, (k + 2) * n + r * lanes);
                StoreRow<TOps, TV>(c30, c31, c32, c33, ref initial, hasInitial, ref output, (k + 3) * n + r * lanes);
            }
        }
    }

    /// <summary>Four consecutive entries at <paramref name="offset"/>, plus the initial values there when given.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TOps, TV>(TV c0, TV c1, TV c2, TV c3, ref double initial, bool hasInitial, ref double output, int offset)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        if (hasInitial)
        {
            ref double i0 = ref Unsafe.Add(ref initial, offset);
            c0 = TOps.Add(c0, TOps.Load(ref i0));
            c1 = TOps.Add(c1, TOps.Load(ref Unsafe.Add(ref i0, lanes)));
            c2 = TOps.Add(c2, TOps.Load(ref Unsafe.Add(ref i0, 2 * lanes)));
            c3 = TOps.Add(c3, TOps.Load(ref Unsafe.Add(ref i0, 3 * lanes)));
        }
        ref double o0 = ref Unsafe.Add(ref output, offset);
        TOps.Store(c0, ref o0);
        TOps.Store(c1, ref Unsafe.Add(ref o0, lanes));
        TOps.Store(c2, ref Unsafe.Add(ref o0, 2 * lanes));
        TOps.Store(c3, ref Unsafe.Add(ref o0, 3 * lanes));
    }
}

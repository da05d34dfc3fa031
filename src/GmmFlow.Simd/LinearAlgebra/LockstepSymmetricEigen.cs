using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.Simd.LinearAlgebra;

/// <summary>
/// Eigenvalues of <c>TOps.Count</c> real symmetric d×d matrices at once, one matrix per SIMD lane: Householder
/// reduction to tridiagonal form, then the implicit QL iteration with Wilkinson-type shifts, every step executed for
/// all lanes together. Optionally a d×d matrix B per lane, given transposed, is multiplied from the right by the
/// eigenvector basis, so row k of the given Bᵀ becomes (B·w_k)ᵀ for the unit eigenvector w_k of eigenvalue k (the
/// surrogate cost needs ‖L0 w_k‖² and nothing else of the eigenvectors; rows keep every update contiguous, where
/// columns at d = 64 are 4 KiB apart and thrash the cache).
/// </summary>
/// <remarks>
/// <para>Why not LAPACK here: the cost matrices solve thousands of small independent eigenproblems, and one dsyevd
/// call costs 9 µs at d = 16 and 104 µs at d = 64 on this hardware, mostly in per-call and level-2 BLAS overheads
/// and in the latency chain of the scalar QL sweep. Solving eight problems in the lanes of one vector turns every
/// scalar step of that chain into one vector step (the chains are independent), so the arithmetic runs at vector
/// throughput. LAPACK stays the reference: the tests compare every lane with dsyevd, and a lane this kernel cannot
/// finish (iteration cap, a zero rotation norm, a non-finite value) is reported so the caller recomputes it there.</para>
/// <para>Layout ("interleaved"): element (r, c) of lane k at <c>(r·d + c)·lanes + k</c>; eigenvalue k of lane q at
/// <c>k·lanes + q</c>. The input must hold both triangles; it is overwritten. Eigenvalues come out unsorted.</para>
/// <para>Accuracy: both phases are orthogonal similarity transformations (backward stable, like dsyevd): every
/// eigenvalue is exact for a matrix within a few ulps of ‖A‖ of the input. A subdiagonal entry counts as converged
/// when |e_k| ≤ ε(|d_k| + |d_k+1|), the classical test. Entries beyond about 1e150 in magnitude may overflow a
/// squared norm; such a lane comes back as failed, never as a wrong number.</para>
/// </remarks>
internal static class LockstepSymmetricEigen
{
    /// <summary>QL iterations allowed per eigenvalue before a lane is given up (LAPACK allows 30 per eigenvalue).</summary>
    public const int MaxIterationsPerEigenvalue = 60;

    private const double Epsilon = 2.220446049250313e-16;

    /// <summary>Doubles of scratch <see cref="Solve{TOps, TV}"/> needs: the Householder vector, its partner and the off-diagonal.</summary>
    public static int ScratchLength(int d, int lanes) => 3 * d * lanes;

    /// <summary>
    /// Solves the lanes' eigenproblems. Returns a bit mask of failed lanes (bit q = lane q; 0 when all succeeded);
    /// the values of a failed lane are meaningless.
    /// Its parts are compiled fully optimised at once (AggressiveOptimization): at tier 0 the static abstract
    /// vector calls are not inlined and run about ten times slower, and a cost matrix is one call of a few hundred groups.
    /// </summary>
    /// <param name="a">d·d·lanes, interleaved symmetric matrices (destroyed).</param>
    /// <param name="bt">Empty, or d·d·lanes interleaved transposed matrices Bᵀ, replaced by (B·W)ᵀ (W the eigenvector basis).</param>
    /// <param name="values">d·lanes, receives the eigenvalues.</param>
    /// <param name="scratch">At least <see cref="ScratchLength"/> doubles.</param>
    /// <param name="d">Matrix order (≥ 1).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Solve<TOps, TV>(Span<double> a, Span<double> bt, Span<double> values, Span<double> scratch, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, dd = d * d * lanes;
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        if (a.Length < dd || values.Length < d * lanes || scratch.Length < ScratchLength(d, lanes) ||
            (!bt.IsEmpty && bt.Length < dd))
        {
            throw new ArgumentException("Lockstep eigensolver buffers are too small for the order and lane count.");
        }
        bool withB = !bt.IsEmpty;
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(bt);
        ref double diag = ref MemoryMarshal.GetReference(values);
        ref double v = ref MemoryMarshal.GetReference(scratch);
        ref double w = ref Unsafe.Add(ref v, d * lanes);
        ref double off = ref Unsafe.Add(ref w, d * lanes);

        Tridiagonalize<TOps, TV>(ref ra, ref rb, withB, ref diag, ref off, ref v, ref w, d);
        // Eigenvalues alone need no rotations, so they take the square-root-free iteration (shorter chain per step).
        int failed = withB ? QlIterate<TOps, TV>(ref diag, ref off, ref rb, withB, d) : QlRootFree<TOps, TV>(ref diag, ref off, d);

        // A non-finite eigenvalue (overflow in a squared norm, or a NaN input) is a failure too.
        TV bad = TOps.Zero;
        for (int k = 0; k < d; k++)
        {
            TV x = TOps.Load(ref Unsafe.Add(ref diag, k * lanes));
            // |x| ≤ MaxValue is false for ±∞ and NaN.
            bad = TOps.Or(bad, TOps.AndNot(AllSet<TOps, TV>(), TOps.LessThanOrEqualMask(TOps.Abs(x), TOps.Create(double.MaxValue))));
        }
        return failed | TOps.MaskBits(bad);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV AllSet<TOps, TV>()
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => TOps.EqualsMask(TOps.Zero, TOps.Zero);

    /// <summary>
    /// A = Q T Qᵀ with T tridiagonal (diag, off; off[k] couples k and k+1, off[d−1] = 0), Q = H_0 H_1 ⋯ H_{d−3};
    /// with B: Bᵀ ← Qᵀ Bᵀ (that is B ← B Q). Step k reflects column k below the diagonal onto its first entry.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Tridiagonalize<TOps, TV>(ref double a, ref double b, bool withB, ref double diag, ref double off,
                                                 ref double v, ref double w, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, rowStride = d * lanes;
        for (int k = 0; k + 2 < d; k++)
        {
            int n = d - k - 1;
            // x = A[k, k+1..d−1] (row k, equal to column k by symmetry: contiguous).
            ref double x = ref Unsafe.Add(ref a, (k * d + k + 1) * lanes);
            TV sumsq = TOps.Zero;
            for (int j = 0; j < n; j++)
            {
                TV xj = TOps.Load(ref Unsafe.Add(ref x, j * lanes));
                sumsq = TOps.MultiplyAdd(xj, xj, sumsq);
                TOps.Store(xj, ref Unsafe.Add(ref v, j * lanes));
            }
            TV norm = TOps.Sqrt(sumsq);
            TV x0 = TOps.Load(ref x);
            // α = −sign(x0)‖x‖ makes v0 = x0 − α an addition of like signs (no cancellation);
            // vᵀv / 2 = ‖x‖(‖x‖ + |x0|) and H = I − τ v vᵀ with τ = 2 / vᵀv maps x to α e_1.
            TV signedNorm = TOps.CopySign(norm, x0);
            TV alpha = TOps.Subtract(TOps.Zero, signedNorm);
            TOps.Store(TOps.Add(x0, signedNorm), ref v);
            TV half = TOps.Multiply(norm, TOps.Add(norm, TOps.Abs(x0)));
            // A lane whose column is already zero gets the identity (τ = 0), not 1/0.
            TV tau = TOps.Select(TOps.LessThanMask(TOps.Zero, half), TOps.Divide(TOps.Create(1.0), half), TOps.Zero);
            TOps.Store(TOps.Load(ref Unsafe.Add(ref a, (k * d + k) * lanes)), ref Unsafe.Add(ref diag, k * lanes));
            TOps.Store(alpha, ref Unsafe.Add(ref off, k * lanes));

            // p = τ A₂₂ v (A₂₂ the trailing n×n block), four rows at a time so four dot products share each v load.
            ref double a22 = ref Unsafe.Add(ref a, ((k + 1) * d + k + 1) * lanes);
            int r = 0;
            for (; r + 4 <= n; r += 4)
            {
                ref double row0 = ref Unsafe.Add(ref a22, r * rowStride);
                ref double row1 = ref Unsafe.Add(ref row0, rowStride);
                ref double row2 = ref Unsafe.Add(ref row1, rowStride);
                ref double row3 = ref Unsafe.Add(ref row2, rowStride);
                TV p0 = TOps.Zero, p1 = TOps.Zero, p2 = TOps.Zero, p3 = TOps.Zero;
                for (int j = 0; j < n; j++)
                {
                    TV vj = TOps.Load(ref Unsafe.Add(ref v, j * lanes));
                    p0 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row0, j * lanes)), vj, p0);
                    p1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row1, j * lanes)), vj, p1);
                    p2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row2, j * lanes)), vj, p2);
                    p3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row3, j * lanes)), vj, p3);
                }
                TOps.Store(TOps.Multiply(tau, p0), ref Unsafe.Add(ref w, r * lanes));
                TOps.Store(TOps.Multiply(tau, p1), ref Unsafe.Add(ref w, (r + 1) * lanes));
                TOps.Store(TOps.Multiply(tau, p2), ref Unsafe.Add(ref w, (r + 2) * lanes));
                TOps.Store(TOps.Multiply(tau, p3), ref Unsafe.Add(ref w, (r + 3) * lanes));
            }
            for (; r < n; r++)
            {
                ref double row = ref Unsafe.Add(ref a22, r * rowStride);
                TV p = TOps.Zero;
                for (int j = 0; j < n; j++)
                {
                    p = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref row, j * lanes)), TOps.Load(ref Unsafe.Add(ref v, j * lanes)), p);
                }
                TOps.Store(TOps.Multiply(tau, p), ref Unsafe.Add(ref w, r * lanes));
            }

            // w = p − K v with K = ½ τ vᵀp, so that H A₂₂ H = A₂₂ − v wᵀ − w vᵀ.
            TV vp = TOps.Zero;
            for (int j = 0; j < n; j++)
            {
                vp = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref v, j * lanes)), TOps.Load(ref Unsafe.Add(ref w, j * lanes)), vp);
            }
            TV kk = TOps.Multiply(TOps.Multiply(TOps.Create(0.5), tau), vp);
            for (int j = 0; j < n; j++)
            {
                ref double wj = ref Unsafe.Add(ref w, j * lanes);
                TOps.Store(TOps.Subtract(TOps.Load(ref wj), TOps.Multiply(kk, TOps.Load(ref Unsafe.Add(ref v, j * lanes)))), ref wj);
            }
            for (r = 0; r < n; r++)
            {
                ref double row = ref Unsafe.Add(ref a22, r * rowStride);
                TV vr = TOps.Load(ref Unsafe.Add(ref v, r * lanes));
                TV wr = TOps.Load(ref Unsafe.Add(ref w, r * lanes));
                for (int j = 0; j < n; j++)
                {
                    ref double e = ref Unsafe.Add(ref row, j * lanes);
                    TV t = TOps.MultiplyAdd(vr, TOps.Load(ref Unsafe.Add(ref w, j * lanes)),
                                            TOps.Multiply(wr, TOps.Load(ref Unsafe.Add(ref v, j * lanes))));
                    TOps.Store(TOps.Subtract(TOps.Load(ref e), t), ref e);
                }
            }

            if (withB)
            {
                // Bᵀ ← H Bᵀ: rows k+1..d−1 lose v (vᵀ Bᵀ) τ; the row combination vᵀBᵀ goes to w (free by now).
                ref double rows = ref Unsafe.Add(ref b, (k + 1) * rowStride);
                for (int c = 0; c < d; c++)
                {
                    TOps.Store(TOps.Zero, ref Unsafe.Add(ref w, c * lanes));
                }
                for (int j = 0; j < n; j++)
                {
                    ref double row = ref Unsafe.Add(ref rows, j * rowStride);
                    TV vj = TOps.Load(ref Unsafe.Add(ref v, j * lanes));
                    for (int c = 0; c < d; c++)
                    {
                        ref double sc = ref Unsafe.Add(ref w, c * lanes);
                        TOps.Store(TOps.MultiplyAdd(vj, TOps.Load(ref Unsafe.Add(ref row, c * lanes)), TOps.Load(ref sc)), ref sc);
                    }
                }
                for (int j = 0; j < n; j++)
                {
                    ref double row = ref Unsafe.Add(ref rows, j * rowStride);
                    TV tv = TOps.Multiply(tau, TOps.Load(ref Unsafe.Add(ref v, j * lanes)));
                    for (int c = 0; c < d; c++)
                    {
                        ref double e = ref Unsafe.Add(ref row, c * lanes);
                        TOps.Store(TOps.Subtract(TOps.Load(ref e), TOps.Multiply(tv, TOps.Load(ref Unsafe.Add(ref w, c * lanes)))), ref e);
                    }
                }
            }
        }
        // The last 2×2 (or 1×1) block is already tridiagonal.
        if (d >= 2)
        {
            TOps.Store(TOps.Load(ref Unsafe.Add(ref a, ((d - 2) * d + d - 2) * lanes)), ref Unsafe.Add(ref diag, (d - 2) * lanes));
            TOps.Store(TOps.Load(ref Unsafe.Add(ref a, ((d - 2) * d + d - 1) * lanes)), ref Unsafe.Add(ref off, (d - 2) * lanes));
        }
        TOps.Store(TOps.Load(ref Unsafe.Add(ref a, ((d - 1) * d + d - 1) * lanes)), ref Unsafe.Add(ref diag, (d - 1) * lanes));
        TOps.Store(TOps.Zero, ref Unsafe.Add(ref off, (d - 1) * lanes));
    }

    /// <summary>
    /// Implicit QL with shifts on (diag, off), deflating from the top: for l = 0, 1, …, sweep each lane's unreduced
    /// block [l, m_lane] until off[l] is negligible. Lanes run the same instruction stream; a lane whose block is
    /// shorter, or that has already converged, is masked (its state and entries are kept, its rotations on B are the
    /// identity). Returns the mask of lanes that failed.
    /// </summary>
    /// <remarks>
    /// Each sweep step is one long dependency chain (a square root and a division feed the next step), so the step's
    /// latency is the cost: the tridiagonal matrix is first scaled by 1/max|entry| per lane so that plain
    /// √(f² + g²) cannot overflow (entries ≤ 1) and the scaled hypotenuse with its extra division is not needed; an
    /// underflow to r = 0 hands the lane back. The scaling is undone on the eigenvalues at the end.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int QlIterate<TOps, TV>(ref double diag, ref double off, ref double bt, bool withB, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, rowStride = d * lanes;
        TV failed = TOps.Zero;
        TV one = TOps.Create(1.0), eps = TOps.Create(Epsilon);

        TV scale = ScaleToUnit<TOps, TV>(ref diag, ref off, d);

        for (int l = 0; l < d - 1; l++)
        {
            TV lv = TOps.Create(l);
            for (int iteration = 0; ; iteration++)
            {
                // m = the first k ≥ l with a negligible off[k] (k = d−1 always qualifies), and d[m], per lane.
                TV m = TOps.Create(d - 1);
                TV dm = TOps.Load(ref Unsafe.Add(ref diag, (d - 1) * lanes));
                for (int k = d - 2; k >= l; k--)
                {
                    TV dk = TOps.Load(ref Unsafe.Add(ref diag, k * lanes));
                    TV dk1 = TOps.Load(ref Unsafe.Add(ref diag, (k + 1) * lanes));
                    TV ek = TOps.Load(ref Unsafe.Add(ref off, k * lanes));
                    TV negligible = TOps.LessThanOrEqualMask(TOps.Abs(ek), TOps.Multiply(eps, TOps.Add(TOps.Abs(dk), TOps.Abs(dk1))));
                    m = TOps.Select(negligible, TOps.Create(k), m);
                    dm = TOps.Select(negligible, dk, dm);
                }
                TV active = TOps.AndNot(TOps.AndNot(AllSet<TOps, TV>(), TOps.EqualsMask(m, lv)), failed);
                if (!TOps.AnySet(active))
                {
                    break;
                }
                if (iteration >= MaxIterationsPerEigenvalue)
                {
                    failed = TOps.Or(failed, active);
                    break;
                }
                int top = (int)TOps.MaxAcross(TOps.Select(active, m, lv));

                // Shift from the leading 2×2 of the block: g = d[m] − d[l] + e[l] / (ρ + sign(ρ)√(ρ² + 1)),
                // ρ = (d[l+1] − d[l]) / (2 e[l]). A huge ρ makes the root +∞ and the fraction 0, the right limit.
                // Inactive lanes may divide by zero; their values are never stored.
                TV dl = TOps.Load(ref Unsafe.Add(ref diag, l * lanes));
                TV el = TOps.Load(ref Unsafe.Add(ref off, l * lanes));
                TV rho = TOps.Divide(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref diag, (l + 1) * lanes)), dl), TOps.Add(el, el));
                TV radius = TOps.Sqrt(TOps.MultiplyAdd(rho, rho, one));
                TV g = TOps.Add(TOps.Subtract(dm, dl), TOps.Divide(el, TOps.Add(rho, TOps.CopySign(radius, rho))));
                TV s = one, c = one, p = TOps.Zero;
                for (int i = top - 1; i >= l; i--)
                {
                    TV act = TOps.And(active, TOps.LessThanMask(TOps.Create(i), m));
                    ref double ei1 = ref Unsafe.Add(ref off, (i + 1) * lanes);
                    ref double di1 = ref Unsafe.Add(ref diag, (i + 1) * lanes);
                    TV ei = TOps.Load(ref Unsafe.Add(ref off, i * lanes));
                    TV f = TOps.Multiply(s, ei), bb = TOps.Multiply(c, ei);
                    TV r = TOps.Sqrt(TOps.MultiplyAdd(f, f, TOps.Multiply(g, g)));
                    // r = 0 only through underflow; that lane is handed back rather than divided by zero.
                    TV zero = TOps.And(act, TOps.EqualsMask(r, TOps.Zero));
                    failed = TOps.Or(failed, zero);
                    act = TOps.AndNot(act, zero);
                    TV inverse = TOps.Divide(one, TOps.Select(act, r, one));
                    TV sNew = TOps.Multiply(f, inverse), cNew = TOps.Multiply(g, inverse);
                    TV dOld = TOps.Load(ref di1);
                    TV g2 = TOps.Subtract(dOld, p);
                    TV r2 = TOps.MultiplyAdd(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref diag, i * lanes)), g2), sNew,
                                             TOps.Multiply(TOps.Add(cNew, cNew), bb));
                    TV pNew = TOps.Multiply(sNew, r2);
                    TOps.Store(TOps.Select(act, r, TOps.Load(ref ei1)), ref ei1);
                    TOps.Store(TOps.Select(act, TOps.Add(g2, pNew), dOld), ref di1);
                    TV gNew = TOps.Subtract(TOps.Multiply(cNew, r2), bb);
                    s = TOps.Select(act, sNew, s);
                    c = TOps.Select(act, cNew, c);
                    p = TOps.Select(act, pNew, p);
                    g = TOps.Select(act, gNew, g);
                    if (withB)
                    {
                        // Rows i and i+1 of Bᵀ turn by the same rotation (identity in masked lanes). Not on the
                        // step's dependency chain, so it runs in the shadow of the next step's square root and division.
                        TV cr = TOps.Select(act, cNew, one), sr = TOps.Select(act, sNew, TOps.Zero);
                        ref double row0 = ref Unsafe.Add(ref bt, i * rowStride);
                        ref double row1 = ref Unsafe.Add(ref row0, rowStride);
                        for (int col = 0; col < d; col++)
                        {
                            ref double x0r = ref Unsafe.Add(ref row0, col * lanes);
                            ref double x1r = ref Unsafe.Add(ref row1, col * lanes);
                            TV x0 = TOps.Load(ref x0r), x1 = TOps.Load(ref x1r);
                            TOps.Store(TOps.MultiplyAdd(sr, x0, TOps.Multiply(cr, x1)), ref x1r);
                            TOps.Store(TOps.Subtract(TOps.Multiply(cr, x0), TOps.Multiply(sr, x1)), ref x0r);
                        }
                    }
                }
                // Close the sweep in the lanes that ran it without failing: d[l] −= p, e[l] = g, e[m] = 0.
                TV done = TOps.AndNot(active, failed);
                ref double dlRef = ref Unsafe.Add(ref diag, l * lanes);
                ref double elRef = ref Unsafe.Add(ref off, l * lanes);
                TOps.Store(TOps.Select(done, TOps.Subtract(TOps.Load(ref dlRef), p), TOps.Load(ref dlRef)), ref dlRef);
                TOps.Store(TOps.Select(done, g, TOps.Load(ref elRef)), ref elRef);
                for (int k = l + 1; k <= top; k++)
                {
                    ref double ek = ref Unsafe.Add(ref off, k * lanes);
                    TOps.Store(TOps.Select(TOps.And(done, TOps.EqualsMask(m, TOps.Create(k))), TOps.Zero, TOps.Load(ref ek)), ref ek);
                }
            }
        }

        for (int k = 0; k < d; k++)
        {
            ref double dk = ref Unsafe.Add(ref diag, k * lanes);
            TOps.Store(TOps.Multiply(TOps.Load(ref dk), scale), ref dk);
        }
        return TOps.MaskBits(failed);
    }

    /// <summary>Divides the tridiagonal matrix of every lane by its largest |entry| (1 for a zero matrix); returns the factors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV ScaleToUnit<TOps, TV>(ref double diag, ref double off, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        TV one = TOps.Create(1.0);
        TV scale = TOps.Zero;
        for (int k = 0; k < d; k++)
        {
            scale = TOps.Max(scale, TOps.Max(TOps.Abs(TOps.Load(ref Unsafe.Add(ref diag, k * lanes))), TOps.Abs(TOps.Load(ref Unsafe.Add(ref off, k * lanes)))));
        }
        // A zero matrix keeps scale 1; a NaN lane stays NaN and is reported by the caller's finiteness check.
        scale = TOps.Select(TOps.EqualsMask(scale, TOps.Zero), one, scale);
        TV inverseScale = TOps.Divide(one, scale);
        for (int k = 0; k < d; k++)
        {
            ref double dk = ref Unsafe.Add(ref diag, k * lanes);
            ref double ek = ref Unsafe.Add(ref off, k * lanes);
            TOps.Store(TOps.Multiply(TOps.Load(ref dk), inverseScale), ref dk);
            TOps.Store(TOps.Multiply(TOps.Load(ref ek), inverseScale), ref ek);
        }
        return scale;
    }

    /// <summary>
    /// Eigenvalues only: the square-root-free implicit QL iteration of Pal, Walker and Kahan (the one LAPACK's dsterf
    /// runs), in lockstep with the same lane masking as <see cref="QlIterate{TOps, TV}"/>. It works on the squared
    /// off-diagonal entries, so a step has no square root and, with 1/p computed off the critical path, one division
    /// on it: about half the latency of a rotation-based step. off[] holds squares afterwards.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int QlRootFree<TOps, TV>(ref double diag, ref double off, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        TV failed = TOps.Zero;
        TV one = TOps.Create(1.0), eps2 = TOps.Create(Epsilon * Epsilon);
        TV scale = ScaleToUnit<TOps, TV>(ref diag, ref off, d);
        for (int k = 0; k < d; k++)
        {
            ref double ek = ref Unsafe.Add(ref off, k * lanes);
            TV e = TOps.Load(ref ek);
            TOps.Store(TOps.Multiply(e, e), ref ek);
        }

        for (int l = 0; l < d - 1; l++)
        {
            TV lv = TOps.Create(l);
            for (int iteration = 0; ; iteration++)
            {
                // The classical test |e_k| ≤ ε(|d_k| + |d_k+1|), squared.
                TV m = TOps.Create(d - 1);
                TV dm = TOps.Load(ref Unsafe.Add(ref diag, (d - 1) * lanes));
                for (int k = d - 2; k >= l; k--)
                {
                    TV dk = TOps.Load(ref Unsafe.Add(ref diag, k * lanes));
                    TV dk1 = TOps.Load(ref Unsafe.Add(ref diag, (k + 1) * lanes));
                    TV sum = TOps.Add(TOps.Abs(dk), TOps.Abs(dk1));
                    TV negligible = TOps.LessThanOrEqualMask(TOps.Load(ref Unsafe.Add(ref off, k * lanes)), TOps.Multiply(eps2, TOps.Multiply(sum, sum)));
                    m = TOps.Select(negligible, TOps.Create(k), m);
                    dm = TOps.Select(negligible, dk, dm);
                }
                TV active = TOps.AndNot(TOps.AndNot(AllSet<TOps, TV>(), TOps.EqualsMask(m, lv)), failed);
                if (!TOps.AnySet(active))
                {
                    break;
                }
                if (iteration >= MaxIterationsPerEigenvalue)
                {
                    failed = TOps.Or(failed, active);
                    break;
                }
                int top = (int)TOps.MaxAcross(TOps.Select(active, m, lv));

                // Shift σ from the leading 2×2, as in the rotation-based iteration (one square root per sweep).
                TV dl = TOps.Load(ref Unsafe.Add(ref diag, l * lanes));
                TV rte = TOps.Sqrt(TOps.Load(ref Unsafe.Add(ref off, l * lanes)));
                TV rho = TOps.Divide(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref diag, (l + 1) * lanes)), dl), TOps.Add(rte, rte));
                TV radius = TOps.Sqrt(TOps.MultiplyAdd(rho, rho, one));
                TV sigma = TOps.Subtract(dl, TOps.Divide(rte, TOps.Add(rho, TOps.CopySign(radius, rho))));
                TV c = one, s = TOps.Zero;
                TV gamma = TOps.Subtract(dm, sigma);
                TV p = TOps.Multiply(gamma, gamma);
                for (int i = top - 1; i >= l; i--)
                {
                    TV iv = TOps.Create(i);
                    TV act = TOps.And(active, TOps.LessThanMask(iv, m));
                    ref double ei1 = ref Unsafe.Add(ref off, (i + 1) * lanes);
                    ref double di1 = ref Unsafe.Add(ref diag, (i + 1) * lanes);
                    TV bb = TOps.Load(ref Unsafe.Add(ref off, i * lanes));
                    TV r = TOps.Add(p, bb);
                    // e_{i+1} = s r, except at the block's last row (i = m − 1), whose e_m is left as it is.
                    TV inner = TOps.And(act, TOps.LessThanMask(TOps.Add(iv, one), m));
                    TOps.Store(TOps.Select(inner, TOps.Multiply(s, r), TOps.Load(ref ei1)), ref ei1);
                    // r > 0 in active lanes (bb is a non-negligible square); 1/p runs in parallel with 1/r.
                    TV inverseR = TOps.Divide(one, TOps.Select(act, r, one));
                    TV inverseP = TOps.Divide(one, p);
                    TV cNew = TOps.Multiply(p, inverseR), sNew = TOps.Multiply(bb, inverseR);
                    TV alpha = TOps.Load(ref Unsafe.Add(ref diag, i * lanes));
                    TV gNew = TOps.Subtract(TOps.Multiply(cNew, TOps.Subtract(alpha, sigma)), TOps.Multiply(sNew, gamma));
                    TOps.Store(TOps.Select(act, TOps.Add(gamma, TOps.Subtract(alpha, gNew)), TOps.Load(ref di1)), ref di1);
                    // p = γ²/c = γ² r / p_old; where c = 0 (p_old = 0) the iteration takes p = c_old · bb instead.
                    TV pNew = TOps.Select(TOps.EqualsMask(cNew, TOps.Zero), TOps.Multiply(c, bb),
                                          TOps.Multiply(TOps.Multiply(gNew, gNew), TOps.Multiply(r, inverseP)));
                    c = TOps.Select(act, cNew, c);
                    s = TOps.Select(act, sNew, s);
                    gamma = TOps.Select(act, gNew, gamma);
                    p = TOps.Select(act, pNew, p);
                }
                ref double dlRef = ref Unsafe.Add(ref diag, l * lanes);
                ref double elRef = ref Unsafe.Add(ref off, l * lanes);
                TOps.Store(TOps.Select(active, TOps.Multiply(s, p), TOps.Load(ref elRef)), ref elRef);
                TOps.Store(TOps.Select(active, TOps.Add(sigma, gamma), TOps.Load(ref dlRef)), ref dlRef);
            }
        }

        for (int k = 0; k < d; k++)
        {
            ref double dk = ref Unsafe.Add(ref diag, k * lanes);
            TOps.Store(TOps.Multiply(TOps.Load(ref dk), scale), ref dk);
        }
        return TOps.MaskBits(failed);
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.Simd.LinearAlgebra;

/// <summary>
/// Eigenvalues of <c>TOps.Count</c> real symmetric d×d matrices at once, one matrix per SIMD lane: Householder
/// reduction to tridiagonal form, then the implicit QL iteration with Wilkinson-type shifts, every step executed for
/// all lanes together. Optionally a d×d matrix B per lane is multiplied from the right by the eigenvector basis and
/// returned transposed: row k of the result is (B·w_k)ᵀ for the unit eigenvector w_k of eigenvalue k (the surrogate
/// cost needs ‖L0 w_k‖² and nothing else of the eigenvectors). With B, the eigenvectors of the tridiagonal matrix
/// come from twisted factorizations and one product (LockstepSymmetricEigen.Twisted.cs); a group whose eigenvalues
/// are too close for that falls back to accumulating the QL rotations, which are logged and applied to B's columns a
/// block of rows at a time (see <see cref="QlIterate{TOps, TV}"/>), B being transposed once at the end.
/// </summary>
/// <remarks>
/// <para>Why not LAPACK here: the cost matrices solve thousands of small independent eigenproblems, and one dsyevd
/// call costs 9 µs at d = 16 and 104 µs at d = 64 on this hardware, mostly in per-call and level-2 BLAS overheads
/// and in the latency chain of the scalar QL sweep. Solving eight problems in the lanes of one vector turns every
/// scalar step of that chain into one vector step (the chains are independent), so the arithmetic runs at vector
/// throughput. LAPACK stays the reference: the tests compare every lane with dsyevd, and a lane this kernel cannot
/// finish (iteration cap, a zero rotation norm, a non-finite value) is reported so the caller recomputes it there.</para>
/// <para>Layout ("interleaved"): element (r, c) of lane k at <c>(r·d + c)·lanes + k</c>; eigenvalue k of lane q at
/// <c>k·lanes + q</c>. Only the lower triangle of the input is read (as LAPACK's uplo = 'L'); the matrix is
/// overwritten (its upper triangle ends up holding the Householder vectors). Eigenvalues come out unsorted.</para>
/// <para>Accuracy: both phases are orthogonal similarity transformations (backward stable, like dsyevd): every
/// eigenvalue is exact for a matrix within a few ulps of ‖A‖ of the input. A subdiagonal entry counts as converged
/// when |e_k| ≤ ε(|d_k| + |d_k+1|), the classical test. Entries beyond about 1e150 in magnitude may overflow a
/// squared norm; such a lane comes back as failed, never as a wrong number.</para>
/// </remarks>
internal static partial class LockstepSymmetricEigen
{
    /// <summary>QL iterations allowed per eigenvalue before a lane is given up (LAPACK allows 30 per eigenvalue).</summary>
    public const int MaxIterationsPerEigenvalue = 60;

    private const double Epsilon = 2.220446049250313e-16;

    private const double MinNormal = 2.2250738585072014e-308;

    /// <summary>
    /// Doubles of scratch <see cref="Solve{TOps, TV}"/> needs: two Householder vectors with their products, the
    /// off-diagonal and the τ's, copies of T, then either the eigenvectors of T with their overlaps or the rotation
    /// log (used only when B is given).
    /// </summary>
    public static int ScratchLength(int d, int lanes) => (LogOffset(d) + Math.Max(RotationLogSlots(d), 2 * d * d)) * lanes;

    /// <summary>
    /// Where the rotation log (or, on the twisted-factorization path, the eigenvectors of T) starts in the scratch, in
    /// vector slots: off, τ and the four work vectors of the reduction, then three more for that path's copies of T.
    /// </summary>
    private static int LogOffset(int d) => 9 * d;

    /// <summary>
    /// Vector slots of the rotation log (<see cref="QlIterate{TOps, TV}"/>): room for about 24 sweeps over the whole
    /// matrix before the log is applied to B, 288 KiB at d = 64 with eight lanes.
    /// </summary>
    private static int RotationLogSlots(int d) => 72 * d + 4;

    /// <summary>A logged sweep's header holds l and top: one slot, or two when a slot is a single double.</summary>
    private static int HeaderSlots(int lanes) => lanes == 1 ? 2 : 1;

    /// <summary>A logged rotation is (c, s, −s): with −s at hand each of its two outputs is one multiplication and one FMA.</summary>
    private const int RotationSlots = 3;

    /// <summary>
    /// Solves the lanes' eigenproblems. Returns a bit mask of failed lanes (bit q = lane q; 0 when all succeeded);
    /// the values of a failed lane are meaningless.
    /// Its parts are compiled fully optimised at once (AggressiveOptimization): at tier 0 the static abstract
    /// vector calls are not inlined and run about ten times slower, and a cost matrix is one call of a few hundred groups.
    /// </summary>
    /// <param name="a">d·d·lanes, interleaved symmetric matrices, lower triangle read (destroyed).</param>
    /// <param name="b">Empty, or d·d·lanes interleaved matrices B, replaced by (B·W)ᵀ (W the eigenvector basis).</param>
    /// <param name="values">d·lanes, receives the eigenvalues.</param>
    /// <param name="scratch">At least <see cref="ScratchLength"/> doubles.</param>
    /// <param name="d">Matrix order (≥ 1).</param>
    public static int Solve<TOps, TV>(Span<double> a, Span<double> b, Span<double> values, Span<double> scratch, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => SolveCore<TOps, TV>(a, b, values, scratch, d, rotationFallback: true);

    /// <summary>
    /// <see cref="Solve{TOps, TV}"/> with B for spectra spread over many orders of magnitude: their small eigenvalues are
    /// close relative to ‖A‖, so the twisted vectors overlap by up to ε‖A‖/gap, more than the one-step correction
    /// removes. Here overlaps up to <see cref="SpreadTwistTolerance"/> are accepted and the rows orthonormalised by
    /// repeated symmetric corrections (each squares the overlap) before the product
    /// (LockstepSymmetricEigen.Twisted.cs).
    /// </summary>
    public static int SolveSpread<TOps, TV>(Span<double> a, Span<double> b, Span<double> values, Span<double> scratch, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
        => SolveCore<TOps, TV>(a, b, values, scratch, d, rotationFallback: true, twistTolerance: SpreadTwistTolerance);

    /// <summary>
    /// <see cref="Solve{TOps, TV}"/>; with <paramref name="rotationFallback"/> false (tests of the twisted-factorization
    /// path alone) a group whose eigenvectors fail the orthonormality check returns −1 instead of taking the rotation QL.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SolveCore<TOps, TV>(Span<double> a, Span<double> b, Span<double> values, Span<double> scratch, int d,
                                           bool rotationFallback, double twistTolerance = TwistOrthogonalityTolerance)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, dd = d * d * lanes;
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        if (a.Length < dd || values.Length < d * lanes || scratch.Length < ScratchLength(d, lanes) ||
            (!b.IsEmpty && b.Length < dd))
        {
            throw new ArgumentException("Lockstep eigensolver buffers are too small for the order and lane count.");
        }
        bool withB = !b.IsEmpty;
        ref double ra = ref MemoryMarshal.GetReference(a);
        ref double rb = ref MemoryMarshal.GetReference(b);
        ref double diag = ref MemoryMarshal.GetReference(values);
        ref double off = ref MemoryMarshal.GetReference(scratch);
        ref double tau = ref Unsafe.Add(ref off, d * lanes);
        ref double work = ref Unsafe.Add(ref tau, d * lanes);

        Tridiagonalize<TOps, TV>(ref ra, ref diag, ref off, ref tau, ref work, d);
        int failed;
        if (withB)
        {
            ApplyReflectors<TOps, TV>(ref ra, ref tau, ref rb, d);
            // Eigenvalues by the root-free iteration and T's eigenvectors by twisted factorizations, then one product;
            // if any lane's vectors come out short of orthonormal (close eigenvalues), the rotation-based QL instead.
            ref double log = ref Unsafe.Add(ref off, LogOffset(d) * lanes);
            failed = SolveThroughTwists<TOps, TV>(ref ra, ref rb, ref diag, ref off, ref work, ref log, d, twistTolerance);
            if (failed < 0)
            {
                if (!rotationFallback)
                {
                    return -1;
                }
                failed = QlIterate<TOps, TV>(ref diag, ref off, ref rb, ref log, RotationLogSlots(d), withB: true, d);
                // The rotations turned adjacent columns of B (contiguous in memory); callers read (B·W)ᵀ row by row.
                TransposeInPlace<TOps, TV>(ref rb, d);
            }
        }
        else
        {
            // Eigenvalues alone need no rotations, so they take the square-root-free iteration (shorter chain per step).
            failed = QlRootFree<TOps, TV>(ref diag, ref off, d);
        }

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
    /// A = Q T Qᵀ with T tridiagonal (diag, off; off[k] couples k and k+1, off[d−1] = 0), Q = H_0 H_1 ⋯ H_{d−3},
    /// H_k = I − τ_k v_k v_kᵀ reflecting column k below the diagonal onto its first entry. v_k is left in row k of A
    /// (columns k+1..d−1, the dead upper triangle) and τ_k in <paramref name="tau"/>, for <see cref="ApplyReflectors"/>.
    /// </summary>
    /// <remarks>
    /// Only the lower triangle is read and updated, and each step makes one pass over it: the symmetric rank-2
    /// update of step k and the product A₂₂ v_{k+1} that step k+1 needs are done in the same sweep over the rows
    /// (v_{k+1} comes from the first column, which is updated first). At d = 64 the matrices of eight lanes (256 KiB)
    /// live in L2, and the three passes over the full block of the plain formulation were bound by L2 bandwidth.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Tridiagonalize<TOps, TV>(ref double a, ref double diag, ref double off, ref double tau, ref double work, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, rowStride = d * lanes;
        // Two (v, p) buffers: the current step's and the next one's.
        ref double v = ref work;
        ref double p = ref Unsafe.Add(ref work, d * lanes);
        ref double vNext = ref Unsafe.Add(ref work, 2 * d * lanes);
        ref double pNext = ref Unsafe.Add(ref work, 3 * d * lanes);
        for (int k = 0; k < d; k++)
        {
            TOps.Store(TOps.Zero, ref Unsafe.Add(ref off, k * lanes));
            TOps.Store(TOps.Zero, ref Unsafe.Add(ref tau, k * lanes));
        }
        if (d <= 2)
        {
            TOps.Store(TOps.Load(ref a), ref diag);
            if (d == 2)
            {
                TOps.Store(TOps.Load(ref Unsafe.Add(ref a, rowStride)), ref off);
                TOps.Store(TOps.Load(ref Unsafe.Add(ref a, rowStride + lanes)), ref Unsafe.Add(ref diag, lanes));
            }
            return;
        }

        // Step 0's reflector and its product p = τ A₂₂ v (a plain symmetric product over the lower triangle).
        TOps.Store(TOps.Load(ref a), ref diag);
        TV t0 = MakeReflector<TOps, TV>(ref a, 0, d, ref v, ref off);
        TOps.Store(t0, ref tau);
        {
            int n = d - 1;
            ref double a22 = ref Unsafe.Add(ref a, rowStride + lanes);
            for (int r = 0; r < n; r++)
            {
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref p, r * lanes));
            }
            for (int r = 0; r < n; r++)
            {
                ref double row = ref Unsafe.Add(ref a22, r * rowStride);
                TV vr = TOps.Load(ref Unsafe.Add(ref v, r * lanes));
                TV acc = TOps.Multiply(TOps.Load(ref Unsafe.Add(ref row, r * lanes)), vr);
                for (int j = 0; j < r; j++)
                {
                    TV arj = TOps.Load(ref Unsafe.Add(ref row, j * lanes));
                    acc = TOps.MultiplyAdd(arj, TOps.Load(ref Unsafe.Add(ref v, j * lanes)), acc);
                    ref double pj = ref Unsafe.Add(ref p, j * lanes);
                    TOps.Store(TOps.MultiplyAdd(arj, vr, TOps.Load(ref pj)), ref pj);
                }
                ref double pr = ref Unsafe.Add(ref p, r * lanes);
                TOps.Store(TOps.Add(TOps.Load(ref pr), acc), ref pr);
            }
            for (int r = 0; r < n; r++)
            {
                ref double pr = ref Unsafe.Add(ref p, r * lanes);
                TOps.Store(TOps.Multiply(t0, TOps.Load(ref pr)), ref pr);
            }
        }

        for (int k = 0; k + 2 < d; k++)
        {
            int n = d - k - 1;
            TV tk = TOps.Load(ref Unsafe.Add(ref tau, k * lanes));
            // w = p − K v with K = ½ τ vᵀp, so that H A₂₂ H = A₂₂ − v wᵀ − w vᵀ (w overwrites p).
            TV vp = TOps.Zero;
            for (int j = 0; j < n; j++)
            {
                vp = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref v, j * lanes)), TOps.Load(ref Unsafe.Add(ref p, j * lanes)), vp);
            }
            TV kk = TOps.Multiply(TOps.Multiply(TOps.Create(0.5), tk), vp);
            for (int j = 0; j < n; j++)
            {
                ref double pj = ref Unsafe.Add(ref p, j * lanes);
                TOps.Store(TOps.Subtract(TOps.Load(ref pj), TOps.Multiply(kk, TOps.Load(ref Unsafe.Add(ref v, j * lanes)))), ref pj);
            }
            ref double w = ref p;
            ref double a22 = ref Unsafe.Add(ref a, ((k + 1) * d + k + 1) * lanes);

            // Column 0 of A₂₂ first: it holds the next step's column.
            TV v0 = TOps.Load(ref v), w0 = TOps.Load(ref w);
            for (int r = 0; r < n; r++)
            {
                ref double e = ref Unsafe.Add(ref a22, r * rowStride);
                TV update = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref v, r * lanes)), w0, TOps.Multiply(TOps.Load(ref Unsafe.Add(ref w, r * lanes)), v0));
                TOps.Store(TOps.Subtract(TOps.Load(ref e), update), ref e);
            }
            TOps.Store(TOps.Load(ref a22), ref Unsafe.Add(ref diag, (k + 1) * lanes));

            if (n == 2)
            {
                // The last step: the trailing 2×2 is tridiagonal once updated.
                ref double e11 = ref Unsafe.Add(ref a22, rowStride + lanes);
                TV v1 = TOps.Load(ref Unsafe.Add(ref v, lanes)), w1 = TOps.Load(ref Unsafe.Add(ref w, lanes));
                TOps.Store(TOps.Subtract(TOps.Load(ref e11), TOps.Multiply(TOps.Create(2.0), TOps.Multiply(v1, w1))), ref Unsafe.Add(ref diag, (k + 2) * lanes));
                TOps.Store(TOps.Load(ref Unsafe.Add(ref a22, rowStride)), ref Unsafe.Add(ref off, (k + 1) * lanes));
                break;
            }

            // The next reflector, from the updated column k+1, and then one pass over the rest of the lower triangle:
            // rank-2 update of each entry followed at once by its share of pNext = A₂₂' vNext (local indices shift
            // by one: entry (r, j) of this block is (r−1, j−1) of the next).
            TV tNext = MakeReflector<TOps, TV>(ref a, k + 1, d, ref vNext, ref off);
            TOps.Store(tNext, ref Unsafe.Add(ref tau, (k + 1) * lanes));
            for (int j = 0; j < n - 1; j++)
            {
                TOps.Store(TOps.Zero, ref Unsafe.Add(ref pNext, j * lanes));
            }
            for (int r = 1; r < n; r++)
            {
                ref double row = ref Unsafe.Add(ref a22, r * rowStride);
                TV vr = TOps.Load(ref Unsafe.Add(ref v, r * lanes));
                TV wr = TOps.Load(ref Unsafe.Add(ref w, r * lanes));
                TV vnr = TOps.Load(ref Unsafe.Add(ref vNext, (r - 1) * lanes));
                TV acc = TOps.Zero;
                for (int j = 1; j < r; j++)
                {
                    ref double e = ref Unsafe.Add(ref row, j * lanes);
                    TV update = TOps.MultiplyAdd(vr, TOps.Load(ref Unsafe.Add(ref w, j * lanes)), TOps.Multiply(wr, TOps.Load(ref Unsafe.Add(ref v, j * lanes))));
                    TV x = TOps.Subtract(TOps.Load(ref e), update);
                    TOps.Store(x, ref e);
                    acc = TOps.MultiplyAdd(x, TOps.Load(ref Unsafe.Add(ref vNext, (j - 1) * lanes)), acc);
                    ref double pj = ref Unsafe.Add(ref pNext, (j - 1) * lanes);
                    TOps.Store(TOps.MultiplyAdd(x, vnr, TOps.Load(ref pj)), ref pj);
                }
                ref double diagonal = ref Unsafe.Add(ref row, r * lanes);
                TV xd = TOps.Subtract(TOps.Load(ref diagonal), TOps.Multiply(TOps.Create(2.0), TOps.Multiply(vr, wr)));
                TOps.Store(xd, ref diagonal);
                acc = TOps.MultiplyAdd(xd, vnr, acc);
                ref double pr = ref Unsafe.Add(ref pNext, (r - 1) * lanes);
                TOps.Store(TOps.Add(TOps.Load(ref pr), acc), ref pr);
            }
            for (int j = 0; j < n - 1; j++)
            {
                ref double pj = ref Unsafe.Add(ref pNext, j * lanes);
                TOps.Store(TOps.Multiply(tNext, TOps.Load(ref pj)), ref pj);
            }
            // The next step's buffers become the current ones.
            ref double swapV = ref v;
            v = ref vNext;
            vNext = ref swapV;
            ref double swapP = ref p;
            p = ref pNext;
            pNext = ref swapP;
        }
    }

    /// <summary>
    /// The reflector of step k from column k below the diagonal (x_j = A[k+1+j, k]): writes v into
    /// <paramref name="v"/> and into row k of A (columns k+1..), α = −sign(x0)‖x‖ into off[k]; returns τ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV MakeReflector<TOps, TV>(ref double a, int k, int d, ref double v, ref double off)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, rowStride = d * lanes, n = d - k - 1;
        ref double x = ref Unsafe.Add(ref a, ((k + 1) * d + k) * lanes);
        TV sumsq = TOps.Zero;
        for (int j = 0; j < n; j++)
        {
            TV xj = TOps.Load(ref Unsafe.Add(ref x, j * rowStride));
            sumsq = TOps.MultiplyAdd(xj, xj, sumsq);
            TOps.Store(xj, ref Unsafe.Add(ref v, j * lanes));
        }
        TV norm = TOps.Sqrt(sumsq);
        TV x0 = TOps.Load(ref x);
        // α = −sign(x0)‖x‖ makes v0 = x0 − α an addition of like signs (no cancellation);
        // vᵀv / 2 = ‖x‖(‖x‖ + |x0|) and H = I − τ v vᵀ with τ = 2 / vᵀv maps x to α e_1.
        TV signedNorm = TOps.CopySign(norm, x0);
        TOps.Store(TOps.Subtract(TOps.Zero, signedNorm), ref Unsafe.Add(ref off, k * lanes));
        TOps.Store(TOps.Add(x0, signedNorm), ref v);
        TV half = TOps.Multiply(norm, TOps.Add(norm, TOps.Abs(x0)));
        // A lane whose column is already zero gets the identity (τ = 0), not 1/0.
        TV tau = TOps.Select(TOps.LessThanMask(TOps.Zero, half), TOps.Divide(TOps.Create(1.0), half), TOps.Zero);
        ref double store = ref Unsafe.Add(ref a, (k * d + k + 1) * lanes);
        for (int j = 0; j < n; j++)
        {
            TOps.Store(TOps.Load(ref Unsafe.Add(ref v, j * lanes)), ref Unsafe.Add(ref store, j * lanes));
        }
        return tau;
    }

    /// <summary>
    /// B ← B H_0 H_1 ⋯ H_{d−3} with the reflectors <see cref="Tridiagonalize"/> left in A's upper triangle. Four rows
    /// of B at a time take every reflector in turn, so the rows stay in L1 and each v_k is read once per four rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ApplyReflectors<TOps, TV>(ref double a, ref double tau, ref double b, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, rowStride = d * lanes;
        int row = 0;
        for (; row + 4 <= d; row += 4)
        {
            ref double b0 = ref Unsafe.Add(ref b, row * rowStride);
            ref double b1 = ref Unsafe.Add(ref b0, rowStride);
            ref double b2 = ref Unsafe.Add(ref b1, rowStride);
            ref double b3 = ref Unsafe.Add(ref b2, rowStride);
            for (int k = 0; k + 2 < d; k++)
            {
                int n = d - k - 1, start = (k + 1) * lanes;
                ref double vk = ref Unsafe.Add(ref a, (k * d + k + 1) * lanes);
                TV s0 = TOps.Zero, s1 = TOps.Zero, s2 = TOps.Zero, s3 = TOps.Zero;
                for (int j = 0; j < n; j++)
                {
                    TV vj = TOps.Load(ref Unsafe.Add(ref vk, j * lanes));
                    int o = start + j * lanes;
                    s0 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref b0, o)), vj, s0);
                    s1 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref b1, o)), vj, s1);
                    s2 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref b2, o)), vj, s2);
                    s3 = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref b3, o)), vj, s3);
                }
                // −τ s, so that each update is one FMA.
                TV tk = TOps.Subtract(TOps.Zero, TOps.Load(ref Unsafe.Add(ref tau, k * lanes)));
                s0 = TOps.Multiply(tk, s0);
                s1 = TOps.Multiply(tk, s1);
                s2 = TOps.Multiply(tk, s2);
                s3 = TOps.Multiply(tk, s3);
                for (int j = 0; j < n; j++)
                {
                    TV vj = TOps.Load(ref Unsafe.Add(ref vk, j * lanes));
                    int o = start + j * lanes;
                    ref double e0 = ref Unsafe.Add(ref b0, o);
                    ref double e1 = ref Unsafe.Add(ref b1, o);
                    ref double e2 = ref Unsafe.Add(ref b2, o);
                    ref double e3 = ref Unsafe.Add(ref b3, o);
                    // All four loads before the stores: the rows can be exactly 4 KiB apart (d = 64 with eight lanes),
                    // and a load behind a store to the same address modulo 4 KiB waits for it (4K aliasing).
                    TV x0 = TOps.Load(ref e0), x1 = TOps.Load(ref e1), x2 = TOps.Load(ref e2), x3 = TOps.Load(ref e3);
                    TOps.Store(TOps.MultiplyAdd(s0, vj, x0), ref e0);
                    TOps.Store(TOps.MultiplyAdd(s1, vj, x1), ref e1);
                    TOps.Store(TOps.MultiplyAdd(s2, vj, x2), ref e2);
                    TOps.Store(TOps.MultiplyAdd(s3, vj, x3), ref e3);
                }
            }
        }
        for (; row < d; row++)
        {
            ref double br = ref Unsafe.Add(ref b, row * rowStride);
            for (int k = 0; k + 2 < d; k++)
            {
                int n = d - k - 1, start = (k + 1) * lanes;
                ref double vk = ref Unsafe.Add(ref a, (k * d + k + 1) * lanes);
                TV s = TOps.Zero;
                for (int j = 0; j < n; j++)
                {
                    s = TOps.MultiplyAdd(TOps.Load(ref Unsafe.Add(ref br, start + j * lanes)), TOps.Load(ref Unsafe.Add(ref vk, j * lanes)), s);
                }
                s = TOps.Multiply(TOps.Load(ref Unsafe.Add(ref tau, k * lanes)), s);
                for (int j = 0; j < n; j++)
                {
                    ref double e = ref Unsafe.Add(ref br, start + j * lanes);
                    TOps.Store(TOps.Subtract(TOps.Load(ref e), TOps.Multiply(s, TOps.Load(ref Unsafe.Add(ref vk, j * lanes)))), ref e);
                }
            }
        }
    }

    /// <summary>Transposes every lane's d×d matrix in place.</summary>
    private static void TransposeInPlace<TOps, TV>(ref double m, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        for (int r = 1; r < d; r++)
        {
            for (int c = 0; c < r; c++)
            {
                ref double x = ref Unsafe.Add(ref m, (r * d + c) * lanes);
                ref double y = ref Unsafe.Add(ref m, (c * d + r) * lanes);
                TV t = TOps.Load(ref x);
                TOps.Store(TOps.Load(ref y), ref x);
                TOps.Store(t, ref y);
            }
        }
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
    internal static int QlIterate<TOps, TV>(ref double diag, ref double off, ref double b, ref double log, int logSlots, bool withB, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        TV failed = TOps.Zero;
        TV one = TOps.Create(1.0);
        int logged = 0;

        TV scale = ScaleToUnit<TOps, TV>(ref diag, ref off, d);

        for (int l = 0; l < d - 1; l++)
        {
            for (int iteration = 0; ; iteration++)
            {
                int top = NextSweep<TOps, TV>(ref diag, ref off, l, d, squares: false, iteration, ref failed, out TV m, out TV dm, out TV active);
                if (top < 0)
                {
                    break;
                }

                // Shift from the leading 2×2 of the block: g = d[m] − d[l] + e[l] / (ρ + sign(ρ)√(ρ² + 1)),
                // ρ = (d[l+1] − d[l]) / (2 e[l]). A huge ρ makes the root +∞ and the fraction 0, the right limit.
                // Inactive lanes may divide by zero; their values are never stored.
                TV dl = TOps.Load(ref Unsafe.Add(ref diag, l * lanes));
                TV el = TOps.Load(ref Unsafe.Add(ref off, l * lanes));
                TV rho = TOps.Divide(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref diag, (l + 1) * lanes)), dl), TOps.Add(el, el));
                TV radius = TOps.Sqrt(TOps.MultiplyAdd(rho, rho, one));
                TV g = TOps.Add(TOps.Subtract(dm, dl), TOps.Divide(el, TOps.Add(rho, TOps.CopySign(radius, rho))));
                TV s = one, c = one, p = TOps.Zero;
                int entry = 0;
                if (withB)
                {
                    // The sweep's rotations go to the log: a header slot (l, top) and then (c, s, −s) per rotation.
                    if (logged + HeaderSlots(lanes) + RotationSlots * (top - l) > logSlots)
                    {
                        ApplyRotationLog<TOps, TV>(ref b, ref log, logged, d);
                        logged = 0;
                    }
                    ref double header = ref Unsafe.Add(ref log, logged * lanes);
                    header = l;
                    Unsafe.Add(ref header, 1) = top;
                    entry = (logged + HeaderSlots(lanes)) * lanes;
                    logged += HeaderSlots(lanes) + RotationSlots * (top - l);
                }
                for (int i = top - 1; i >= l; i--)
                {
                    TV act = TOps.And(active, TOps.LessThanMask(TOps.Create(i), m));
                    ref double ei1 = ref Unsafe.Add(ref off, (i + 1) * lanes);
                    ref double di1 = ref Unsafe.Add(ref diag, (i + 1) * lanes);
                    TV ei = TOps.Load(ref Unsafe.Add(ref off, i * lanes));
                    TV f = TOps.Multiply(s, ei), bb = TOps.Multiply(c, ei);
                    // g arrives last on the chain (f is ready a few cycles earlier), so it goes into the FMA, not f.
                    TV rr = TOps.MultiplyAdd(g, g, TOps.Multiply(f, f));
                    // r² below the smallest normal double happens only through underflow; that lane is handed back
                    // rather than divided by zero (and the reciprocal square root is only good for normal inputs).
                    TV zero = TOps.And(act, TOps.LessThanMask(rr, TOps.Create(MinNormal)));
                    failed = TOps.Or(failed, zero);
                    act = TOps.AndNot(act, zero);
                    // 1/r from one reciprocal square root instead of a square root and then a division: the two sat
                    // back to back on the step's dependency chain (about 45 of its cycles on AVX-512).
                    TV inverse = TOps.ReciprocalSqrt(TOps.Select(act, rr, one));
                    TV r = TOps.Multiply(rr, inverse);
                    TV sNew = TOps.Multiply(f, inverse), cNew = TOps.Multiply(g, inverse);
                    TV dOld = TOps.Load(ref di1);
                    TV g2 = TOps.Subtract(dOld, p);
                    // 2·bb and −bb are formed off the chain; from cNew on, each of r2 and gNew is then one FMA away.
                    TV r2 = TOps.MultiplyAdd(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref diag, i * lanes)), g2), sNew,
                                             TOps.Multiply(cNew, TOps.Add(bb, bb)));
                    TV pNew = TOps.Multiply(sNew, r2);
                    TOps.Store(TOps.Select(act, r, TOps.Load(ref ei1)), ref ei1);
                    TOps.Store(TOps.Select(act, TOps.Add(g2, pNew), dOld), ref di1);
                    TV gNew = TOps.MultiplyAdd(cNew, r2, TOps.Subtract(TOps.Zero, bb));
                    s = TOps.Select(act, sNew, s);
                    c = TOps.Select(act, cNew, c);
                    p = TOps.Select(act, pNew, p);
                    g = TOps.Select(act, gNew, g);
                    if (withB)
                    {
                        // Recorded (identity in masked lanes) and applied to B later, a block of rows at a time
                        // (ApplyRotationLog): applied here, each rotation would read and write two whole columns of
                        // B, and at d = 64 the columns of eight lanes stream through L2 at one line per 4 flops.
                        TV sLogged = TOps.Select(act, sNew, TOps.Zero);
                        TOps.Store(TOps.Select(act, cNew, one), ref Unsafe.Add(ref log, entry));
                        TOps.Store(sLogged, ref Unsafe.Add(ref log, entry + lanes));
                        TOps.Store(TOps.Subtract(TOps.Zero, sLogged), ref Unsafe.Add(ref log, entry + 2 * lanes));
                        entry += RotationSlots * lanes;
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

        if (withB && logged > 0)
        {
            ApplyRotationLog<TOps, TV>(ref b, ref log, logged, d);
        }
        for (int k = 0; k < d; k++)
        {
            ref double dk = ref Unsafe.Add(ref diag, k * lanes);
            TOps.Store(TOps.Multiply(TOps.Load(ref dk), scale), ref dk);
        }
        return TOps.MaskBits(failed);
    }

    /// <summary>
    /// Applies the logged sweeps, in order, to B from the right: the rotation (c, s) at i turns columns i and i+1.
    /// Each row of B turns independently, so four rows at a time (in L1) take every logged rotation before the next
    /// four are read: B crosses L2 once per log, not twice per sweep. Within a sweep, column i+1 is final once
    /// rotation i has run, so each row carries one running value from right to left (one load and one store per
    /// rotation), and the four rows' carries cover each other's FMA latency.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ApplyRotationLog<TOps, TV>(ref double b, ref double log, int logged, int d)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count, rowStride = d * lanes;
        int row = 0;
        for (; row + 4 <= d; row += 4)
        {
            ref double r0 = ref Unsafe.Add(ref b, row * rowStride);
            ref double r1 = ref Unsafe.Add(ref r0, rowStride);
            ref double r2 = ref Unsafe.Add(ref r1, rowStride);
            ref double r3 = ref Unsafe.Add(ref r2, rowStride);
            for (int slot = 0; slot < logged;)
            {
                ref double header = ref Unsafe.Add(ref log, slot * lanes);
                int l = (int)header, top = (int)Unsafe.Add(ref header, 1);
                ref double rotation = ref Unsafe.Add(ref header, HeaderSlots(lanes) * lanes);
                slot += HeaderSlots(lanes) + RotationSlots * (top - l);
                int o = top * lanes;
                TV y0 = TOps.Load(ref Unsafe.Add(ref r0, o)), y1 = TOps.Load(ref Unsafe.Add(ref r1, o));
                TV y2 = TOps.Load(ref Unsafe.Add(ref r2, o)), y3 = TOps.Load(ref Unsafe.Add(ref r3, o));
                for (int i = top - 1; i >= l; i--)
                {
                    TV c = TOps.Load(ref rotation);
                    TV s = TOps.Load(ref Unsafe.Add(ref rotation, lanes));
                    TV ns = TOps.Load(ref Unsafe.Add(ref rotation, 2 * lanes));
                    rotation = ref Unsafe.Add(ref rotation, RotationSlots * lanes);
                    int oi = i * lanes, on = oi + lanes;
                    TV x0 = TOps.Load(ref Unsafe.Add(ref r0, oi)), x1 = TOps.Load(ref Unsafe.Add(ref r1, oi));
                    TV x2 = TOps.Load(ref Unsafe.Add(ref r2, oi)), x3 = TOps.Load(ref Unsafe.Add(ref r3, oi));
                    TOps.Store(TOps.MultiplyAdd(s, x0, TOps.Multiply(c, y0)), ref Unsafe.Add(ref r0, on));
                    TOps.Store(TOps.MultiplyAdd(s, x1, TOps.Multiply(c, y1)), ref Unsafe.Add(ref r1, on));
                    TOps.Store(TOps.MultiplyAdd(s, x2, TOps.Multiply(c, y2)), ref Unsafe.Add(ref r2, on));
                    TOps.Store(TOps.MultiplyAdd(s, x3, TOps.Multiply(c, y3)), ref Unsafe.Add(ref r3, on));
                    y0 = TOps.MultiplyAdd(ns, y0, TOps.Multiply(c, x0));
                    y1 = TOps.MultiplyAdd(ns, y1, TOps.Multiply(c, x1));
                    y2 = TOps.MultiplyAdd(ns, y2, TOps.Multiply(c, x2));
                    y3 = TOps.MultiplyAdd(ns, y3, TOps.Multiply(c, x3));
                }
                int ol = l * lanes;
                TOps.Store(y0, ref Unsafe.Add(ref r0, ol));
                TOps.Store(y1, ref Unsafe.Add(ref r1, ol));
                TOps.Store(y2, ref Unsafe.Add(ref r2, ol));
                TOps.Store(y3, ref Unsafe.Add(ref r3, ol));
            }
        }
        for (; row < d; row++)
        {
            ref double r0 = ref Unsafe.Add(ref b, row * rowStride);
            for (int slot = 0; slot < logged;)
            {
                ref double header = ref Unsafe.Add(ref log, slot * lanes);
                int l = (int)header, top = (int)Unsafe.Add(ref header, 1);
                ref double rotation = ref Unsafe.Add(ref header, HeaderSlots(lanes) * lanes);
                slot += HeaderSlots(lanes) + RotationSlots * (top - l);
                TV y = TOps.Load(ref Unsafe.Add(ref r0, top * lanes));
                for (int i = top - 1; i >= l; i--)
                {
                    TV c = TOps.Load(ref rotation);
                    TV s = TOps.Load(ref Unsafe.Add(ref rotation, lanes));
                    TV ns = TOps.Load(ref Unsafe.Add(ref rotation, 2 * lanes));
                    rotation = ref Unsafe.Add(ref rotation, RotationSlots * lanes);
                    TV x = TOps.Load(ref Unsafe.Add(ref r0, i * lanes));
                    TOps.Store(TOps.MultiplyAdd(s, x, TOps.Multiply(c, y)), ref Unsafe.Add(ref r0, (i + 1) * lanes));
                    y = TOps.MultiplyAdd(ns, y, TOps.Multiply(c, x));
                }
                TOps.Store(y, ref Unsafe.Add(ref r0, l * lanes));
            }
        }
    }

    /// <summary>
    /// Before a sweep at row l: per lane, m = the first k ≥ l whose off[k] is negligible by the classical test
    /// |e_k| ≤ ε(|d_k| + |d_k+1|) (k = d−1 always qualifies; <paramref name="squares"/>: off holds e², test squared),
    /// d[m], and the lanes still to sweep. Returns the largest m over those lanes, or −1 when none is left (all
    /// converged at l, or the iteration cap reached, which marks the rest failed).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NextSweep<TOps, TV>(ref double diag, ref double off, int l, int d, bool squares, int iteration, ref TV failed,
                                           out TV m, out TV dm, out TV active)
        where TOps : struct, ISimdOps<TV>
        where TV : struct
    {
        int lanes = TOps.Count;
        TV eps = TOps.Create(squares ? Epsilon * Epsilon : Epsilon);
        m = TOps.Create(d - 1);
        dm = TOps.Load(ref Unsafe.Add(ref diag, (d - 1) * lanes));
        for (int k = d - 2; k >= l; k--)
        {
            TV dk = TOps.Load(ref Unsafe.Add(ref diag, k * lanes));
            TV sum = TOps.Add(TOps.Abs(dk), TOps.Abs(TOps.Load(ref Unsafe.Add(ref diag, (k + 1) * lanes))));
            TV ek = TOps.Load(ref Unsafe.Add(ref off, k * lanes));
            TV negligible = squares
                ? TOps.LessThanOrEqualMask(ek, TOps.Multiply(eps, TOps.Multiply(sum, sum)))
                : TOps.LessThanOrEqualMask(TOps.Abs(ek), TOps.Multiply(eps, sum));
            m = TOps.Select(negligible, TOps.Create(k), m);
            dm = TOps.Select(negligible, dk, dm);
        }
        TV lv = TOps.Create(l);
        active = TOps.AndNot(TOps.AndNot(AllSet<TOps, TV>(), TOps.EqualsMask(m, lv)), failed);
        if (!TOps.AnySet(active))
        {
            return -1;
        }
        if (iteration >= MaxIterationsPerEigenvalue)
        {
            failed = TOps.Or(failed, active);
            return -1;
        }
        return (int)TOps.MaxAcross(TOps.Select(active, m, lv));
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
        TV one = TOps.Create(1.0);
        TV scale = ScaleToUnit<TOps, TV>(ref diag, ref off, d);
        for (int k = 0; k < d; k++)
        {
            ref double ek = ref Unsafe.Add(ref off, k * lanes);
            TV e = TOps.Load(ref ek);
            TOps.Store(TOps.Multiply(e, e), ref ek);
        }

        for (int l = 0; l < d - 1; l++)
        {
            for (int iteration = 0; ; iteration++)
            {
                int top = NextSweep<TOps, TV>(ref diag, ref off, l, d, squares: true, iteration, ref failed, out TV m, out TV dm, out TV active);
                if (top < 0)
                {
                    break;
                }

                // Shift σ from the leading 2×2, as in the rotation-based iteration (one square root per sweep).
                TV dl = TOps.Load(ref Unsafe.Add(ref diag, l * lanes));
                TV rte = TOps.Sqrt(TOps.Load(ref Unsafe.Add(ref off, l * lanes)));
                TV rho = TOps.Divide(TOps.Subtract(TOps.Load(ref Unsafe.Add(ref diag, (l + 1) * lanes)), dl), TOps.Add(rte, rte));
                TV radius = TOps.Sqrt(TOps.MultiplyAdd(rho, rho, one));
                TV sigma = TOps.Subtract(dl, TOps.Divide(rte, TOps.Add(rho, TOps.CopySign(radius, rho))));
                TV s = TOps.Zero;
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
                    // The textbook step is c = p/r, s = bb/r, γ' = c(α − σ) − sγ, p' = γ'²/c: two divisions in a row on
                    // the chain from p to p'. With T = p(α − σ) − bb·γ (computed while the division runs) the same
                    // quantities are γ' = T/r, c = p²/(rp), s = bb·p/(rp), p' = T²/(rp): one division, 1/(rp), and one
                    // multiplication after it, which halves the step's latency. r > 0 in active lanes (bb is a
                    // non-negligible square). p = 0 (γ = 0 exactly, the iteration's c = 0 branch) is not special-cased:
                    // its select-and-blend cost every step 6 %, and such a lane turns NaN and is recomputed by LAPACK.
                    // rp cannot overflow (entries were scaled to ≤ 1); should it underflow, the lane turns non-finite
                    // and is handed back.
                    TV alpha = TOps.Load(ref Unsafe.Add(ref diag, i * lanes));
                    TV t = TOps.Subtract(TOps.Multiply(p, TOps.Subtract(alpha, sigma)), TOps.Multiply(bb, gamma));
                    TV inverseRp = TOps.Divide(one, TOps.Select(act, TOps.Multiply(r, p), one));
                    TV pInverse = TOps.Multiply(p, inverseRp);
                    TV sNew = TOps.Multiply(bb, pInverse);
                    TV gNew = TOps.Multiply(t, pInverse);
                    TOps.Store(TOps.Select(act, TOps.Add(gamma, TOps.Subtract(alpha, gNew)), TOps.Load(ref di1)), ref di1);
                    TV pNew = TOps.Multiply(TOps.Multiply(t, t), inverseRp);
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

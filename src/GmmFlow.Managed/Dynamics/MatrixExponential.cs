namespace GmmFlow;

/// <summary>
/// The matrix exponential e^A of a dense n×n row-major matrix by scaling and squaring with a diagonal Padé
/// approximant of degree 3, 5, 7, 9 or 13 (Higham 2005, "The scaling and squaring method for the matrix exponential
/// revisited"): the degree and the number s of squarings are chosen from ‖A‖₁ so that the backward error of
/// r_m(2^-s A)^(2^s) is below the unit roundoff. See docs/theory/linear-dynamics.md#expm.
/// </summary>
public static class MatrixExponential
{
    // θ_m of Higham's Table 2.3 (double precision): the largest ‖A‖₁ for which degree m needs no scaling.
    private static readonly double[] Theta = [1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1, 2.097847961257068e0];
    private static readonly int[] Degrees = [3, 5, 7, 9];

    private static readonly double[][] Coefficients =
    [
        [120, 60, 12, 1],
        [30240, 15120, 3360, 420, 30, 1],
        [17297280, 8648640, 1995840, 277200, 25200, 1512, 56, 1],
        [17643225600, 8821612800, 2075673600, 302702400, 30270240, 2162160, 110880, 3960, 90, 1],
    ];

    private static readonly double[] Coefficients13 =
    [
        64764752532480000, 32382376266240000, 7771770303897600, 1187353796428800, 129060195264000,
        10559470521600, 670442572800, 33522128640, 1323241920, 40840800, 960960, 16380, 182, 1,
    ];

    private const double Theta13 = 5.371920351148152;

    /// <summary>Writes e^A into <paramref name="result"/> (n×n row-major). A must be finite.</summary>
    public static void Compute(ReadOnlySpan<double> a, Span<double> result, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        if (a.Length < n * n)
        {
            ThrowHelper.ThrowSize(nameof(a), (long)n * n, a.Length);
        }
        if (result.Length < n * n)
        {
            ThrowHelper.ThrowSize(nameof(result), (long)n * n, result.Length);
        }
        FiniteCheck.ThrowIfNonFinite(a[..(n * n)], n, "matrix row", nameof(a));
        Compute(a, result, n, new double[WorkLength(n)], new int[n]);
    }

    /// <summary>Scratch length of the allocation-free <see cref="Compute(ReadOnlySpan{double}, Span{double}, int, Span{double}, Span{int})"/>.</summary>
    internal static int WorkLength(int n) => 9 * n * n;

    /// <summary>e^A with caller-owned scratch (<see cref="WorkLength"/> doubles, n pivots); A finite, not checked.</summary>
    internal static void Compute(ReadOnlySpan<double> a, Span<double> result, int n, Span<double> work, Span<int> pivots)
    {
        int nn = n * n;
        Span<double> a2 = work.Slice(0, nn), u = work.Slice(nn, nn), v = work.Slice(2 * nn, nn),
            p = work.Slice(3 * nn, nn), q = work.Slice(4 * nn, nn), t1 = work.Slice(5 * nn, nn), scaled = work.Slice(6 * nn, nn);
        // ‖A‖_∞ of A is ‖Aᵀ‖₁ and e^(Aᵀ) = (e^A)ᵀ, so either norm bounds the same backward error.
        double norm = Math.Max(SmallDense.NormInf(a, n), NormOne(a, n));
        a[..nn].CopyTo(scaled);
        for (int i = 0; i < Degrees.Length; i++)
        {
            if (norm <= Theta[i])
            {
                Pade(scaled, Coefficients[i], a2, u, v, p, q, t1, pivots, n);
                q[..nn].CopyTo(result);
                return;
            }
        }
        int s = norm <= Theta13 ? 0 : (int)Math.Ceiling(Math.Log2(norm / Theta13));
        double factor = Math.ScaleB(1.0, -s);
        for (int k = 0; k < nn; k++)
        {
            scaled[k] *= factor;
        }
        Pade13(scaled, a2, u, v, p, q, t1, work.Slice(7 * nn, nn), work.Slice(8 * nn, nn), pivots, n);
        for (int k = 0; k < s; k++)
        {
            SmallDense.Multiply(q, q, t1, n);
            t1.CopyTo(q);
        }
        q[..nn].CopyTo(result);
    }

    private static double NormOne(ReadOnlySpan<double> a, int n)
    {
        double m = 0;
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                s += Math.Abs(a[i * n + j]);
            }
            m = Math.Max(m, s);
        }
        return m;
    }

    // r_m(A) = (V − U)⁻¹ (V + U), U = A Σ_odd b_k A^(k−1), V = Σ_even b_k A^k; result in q.
    private static void Pade(ReadOnlySpan<double> a, double[] b, Span<double> a2, Span<double> u, Span<double> v,
        Span<double> p, Span<double> q, Span<double> t1, Span<int> pivots, int n)
    {
        int nn = n * n;
        SmallDense.Multiply(a, a, a2, n);
        // Horner in A²: even part Σ b_{2j} A^{2j}, odd part Σ b_{2j+1} A^{2j}.
        int m = b.Length - 1;
        Span<double> power = t1;
        SmallDense.Identity(power, n);
        u[..nn].Clear();
        v[..nn].Clear();
        for (int j = 0; 2 * j <= m; j++)
        {
            if (j > 0)
            {
                SmallDense.Multiply(power, a2, p, n);
                p.CopyTo(power);
            }
            for (int k = 0; k < nn; k++)
            {
                v[k] += b[2 * j] * power[k];
                if (2 * j + 1 <= m)
                {
                    u[k] += b[2 * j + 1] * power[k];
                }
            }
        }
        SmallDense.Multiply(a, u, p, n); // p = U
        Finish(p, v, q, pivots, n);
    }

    private static void Pade13(ReadOnlySpan<double> a, Span<double> a2, Span<double> u, Span<double> v,
        Span<double> p, Span<double> q, Span<double> t1, Span<double> a4, Span<double> a6, Span<int> pivots, int n)
    {
        int nn = n * n;
        double[] b = Coefficients13;
        SmallDense.Multiply(a, a, a2, n);
        SmallDense.Multiply(a2, a2, a4, n);
        SmallDense.Multiply(a4, a2, a6, n);
        // U = A [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I]
        // V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I
        for (int k = 0; k < nn; k++)
        {
            t1[k] = b[13] * a6[k] + b[11] * a4[k] + b[9] * a2[k];
        }
        SmallDense.Multiply(a6, t1, p, n);
        for (int k = 0; k < nn; k++)
        {
            p[k] += b[7] * a6[k] + b[5] * a4[k] + b[3] * a2[k];
        }
        for (int i = 0; i < n; i++)
        {
            p[i * n + i] += b[1];
        }
        SmallDense.Multiply(a, p, u, n);
        for (int k = 0; k < nn; k++)
        {
            t1[k] = b[12] * a6[k] + b[10] * a4[k] + b[8] * a2[k];
        }
        SmallDense.Multiply(a6, t1, v, n);
        for (int k = 0; k < nn; k++)
        {
            v[k] += b[6] * a6[k] + b[4] * a4[k] + b[2] * a2[k];
        }
        for (int i = 0; i < n; i++)
        {
            v[i * n + i] += b[0];
        }
        Finish(u, v, q, pivots, n);
    }

    // q = (V − U)⁻¹ (V + U); V − U is well conditioned for ‖A‖₁ ≤ θ_m (Higham's analysis).
    private static void Finish(Span<double> u, Span<double> v, Span<double> q, Span<int> pivots, int n)
    {
        int nn = n * n;
        for (int k = 0; k < nn; k++)
        {
            q[k] = v[k] + u[k];
            v[k] -= u[k];
        }
        if (!SmallDense.LuFactor(v, pivots, n))
        {
            throw new InvalidOperationException("The Padé denominator of the matrix exponential is singular.");
        }
        SmallDense.LuSolve(v, pivots, q, n, n);
    }
}

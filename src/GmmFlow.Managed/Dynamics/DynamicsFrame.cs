namespace GmmFlow;

/// <summary>
/// What every pair of one <see cref="LinearDynamics"/> needs at a time t, computed once per t and shared: Φ(t, 0),
/// M(t, 0), Φ(T, t), M(T, t), A(t), B(t) and, past the anchor time t_a = T/2 of the Hamiltonian propagation of Π,
/// Φ(t, t_a) and M(t, t_a) (docs/theory/linear-dynamics.md#near-horizon).
/// </summary>
internal sealed class DynamicsFrame
{
    public DynamicsFrame(LinearDynamics dynamics)
    {
        Dynamics = dynamics;
        int n = dynamics.StateDimension, nn = n * n;
        PhiT0 = new double[nn];
        GramT0 = new double[nn];
        PhiHt = new double[nn];
        GramHt = new double[nn];
        PhiAnchor = new double[nn];
        GramAnchor = new double[nn];
        A = new double[nn];
        B = new double[n * dynamics.ControlDimension];
        Scratch = new double[nn];
        G = new double[nn];
        F = new double[nn];
        NoiseTerm = new double[nn];
        GramHtFactor = new double[nn];
        PhiAnchorInverseTransposed = new double[nn];
        PiMap = new double[nn];
        PiOffset = new double[nn];
        FTransposed = new double[nn];
        GTransposed = new double[nn];
        PiMapTransposed = new double[nn];
    }

    public LinearDynamics Dynamics { get; }

    /// <summary>The time the frame holds (NaN before the first <see cref="Fill"/>).</summary>
    public double Time { get; private set; } = double.NaN;

    /// <summary>Whether t is past the anchor (Π then comes from the Hamiltonian flow, not the closed form).</summary>
    public bool PastAnchor { get; private set; }

    public double AnchorTime => 0.5 * Dynamics.Horizon;

    public readonly double[] PhiT0, GramT0, PhiHt, GramHt, PhiAnchor, GramAnchor, A, B, Scratch;

    /// <summary>
    /// Pair-independent parts of the marginals (docs/theory/linear-dynamics.md#marginals): G_t = M(t,0)Φ(T,t)ᵀM(T,0)⁻¹,
    /// F_t = Φ(t,0) − G_tΦ(T,0), the noise term M(t,0) − G_tΦ(T,t)M(t,0), the Cholesky factor of M(T,t) (t ≤ T/2) and
    /// Φ(t,T/2)⁻ᵀ (t &gt; T/2).
    /// </summary>
    public readonly double[] G, F, NoiseTerm, GramHtFactor, PhiAnchorInverseTransposed;

    /// <summary>
    /// With <see cref="GramHtFactored"/>: H = Φ(T,t)ᵀM(T,t)⁻¹ and HΦ(T,t), so that the closed-form
    /// Π(t) = H Cov(X_T, X_t)Σ_t⁻¹ − HΦ(T,t) costs one product per pair (docs/theory/linear-dynamics.md#pair-algebra).
    /// </summary>
    public readonly double[] PiMap, PiOffset;

    /// <summary>Fᵀ, Gᵀ and Hᵀ, so that the per-pair products run untransposed (docs/theory/linear-dynamics.md#pair-algebra).</summary>
    public readonly double[] FTransposed, GTransposed, PiMapTransposed;

    /// <summary>Whether <see cref="GramHtFactor"/> holds a factor (t ≤ T/2 and M(T, t) ≻ 0).</summary>
    public bool GramHtFactored { get; private set; }

    public void Fill(double t)
    {
        if (t == Time)
        {
            return;
        }
        Time = double.NaN;
        var d = Dynamics;
        double horizon = d.Horizon;
        d.Pair(t, 0, PhiT0, GramT0, Scratch);
        d.Pair(horizon, t, PhiHt, GramHt, Scratch);
        d.SystemMatrices(t, A, B);
        PastAnchor = t > AnchorTime;
        int n = d.StateDimension, nn = n * n;
        ReadOnlySpan<double> l = d.GramianFactor;
        // P = Φ(T,t)M(t,0); G = (M⁻¹P)ᵀ; F = Φ(t,0) − GΦ(T,0); noise term M(t,0) − G P.
        SmallDense.Multiply(PhiHt, GramT0, PhiAnchorInverseTransposed, n);
        PhiAnchorInverseTransposed.AsSpan(0, nn).CopyTo(Scratch);
        SmallDense.ForwardSolve(l, Scratch, n, n);
        SmallDense.BackwardSolveTransposed(l, Scratch, n, n);
        SmallDense.Transpose(Scratch, G, n, n);
        SmallDense.Multiply(G, PhiAnchorInverseTransposed, NoiseTerm, n);
        for (int k = 0; k < nn; k++)
        {
            NoiseTerm[k] = GramT0[k] - NoiseTerm[k];
        }
        SmallDense.Multiply(G, d.PhiHorizon, F, n);
        for (int k = 0; k < nn; k++)
        {
            F[k] = PhiT0[k] - F[k];
        }
        SmallDense.Transpose(F, FTransposed, n, n);
        SmallDense.Transpose(G, GTransposed, n, n);
        GramHtFactored = !PastAnchor && SmallDense.TryCholesky(GramHt, GramHtFactor, n);
        if (GramHtFactored)
        {
            // H = (M(T,t)⁻¹Φ(T,t))ᵀ, HΦ(T,t) symmetric.
            PhiHt.AsSpan(0, nn).CopyTo(PiMapTransposed);
            SmallDense.ForwardSolve(GramHtFactor, PiMapTransposed, n, n);
            SmallDense.BackwardSolveTransposed(GramHtFactor, PiMapTransposed, n, n);
            SmallDense.Transpose(PiMapTransposed, PiMap, n, n);
            SmallDense.Multiply(PiMap, PhiHt, PiOffset, n);
            SmallDense.Symmetrize(PiOffset, n);
        }
        if (PastAnchor)
        {
            d.Pair(t, AnchorTime, PhiAnchor, GramAnchor, Scratch);
            SmallDense.Transpose(PhiAnchor, Scratch, n, n);
            if (!SmallDense.TryInvert(Scratch, PhiAnchorInverseTransposed, n))
            {
                throw new InvalidOperationException($"The state-transition matrix Φ(t, T/2) at t = {t:R} is numerically singular.");
            }
        }
        Time = t;
    }
}

namespace GmmFlow;

/// <summary>
/// The double-integrator Schrödinger bridge on one segment [t_a, t_b] between two phase-space Gaussians
/// N(m_a, P_a) and N(m_b, P_b) (state (x, v) ∈ R^2n, dx = v dt, dv = u dt + σ dW): marginals m_t, Σ_t, the feedback
/// u = K(t)(z − m_t) + v_t, and its cost.
/// </summary>
/// <remarks>
/// docs/theory/multimarginal.md#segment-policy. The general linear-dynamics bridge needs P_a positive definite;
/// the initial knot law of a momentum tuple is often singular (velocity a deterministic function of position in some
/// directions), so this class takes the cross-covariance from factors (S0 = F0F0ᵀ, S1 = F1F1ᵀ) instead of Σ0^½ and
/// Σ0^−½, which is valid for singular P_a. All Φ, M products are 2×2 ⊗ I_n. Immutable and thread-safe; Evaluate
/// allocates nothing with caller scratch.
/// </remarks>
internal sealed class MomentumSegment
{
    private readonly int _n;
    private readonly double _eps;
    private readonly double[] _ma, _mb, _pa, _pb, _s01, _delta, _piHalf;

    public MomentumSegment(double ta, double tb, int n, double noise, ReadOnlySpan<double> meanA, ReadOnlySpan<double> covA,
        ReadOnlySpan<double> meanB, ReadOnlySpan<double> covB)
    {
        _n = n;
        int n2 = 2 * n, nn = n2 * n2;
        Start = ta;
        End = tb;
        _eps = noise * noise;
        _ma = meanA[..n2].ToArray();
        _mb = meanB[..n2].ToArray();
        _pa = covA[..nn].ToArray();
        _pb = covB[..nn].ToArray();
        double tau = tb - ta;
        Span<double> phi = stackalloc double[4], gram = stackalloc double[4], l = stackalloc double[4], li = stackalloc double[4];
        Span<double> t0 = stackalloc double[4], t0i = stackalloc double[4], t1iT = stackalloc double[4];
        PhaseAlgebra.Transition(tau, phi);
        PhaseAlgebra.Gramian(tau, gram);
        l[0] = Math.Sqrt(gram[0]);
        l[1] = 0;
        l[2] = gram[2] / l[0];
        l[3] = Math.Sqrt(gram[3] - l[2] * l[2]);
        PhaseAlgebra.Inverse2(l, li);
        PhaseAlgebra.Mul2(li, phi, t0);
        PhaseAlgebra.Inverse2(t0, t0i);
        PhaseAlgebra.Transpose2(l, t1iT);

        // δ = m_b − Φ(τ) m_a; mean cost δᵀ(M(τ)⁻¹ ⊗ I)δ.
        _delta = new double[n2];
        PhaseAlgebra.Left(phi, _ma, _delta, n, 1);
        for (int i = 0; i < n2; i++)
        {
            _delta[i] = _mb[i] - _delta[i];
        }
        Span<double> gi = stackalloc double[4];
        PhaseAlgebra.Inverse2(gram, gi);
        double meanCost = 0;
        for (int i = 0; i < n; i++)
        {
            double x = _delta[i], v = _delta[n + i];
            meanCost += gi[0] * x * x + 2 * gi[1] * x * v + gi[3] * v * v;
        }
        MeanCost = meanCost;

        // Factors F0 = (L⁻¹Φ ⊗ I) Q_a, F1 = (L⁻¹ ⊗ I) Q_b; W = F1ᵀF0, eig(WᵀW) = (V, γ).
        var qa = new double[nn];
        var qb = new double[nn];
        var scratch = new double[nn + 2 * n2];
        PhaseAlgebra.SemidefiniteFactor(_pa, qa, n2, scratch);
        PhaseAlgebra.SemidefiniteFactor(_pb, qb, n2, scratch);
        var f0 = new double[nn];
        var f1 = new double[nn];
        PhaseAlgebra.Left(t0, qa, f0, n, n2);
        PhaseAlgebra.Left(li, qb, f1, n, n2);
        var w = new double[nn];
        var a = new double[nn];
        var vec = new double[nn];
        var val = new double[n2];
        MomentumTupleSolver.MultiplyTransposedLeft(f1, f0, w, n2);
        MomentumTupleSolver.MultiplyTransposedLeft(w, w, a, n2);
        if (!SmallSymmetricEigen.Decompose(a, n2, val, vec, new double[n2]))
        {
            throw new ArithmeticException("Segment covariance problem did not converge (non-finite knot covariances).");
        }
        double covCost = 0;
        for (int i = 0; i < nn; i++)
        {
            covCost += f0[i] * f0[i] + f1[i] * f1[i];
        }
        for (int i = 0; i < n2; i++)
        {
            double gamma = Math.Max(val[i], 0.0);
            double delta = Math.Sqrt(_eps * _eps + 4 * gamma);
            covCost += (_eps > 0 ? _eps * Math.Log(_eps + delta) : 0.0) - delta;
            val[i] = 2.0 / Math.Max(_eps + delta, 1e-300);
        }
        if (_eps > 0)
        {
            var lb = _pb.ToArray();
            if (!PhaseAlgebra.Cholesky(lb, n2))
            {
                throw new NotPositiveDefiniteException("segment end covariance P_b", -1, 0);
            }
            double logDet = 0;
            for (int i = 0; i < n2; i++)
            {
                logDet += 2 * Math.Log(lb[i * n2 + i]);
            }
            covCost += -_eps * logDet + _eps * n * (Math.Log(Math.Pow(tau, 4) / 12.0) - 2.0 * Math.Log(2.0));
        }
        CovarianceCost = covCost;

        // Ĉ = F0 Ĝ F0ᵀ S1 with Ĝ = V diag(2/(ε+δ)) Vᵀ (docs/theory/multimarginal.md#segment-policy); S01 = (T0⁻¹ ⊗ I) Ĉ (L ⊗ I)ᵀ.
        var g = new double[nn];
        var tmp = new double[nn];
        for (int i = 0; i < n2; i++)
        {
            for (int j = 0; j < n2; j++)
            {
                tmp[i * n2 + j] = vec[i * n2 + j] * val[j];
            }
        }
        MomentumTupleSolver.MultiplyTransposedRight(tmp, vec, g, n2);
        MomentumTupleSolver.Multiply(f0, g, tmp, n2);
        MomentumTupleSolver.MultiplyTransposedRight(tmp, f0, g, n2);       // F0 Ĝ F0ᵀ
        MomentumTupleSolver.MultiplyTransposedRight(f1, f1, a, n2);        // S1
        MomentumTupleSolver.Multiply(g, a, tmp, n2);                        // Ĉ
        PhaseAlgebra.Left(t0i, tmp, g, n, n2);
        _s01 = new double[nn];
        PhaseAlgebra.Right(g, t1iT, _s01, n, n2);

        // Π at the midpoint, the anchor of the Hamiltonian propagation for the second half (M(t_b, t)⁻¹ is ill-conditioned near t_b).
        _piHalf = new double[nn];
        var ws = new SegmentScratch(n);
        DirectRiccati(0.5 * tau, _piHalf, ws);
    }

    public double Start { get; }

    public double End { get; }

    /// <summary>Mean part of the segment cost, δᵀ M(τ)⁻¹ δ.</summary>
    public double MeanCost { get; }

    /// <summary>Covariance part of the segment cost (Brownian bridge cost of the transformed laws, minus its mean part).</summary>
    public double CovarianceCost { get; }

    public double Cost => MeanCost + CovarianceCost;

    /// <summary>Cov(Z_a, Z_b), 2n×2n.</summary>
    public ReadOnlySpan<double> CrossCovariance => _s01;

    /// <summary>
    /// m_t (2n), Σ_t (2n×2n) and, unless <paramref name="gain"/> is empty, the control gain K(t) = BᵀΠ(t) (n×2n) and
    /// feed-forward v_t (n): u(t, z) = K(t)(z − m_t) + v_t.
    /// </summary>
    public void Evaluate(double t, Span<double> mean, Span<double> covariance, Span<double> gain, Span<double> feedForward, SegmentScratch ws)
    {
        int n = _n, n2 = 2 * n;
        double s = Math.Clamp(t - Start, 0.0, End - Start), tau = End - Start, r = tau - s;
        Moments(s, mean, covariance, ws);
        if (gain.IsEmpty)
        {
            return;
        }
        Span<double> phiR = stackalloc double[4], phiRT = stackalloc double[4], gram = stackalloc double[4], gi = stackalloc double[4], c = stackalloc double[4];
        PhaseAlgebra.Transition(r, phiR);
        PhaseAlgebra.Transpose2(phiR, phiRT);
        PhaseAlgebra.Gramian(tau, gram);
        PhaseAlgebra.Inverse2(gram, gi);
        PhaseAlgebra.Mul2(phiRT, gi, c);
        // v_t = Bᵀ Φ(t_b, t)ᵀ M(τ)⁻¹ δ: the velocity block.
        for (int i = 0; i < n; i++)
        {
            feedForward[i] = c[2] * _delta[i] + c[3] * _delta[n + i];
        }
        var pi = ws.Pi;
        if (s <= 0.5 * tau)
        {
            DirectRiccati(s, pi, ws);
        }
        else
        {
            PropagateRiccati(s - 0.5 * tau, pi, ws);
        }
        pi.AsSpan(n * n2, n * n2).CopyTo(gain);
    }

    /// <summary>Π(t) (2n×2n symmetric), the Riccati solution of this segment: u = BᵀΠ(t)(z − m_t) + v_t.</summary>
    internal void Riccati(double t, Span<double> pi, SegmentScratch ws)
    {
        double s = Math.Clamp(t - Start, 0.0, End - Start), tau = End - Start;
        if (s <= 0.5 * tau)
        {
            DirectRiccati(s, pi, ws);
        }
        else
        {
            PropagateRiccati(s - 0.5 * tau, pi, ws);
        }
    }

    private void Moments(double s, Span<double> mean, Span<double> cov, SegmentScratch ws)
    {
        int n = _n, n2 = 2 * n, nn = n2 * n2;
        double tau = End - Start, r = tau - s;
        Span<double> phiS = stackalloc double[4], phiR = stackalloc double[4], phiT = stackalloc double[4];
        Span<double> ms = stackalloc double[4], mti = stackalloc double[4], tmp = stackalloc double[4], phiRT = stackalloc double[4];
        Span<double> g = stackalloc double[4], f = stackalloc double[4], gT = stackalloc double[4], fT = stackalloc double[4], noise = stackalloc double[4];
        PhaseAlgebra.Transition(s, phiS);
        PhaseAlgebra.Transition(r, phiR);
        PhaseAlgebra.Transition(tau, phiT);
        PhaseAlgebra.Gramian(s, ms);
        PhaseAlgebra.Gramian(tau, tmp);
        PhaseAlgebra.Inverse2(tmp, mti);
        PhaseAlgebra.Transpose2(phiR, phiRT);
        // G = M(s) Φ(r)ᵀ M(τ)⁻¹, F = Φ(s) − G Φ(τ).
        PhaseAlgebra.Mul2(ms, phiRT, tmp);
        PhaseAlgebra.Mul2(tmp, mti, g);
        PhaseAlgebra.Mul2(g, phiT, tmp);
        for (int i = 0; i < 4; i++)
        {
            f[i] = phiS[i] - tmp[i];
        }
        PhaseAlgebra.Transpose2(g, gT);
        PhaseAlgebra.Transpose2(f, fT);
        // Noise term ε [M(s) − G Φ(r) M(s)].
        PhaseAlgebra.Mul2(g, phiR, tmp);
        PhaseAlgebra.Mul2(tmp, ms, noise);
        for (int i = 0; i < 4; i++)
        {
            noise[i] = _eps * (ms[i] - noise[i]);
        }
        // m_t = Φ(s) m_a + G δ.
        PhaseAlgebra.Left(phiS, _ma, mean, n, 1);
        PhaseAlgebra.Left(g, _delta, ws.V, n, 1);
        for (int i = 0; i < n2; i++)
        {
            mean[i] += ws.V[i];
        }
        // Σ_t = F P_a Fᵀ + G P_b Gᵀ + F S01 Gᵀ + (F S01 Gᵀ)ᵀ + noise ⊗ I.
        var t1 = ws.T1;
        var t2 = ws.T2;
        PhaseAlgebra.Left(f, _pa, t1, n, n2);
        PhaseAlgebra.Right(t1, fT, cov, n, n2);
        PhaseAlgebra.Left(g, _pb, t1, n, n2);
        PhaseAlgebra.Right(t1, gT, t2, n, n2);
        for (int i = 0; i < nn; i++)
        {
            cov[i] += t2[i];
        }
        PhaseAlgebra.Left(f, _s01, t1, n, n2);
        PhaseAlgebra.Right(t1, gT, t2, n, n2);
        for (int i = 0; i < n2; i++)
        {
            for (int j = 0; j < n2; j++)
            {
                cov[i * n2 + j] += t2[i * n2 + j] + t2[j * n2 + i];
            }
        }
        for (int i = 0; i < n; i++)
        {
            cov[i * n2 + i] += noise[0];
            cov[i * n2 + n + i] += noise[1];
            cov[(n + i) * n2 + i] += noise[2];
            cov[(n + i) * n2 + n + i] += noise[3];
        }
        // Keep the F, G factors for the direct Riccati formula.
        f.CopyTo(ws.F);
        g.CopyTo(ws.G);
    }

    /// <summary>Π(t) = Φ(t_b, t)ᵀ M(t_b, t)⁻¹ (Cov(Z_b, Z_t) Σ_t⁻¹ − Φ(t_b, t)) at offset s (0 &lt; s ≤ τ/2).</summary>
    private void DirectRiccati(double s, Span<double> pi, SegmentScratch ws)
    {
        int n = _n, n2 = 2 * n, nn = n2 * n2;
        double r = End - Start - s;
        Moments(s, ws.Mean, ws.Cov, ws);
        Span<double> fT = stackalloc double[4], gT = stackalloc double[4], phiR = stackalloc double[4], phiRT = stackalloc double[4];
        Span<double> mr = stackalloc double[4], mri = stackalloc double[4], c = stackalloc double[4];
        PhaseAlgebra.Transpose2(ws.F, fT);
        PhaseAlgebra.Transpose2(ws.G, gT);
        // Cov(Z_b, Z_t) = S01ᵀ Fᵀ + P_b Gᵀ.
        var cross = ws.T1;
        for (int i = 0; i < n2; i++)
        {
            for (int j = 0; j < n2; j++)
            {
                ws.T2[i * n2 + j] = _s01[j * n2 + i];
            }
        }
        PhaseAlgebra.Right(ws.T2, fT, cross, n, n2);
        PhaseAlgebra.Right(_pb, gT, ws.T2, n, n2);
        for (int i = 0; i < nn; i++)
        {
            cross[i] += ws.T2[i];
        }
        // X = Cov(Z_b, Z_t) Σ_t⁻¹ (rows solved against the Cholesky factor of Σ_t).
        var l = ws.Cov;
        if (!PhaseAlgebra.Cholesky(l, n2))
        {
            throw new NotPositiveDefiniteException("momentum bridge covariance Σ_t", -1, 0);
        }
        for (int i = 0; i < n2; i++)
        {
            var row = cross.AsSpan(i * n2, n2);
            PhaseAlgebra.ForwardSolve(l, row, n2);
            PhaseAlgebra.BackSolveTransposed(l, row, n2);
        }
        PhaseAlgebra.Transition(r, phiR);
        for (int i = 0; i < n; i++)
        {
            cross[i * n2 + i] -= phiR[0];
            cross[i * n2 + n + i] -= phiR[1];
            cross[(n + i) * n2 + i] -= phiR[2];
            cross[(n + i) * n2 + n + i] -= phiR[3];
        }
        PhaseAlgebra.Transpose2(phiR, phiRT);
        PhaseAlgebra.Gramian(r, mr);
        PhaseAlgebra.Inverse2(mr, mri);
        PhaseAlgebra.Mul2(phiRT, mri, c);
        PhaseAlgebra.Left(c, cross, pi, n, n2);
    }

    /// <summary>Π at offset τ/2 + h from the Hamiltonian flow: [X; Y] = Ψ(h)[I; Π(τ/2)], Π = Y X⁻¹.</summary>
    private void PropagateRiccati(double h, Span<double> pi, SegmentScratch ws)
    {
        int n = _n, n2 = 2 * n, nn = n2 * n2;
        // H = [[A, BBᵀ], [0, −Aᵀ]] (4×4 scalar, A = [[0,1],[0,0]], BBᵀ = [[0,0],[0,1]]) is nilpotent (H⁴ = 0).
        Span<double> hm = stackalloc double[16], psi = stackalloc double[16], term = stackalloc double[16], next = stackalloc double[16];
        hm.Clear();
        hm[0 * 4 + 1] = 1;
        hm[1 * 4 + 3] = 1;
        hm[3 * 4 + 2] = -1;
        psi.Clear();
        term.Clear();
        for (int i = 0; i < 4; i++)
        {
            psi[i * 5] = 1;
            term[i * 5] = 1;
        }
        for (int k = 1; k <= 3; k++)
        {
            next.Clear();
            for (int i = 0; i < 4; i++)
            {
                for (int j = 0; j < 4; j++)
                {
                    double sum = 0;
                    for (int m = 0; m < 4; m++)
                    {
                        sum += term[i * 4 + m] * hm[m * 4 + j];
                    }
                    next[i * 4 + j] = sum * h / k;
                }
            }
            next.CopyTo(term);
            for (int i = 0; i < 16; i++)
            {
                psi[i] += term[i];
            }
        }
        Span<double> p11 = [psi[0], psi[1], psi[4], psi[5]];
        Span<double> p12 = [psi[2], psi[3], psi[6], psi[7]];
        Span<double> p22 = [psi[10], psi[11], psi[14], psi[15]];
        var x = ws.T1;
        var y = ws.T2;
        PhaseAlgebra.Left(p12, _piHalf, x, n, n2);
        for (int i = 0; i < n; i++)
        {
            x[i * n2 + i] += p11[0];
            x[i * n2 + n + i] += p11[1];
            x[(n + i) * n2 + i] += p11[2];
            x[(n + i) * n2 + n + i] += p11[3];
        }
        PhaseAlgebra.Left(p22, _piHalf, y, n, n2);
        if (!PhaseAlgebra.SolveRight(x, y, pi, n2, n2, ws.Lu))
        {
            throw new ArithmeticException("Riccati propagation hit a singular matrix (conjugate point); the knot laws are inconsistent.");
        }
        // Symmetrise the round-off.
        for (int i = 0; i < n2; i++)
        {
            for (int j = 0; j < i; j++)
            {
                double m = 0.5 * (pi[i * n2 + j] + pi[j * n2 + i]);
                pi[i * n2 + j] = pi[j * n2 + i] = m;
            }
        }
        _ = nn;
    }
}

/// <summary>Per-thread scratch of <see cref="MomentumSegment.Evaluate"/>.</summary>
internal sealed class SegmentScratch(int n)
{
    public readonly double[] T1 = new double[4 * n * n], T2 = new double[4 * n * n], Pi = new double[4 * n * n];
    public readonly double[] Mean = new double[2 * n], Cov = new double[4 * n * n], V = new double[2 * n];
    public readonly double[] F = new double[4], G = new double[4];
    public readonly double[] Lu = new double[4 * n * n + 2 * n];
}

namespace GmmFlow;

/// <summary>
/// The covariance part of a linear bridge whose noise does not enter through the controls,
/// dX = (AX + Bu)dt + D dW with DDᵀ = Q ≠ εBBᵀ: no closed form, so Π(0) is found by Newton shooting
/// (docs/theory/linear-dynamics.md#shooting). Given Π(0), everything is exact up to quadrature: the Hamiltonian flow
/// gives the closed-loop transition X(t) = Φ(t, 0) + M(t, 0)Φ(t, 0)⁻ᵀΠ(0) and Π(t) = Φ(t, 0)⁻ᵀΠ(0)X(t)⁻¹, and
/// Σ(t) = X(t)[Σ0 + ∫₀ᵗ X(s)⁻¹QX(s)⁻ᵀ ds]X(t)ᵀ by composite Gauss–Legendre quadrature.
/// </summary>
internal sealed class NoiseShooting
{
    private const int NodesPerPanel = 12;
    private const int PanelsPerHorizon = 8;

    private readonly LinearDynamics _dynamics;
    private readonly double[] _q, _s0, _pi0;
    private readonly double[] _glNodes, _glWeights;

    public NoiseShooting(LinearDynamics dynamics, ReadOnlySpan<double> noiseCovariance, ReadOnlySpan<double> s0, ReadOnlySpan<double> s1,
        ReadOnlySpan<double> initialPi)
    {
        _dynamics = dynamics;
        _q = noiseCovariance.ToArray();
        _s0 = s0.ToArray();
        (_glNodes, _glWeights) = TransportPlan.GaussLegendre(NodesPerPanel);
        int n = dynamics.StateDimension, nn = n * n;
        // Full-horizon nodes for the residual: Φ(s, 0) and W(s) = M(s, 0)Φ(s, 0)⁻ᵀ, fixed across Newton iterations.
        var (times, weights) = Quadrature(dynamics.Horizon);
        var phis = new double[times.Length * nn];
        var ws = new double[times.Length * nn];
        var gram = new double[nn];
        var scratch = new double[nn];
        for (int k = 0; k < times.Length; k++)
        {
            Span<double> phi = phis.AsSpan(k * nn, nn);
            dynamics.Pair(times[k], 0, phi, gram, scratch);
            InverseTransposeProduct(phi, gram, ws.AsSpan(k * nn, nn), n);
        }
        var phiT = new double[nn];
        var wT = new double[nn];
        dynamics.Pair(dynamics.Horizon, 0, phiT, gram, scratch);
        InverseTransposeProduct(phiT, gram, wT, n);
        var context = new ResidualContext(phis, ws, weights, phiT, wT, s1.ToArray());
        (_pi0, Residual, Iterations) = Solve(context, initialPi);
        // Cost pieces: tr(Π(T)Σ1) − tr(Π(0)Σ0) − ∫ tr(ΠQ) dt (docs/theory/linear-dynamics.md#shooting).
        var x = new double[nn];
        var pi = new double[nn];
        double integral = 0;
        for (int k = 0; k < times.Length; k++)
        {
            if (!ClosedLoop(phis.AsSpan(k * nn, nn), ws.AsSpan(k * nn, nn), x, pi, n))
            {
                throw new InvalidOperationException($"The closed-loop transition is singular at t = {times[k]:R} after shooting.");
            }
            integral += weights[k] * TraceProduct(pi, _q, n);
        }
        ClosedLoop(phiT, wT, x, pi, n);
        ClosedLoopAtHorizon = (double[])x.Clone();
        CovariancePart = TraceProduct(pi, s1, n) - TraceProduct(_pi0, _s0, n) - integral;
    }

    /// <summary>Π(0) found by the shooting.</summary>
    public ReadOnlySpan<double> InitialPi => _pi0;

    /// <summary>max |Σ(T) − Σ1| reached.</summary>
    public double Residual { get; }

    /// <summary>Newton iterations used (summed over continuation stages).</summary>
    public int Iterations { get; }

    /// <summary>∫₀ᵀ tr(K Σ Kᵀ) dt: the covariance part of the kinetic energy.</summary>
    public double CovariancePart { get; }

    /// <summary>X(T), the closed-loop transition over [0, T] (Cov(X0, X_T) = Σ0 X(T)ᵀ).</summary>
    public double[] ClosedLoopAtHorizon { get; }

    /// <summary>Π(t) and Σ(t) for a frame at t.</summary>
    public void Evaluate(DynamicsFrame f, Span<double> pi, Span<double> cov)
    {
        int n = _dynamics.StateDimension, nn = n * n;
        double t = f.Time;
        Span<double> w = new double[nn], x = new double[nn], acc = new double[nn], phi = new double[nn], gram = new double[nn];
        InverseTransposeProduct(f.PhiT0, f.GramT0, w, n);
        if (!ClosedLoop(f.PhiT0, w, x, pi, n))
        {
            throw new InvalidOperationException($"The closed-loop transition is singular at t = {t:R}.");
        }
        // Σ0 + ∫₀ᵗ X⁻¹QX⁻ᵀ ds.
        _s0.CopyTo(acc);
        if (t > 0)
        {
            var (times, weights) = Quadrature(t);
            Span<double> xs = new double[nn], ps = new double[nn], scratch = new double[nn], ws = new double[nn];
            for (int k = 0; k < times.Length; k++)
            {
                _dynamics.Pair(times[k], 0, phi, gram, scratch);
                InverseTransposeProduct(phi, gram, ws, n);
                ClosedLoop(phi, ws, xs, ps, n);
                AddNoiseTerm(xs, weights[k], acc, scratch, n);
            }
        }
        SmallDense.Congruence(x, acc, cov, w, n, n);
        SmallDense.Symmetrize(cov, n);
    }

    private sealed record ResidualContext(double[] Phis, double[] Ws, double[] Weights, double[] PhiT, double[] WT, double[] S1);

    // Newton on the n(n+1)/2 entries of the symmetric Π(0), central-difference Jacobian, backtracking; if the plain
    // iteration fails from the ε = 0 start, a continuation in the noise scale Q → sQ, s = 1/k … 1.
    private (double[] Pi, double Residual, int Iterations) Solve(ResidualContext c, ReadOnlySpan<double> start)
    {
        int n = _dynamics.StateDimension;
        int total = 0;
        foreach (int stages in new[] { 1, 4, 16 })
        {
            var trial = start.ToArray();
            bool ok = true;
            double residual = double.PositiveInfinity;
            for (int s = 1; s <= stages && ok; s++)
            {
                (ok, residual, int iterations) = Newton(c, trial, (double)s / stages);
                total += iterations;
            }
            if (ok)
            {
                return (trial, residual, total);
            }
        }
        throw new InvalidOperationException($"Newton shooting on Π(0) did not converge for the {n}-dimensional pair " +
            "(noise outside the control channel); the target covariance may be unreachable with this noise.");
    }

    private (bool Ok, double Residual, int Iterations) Newton(ResidualContext c, double[] pi, double noiseScale)
    {
        int n = _dynamics.StateDimension, nn = n * n, u = n * (n + 1) / 2;
        var r = new double[u];
        var rTrial = new double[u];
        var jac = new double[u * u];
        var piTrial = new double[nn];
        double scale = 1;
        foreach (double v in c.S1)
        {
            scale = Math.Max(scale, Math.Abs(v));
        }
        if (!ResidualOf(c, pi, noiseScale, r))
        {
            return (false, double.PositiveInfinity, 0);
        }
        double norm = SmallDense.MaxAbs(r);
        for (int iteration = 1; iteration <= 60; iteration++)
        {
            if (norm <= 1e-13 * scale)
            {
                return (true, norm, iteration - 1);
            }
            // Jacobian column for unknown (i, j), i ≤ j: central difference with a symmetric perturbation.
            int col = 0;
            for (int i = 0; i < n; i++)
            {
                for (int j = i; j < n; j++, col++)
                {
                    double h = 1e-6 * Math.Max(1, Math.Abs(pi[i * n + j]));
                    pi.CopyTo(piTrial, 0);
                    piTrial[i * n + j] += h;
                    piTrial[j * n + i] = piTrial[i * n + j];
                    bool up = ResidualOf(c, piTrial, noiseScale, rTrial);
                    var plus = (double[])rTrial.Clone();
                    pi.CopyTo(piTrial, 0);
                    piTrial[i * n + j] -= h;
                    piTrial[j * n + i] = piTrial[i * n + j];
                    bool down = ResidualOf(c, piTrial, noiseScale, rTrial);
                    if (!up || !down)
                    {
                        return (false, norm, iteration);
                    }
                    for (int k = 0; k < u; k++)
                    {
                        jac[k * u + col] = (plus[k] - rTrial[k]) / (2 * h);
                    }
                }
            }
            var step = (double[])r.Clone();
            if (!SmallDense.TrySolve(jac, step, u, 1))
            {
                return (false, norm, iteration);
            }
            double lambda = 1;
            bool improved = false;
            for (int tries = 0; tries < 30; tries++, lambda *= 0.5)
            {
                col = 0;
                for (int i = 0; i < n; i++)
                {
                    for (int j = i; j < n; j++, col++)
                    {
                        piTrial[i * n + j] = piTrial[j * n + i] = pi[i * n + j] - lambda * step[col];
                    }
                }
                if (ResidualOf(c, piTrial, noiseScale, rTrial) && SmallDense.MaxAbs(rTrial) < norm)
                {
                    improved = true;
                    break;
                }
            }
            if (!improved)
            {
                // At the rounding floor a step cannot reduce the residual any more.
                return (norm <= 1e-9 * scale, norm, iteration);
            }
            piTrial.CopyTo(pi, 0);
            rTrial.CopyTo(r, 0);
            norm = SmallDense.MaxAbs(r);
        }
        return (norm <= 1e-9 * scale, norm, 60);
    }

    // Upper triangle of Σ(T; Π0) − Σ1; false when the closed-loop transition is singular somewhere.
    private bool ResidualOf(ResidualContext c, ReadOnlySpan<double> pi0, double noiseScale, Span<double> r)
    {
        int n = _dynamics.StateDimension, nn = n * n;
        var xs = new double[nn];
        var acc = new double[nn];
        var scratch = new double[nn];
        var pi = new double[nn];
        _s0.CopyTo(acc, 0);
        for (int k = 0; k < c.Weights.Length; k++)
        {
            if (!ClosedLoopWith(c.Phis.AsSpan(k * nn, nn), c.Ws.AsSpan(k * nn, nn), pi0, xs, pi, n))
            {
                return false;
            }
            AddNoiseTerm(xs, noiseScale * c.Weights[k], acc, scratch, n);
        }
        if (!ClosedLoopWith(c.PhiT, c.WT, pi0, xs, pi, n))
        {
            return false;
        }
        var sigma = new double[nn];
        SmallDense.Congruence(xs, acc, sigma, scratch, n, n);
        int col = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = i; j < n; j++, col++)
            {
                r[col] = 0.5 * (sigma[i * n + j] + sigma[j * n + i]) - c.S1[i * n + j];
            }
        }
        return true;
    }

    private bool ClosedLoop(ReadOnlySpan<double> phi, ReadOnlySpan<double> w, Span<double> x, Span<double> pi, int n)
        => ClosedLoopWith(phi, w, _pi0, x, pi, n);

    // X = Φ + WΠ0 (W = MΦ⁻ᵀ); Π = Φ⁻ᵀΠ0X⁻¹, computed as Π = (X⁻ᵀ(Φ⁻ᵀΠ0)ᵀ)ᵀ = (X⁻ᵀΠ0Φ⁻¹)ᵀ.
    private static bool ClosedLoopWith(ReadOnlySpan<double> phi, ReadOnlySpan<double> w, ReadOnlySpan<double> pi0, Span<double> x,
        Span<double> pi, int n)
    {
        int nn = n * n;
        SmallDense.Multiply(w, pi0, x, n);
        for (int k = 0; k < nn; k++)
        {
            x[k] += phi[k];
        }
        // Y = Φ⁻ᵀΠ0: solve Φᵀ Y = Π0.
        Span<double> lhs = nn <= 1024 ? stackalloc double[nn] : new double[nn];
        Span<double> y = nn <= 1024 ? stackalloc double[nn] : new double[nn];
        SmallDense.Transpose(phi, lhs, n, n);
        pi0[..nn].CopyTo(y);
        if (!SmallDense.TrySolve(lhs, y, n, n))
        {
            return false;
        }
        // Π = Y X⁻¹ ⇔ Xᵀ Πᵀ = Yᵀ.
        SmallDense.Transpose(x, lhs, n, n);
        Span<double> yt = nn <= 1024 ? stackalloc double[nn] : new double[nn];
        SmallDense.Transpose(y, yt, n, n);
        if (!SmallDense.TrySolve(lhs, yt, n, n))
        {
            return false;
        }
        SmallDense.Transpose(yt, pi, n, n);
        SmallDense.Symmetrize(pi, n);
        return true;
    }

    // acc += weight · X⁻¹ Q X⁻ᵀ.
    private void AddNoiseTerm(ReadOnlySpan<double> x, double weight, Span<double> acc, Span<double> scratch, int n)
    {
        int nn = n * n;
        Span<double> inv = nn <= 1024 ? stackalloc double[nn] : new double[nn];
        if (!SmallDense.TryInvert(x, inv, n))
        {
            throw new InvalidOperationException("The closed-loop transition is numerically singular.");
        }
        Span<double> term = nn <= 1024 ? stackalloc double[nn] : new double[nn];
        SmallDense.Congruence(inv, _q, term, scratch, n, n);
        for (int k = 0; k < nn; k++)
        {
            acc[k] += weight * term[k];
        }
    }

    // Composite Gauss–Legendre on [0, t]: panels of length ≤ T/8, split at the grid of a piecewise-linear system.
    private (double[] Times, double[] Weights) Quadrature(double t)
    {
        var breaks = new List<double> { 0 };
        foreach (double g in _dynamics.GridTimes)
        {
            if (g > 0 && g < t)
            {
                breaks.Add(g);
            }
        }
        breaks.Add(t);
        double maxPanel = _dynamics.Horizon / PanelsPerHorizon;
        var times = new List<double>();
        var weights = new List<double>();
        for (int p = 0; p + 1 < breaks.Count; p++)
        {
            double a = breaks[p], b = breaks[p + 1];
            int pieces = Math.Max(1, (int)Math.Ceiling((b - a) / maxPanel - 1e-12));
            double h = (b - a) / pieces;
            for (int q = 0; q < pieces; q++)
            {
                double lo = a + q * h;
                for (int k = 0; k < _glNodes.Length; k++)
                {
                    times.Add(lo + h * _glNodes[k]);
                    weights.Add(h * _glWeights[k]);
                }
            }
        }
        return ([.. times], [.. weights]);
    }

    /// <summary>W = M Φ⁻ᵀ (M symmetric): solve Φ Wᵀ = M, then transpose.</summary>
    private static void InverseTransposeProduct(ReadOnlySpan<double> phi, ReadOnlySpan<double> gram, Span<double> w, int n)
    {
        Span<double> b = n <= 32 ? stackalloc double[n * n] : new double[n * n];
        gram[..(n * n)].CopyTo(b);
        if (!SmallDense.TrySolve(phi, b, n, n))
        {
            throw new InvalidOperationException("The state-transition matrix is numerically singular.");
        }
        SmallDense.Transpose(b, w, n, n);
    }

    private static double TraceProduct(ReadOnlySpan<double> a, ReadOnlySpan<double> b, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                s += a[i * n + j] * b[j * n + i];
            }
        }
        return s;
    }
}

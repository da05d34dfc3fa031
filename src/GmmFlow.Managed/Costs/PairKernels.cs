using GmmFlow.Native;
using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>
/// The cost of one (source i, target j) pair from prepared factors. Dispatch: diagonal storage and d = 1 use the
/// commuting closed forms, d = 2 closed-form 2×2 spectra, d ≥ 3 one eigen-decomposition (LAPACK dsyevd,
/// unchecked: the factors were validated when built). No allocation (scratch from <see cref="PairWorkspace"/>).
/// </summary>
internal static class PairKernels
{
    private const double SmallestNormal = 2.2250738585072014e-308;

    /// <summary>Cost of pair (i, j). <paramref name="closedForms"/> = false forces the general LAPACK path (tests).</summary>
    public static double Cost(CostKind kind, double variance, SchrodingerCostVariant variant,
        GaussianFactors s, int i, GaussianFactors t, int j, PairWorkspace ws, bool closedForms = true)
    {
        double meanTerm = SquaredDistance(s.Mean(i), t.Mean(j));
        kind = EffectiveKind(kind, variance);
        int d = s.Dimension;
        if (s.IsDiagonal || (d == 1 && closedForms))
        {
            return meanTerm + DiagonalCovarianceTerm(kind, variance, variant, s, i, t, j);
        }
        if (d == 2 && closedForms)
        {
            return meanTerm + TwoByTwoCovarianceTerm(kind, variance, variant, s, i, t, j);
        }
        return meanTerm + GeneralCovarianceTerm(kind, variance, variant, s, i, t, j, ws);
    }

    /// <summary>σ = 0: both SB costs are W2² exactly (docs/theory.md#sb-cost); computed as W2 so no ε·log ε limit is evaluated.</summary>
    internal static CostKind EffectiveKind(CostKind kind, double variance)
        => variance == 0 && kind is CostKind.SchrodingerBridge or CostKind.EntropicTransport ? CostKind.Wasserstein : kind;

    internal static double SquaredDistance(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double e = b[k] - a[k];
            sum += e * e;
        }
        return sum;
    }

    // ---- diagonal (commuting) closed forms; also d = 1 in full storage (K×1×1 == K×1) ----

    private static double DiagonalCovarianceTerm(CostKind kind, double eps, SchrodingerCostVariant variant,
        GaussianFactors s, int i, GaussianFactors t, int j)
    {
        int d = s.Dimension;
        ReadOnlySpan<double> r0 = s.Factor(i), r1 = t.Factor(j);
        switch (kind)
        {
            case CostKind.Wasserstein:
            {
                // tr Σ0 + tr Σ1 − 2 Σ √(s0 s1) = Σ (√s0 − √s1)²: no cancellation (docs/theory.md#exact-w2, diagonal case).
                double sum = 0;
                for (int k = 0; k < d; k++)
                {
                    double e = r1[k] - r0[k];
                    sum += e * e;
                }
                return sum;
            }
            case CostKind.Surrogate:
            {
                // ¼ Σ_k (s1 − s0)(log s1 − log s0): docs/theory.md#surrogate-cost with commuting M = diag(s1/s0 − 1).
                ReadOnlySpan<double> v0 = s.Covariance(i), v1 = t.Covariance(j);
                double sum = 0;
                if (s.IsDiagonal)
                {
                    ReadOnlySpan<double> l0 = s.LogVariances.AsSpan(i * d, d), l1 = t.LogVariances.AsSpan(j * d, d);
                    for (int k = 0; k < d; k++)
                    {
                        sum += (v1[k] - v0[k]) * (l1[k] - l0[k]);
                    }
                }
                else
                {
                    sum = (v1[0] - v0[0]) * (t.LogDeterminants[j] - s.LogDeterminants[i]);
                }
                return 0.25 * sum;
            }
            default:
            {
                // γ_k = s0_k s1_k; √γ_k = r0_k r1_k.
                double acc = 0;
                for (int k = 0; k < d; k++)
                {
                    double root = r0[k] * r1[k];
                    acc += SchrodingerSpectralTerm(root * root, eps);
                }
                return SchrodingerTotal(kind, eps, variant, d, s.Traces[i], t.Traces[j], s.LogDeterminants[i], t.LogDeterminants[j], acc);
            }
        }
    }

    // ---- d = 2 closed forms ----

    private static double TwoByTwoCovarianceTerm(CostKind kind, double eps, SchrodingerCostVariant variant,
        GaussianFactors s, int i, GaussianFactors t, int j)
    {
        ReadOnlySpan<double> s0 = s.Covariance(i), s1 = t.Covariance(j);
        double tr0 = s.Traces[i], tr1 = t.Traces[j];
        switch (kind)
        {
            case CostKind.Wasserstein:
            {
                // For a 2×2 SPD matrix P: tr √P = √(tr P + 2√det P) (its eigenvalues' roots a, b give (a + b)² = a² + b² + 2ab).
                // P = Σ0^½ Σ1 Σ0^½: tr P = tr(Σ0Σ1) = Σ_ab Σ0_ab Σ1_ab, det P = det Σ0 det Σ1 (docs/theory.md#exact-w2).
                double trP = s0[0] * s1[0] + 2 * s0[1] * s1[1] + s0[3] * s1[3];
                double detP = s.Determinants[i] * t.Determinants[j];
                double nuclear = Math.Sqrt(trP + 2 * Math.Sqrt(detP));
                return Math.Max(0, tr0 + tr1 - 2 * nuclear);
            }
            case CostKind.Surrogate:
            {
                // C = L0⁻¹ Σ1 L0⁻ᵀ with L0⁻¹ = [[u, 0], [v, w]], Σ1 = [[x, y], [y, z]].
                ReadOnlySpan<double> inv = s.FactorInverse(i), l = s.Factor(i);
                double u = inv[0], v = inv[2], w = inv[3];
                double x = s1[0], y = s1[1], z = s1[3];
                double c00 = u * u * x, c01 = u * (v * x + w * y), c11 = v * v * x + 2 * v * w * y + w * w * z;
                double detC = t.Determinants[j] / s.Determinants[i];
                Eigen2(c00, c01, c11, detC, out double mu1, out double mu2, out double e0, out double e1);
                // ‖L0 w_k‖² for the unit eigenvectors w1 = (e0, e1), w2 = (−e1, e0); L0 = [[p, 0], [q, r]].
                double p = l[0], q = l[2], r = l[3];
                double a0 = p * e0, a1 = q * e0 + r * e1;
                double b0 = -p * e1, b1 = -q * e1 + r * e0;
                // docs/theory.md#surrogate-cost: ¼ Σ_k (μ_k − 1) log μ_k ‖L0 w_k‖².
                return 0.25 * (SurrogateWeight(mu1) * (a0 * a0 + a1 * a1) + SurrogateWeight(mu2) * (b0 * b0 + b1 * b1));
            }
            default:
            {
                // γ = eig(L0ᵀ Σ1 L0); L0 = [[p, 0], [q, r]]. Entries of the symmetric product, then the 2×2 spectrum.
                ReadOnlySpan<double> l = s.Factor(i);
                double p = l[0], q = l[2], r = l[3];
                double x = s1[0], y = s1[1], z = s1[3];
                double g00 = p * p * x + 2 * p * q * y + q * q * z, g01 = r * (p * y + q * z), g11 = r * r * z;
                Eigen2(g00, g01, g11, s.Determinants[i] * t.Determinants[j], out double gamma1, out double gamma2, out _, out _);
                double acc = SchrodingerSpectralTerm(gamma1, eps) + SchrodingerSpectralTerm(gamma2, eps);
                return SchrodingerTotal(kind, eps, variant, 2, tr0, tr1, s.LogDeterminants[i], t.LogDeterminants[j], acc);
            }
        }
    }

    /// <summary>
    /// Spectrum of the SPD 2×2 matrix [[a, b], [b, c]] with known determinant: λ1 = mean + hypot(half-difference, b)
    /// (no cancellation), λ2 = det/λ1 (accurate even when λ2 ≪ λ1), and the unit eigenvector (e0, e1) of λ1.
    /// </summary>
    internal static void Eigen2(double a, double b, double c, double det, out double l1, out double l2, out double e0, out double e1)
    {
        double half = 0.5 * (a - c), radius = Math.Sqrt(half * half + b * b);
        l1 = 0.5 * (a + c) + radius;
        l2 = det / l1;
        // Eigenvector of λ1 from the better-conditioned row of (P − λ1 I): (λ1 − c, b) when a ≥ c, (b, λ1 − a) otherwise.
        double v0, v1;
        if (a >= c)
        {
            v0 = l1 - c;
            v1 = b;
        }
        else
        {
            v0 = b;
            v1 = l1 - a;
        }
        double norm = Math.Sqrt(v0 * v0 + v1 * v1);
        if (norm == 0)
        {
            // A multiple of the identity: every unit vector is an eigenvector.
            e0 = 1;
            e1 = 0;
        }
        else
        {
            e0 = v0 / norm;
            e1 = v1 / norm;
        }
    }

    // ---- general d ≥ 3: LAPACK eigen-decompositions ----

    private static double GeneralCovarianceTerm(CostKind kind, double eps, SchrodingerCostVariant variant,
        GaussianFactors s, int i, GaussianFactors t, int j, PairWorkspace ws)
    {
        int d = s.Dimension, dd = d * d;
        Lapack lapack = s.Lapack;
        Span<double> values = ws.Values.AsSpan(0, d);
        if (kind == CostKind.Surrogate)
        {
            // C = L0⁻¹ Σ1 L0⁻ᵀ = Σ_k μ_k w_k w_kᵀ; cost ¼ Σ_k (μ_k − 1) log μ_k ‖L0 w_k‖² (docs/theory.md#surrogate-cost).
            Span<double> c = ws.A.AsSpan(0, dd);
            DenseKernels.CongruenceLower(s.FactorInverse(i), s.FactorInverseTransposed(i), t.Covariance(j), ws.B, c, d);
            lapack.SymmetricEigenUnchecked(c, d, values, vectors: true);
            Span<double> weights = ws.Vector.AsSpan(0, d);
            for (int k = 0; k < d; k++)
            {
                weights[k] = SurrogateWeight(values[k]);
            }
            double sum = DenseKernels.WeightedSquaredNorms(s.FactorTransposed(i), c, weights, ws.B, d);
            return 0.25 * sum;
        }
        // γ_k = eig(L0ᵀ Σ1 L0) = eig(Σ0 Σ1) (docs/theory.md#exact-w2, #sb-cost), eigenvalues only.
        Span<double> a = ws.A.AsSpan(0, dd);
        DenseKernels.CongruenceLowerTransposed(s.Factor(i), s.FactorTransposed(i), t.Covariance(j), ws.B, a, d);
        lapack.SymmetricEigenUnchecked(a, d, values, vectors: false);
        return CovarianceTermFromSpectrum(kind, eps, variant, s, i, t, j, values);
    }

    /// <summary>
    /// The covariance part of a W2 / SB / entropic cost from γ = eig(L0ᵀ Σ1 L0) (any order). Shared by the LAPACK
    /// path above and the lockstep batched path (<see cref="LockstepPairCosts"/>).
    /// </summary>
    internal static double CovarianceTermFromSpectrum(CostKind kind, double eps, SchrodingerCostVariant variant,
        GaussianFactors s, int i, GaussianFactors t, int j, ReadOnlySpan<double> values)
    {
        int d = values.Length;
        if (kind == CostKind.Wasserstein)
        {
            double nuclear = 0;
            for (int k = 0; k < d; k++)
            {
                // Round-off can leave tiny negative eigenvalues of a PSD product: clamp before the root.
                nuclear += Math.Sqrt(Math.Max(0, values[k]));
            }
            return WassersteinCovarianceTerm(s, i, t, j, nuclear);
        }
        double acc = 0;
        for (int k = 0; k < d; k++)
        {
            acc += SchrodingerSpectralTerm(Math.Max(0, values[k]), eps);
        }
        return SchrodingerTotal(kind, eps, variant, d, s.Traces[i], t.Traces[j], s.LogDeterminants[i], t.LogDeterminants[j], acc);
    }

    // ---- shared scalar pieces ----

    /// <summary>tr Σ0 + tr Σ1 − 2‖Σ0^½ Σ1^½‖_* (clamped at 0 against round-off), from the nuclear norm Σ_k √γ_k.</summary>
    internal static double WassersteinCovarianceTerm(GaussianFactors s, int i, GaussianFactors t, int j, double nuclear)
        => Math.Max(0, s.Traces[i] + t.Traces[j] - 2 * nuclear);

    /// <summary>
    /// (μ − 1) log μ ≥ 0, the surrogate's per-eigendirection weight. μ − 1 is exact for μ ∈ [½, 2] (Sterbenz) and
    /// Math.Log is accurate to about an ulp of its result, so the product has no cancellation as μ → 1 (it is exactly 0 at μ = 1).
    /// A numerically non-positive μ (Σ1 singular to working precision) is clamped to the smallest normal double.
    /// </summary>
    internal static double SurrogateWeight(double mu)
    {
        mu = Math.Max(mu, SmallestNormal);
        return (mu - 1) * Math.Log(mu);
    }

    /// <summary>−δ + ε log(δ + ε) with δ = √(4γ + ε²): the per-eigenvalue part shared by every SB/entropic cost.</summary>
    private static double SchrodingerSpectralTerm(double gamma, double eps)
    {
        double delta = Math.Sqrt(4 * gamma + eps * eps);
        return -delta + eps * Math.Log(delta + eps);
    }

    /// <summary>
    /// Assembles an SB-family covariance term from Σ_k (−δ_k + ε log(δ_k + ε)). Derivations (docs/theory.md#sb-cost, with
    /// ε g_k = ε + δ_k and ε log g_k = ε log(ε + δ_k) − ε log ε):
    /// J = tr Σ0 + tr Σ1 + Σ(−δ + ε log(δ + ε)) − ε log det Σ1 − dε log 2;
    /// reference-code variant = tr Σ0 + tr Σ1 + Σ(−δ + ε log(δ + ε)) − dε − dε log ε − ε(log det Σ0 + log det Σ1);
    /// entropic OT = tr Σ0 + tr Σ1 + Σ(−δ + ε log(δ + ε)) + dε(1 − log 2ε).
    /// </summary>
    private static double SchrodingerTotal(CostKind kind, double eps, SchrodingerCostVariant variant, int d,
        double trace0, double trace1, double logDet0, double logDet1, double spectral)
    {
        double traces = trace0 + trace1;
        if (kind == CostKind.EntropicTransport)
        {
            return traces + spectral + d * eps * (1 - Math.Log(2 * eps));
        }
        return variant == SchrodingerCostVariant.KineticEnergy
            ? traces + spectral - eps * logDet1 - d * eps * Math.Log(2)
            : traces + spectral - d * eps - d * eps * Math.Log(eps) - eps * (logDet0 + logDet1);
    }
}

using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Costs;

/// <summary>
/// Independent reference formulas for the cost/bridge tests, deliberately built from different machinery than
/// production: Jacobi eigen-decomposition (no LAPACK), symmetric square roots (sqrtm) instead of Cholesky,
/// Gauss–Jordan inverses, and Gauss–Legendre quadrature over t of the kinetic energy instead of closed forms.
/// </summary>
internal static class Reference
{
    /// <summary>Cyclic Jacobi: eigenvalues and orthonormal eigenvectors (column k of V ↔ value k) of a symmetric matrix.</summary>
    public static (double[] Values, double[] Vectors) JacobiEigen(double[] symmetric, int n)
    {
        var a = (double[])symmetric.Clone();
        var v = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            v[i * n + i] = 1;
        }
        double scale = 0;
        foreach (double x in a)
        {
            scale += x * x;
        }
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    off += a[p * n + q] * a[p * n + q];
                }
            }
            if (off <= 1e-34 * scale)
            {
                break;
            }
            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0)
                    {
                        continue;
                    }
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                    double t = theta == 0 ? 1 : Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p], akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k], aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k * n + p], vkq = v[k * n + q];
                        v[k * n + p] = c * vkp - s * vkq;
                        v[k * n + q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            w[i] = a[i * n + i];
        }
        return (w, v);
    }

    /// <summary>f(A) = V f(Λ) Vᵀ for symmetric A (Jacobi).</summary>
    public static double[] Function(double[] symmetric, int n, Func<double, double> f)
    {
        var (w, v) = JacobiEigen(symmetric, n);
        var r = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += v[i * n + k] * f(w[k]) * v[j * n + k];
                }
                r[i * n + j] = s;
            }
        }
        return r;
    }

    public static double[] Sqrtm(double[] spd, int n) => Function(spd, n, x => Math.Sqrt(Math.Max(0, x)));

    /// <summary>Gauss–Jordan inverse with partial pivoting.</summary>
    public static double[] Inverse(double[] matrix, int n)
    {
        var a = (double[])matrix.Clone();
        var inv = Identity(n);
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++)
            {
                if (Math.Abs(a[r * n + c]) > Math.Abs(a[pivot * n + c]))
                {
                    pivot = r;
                }
            }
            if (pivot != c)
            {
                for (int k = 0; k < n; k++)
                {
                    (a[c * n + k], a[pivot * n + k]) = (a[pivot * n + k], a[c * n + k]);
                    (inv[c * n + k], inv[pivot * n + k]) = (inv[pivot * n + k], inv[c * n + k]);
                }
            }
            double d = a[c * n + c];
            for (int k = 0; k < n; k++)
            {
                a[c * n + k] /= d;
                inv[c * n + k] /= d;
            }
            for (int r = 0; r < n; r++)
            {
                if (r == c)
                {
                    continue;
                }
                double f = a[r * n + c];
                if (f == 0)
                {
                    continue;
                }
                for (int k = 0; k < n; k++)
                {
                    a[r * n + k] -= f * a[c * n + k];
                    inv[r * n + k] -= f * inv[c * n + k];
                }
            }
        }
        return inv;
    }

    /// <summary>log |det A| by LU with partial pivoting.</summary>
    public static double LogAbsDeterminant(double[] matrix, int n)
    {
        var a = (double[])matrix.Clone();
        double log = 0;
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++)
            {
                if (Math.Abs(a[r * n + c]) > Math.Abs(a[pivot * n + c]))
                {
                    pivot = r;
                }
            }
            for (int k = 0; k < n; k++)
            {
                (a[c * n + k], a[pivot * n + k]) = (a[pivot * n + k], a[c * n + k]);
            }
            double d = a[c * n + c];
            log += Math.Log(Math.Abs(d));
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r * n + c] / d;
                for (int k = c; k < n; k++)
                {
                    a[r * n + k] -= f * a[c * n + k];
                }
            }
        }
        return log;
    }

    public static double[] Identity(int n)
    {
        var id = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            id[i * n + i] = 1;
        }
        return id;
    }

    public static double Trace(double[] a, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            s += a[i * n + i];
        }
        return s;
    }

    public static double[] Add(double[] a, double alpha, double[] b, double beta)
    {
        var r = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            r[i] = alpha * a[i] + beta * b[i];
        }
        return r;
    }

    public static double[] Transpose(double[] a, int n)
    {
        var r = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                r[j * n + i] = a[i * n + j];
            }
        }
        return r;
    }

    public static double SquaredDistance(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++)
        {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return s;
    }

    public static double FrobeniusNorm(double[] a) => Math.Sqrt(a.Sum(x => x * x));

    /// <summary>W2² = |Δm|² + tr Σ0 + tr Σ1 − 2 tr (Σ0^½ Σ1 Σ0^½)^½ with Jacobi sqrtm (docs/theory.md#exact-w2, the definition).</summary>
    public static double Wasserstein(double[] m0, double[] s0, double[] m1, double[] s1, int n)
    {
        var root0 = Sqrtm(s0, n);
        var inner = Multiply(Multiply(root0, s1, n, n, n), root0, n, n, n);
        Symmetrize(inner, n);
        return SquaredDistance(m0, m1) + Trace(s0, n) + Trace(s1, n) - 2 * Trace(Sqrtm(inner, n), n);
    }

    /// <summary>W2 Monge matrix T = Σ0^-½ (Σ0^½ Σ1 Σ0^½)^½ Σ0^-½ with Jacobi sqrtm (docs/theory.md#w2-geodesic).</summary>
    public static double[] Monge(double[] s0, double[] s1, int n)
    {
        var root0 = Sqrtm(s0, n);
        var invRoot0 = Function(s0, n, x => 1 / Math.Sqrt(x));
        var inner = Multiply(Multiply(root0, s1, n, n, n), root0, n, n, n);
        Symmetrize(inner, n);
        return Multiply(Multiply(invRoot0, Sqrtm(inner, n), n, n, n), invRoot0, n, n, n);
    }

    /// <summary>SB cross-covariance C = ½(Σ0^½ D Σ0^-½ − εI), D = (4 Σ0^½ Σ1 Σ0^½ + ε² I)^½ (docs/theory.md#sb-bridge), by sqrtm.</summary>
    public static double[] SchrodingerCross(double[] s0, double[] s1, int n, double eps)
    {
        var root0 = Sqrtm(s0, n);
        var invRoot0 = Function(s0, n, x => 1 / Math.Sqrt(x));
        var inner = Multiply(Multiply(root0, s1, n, n, n), root0, n, n, n);
        Symmetrize(inner, n);
        var dArg = Add(inner, 4, Identity(n), eps * eps);
        var d = Sqrtm(dArg, n);
        var c = Multiply(Multiply(root0, d, n, n, n), invRoot0, n, n, n);
        for (int i = 0; i < n * n; i++)
        {
            c[i] *= 0.5;
        }
        for (int i = 0; i < n; i++)
        {
            c[i * n + i] -= 0.5 * eps;
        }
        return c;
    }

    public static void Symmetrize(double[] a, int n)
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                a[i * n + j] = a[j * n + i] = 0.5 * (a[i * n + j] + a[j * n + i]);
            }
        }
    }

    /// <summary>Gauss–Legendre nodes and weights on [0, 1] (Newton on P_n, Golub-free).</summary>
    public static (double[] Nodes, double[] Weights) GaussLegendre(int n)
    {
        var x = new double[n];
        var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            double z = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5)), dp = 0;
            for (int it = 0; it < 100; it++)
            {
                double p0 = 1, p1 = z;
                for (int k = 2; k <= n; k++)
                {
                    double p2 = ((2 * k - 1) * z * p1 - (k - 1) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n * (z * p1 - p0) / (z * z - 1);
                double dz = p1 / dp;
                z -= dz;
                if (Math.Abs(dz) < 1e-16)
                {
                    break;
                }
            }
            x[i] = 0.5 * (1 - z);
            w[i] = 1 / ((1 - z * z) * dp * dp);
        }
        return (x, w);
    }

    /// <summary>∫₀¹ f(t) dt by composite Gauss–Legendre (panels × nodes), panels graded geometrically towards both ends.</summary>
    public static double Integrate(Func<double, double> f, int panels = 12, int nodes = 24)
    {
        var (x, w) = GaussLegendre(nodes);
        // Break points: symmetric geometric grading (smallest panel 2^-(panels/2)) so that an integrand with a pole just
        // past t = 0 or t = 1 (eigenvalue ratios far from 1: the pole sits at distance ~1/μ) stays resolved.
        var breaks = new List<double> { 0, 1 };
        double h = 0.5;
        for (int k = 0; k < panels / 2 - 1; k++)
        {
            h *= 0.5;
            breaks.Add(h);
            breaks.Add(1 - h);
        }
        breaks.Add(0.5);
        breaks.Sort();
        double sum = 0;
        for (int p = 0; p + 1 < breaks.Count; p++)
        {
            double a = breaks[p], b = breaks[p + 1];
            for (int i = 0; i < nodes; i++)
            {
                sum += (b - a) * w[i] * f(a + (b - a) * x[i]);
            }
        }
        return sum;
    }

    /// <summary>Surrogate by quadrature: |Δm|² + ¼ ∫₀¹ tr(ΔΣ Σ_t⁻¹ ΔΣ) dt with a Gauss–Jordan inverse (docs/theory.md#surrogate-cost, the integral).</summary>
    public static double SurrogateByQuadrature(double[] m0, double[] s0, double[] m1, double[] s1, int n, int panels = 12)
    {
        var delta = Add(s1, 1, s0, -1);
        double integral = Integrate(t =>
        {
            var inv = Inverse(Add(s0, 1 - t, s1, t), n);
            return Trace(Multiply(Multiply(delta, inv, n, n, n), delta, n, n, n), n);
        }, panels);
        return SquaredDistance(m0, m1) + 0.25 * integral;
    }

    /// <summary>
    /// SB kinetic energy by quadrature: ∫₀¹ |Δm|² + tr(K_t Σ_t K_tᵀ) dt with K_t = S_tᵀ Σ_t⁻¹ built from the sqrtm C (docs/theory.md#sb-cost).
    /// </summary>
    public static double SchrodingerByQuadrature(double[] m0, double[] s0, double[] m1, double[] s1, int n, double eps)
    {
        var c = SchrodingerCross(s0, s1, n, eps);
        double integral = Integrate(t =>
        {
            var (sigma, gain) = SchrodingerAt(s0, s1, c, n, eps, t, probabilityFlow: false);
            var kskt = Multiply(Multiply(gain, sigma, n, n, n), gain, n, n, n, transB: true);
            return Trace(kskt, n);
        });
        return SquaredDistance(m0, m1) + integral;
    }

    /// <summary>SB Σ_t and gain (drift S_tᵀΣ_t⁻¹ or probability flow (S_tᵀ + ½εI)Σ_t⁻¹) from a given C (docs/theory.md#sb-bridge).</summary>
    public static (double[] Sigma, double[] Gain) SchrodingerAt(double[] s0, double[] s1, double[] c, int n, double eps, double t, bool probabilityFlow)
    {
        var ct = Transpose(c, n);
        var sigma = new double[n * n];
        var st = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int ij = i * n + j;
                double id = i == j ? 1 : 0;
                sigma[ij] = (1 - t) * (1 - t) * s0[ij] + t * t * s1[ij] + t * (1 - t) * (c[ij] + ct[ij] + eps * id);
                st[ij] = t * (s1[ij] - ct[ij]) - (1 - t) * (s0[ij] - c[ij]) - eps * t * id;
            }
        }
        var stT = Transpose(st, n);
        if (probabilityFlow)
        {
            for (int i = 0; i < n; i++)
            {
                stT[i * n + i] += 0.5 * eps;
            }
        }
        return (sigma, Multiply(stT, Inverse(sigma, n), n, n, n));
    }

    /// <summary>Random SPD with eigenvalues spread over [1/√κ, √κ] times a scale, in a random orthogonal basis.</summary>
    public static double[] SpdWithCondition(int n, int seed, double condition)
    {
        var (_, q) = JacobiEigen(RandomSpd(n, seed), n);
        var lambda = new double[n];
        for (int k = 0; k < n; k++)
        {
            double f = n == 1 ? 0.5 : (double)k / (n - 1);
            lambda[k] = Math.Pow(condition, f - 0.5);
        }
        var r = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += q[i * n + k] * lambda[k] * q[j * n + k];
                }
                r[i * n + j] = s;
            }
        }
        Symmetrize(r, n);
        return r;
    }

    public static double[] RandomMean(int n, int seed, double scale = 1)
    {
        var rng = new Random(seed);
        var m = new double[n];
        for (int i = 0; i < n; i++)
        {
            m[i] = scale * Normal(rng);
        }
        return m;
    }
}

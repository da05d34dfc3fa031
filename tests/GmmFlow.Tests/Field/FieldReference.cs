namespace GmmFlow.Tests.Field;

/// <summary>
/// Random mixture-velocity test problems and an independent scalar reference: builds Σ_p = L_p L_pᵀ, factors it
/// again with its own Cholesky, forward-solves, and applies a textbook log-sum-exp. It shares no code with the kernels.
/// </summary>
internal sealed class FieldProblem
{
    public required int Dimension { get; init; }
    public required int Pairs { get; init; }
    public required double[] LogWeights { get; init; }
    public required double[] Means { get; init; }
    /// <summary>Lower-triangular Cholesky factors L_p, row-major d×d each (upper triangle zero).</summary>
    public required double[] Cholesky { get; init; }
    public required double[] Gains { get; init; }
    public required double[] Offsets { get; init; }

    public static FieldProblem Random(int d, int pairs, int seed, double meanSpread = 2.0)
    {
        var rng = new System.Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var logW = new double[pairs];
        var w = new double[pairs];
        for (int p = 0; p < pairs; p++)
        {
            w[p] = 0.1 + rng.NextDouble();
        }
        double total = w.Sum();
        for (int p = 0; p < pairs; p++)
        {
            logW[p] = Math.Log(w[p] / total);
        }
        var means = new double[pairs * d];
        var chol = new double[pairs * d * d];
        var gains = new double[pairs * d * d];
        var offsets = new double[pairs * d];
        for (int p = 0; p < pairs; p++)
        {
            for (int i = 0; i < d; i++)
            {
                means[p * d + i] = meanSpread * Normal();
                offsets[p * d + i] = Normal();
                for (int j = 0; j < d; j++)
                {
                    gains[(p * d + i) * d + j] = 0.5 * Normal();
                    if (j < i)
                    {
                        chol[(p * d + i) * d + j] = 0.3 * Normal();
                    }
                    else if (j == i)
                    {
                        chol[(p * d + i) * d + j] = 0.5 + rng.NextDouble();
                    }
                }
            }
        }
        return new FieldProblem
        {
            Dimension = d, Pairs = pairs, LogWeights = logW, Means = means, Cholesky = chol, Gains = gains, Offsets = offsets,
        };
    }

    public GmmFlow.Simd.VelocityFrame BuildFrame()
        => GmmFlow.Simd.VelocityFrame.Create(Dimension, LogWeights, Means, Cholesky, GmmFlow.Simd.TriangularFactor.Cholesky, Gains, Offsets);

    /// <summary>Inverse Cholesky factors W_p = L_p⁻¹, computed by solving L W = I column by column.</summary>
    public double[] InverseCholesky()
    {
        int d = Dimension;
        var result = new double[Pairs * d * d];
        for (int p = 0; p < Pairs; p++)
        {
            for (int col = 0; col < d; col++)
            {
                var e = new double[d];
                e[col] = 1;
                double[] sol = ForwardSolve(Cholesky.AsSpan(p * d * d, d * d), e, d);
                for (int i = 0; i < d; i++)
                {
                    result[(p * d + i) * d + col] = sol[i];
                }
            }
        }
        return result;
    }

    /// <summary>Log-density log N(x; m_p, Σ_p) + log λ_p for every pair at one point.</summary>
    public double[] PairLogTerms(ReadOnlySpan<double> x)
    {
        int d = Dimension;
        var terms = new double[Pairs];
        for (int p = 0; p < Pairs; p++)
        {
            // Σ = L Lᵀ, then its own Cholesky factor (so the reference does not reuse the kernel's input factor).
            ReadOnlySpan<double> l = Cholesky.AsSpan(p * d * d, d * d);
            var sigma = new double[d * d];
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < d; j++)
                {
                    double s = 0;
                    for (int k = 0; k < d; k++)
                    {
                        s += l[i * d + k] * l[j * d + k];
                    }
                    sigma[i * d + j] = s;
                }
            }
            double[] c = CholeskyOf(sigma, d);
            var diff = new double[d];
            for (int i = 0; i < d; i++)
            {
                diff[i] = x[i] - Means[p * d + i];
            }
            double[] z = ForwardSolve(c, diff, d);
            double q = 0, logDet = 0;
            for (int i = 0; i < d; i++)
            {
                q += z[i] * z[i];
                logDet += 2 * Math.Log(c[i * d + i]);
            }
            terms[p] = LogWeights[p] - 0.5 * q - 0.5 * logDet - 0.5 * d * Math.Log(2 * Math.PI);
        }
        return terms;
    }

    /// <summary>u_p(x) = b_p + K_p (x − m_p).</summary>
    public double[] Drift(int p, ReadOnlySpan<double> x)
    {
        int d = Dimension;
        var u = new double[d];
        for (int i = 0; i < d; i++)
        {
            double s = Offsets[p * d + i];
            for (int j = 0; j < d; j++)
            {
                s += Gains[(p * d + i) * d + j] * (x[j] - Means[p * d + j]);
            }
            u[i] = s;
        }
        return u;
    }

    /// <summary>Reference v(x) and log Σ_p λ_p N(x; m_p, Σ_p), by log-sum-exp.</summary>
    public (double[] Velocity, double LogDensity) Reference(ReadOnlySpan<double> x)
    {
        int d = Dimension;
        double[] terms = PairLogTerms(x);
        double max = terms.Max();
        double sum = terms.Sum(t => Math.Exp(t - max));
        var v = new double[d];
        for (int p = 0; p < Pairs; p++)
        {
            double weight = Math.Exp(terms[p] - max) / sum;
            double[] u = Drift(p, x);
            for (int i = 0; i < d; i++)
            {
                v[i] += weight * u[i];
            }
        }
        return (v, max + Math.Log(sum));
    }

    public double[] RandomPoints(int n, int seed, double scale = 2.5)
    {
        var rng = new System.Random(seed);
        var x = new double[n * Dimension];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = scale * (2 * rng.NextDouble() - 1);
        }
        return x;
    }

    private static double[] CholeskyOf(double[] a, int d)
    {
        var l = new double[d * d];
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = a[i * d + j];
                for (int k = 0; k < j; k++)
                {
                    s -= l[i * d + k] * l[j * d + k];
                }
                l[i * d + j] = i == j ? Math.Sqrt(s) : s / l[j * d + j];
            }
        }
        return l;
    }

    private static double[] ForwardSolve(ReadOnlySpan<double> l, double[] rhs, int d)
    {
        var z = new double[d];
        for (int i = 0; i < d; i++)
        {
            double s = rhs[i];
            for (int k = 0; k < i; k++)
            {
                s -= l[i * d + k] * z[k];
            }
            z[i] = s / l[i * d + i];
        }
        return z;
    }
}

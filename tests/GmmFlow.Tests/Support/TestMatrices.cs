namespace GmmFlow.Tests.Support;

/// <summary>Independent, naive reference linear algebra and random matrices for tests (no LAPACK).</summary>
internal static class TestMatrices
{
    /// <summary>
    /// Asserts that (values, vectors) decompose the symmetric a: |V Λ Vᵀ − A| ≤ reconstruction and |VᵀV − I| ≤
    /// orthogonality entrywise (eigenvectors in the columns of the row-major n×n <paramref name="vectors"/>).
    /// </summary>
    public static void AssertEigenDecomposition(double[] a, int n, double[] values, double[] vectors, double reconstruction,
        double orthogonality, string label = "")
    {
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double rec = 0, orth = 0;
                for (int k = 0; k < n; k++)
                {
                    rec += vectors[i * n + k] * values[k] * vectors[j * n + k];
                    orth += vectors[k * n + i] * vectors[k * n + j];
                }
                Xunit.Assert.True(Math.Abs(rec - a[i * n + j]) <= reconstruction, $"{label} V Λ Vᵀ ({i}, {j}): {rec} vs {a[i * n + j]}");
                Xunit.Assert.True(Math.Abs(orth - (i == j ? 1 : 0)) <= orthogonality, $"{label} VᵀV ({i}, {j}): {orth}");
            }
        }
    }

    /// <summary>Random SPD matrix B Bᵀ / n + shift·I with entries of B standard normal (row-major n×n).</summary>
    public static double[] RandomSpd(int n, int seed, double shift = 0.1)
    {
        var rng = new Random(seed);
        var b = new double[n * n];
        for (int i = 0; i < b.Length; i++)
        {
            b[i] = Normal(rng);
        }
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int k = 0; k < n; k++)
                {
                    s += b[i * n + k] * b[j * n + k];
                }
                s /= n;
                if (i == j)
                {
                    s += shift;
                }
                a[i * n + j] = a[j * n + i] = s;
            }
        }
        return a;
    }

    /// <summary>Random general matrix with standard normal entries (row-major rows×cols).</summary>
    public static double[] RandomGeneral(int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var a = new double[rows * cols];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = Normal(rng);
        }
        return a;
    }

    public static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Naive row-major product C = op(A) op(B).</summary>
    public static double[] Multiply(double[] a, double[] b, int m, int k, int n, bool transA = false, bool transB = false)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = transA ? a[p * m + i] : a[i * k + p];
                    double y = transB ? b[j * k + p] : b[p * n + j];
                    s += x * y;
                }
                c[i * n + j] = s;
            }
        }
        return c;
    }

    public static double MaxAbsDiff(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double m = 0;
        for (int i = 0; i < a.Length; i++)
        {
            m = Math.Max(m, Math.Abs(a[i] - b[i]));
        }
        return m;
    }

    public static double MaxAbs(ReadOnlySpan<double> a)
    {
        double m = 0;
        foreach (double x in a)
        {
            m = Math.Max(m, Math.Abs(x));
        }
        return m;
    }

    /// <summary>Jacobi eigenvalue iteration (independent of LAPACK): eigenvalues ascending of a symmetric matrix.</summary>
    public static double[] JacobiEigenvalues(double[] symmetric, int n)
    {
        var a = (double[])symmetric.Clone();
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
            if (off < 1e-30)
            {
                break;
            }
            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (Math.Abs(apq) < 1e-300)
                    {
                        continue;
                    }
                    double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }
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
                }
            }
        }
        var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            w[i] = a[i * n + i];
        }
        Array.Sort(w);
        return w;
    }
}

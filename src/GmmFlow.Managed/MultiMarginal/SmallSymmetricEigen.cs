using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow;

/// <summary>
/// Eigendecomposition of a small dense symmetric matrix (Householder tridiagonalisation, then implicit QL with
/// Wilkinson shifts, both accumulating the orthogonal factor), allocation-free on caller-owned spans.
/// </summary>
/// <remarks>
/// The momentum tuple solver diagonalises a 2n×2n matrix several times per objective evaluation and millions of times
/// per tuple-cost tensor; at this size a native LAPACK call costs more in call overhead than the arithmetic, and a
/// managed routine keeps every worker thread independent. This is the classical EISPACK tred2/tql2 pair.
/// </remarks>
internal static class SmallSymmetricEigen
{
    private const int MaxSweepsPerValue = 60;

    /// <summary>
    /// Decomposes the symmetric n×n row-major <paramref name="a"/> (only read) as V diag(values) Vᵀ; the eigenvectors are
    /// the columns of <paramref name="vectors"/> (n×n row-major). Values are not sorted.
    /// </summary>
    /// <returns>False if the QL iteration did not converge (non-finite input).</returns>
    public static bool Decompose(ReadOnlySpan<double> a, int n, Span<double> values, Span<double> vectors, Span<double> offDiagonal)
    {
        a[..(n * n)].CopyTo(vectors);
        Tridiagonalize(vectors, values, offDiagonal, n);
        // QL rotates pairs of eigenvector columns: on the transpose they are contiguous rows (SIMD).
        TransposeInPlace(vectors, n);
        bool converged = QlImplicit(values, offDiagonal, vectors, n);
        TransposeInPlace(vectors, n);
        return converged;
    }

    private static void TransposeInPlace(Span<double> v, int n)
    {
        for (int i = 1; i < n; i++)
        {
            for (int j = 0; j < i; j++)
            {
                (v[i * n + j], v[j * n + i]) = (v[j * n + i], v[i * n + j]);
            }
        }
    }

    /// <summary>x ← c·x − s·y, y ← s·x + c·y on two rows of length n (a Givens rotation of two eigenvectors).</summary>
    private static void Rotate(ref double x, ref double y, double c, double s, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vc = Vector256.Create(c);
            var vs = Vector256.Create(s);
            for (; i <= n - Vector256<double>.Count; i += Vector256<double>.Count)
            {
                var xv = Vector256.LoadUnsafe(ref x, (nuint)i);
                var yv = Vector256.LoadUnsafe(ref y, (nuint)i);
                (vc * xv - vs * yv).StoreUnsafe(ref x, (nuint)i);
                (vs * xv + vc * yv).StoreUnsafe(ref y, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            double xi = Unsafe.Add(ref x, i), yi = Unsafe.Add(ref y, i);
            Unsafe.Add(ref x, i) = c * xi - s * yi;
            Unsafe.Add(ref y, i) = s * xi + c * yi;
        }
    }

    private static void Tridiagonalize(Span<double> v, Span<double> d, Span<double> e, int n)
    {
        for (int j = 0; j < n; j++)
        {
            d[j] = v[(n - 1) * n + j];
        }
        for (int i = n - 1; i > 0; i--)
        {
            double scale = 0.0, h = 0.0;
            for (int k = 0; k < i; k++)
            {
                scale += Math.Abs(d[k]);
            }
            if (scale == 0.0)
            {
                e[i] = d[i - 1];
                for (int j = 0; j < i; j++)
                {
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0.0;
                    v[j * n + i] = 0.0;
                }
            }
            else
            {
                for (int k = 0; k < i; k++)
                {
                    d[k] /= scale;
                    h += d[k] * d[k];
                }
                double f = d[i - 1];
                double g = Math.Sqrt(h);
                if (f > 0)
                {
                    g = -g;
                }
                e[i] = scale * g;
                h -= f * g;
                d[i - 1] = f - g;
                for (int j = 0; j < i; j++)
                {
                    e[j] = 0.0;
                }
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    v[j * n + i] = f;
                    g = e[j] + v[j * n + j] * f;
                    for (int k = j + 1; k <= i - 1; k++)
                    {
                        g += v[k * n + j] * d[k];
                        e[k] += v[k * n + j] * f;
                    }
                    e[j] = g;
                }
                f = 0.0;
                for (int j = 0; j < i; j++)
                {
                    e[j] /= h;
                    f += e[j] * d[j];
                }
                double hh = f / (h + h);
                for (int j = 0; j < i; j++)
                {
                    e[j] -= hh * d[j];
                }
                for (int j = 0; j < i; j++)
                {
                    f = d[j];
                    g = e[j];
                    for (int k = j; k <= i - 1; k++)
                    {
                        v[k * n + j] -= f * e[k] + g * d[k];
                    }
                    d[j] = v[(i - 1) * n + j];
                    v[i * n + j] = 0.0;
                }
            }
            d[i] = h;
        }

        // Accumulate the reflectors into V.
        for (int i = 0; i < n - 1; i++)
        {
            v[(n - 1) * n + i] = v[i * n + i];
            v[i * n + i] = 1.0;
            double h = d[i + 1];
            if (h != 0.0)
            {
                for (int k = 0; k <= i; k++)
                {
                    d[k] = v[k * n + i + 1] / h;
                }
                for (int j = 0; j <= i; j++)
                {
                    double g = 0.0;
                    for (int k = 0; k <= i; k++)
                    {
                        g += v[k * n + i + 1] * v[k * n + j];
                    }
                    for (int k = 0; k <= i; k++)
                    {
                        v[k * n + j] -= g * d[k];
                    }
                }
            }
            for (int k = 0; k <= i; k++)
            {
                v[k * n + i + 1] = 0.0;
            }
        }
        for (int j = 0; j < n; j++)
        {
            d[j] = v[(n - 1) * n + j];
            v[(n - 1) * n + j] = 0.0;
        }
        v[(n - 1) * n + n - 1] = 1.0;
        e[0] = 0.0;
    }

    private static bool QlImplicit(Span<double> d, Span<double> e, Span<double> v, int n)
    {
        for (int i = 1; i < n; i++)
        {
            e[i - 1] = e[i];
        }
        e[n - 1] = 0.0;
        double f = 0.0, tst1 = 0.0;
        const double eps = 2.220446049250313e-16;
        for (int l = 0; l < n; l++)
        {
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && Math.Abs(e[m]) > eps * tst1)
            {
                m++;
            }
            if (m > l)
            {
                int sweeps = 0;
                do
                {
                    if (++sweeps > MaxSweepsPerValue)
                    {
                        return false;
                    }
                    double g = d[l];
                    double p = (d[l + 1] - g) / (2.0 * e[l]);
                    double r = double.Hypot(p, 1.0);
                    if (p < 0)
                    {
                        r = -r;
                    }
                    d[l] = e[l] / (p + r);
                    d[l + 1] = e[l] * (p + r);
                    double dl1 = d[l + 1];
                    double h = g - d[l];
                    for (int i = l + 2; i < n; i++)
                    {
                        d[i] -= h;
                    }
                    f += h;

                    p = d[m];
                    double c = 1.0, c2 = 1.0, c3 = 1.0;
                    double el1 = e[l + 1];
                    double s = 0.0, s2 = 0.0;
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        h = c * p;
                        r = double.Hypot(p, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = p / r;
                        p = c * d[i] - s * g;
                        d[i + 1] = h + s * (c * g + s * d[i]);
                        Rotate(ref v[i * n], ref v[(i + 1) * n], c, s, n);
                    }
                    p = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * p;
                    d[l] = c * p;
                }
                while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0.0;
        }
        for (int i = 0; i < n; i++)
        {
            if (!double.IsFinite(d[i]))
            {
                return false;
            }
        }
        return true;
    }
}

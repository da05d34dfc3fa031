using GmmFlow.Native;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.SchrodingerBridge;

/// <summary>
/// The chunked, wide-GEMM evaluation of the LightSB objective against a per-sample reference written from the formulas of
/// docs/theory/exact-sb.md#gradients with plain loops and triangular substitutions (no BLAS).
/// </summary>
public class LightBridgeObjectiveKernelTests
{
    [Theory]
    [MemberData(nameof(Cases))]
    public void Evaluation_equals_the_per_sample_formulas(LapackProviderKind provider, int d, double noise)
    {
        // d = 70 runs the blocked lower-triangle moments (blocks of 32, a partial last block); d = 5 the single GEMM.
        // 600 and 700 rows span two chunks each, the second partial. σ = 0.3 makes most weights negligible (sparse sums).
        const int k = 3, n0 = 600, n1 = 700;
        var lapack = Providers.Get(provider);
        var rng = new CounterRng(23);
        var x = new double[n0 * d];
        var y = new double[n1 * d];
        rng.FillNormal(0, 0, x);
        rng.FillNormal(1, 0, y);
        var logAlpha = new double[k];
        var r = new double[k * d];
        var l = new double[k * d * d];
        for (int c = 0; c < k; c++)
        {
            logAlpha[c] = rng.Uniform(2, (ulong)c) - 0.5;
            for (int i = 0; i < d; i++)
            {
                r[c * d + i] = rng.Uniform(3, (ulong)(c * d + i)) - 0.5;
                for (int j = 0; j < i; j++)
                {
                    l[c * d * d + i * d + j] = 0.3 * (rng.Uniform(4, (ulong)(c * d * d + i * d + j)) - 0.5) / Math.Sqrt(d);
                }
                l[c * d * d + i * d + i] = 0.5 + 0.4 * rng.Uniform(5, (ulong)(c * d + i));
            }
        }
        var objective = new LightBridgeObjective(lapack, x, n0, y, n1, d, k, noise, diagonal: false);
        var theta = new double[objective.ParameterCount()];
        LightBridgeObjective.Pack(logAlpha, r, l, d, k, false, theta);
        var gradient = new double[theta.Length];
        double value = objective.Evaluate(theta, gradient);

        var (refValue, refGradient) = Reference(x, n0, y, n1, d, k, noise * noise, logAlpha, r, l);
        Assert.True(Math.Abs(value - refValue) <= 1e-12 * Math.Max(1, Math.Abs(refValue)), $"value {value} vs reference {refValue}");
        double scale = 1e-12 * Math.Max(1, refGradient.Max(Math.Abs));
        for (int i = 0; i < theta.Length; i++)
        {
            Assert.True(Math.Abs(gradient[i] - refGradient[i]) <= scale, $"parameter {i}: {gradient[i]} vs reference {refGradient[i]}");
        }
        // Some source and some target weights are strictly between 0 and 1, so the comparison covers mixed rows too.
        Assert.True(MixedRows(x, n0, d, k, noise * noise, logAlpha, r, l) > 0);
    }

    public static TheoryData<LapackProviderKind, int, double> Cases()
    {
        var data = new TheoryData<LapackProviderKind, int, double>();
        foreach (var lapack in Lapack.Available())
        {
            LapackProviderKind kind = lapack.Kind;
            data.Add(kind, 5, 0.9);
            data.Add(kind, 70, 0.3);
            data.Add(kind, 70, 3.0);
        }
        return data;
    }

    [Theory]
    [InlineData(5, 9)]
    [InlineData(64, 300)]
    [InlineData(100, 37)]
    public void Lower_product_fills_the_lower_triangle_of_the_Gram_product(int d, int m)
    {
        var rng = new CounterRng(31);
        var a = new double[m * d];
        var b = new double[m * d];
        rng.FillNormal(0, 0, a);
        rng.FillNormal(1, 0, b);
        var c = new double[d * d];
        LightBridgeObjective.LowerProduct(Lapack.Default, d, m, a, b, c);
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int t = 0; t < m; t++)
                {
                    s += a[t * d + i] * b[t * d + j];
                }
                Assert.True(Math.Abs(c[i * d + j] - s) <= 1e-12 * (1 + Math.Abs(s)), $"({i}, {j}): {c[i * d + j]} vs {s}");
            }
        }
    }

    /// <summary>Value and gradient in θ = (log α, r, packed L) from per-sample loops.</summary>
    private static (double Value, double[] Gradient) Reference(double[] x, int n0, double[] y, int n1, int d, int k, double eps,
        double[] logAlpha, double[] r, double[] l)
    {
        int dd = d * d;
        var gAlpha = new double[k];
        var gR = new double[k * d];
        var gL = new double[k * dd];
        // A_k = L_k⁻¹ by forward substitution on the identity's columns.
        var a = new double[k * dd];
        for (int c = 0; c < k; c++)
        {
            for (int col = 0; col < d; col++)
            {
                for (int i = 0; i < d; i++)
                {
                    double s = i == col ? 1 : 0;
                    for (int j = 0; j < i; j++)
                    {
                        s -= l[c * dd + i * d + j] * a[c * dd + j * d + col];
                    }
                    a[c * dd + i * d + col] = s / l[c * dd + i * d + i];
                }
            }
        }
        double value = 0;
        var logits = new double[k];
        var u = new double[k * d];
        for (int p = 0; p < n0; p++)
        {
            ReadOnlySpan<double> xi = x.AsSpan(p * d, d);
            SourceLogits(xi, d, k, eps, logAlpha, r, l, logits, u);
            value += LogSumExpToWeights(logits) / n0;
            for (int c = 0; c < k; c++)
            {
                double w = logits[c] / n0;
                gAlpha[c] += w;
                for (int i = 0; i < d; i++)
                {
                    gR[c * d + i] += w * xi[i] / eps;
                    for (int j = 0; j < d; j++)
                    {
                        gL[c * dd + i * d + j] += w * xi[i] * u[c * d + j] / eps;
                    }
                }
            }
        }
        var z = new double[k * d];
        var az = new double[k * d];
        for (int p = 0; p < n1; p++)
        {
            ReadOnlySpan<double> yi = y.AsSpan(p * d, d);
            for (int c = 0; c < k; c++)
            {
                double q = 0, logDet = 0;
                for (int i = 0; i < d; i++)
                {
                    double s = 0;
                    for (int j = 0; j <= i; j++)
                    {
                        s += a[c * dd + i * d + j] * (yi[j] - r[c * d + j]);
                    }
                    z[c * d + i] = s;
                    q += s * s;
                    logDet += Math.Log(l[c * dd + i * d + i]);
                }
                logits[c] = logAlpha[c] - 0.5 * d * Math.Log(2 * Math.PI * eps) - logDet - 0.5 * q / eps;
            }
            value -= LogSumExpToWeights(logits) / n1;
            for (int c = 0; c < k; c++)
            {
                double g = logits[c] / n1;
                gAlpha[c] -= g;
                for (int i = 0; i < d; i++)
                {
                    double s = 0;
                    for (int m = i; m < d; m++)
                    {
                        s += a[c * dd + m * d + i] * z[c * d + m];
                    }
                    az[c * d + i] = s;
                }
                for (int i = 0; i < d; i++)
                {
                    gR[c * d + i] -= g * az[c * d + i] / eps;
                    for (int j = 0; j < d; j++)
                    {
                        // −γ Aᵀ(z zᵀ/ε − I): (Aᵀz)_i z_j/ε − A[j, i].
                        gL[c * dd + i * d + j] -= g * (az[c * d + i] * z[c * d + j] / eps - a[c * dd + j * d + i]);
                    }
                }
            }
        }
        var gradient = new double[LightBridgeObjective.ParameterCount(d, k, false)];
        gAlpha.CopyTo(gradient, 0);
        gR.CopyTo(gradient, k);
        int pos = k + k * d;
        for (int c = 0; c < k; c++)
        {
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    gradient[pos++] = gL[c * dd + i * d + j];
                }
                gradient[pos++] = gL[c * dd + i * d + i] * l[c * dd + i * d + i];
            }
        }
        return (value, gradient);
    }

    /// <summary>log α_c + (⟨x, r_c⟩ + ½|L_cᵀx|²)/ε per component into <paramref name="logits"/>, L_cᵀx into <paramref name="u"/>.</summary>
    private static void SourceLogits(ReadOnlySpan<double> xi, int d, int k, double eps, double[] logAlpha, double[] r, double[] l,
        double[] logits, double[] u)
    {
        int dd = d * d;
        for (int c = 0; c < k; c++)
        {
            double lin = 0, q = 0;
            for (int j = 0; j < d; j++)
            {
                lin += xi[j] * r[c * d + j];
                double t = 0;
                for (int m = j; m < d; m++)
                {
                    t += xi[m] * l[c * dd + m * d + j];
                }
                u[c * d + j] = t;
                q += t * t;
            }
            logits[c] = logAlpha[c] + (lin + 0.5 * q) / eps;
        }
    }

    /// <summary>Replaces the logits by their softmax and returns their log-sum-exp.</summary>
    private static double LogSumExpToWeights(double[] logits)
    {
        double max = logits.Max(), sum = 0;
        for (int c = 0; c < logits.Length; c++)
        {
            logits[c] = Math.Exp(logits[c] - max);
            sum += logits[c];
        }
        for (int c = 0; c < logits.Length; c++)
        {
            logits[c] /= sum;
        }
        return max + Math.Log(sum);
    }

    /// <summary>Source rows whose largest weight is below 0.99.</summary>
    private static int MixedRows(double[] x, int n0, int d, int k, double eps, double[] logAlpha, double[] r, double[] l)
    {
        int count = 0;
        var logits = new double[k];
        var u = new double[k * d];
        for (int p = 0; p < n0; p++)
        {
            SourceLogits(x.AsSpan(p * d, d), d, k, eps, logAlpha, r, l, logits, u);
            LogSumExpToWeights(logits);
            count += logits.Max() < 0.99 ? 1 : 0;
        }
        return count;
    }
}

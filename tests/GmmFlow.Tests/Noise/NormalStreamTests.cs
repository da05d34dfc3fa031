namespace GmmFlow.Tests.Noise;

/// <summary>
/// The counter-based standard normals (<see cref="CounterRng.FillNormal"/>, docs/theory.md#gaussian-noise): the values
/// against a scalar Box–Muller written from the stream's definition (SplitMix64 bits, the block layout, Math.Log and
/// Math.SinCos), the splitting and single-pair contracts, and the distribution on 10⁶ draws (moments, Kolmogorov–Smirnov
/// and Anderson–Darling against Φ, the pairs' radius and angle, correlations across slots, counters and streams).
/// </summary>
public class NormalStreamTests
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>SplitMix64's finaliser (Steele, Lea &amp; Flood), from its published constants.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The pair of counter c by the definition, in scalar double arithmetic with the BCL's log, sqrt and sin/cos.</summary>
    private static (double Cos, double Sin) ReferencePair(CounterRng rng, ulong stream, ulong counter)
    {
        ulong bits = rng.NextBits(stream, counter), bits2 = Mix(bits ^ Golden);
        double u1 = ((bits >> 12) + 0.5) / (1UL << 52), u2 = (bits2 >> 12) / (double)(1UL << 52);
        double r = Math.Sqrt(-2 * Math.Log(u1));
        (double s, double c) = Math.SinCos(2 * Math.PI * u2);
        return (r * c, r * s);
    }

    [Fact]
    public void Values_follow_the_block_layout_of_the_definition()
    {
        var rng = new CounterRng(20240607);
        foreach (ulong stream in new ulong[] { 0, 1, 977, ulong.MaxValue - 3 })
        {
            foreach (ulong first in new ulong[] { 0, 5, 1UL << 40 })
            {
                for (int n = 1; n <= 53; n++)
                {
                    var x = new double[n];
                    rng.FillNormal(stream, first, x);
                    for (int block = 0; block * 16 < n; block++)
                    {
                        int r = Math.Min(16, n - block * 16), half = (r + 1) / 2;
                        for (int m = 0; m < r; m++)
                        {
                            ulong counter = first + (ulong)(block * 8 + (m < half ? m : m - half));
                            (double c, double s) = ReferencePair(rng, stream, counter);
                            double expected = m < half ? c : s;
                            // The reference rounds 2πu (≤ 4.5e-16 absolute), the vector path reduces u exactly: ≤ r·1e-15 apart.
                            double error = Math.Abs(x[block * 16 + m] - expected);
                            Assert.True(error <= 1e-14, $"stream {stream}, first {first}, n {n}, slot {block * 16 + m}: {x[block * 16 + m]} vs {expected}");
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Fills_split_at_blocks_equal_the_whole_and_a_pair_equals_a_fill_of_two()
    {
        var rng = new CounterRng(3);
        var whole = new double[80];
        rng.FillNormal(11, 100, whole);
        var head = new double[32];
        var rest = new double[48];
        rng.FillNormal(11, 100, head);
        rng.FillNormal(11, 116, rest); // 32 values used counters 100..115
        Assert.Equal(whole, head.Concat(rest).ToArray());

        var two = new double[2];
        for (ulong c = 0; c < 20; c++)
        {
            rng.FillNormal(4, c, two);
            Assert.Equal((two[0], two[1]), rng.NormalPair(4, c));
        }
        // n values use exactly ⌈n/2⌉ counters: the value in the last slot of a 13-value fill comes from counter first + 6.
        var odd = new double[13];
        rng.FillNormal(9, 40, odd);
        Assert.Equal(rng.NormalPair(9, 46).Item1, odd[6]);
        Assert.Equal(rng.NormalPair(9, 45).Item2, odd[12]);
    }

    /// <summary>10⁶ draws shaped like an Euler–Maruyama step: 2 000 streams (particles) × 500 values (coordinates).</summary>
    private static double[] Draws(ulong seed, ulong firstCounter = 0)
    {
        const int streams = 2_000, d = 500;
        var rng = new CounterRng(seed);
        var x = new double[streams * d];
        for (int i = 0; i < streams; i++)
        {
            rng.FillNormal((ulong)i, firstCounter, x.AsSpan(i * d, d));
        }
        return x;
    }

    [Fact]
    public void A_million_draws_have_the_standard_normal_moments()
    {
        double[] x = Draws(17);
        int n = x.Length;
        double m1 = 0, m2 = 0, m3 = 0, m4 = 0, max = 0;
        foreach (double v in x)
        {
            double v2 = v * v;
            m1 += v;
            m2 += v2;
            m3 += v2 * v;
            m4 += v2 * v2;
            max = Math.Max(max, Math.Abs(v));
        }
        m1 /= n;
        m2 /= n;
        m3 /= n;
        m4 /= n;
        // Standard errors of the sample moments of N(0, 1): √(1/n), √(2/n), √(15/n), √(96/n); 5 of them.
        Assert.True(Math.Abs(m1) < 5 * Math.Sqrt(1.0 / n), $"mean {m1}");
        Assert.True(Math.Abs(m2 - 1) < 5 * Math.Sqrt(2.0 / n), $"second moment {m2}");
        Assert.True(Math.Abs(m3) < 5 * Math.Sqrt(15.0 / n), $"third moment {m3}");
        Assert.True(Math.Abs(m4 - 3) < 5 * Math.Sqrt(96.0 / n), $"fourth moment {m4}");
        // The largest of 10⁶ |z| is about 4.9; beyond 8.6 is impossible (u1 ≥ 2⁻⁵³).
        Assert.InRange(max, 4.0, 6.5);
    }

    [Fact]
    public void A_million_draws_pass_Kolmogorov_Smirnov_and_Anderson_Darling_against_Phi()
    {
        double[] x = Draws(29);
        Array.Sort(x);
        int n = x.Length;
        double ks = 0, ad = 0;
        for (int i = 0; i < n; i++)
        {
            double lower = Phi(x[i]);
            ks = Math.Max(ks, Math.Max((i + 1.0) / n - lower, lower - (double)i / n));
            ad += (2 * i + 1) * (Math.Log(lower) + Math.Log(UpperPhi(x[n - 1 - i])));
        }
        ad = -n - ad / n;
        // 1 % critical values: KS √n·D = 1.628, Anderson–Darling (fully specified F) A² = 3.857.
        Assert.True(Math.Sqrt(n) * ks < 1.628, $"KS √n·D = {Math.Sqrt(n) * ks}");
        Assert.True(ad < 3.857, $"A² = {ad}");
    }

    [Fact]
    public void Box_Muller_pairs_have_exponential_radius_and_uniform_angle()
    {
        // The cosine and sine normals of one counter sit 8 slots apart in a full block.
        double[] x = Draws(31);
        int pairs = x.Length / 2;
        var r2 = new double[pairs];
        var angle = new double[pairs];
        int k = 0;
        for (int row = 0; row < x.Length / 500; row++)
        {
            for (int block = row * 500; block + 16 <= (row + 1) * 500; block += 16) // a row's last, shorter block has another layout
            {
                for (int lane = 0; lane < 8; lane++)
                {
                    double c = x[block + lane], s = x[block + 8 + lane];
                    r2[k] = c * c + s * s;
                    angle[k] = (Math.Atan2(s, c) + Math.PI) / (2 * Math.PI);
                    k++;
                }
            }
        }
        Array.Resize(ref r2, k);
        Array.Resize(ref angle, k);
        // r² ~ χ²₂: F(r²) = 1 − e^(−r²/2); the angle is uniform on [0, 1).
        Assert.True(KolmogorovSmirnov(r2, v => -double.ExpM1(-v / 2)) < 1.628, "radius");
        Assert.True(KolmogorovSmirnov(angle, v => v) < 1.628, "angle");
    }

    [Fact]
    public void Slots_counters_and_streams_are_uncorrelated()
    {
        const int streams = 2_000, d = 512;
        var rng = new CounterRng(41);
        var step0 = new double[streams * d];
        var step1 = new double[streams * d];
        for (int i = 0; i < streams; i++)
        {
            rng.FillNormal((ulong)i, 0, step0.AsSpan(i * d, d));
            rng.FillNormal((ulong)i, (ulong)d / 2, step1.AsSpan(i * d, d)); // the next Euler–Maruyama step's counters
        }
        double bound = 5 / Math.Sqrt(streams * d / 2.0);
        // Neighbouring slots, the cosine/sine partner (8 apart), the next block (16 apart).
        foreach (int lag in new[] { 1, 7, 8, 9, 16 })
        {
            double r = Correlation(step0, step0, 0, lag, step0.Length - lag);
            Assert.True(Math.Abs(r) < bound, $"lag {lag}: {r}");
        }
        Assert.True(Math.Abs(Correlation(step0, step1, 0, 0, step0.Length)) < bound, "consecutive steps");
        Assert.True(Math.Abs(Correlation(step0, step0, 0, d, step0.Length - d)) < bound, "neighbouring streams");
        // Each of the 16 slots of a block has mean 0 and variance 1 (no lane is biased).
        for (int slot = 0; slot < 16; slot++)
        {
            double sum = 0, sumSq = 0;
            int count = 0;
            for (int i = slot; i < step0.Length; i += 16)
            {
                sum += step0[i];
                sumSq += step0[i] * step0[i];
                count++;
            }
            Assert.True(Math.Abs(sum / count) < 5 / Math.Sqrt(count), $"slot {slot} mean");
            Assert.True(Math.Abs(sumSq / count - 1) < 5 * Math.Sqrt(2.0 / count), $"slot {slot} variance");
        }
        // Different seeds give unrelated streams.
        double[] other = Draws(42);
        Assert.True(Math.Abs(Correlation(Draws(41), other, 0, 0, other.Length)) < 5 / Math.Sqrt(other.Length), "seeds");
    }

    private static double Correlation(double[] a, double[] b, int offsetA, int offsetB, int count)
    {
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < count; i++)
        {
            double x = a[offsetA + i], y = b[offsetB + i];
            sab += x * y;
            saa += x * x;
            sbb += y * y;
        }
        return sab / Math.Sqrt(saa * sbb);
    }

    /// <summary>√n · sup |F_n − F| of the values (sorted here).</summary>
    private static double KolmogorovSmirnov(double[] values, Func<double, double> cdf)
    {
        Array.Sort(values);
        int n = values.Length;
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = cdf(values[i]);
            d = Math.Max(d, Math.Max((i + 1.0) / n - f, f - (double)i / n));
        }
        return Math.Sqrt(n) * d;
    }

    private static double Phi(double x) => 0.5 * Erfc(-x / Math.Sqrt(2));

    private static double UpperPhi(double x) => 0.5 * Erfc(x / Math.Sqrt(2));

    /// <summary>
    /// erfc to about 1e-13 relative: 1 − erf by its Maclaurin series for |z| &lt; 2, the Laplace continued fraction
    /// e^(−z²)/(√π (z + ½/(z + 1/(z + 3/2/(z + …))))) beyond (both textbook, Abramowitz &amp; Stegun 7.1.5 and 7.1.14).
    /// </summary>
    private static double Erfc(double z)
    {
        if (z < 0)
        {
            return 2 - Erfc(-z);
        }
        if (z < 2)
        {
            double term = z, sum = z, z2 = z * z;
            for (int k = 1; k < 60; k++)
            {
                term *= -z2 / k;
                double add = term / (2 * k + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        double fraction = z;
        for (int k = 120; k >= 1; k--)
        {
            fraction = z + k / 2.0 / fraction;
        }
        return Math.Exp(-z * z) / (Math.Sqrt(Math.PI) * fraction);
    }
}

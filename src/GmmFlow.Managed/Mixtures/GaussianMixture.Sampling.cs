using System.Buffers;
using GmmFlow.Mixtures;
using GmmFlow.Simd;

namespace GmmFlow;

// Sampling. Sample i is a pure function of (seed, firstIndex + i): its component comes from counter 0
// of stream i and its d standard normals from counters 1, 2, … (CounterRng), so the result is the same
// for any thread count and a long draw can be produced in pieces with firstIndex.
public sealed partial class GaussianMixture
{
    private const int SampleGrain = 128;
    private const int SampleWindow = 16384;

    /// <summary>Draws <paramref name="count"/> points (row-major count×d) reproducibly from <paramref name="seed"/>.</summary>
    public double[] Sample(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var values = new double[(long)count * Dimension];
        SampleInto(seed, values, null, 0, 0, count);
        return values;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> (row-major N×d, N = length / d) with samples
    /// <paramref name="firstIndex"/> … <paramref name="firstIndex"/> + N − 1 of the stream defined by
    /// <paramref name="seed"/>, and optionally each sample's component in <paramref name="components"/>.
    /// </summary>
    public void Sample(ulong seed, Span<double> destination, Span<int> components = default, long firstIndex = 0)
    {
        int d = Dimension;
        if (destination.Length % d != 0)
        {
            throw new ArgumentException($"destination has {destination.Length} values, which is not a multiple of the dimension {d}.", nameof(destination));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(firstIndex);
        int n = destination.Length / d;
        bool wantComponents = !components.IsEmpty;
        if (wantComponents && components.Length < n)
        {
            throw new ArgumentException($"components has length {components.Length}, expected at least {n}.", nameof(components));
        }
        // The parallel body cannot hold a span: fill a pooled window, copy it out, repeat.
        int window = Math.Min(n, SampleWindow);
        double[] buffer = ArrayPool<double>.Shared.Rent(Math.Max(1, window * d));
        int[]? labels = wantComponents ? ArrayPool<int>.Shared.Rent(Math.Max(1, window)) : null;
        try
        {
            for (int start = 0; start < n; start += window)
            {
                int m = Math.Min(window, n - start);
                SampleInto(seed, buffer, labels, firstIndex + start, 0, m);
                buffer.AsSpan(0, m * d).CopyTo(destination.Slice(start * d, m * d));
                labels?.AsSpan(0, m).CopyTo(components.Slice(start, m));
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(buffer);
            if (labels is not null)
            {
                ArrayPool<int>.Shared.Return(labels);
            }
        }
    }

    private void SampleInto(ulong seed, double[] values, int[]? labels, long firstIndex, int offset, int count)
    {
        var body = new SampleBody
        {
            Factors = _f,
            Cumulative = CumulativeWeights(),
            Rng = new CounterRng(seed),
            Values = values,
            Labels = labels,
            FirstIndex = firstIndex,
            Offset = offset,
        };
        ParallelRange.For(count, SampleGrain, in body);
    }

    private double[]? _cumulative;

    private double[] CumulativeWeights()
    {
        if (_cumulative is { } c)
        {
            return c;
        }
        var cum = new double[ComponentCount];
        double s = 0;
        for (int k = 0; k < cum.Length; k++)
        {
            s += _f.Weights[k];
            cum[k] = s;
        }
        // Weights sum to 1 only within round-off: the last bucket takes every u, so no draw falls off the end.
        cum[^1] = double.PositiveInfinity;
        return Interlocked.CompareExchange(ref _cumulative, cum, null) ?? cum;
    }

    private struct SampleBody : IRangeBody
    {
        public MixtureFactors Factors;
        public double[] Cumulative;
        public CounterRng Rng;
        public double[] Values;
        public int[]? Labels;
        public long FirstIndex;
        public int Offset;

        public readonly void Execute(int start, int end)
        {
            int d = Factors.Dimension;
            double[] z = ArrayPool<double>.Shared.Rent(d);
            try
            {
                for (int i = start; i < end; i++)
                {
                    ulong stream = (ulong)(FirstIndex + i);
                    double u = Rng.Uniform(stream, 0);
                    int k = 0;
                    while (u >= Cumulative[k])
                    {
                        k++;
                    }
                    Span<double> zs = z.AsSpan(0, d);
                    Rng.FillNormal(stream, 1, zs);
                    Span<double> x = Values.AsSpan((Offset + i) * d, d);
                    ReadOnlySpan<double> mean = Factors.Means.AsSpan(k * d, d);
                    if (Factors.Type == CovarianceType.Full)
                    {
                        // x = m + L z with L lower triangular.
                        ReadOnlySpan<double> l = Factors.Cholesky.AsSpan(k * d * d, d * d);
                        for (int r = 0; r < d; r++)
                        {
                            double s = mean[r];
                            ReadOnlySpan<double> row = l.Slice(r * d, r + 1);
                            for (int c = 0; c <= r; c++)
                            {
                                s += row[c] * zs[c];
                            }
                            x[r] = s;
                        }
                    }
                    else
                    {
                        ReadOnlySpan<double> p = Factors.Terms.Precision.AsSpan(k * d, d);
                        for (int r = 0; r < d; r++)
                        {
                            x[r] = mean[r] + zs[r] / p[r];
                        }
                    }
                    if (Labels is not null)
                    {
                        Labels[Offset + i] = k;
                    }
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(z);
            }
        }
    }
}

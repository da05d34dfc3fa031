using System.Buffers;
using System.Runtime.CompilerServices;

namespace GmmFlow.Simd.Mixtures;

/// <summary>What <see cref="MixtureEvaluator.Evaluate"/> writes per point.</summary>
internal enum MixtureOutput
{
    /// <summary>N×K: log Nₖ(xᵢ) (component densities, weights not included).</summary>
    ComponentLogDensities,

    /// <summary>N: log Σₖ aₖ Nₖ(xᵢ).</summary>
    LogDensity,

    /// <summary>N×K: posterior probabilities aₖ Nₖ(xᵢ) / Σⱼ aⱼ Nⱼ(xᵢ).</summary>
    Responsibilities,

    /// <summary>N labels: argmaxₖ aₖ Nₖ(xᵢ).</summary>
    Labels,
}

/// <summary>
/// Batched evaluation of a mixture on caller-owned row-major points (N×d), parallel over chunks of
/// <see cref="ChunkSize"/> points on all cores. Each chunk is transposed into a coordinate-major
/// scratch block so the kernels vectorise across points, then the per-component terms, the
/// log-sum-exp and the requested output are computed while the block is in cache.
/// </summary>
/// <remarks>
/// Pointers (not spans) are captured because the body is a struct copied into the parallel driver's
/// job object, which cannot hold a span; the spans are pinned for the whole call. Scratch comes from
/// ArrayPool (thread-safe, no allocation once warm) because a mixture may be evaluated from several
/// threads at once. Results do not depend on the number of threads: every point is computed alone, and
/// sums are reduced per chunk then added in chunk order.
/// </remarks>
internal static unsafe class MixtureEvaluator
{
    /// <summary>Points per chunk (and per parallel work item): a block of d rows of this many doubles stays in L2 even for d in the hundreds.</summary>
    public const int ChunkSize = 256;

    /// <summary>Distance between rows of a scratch block: not a power of two, so rows do not collide in the L1 cache sets.</summary>
    public const int RowStride = ChunkSize + 8;

    /// <summary>Writes <paramref name="output"/> for every point into <paramref name="values"/> (or <paramref name="labels"/>).</summary>
    public static void Evaluate(MixtureTerms terms, ReadOnlySpan<double> points, MixtureOutput output, Span<double> values, Span<int> labels)
    {
        int n = points.Length / terms.Dimension;
        fixed (double* px = points)
        fixed (double* pv = values)
        fixed (int* pl = labels)
        {
            var body = new Body { Terms = terms, Points = px, Count = n, Output = output, Values = pv, Labels = pl };
            ParallelRange.For(Chunks(n), 1, in body);
        }
    }

    /// <summary>Σᵢ log p(xᵢ), reduced per chunk and summed in chunk order (the same result for any thread count).</summary>
    public static double SumLogDensity(MixtureTerms terms, ReadOnlySpan<double> points)
    {
        int n = points.Length / terms.Dimension, chunks = Chunks(n);
        double[] partial = ArrayPool<double>.Shared.Rent(Math.Max(1, chunks));
        try
        {
            fixed (double* px = points)
            fixed (double* pp = partial)
            {
                var body = new Body { Terms = terms, Points = px, Count = n, Output = MixtureOutput.LogDensity, Partial = pp };
                ParallelRange.For(chunks, 1, in body);
            }
            double sum = 0;
            for (int c = 0; c < chunks; c++)
            {
                sum += partial[c];
            }
            return sum;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(partial);
        }
    }

    private static int Chunks(int n) => (n + ChunkSize - 1) / ChunkSize;

    private struct Body : IRangeBody
    {
        public MixtureTerms Terms;
        public double* Points;
        public int Count;
        public MixtureOutput Output;
        public double* Values;
        public int* Labels;
        public double* Partial;   // per-chunk Σ log p when not null (then Values is not written)

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end)
        {
            int d = Terms.Dimension, kk = Terms.Components, c = ChunkSize, s = RowStride;
            double[] scratch = ArrayPool<double>.Shared.Rent(d * s + kk * s + c);
            try
            {
                Span<double> block = scratch.AsSpan(0, d * s);
                Span<double> rows = scratch.AsSpan(d * s, kk * s);
                Span<double> lse = scratch.AsSpan(d * s + kk * s, c);
                for (int chunk = start; chunk < end; chunk++)
                {
                    int first = chunk * c, n = Math.Min(c, Count - first), padded = PointBlock.Padded(n);
                    Transpose(Points + (long)first * d, n, padded, d, block);
                    Terms.EvaluateBlock(block, s, padded, rows, s, weighted: Output != MixtureOutput.ComponentLogDensities);
                    switch (Output)
                    {
                        case MixtureOutput.ComponentLogDensities:
                            CopyRowsToPoints(rows, n, kk, Values + (long)first * kk);
                            break;
                        case MixtureOutput.LogDensity:
                            LogSumExpKernel.Evaluate(rows, s, padded, kk, lse, responsibilities: false, default);
                            if (Partial is not null)
                            {
                                double sum = 0;
                                for (int i = 0; i < n; i++)
                                {
                                    sum += lse[i];
                                }
                                Partial[chunk] = sum;
                            }
                            else
                            {
                                lse[..n].CopyTo(new Span<double>(Values + first, n));
                            }
                            break;
                        case MixtureOutput.Responsibilities:
                            LogSumExpKernel.Evaluate(rows, s, padded, kk, lse, responsibilities: true, default);
                            CopyRowsToPoints(rows, n, kk, Values + (long)first * kk);
                            break;
                        case MixtureOutput.Labels:
                            for (int i = 0; i < n; i++)
                            {
                                int best = 0;
                                double bestValue = rows[i];
                                for (int k = 1; k < kk; k++)
                                {
                                    double v = rows[k * s + i];
                                    if (v > bestValue)
                                    {
                                        bestValue = v;
                                        best = k;
                                    }
                                }
                                Labels[first + i] = best;
                            }
                            break;
                    }
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(scratch);
            }
        }

        /// <summary>Row-major n×d points → coordinate-major block (rows RowStride apart), zero-padded to <paramref name="padded"/> points.</summary>
        private static void Transpose(double* source, int n, int padded, int d, Span<double> block)
        {
            for (int j = 0; j < d; j++)
            {
                Span<double> row = block.Slice(j * RowStride, padded);
                double* s = source + j;
                for (int i = 0; i < n; i++)
                {
                    row[i] = s[(long)i * d];
                }
                row[n..].Clear();
            }
        }

        private static void CopyRowsToPoints(Span<double> rows, int n, int kk, double* destination)
        {
            for (int k = 0; k < kk; k++)
            {
                Span<double> row = rows.Slice(k * RowStride, n);
                double* dst = destination + k;
                for (int i = 0; i < n; i++)
                {
                    dst[(long)i * kk] = row[i];
                }
            }
        }
    }
}

using System.Buffers;
using System.Runtime.CompilerServices;

namespace GmmFlow.Simd.Mixtures;

/// <summary>
/// Everything the log-density kernels need about a mixture's components, precomputed once per mixture
/// (or once per EM iteration) and shared by every point: per component k the whitening factor Pₖ
/// (full: the lower-triangular Lₖ⁻¹, K×d×d; diagonal/spherical: 1/σₖⱼ, K×d), the whitened mean
/// bₖ = Pₖ mₖ (K×d), log aₖ and −½(d log 2π + log det Σₖ).
/// </summary>
/// <remarks>
/// Lives in the SIMD layer (not with the public mixture) because the kernels and the parallel drivers
/// that pin caller spans are here; the managed layer fills the arrays (it owns LAPACK).
/// </remarks>
internal sealed class MixtureTerms
{
    public MixtureTerms(int components, int dimension, bool full)
    {
        Components = components;
        Dimension = dimension;
        Full = full;
        Precision = new double[full ? components * dimension * dimension : components * dimension];
        Shift = new double[components * dimension];
        LogWeights = new double[components];
        LogNormalizers = new double[components];
        WeightedConstants = new double[components];
    }

    public int Components { get; }

    public int Dimension { get; }

    /// <summary>Full covariances (triangular kernel) or diagonal/spherical (diagonal kernel).</summary>
    public bool Full { get; }

    public double[] Precision { get; }

    public double[] Shift { get; }

    public double[] LogWeights { get; }

    /// <summary>−½(d log 2π + log det Σₖ).</summary>
    public double[] LogNormalizers { get; }

    /// <summary>log aₖ − ½(d log 2π + log det Σₖ); call <see cref="RefreshWeighted"/> after changing either part.</summary>
    public double[] WeightedConstants { get; }

    public void RefreshWeighted()
    {
        for (int k = 0; k < Components; k++)
        {
            WeightedConstants[k] = LogWeights[k] + LogNormalizers[k];
        }
    }

    /// <summary>
    /// Row k of <paramref name="destination"/> (rows <paramref name="destinationStride"/> apart) receives
    /// log Nₖ(xᵢ) (plus log aₖ when <paramref name="weighted"/>) for the <paramref name="count"/> points of
    /// the coordinate-major block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    public void EvaluateBlock(ReadOnlySpan<double> block, int stride, int count, Span<double> destination, int destinationStride, bool weighted)
    {
        int d = Dimension, dd = Full ? d * d : d;
        double[] constants = weighted ? WeightedConstants : LogNormalizers;
        if (!Full)
        {
            int need = Components * 4 * 8;
            double[]? rented = null;
            Span<double> sums = need <= 2048 ? stackalloc double[2048] : (rented = ArrayPool<double>.Shared.Rent(need));
            DiagonalGaussianKernel.EvaluateComponents(block, stride, count, d, Components, Precision, Shift, constants, destination,
                destinationStride, sums[..need]);
            if (rented is not null)
            {
                ArrayPool<double>.Shared.Return(rented);
            }
            return;
        }
        for (int k = 0; k < Components; k++)
        {
            Span<double> row = destination.Slice(k * destinationStride, count);
            if (Full)
            {
                TriangularGaussianKernel.Evaluate(block, stride, count, d, Precision.AsSpan(k * dd, dd), Shift.AsSpan(k * d, d), constants[k], row);
            }
            else
            {
                DiagonalGaussianKernel.Evaluate(block, stride, count, d, Precision.AsSpan(k * dd, dd), Shift.AsSpan(k * d, d), constants[k], row);
            }
        }
    }
}

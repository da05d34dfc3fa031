using System.Text;

namespace GmmFlow.Benchmarks.Costs;

/// <summary>
/// Seeded cost-matrix inputs shared with benchmarks/compare/cost_matrix.py through .npy files, so both sides time
/// exactly the same Gaussians: means N(0, 2²), covariances B Bᵀ/d + 0.1 I with B standard normal (Wishart-like).
/// </summary>
public sealed record CostMatrixInputs(int SourceCount, int TargetCount, int Dimension,
    double[] Means0, double[] Covariances0, double[] Means1, double[] Covariances1)
{
    /// <summary>The three sizes of docs/anchors.md: (50×50, d = 2), (50×50, d = 16), (20×20, d = 64).</summary>
    public static readonly (int K0, int K1, int D)[] AnchorSizes = [(50, 50, 2), (50, 50, 16), (20, 20, 64)];

    public string Name => $"{SourceCount}x{TargetCount}_d{Dimension}";

    public static CostMatrixInputs Create(int k0, int k1, int d, int seed = 2026)
    {
        var rng = new Random(seed + 1000 * d + k0);
        return new CostMatrixInputs(k0, k1, d, Means(rng, k0, d), Covariances(rng, k0, d), Means(rng, k1, d), Covariances(rng, k1, d));
    }

    public (GaussianFactors Source, GaussianFactors Target) Factor()
        => (GaussianFactors.FromFull(Means0, Covariances0, SourceCount, Dimension, "source"),
            GaussianFactors.FromFull(Means1, Covariances1, TargetCount, Dimension, "target"));

    private static double[] Means(Random rng, int k, int d)
    {
        var m = new double[k * d];
        for (int i = 0; i < m.Length; i++)
        {
            m[i] = 2 * Normal(rng);
        }
        return m;
    }

    private static double[] Covariances(Random rng, int k, int d)
    {
        var all = new double[k * d * d];
        var b = new double[d * d];
        for (int c = 0; c < k; c++)
        {
            for (int i = 0; i < b.Length; i++)
            {
                b[i] = Normal(rng);
            }
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    double s = 0;
                    for (int p = 0; p < d; p++)
                    {
                        s += b[i * d + p] * b[j * d + p];
                    }
                    s = s / d + (i == j ? 0.1 : 0);
                    all[c * d * d + i * d + j] = all[c * d * d + j * d + i] = s;
                }
            }
        }
        return all;
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Writes means0/covs0/means1/covs1 as &lt;name&gt;_*.npy into <paramref name="directory"/>.</summary>
    public void Export(string directory)
    {
        Directory.CreateDirectory(directory);
        WriteNpy(Path.Combine(directory, $"{Name}_means0.npy"), Means0, [SourceCount, Dimension]);
        WriteNpy(Path.Combine(directory, $"{Name}_covs0.npy"), Covariances0, [SourceCount, Dimension, Dimension]);
        WriteNpy(Path.Combine(directory, $"{Name}_means1.npy"), Means1, [TargetCount, Dimension]);
        WriteNpy(Path.Combine(directory, $"{Name}_covs1.npy"), Covariances1, [TargetCount, Dimension, Dimension]);
    }

    /// <summary>NPY format 1.0: magic, little-endian header dict padded to a multiple of 64 bytes, raw float64 data.</summary>
    public static void WriteNpy(string path, ReadOnlySpan<double> data, int[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(Encoding.ASCII.GetBytes(header));
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
    }
}

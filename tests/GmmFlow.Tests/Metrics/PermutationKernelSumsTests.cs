using GmmFlow.Simd;

namespace GmmFlow.Tests.Metrics;

/// <summary>
/// Memory safety of the permutation-test kernel: its kernel tiles load whole vectors through the SoA copy's row
/// padding, so the padding must cover every read (a short stride once read past the array's end and crashed the test
/// host now and then), and a copy that is too short is refused before any read.
/// </summary>
public class PermutationKernelSumsTests
{
    [Fact]
    public void The_soa_stride_covers_every_column_tile_any_row_tile_reads()
    {
        for (int n = 1; n <= 2048; n++)
        {
            int stride = PermutationKernelSums.SoaStride(n);
            for (int i0 = 0; i0 < n; i0 += PermutationKernelSums.TileRows)
            {
                // The last column tile a row tile reads starts below n and spans TileColumns entries.
                int lastJ0 = i0 + (n - 1 - i0) / PermutationKernelSums.TileColumns * PermutationKernelSums.TileColumns;
                Assert.True(lastJ0 + PermutationKernelSums.TileColumns <= stride,
                    $"n = {n}: the row tile at {i0} reads up to index {lastJ0 + PermutationKernelSums.TileColumns - 1}, stride {stride}");
            }
        }
    }

    [Fact]
    public void A_soa_copy_shorter_than_the_stride_needs_is_refused()
    {
        int n = 128, d = 2, columns = 8;
        var z = new double[n * d];
        var labels = new double[n * columns];
        var term = new GaussianKernelTerm([1.0]);
        var shortSoa = PairwiseRowSums.ToSoa(z, d, n);
        var ex = Assert.Throws<ArgumentException>(() => PermutationKernelSums.Compute(z, shortSoa, d, labels, columns, 0, term,
            new double[columns], new double[columns], new double[columns], parallel: false));
        Assert.Contains("SoaStride(128)", ex.Message);
    }
}

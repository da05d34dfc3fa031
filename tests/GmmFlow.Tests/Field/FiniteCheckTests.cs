namespace GmmFlow.Tests.Field;

/// <summary>The vectorised finite check in front of the batched kernels must report what a plain scan reports.</summary>
public class FiniteCheckTests
{
    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void FirstBadValue_IsReported_WhereverItSits(double bad)
    {
        // Lengths around the 16-element blocks, bad values in a block's first/last slot and in the scalar tail, and a
        // second bad value later (only the first may be named).
        const int d = 3;
        foreach (int length in new[] { 1, 15, 16, 17, 33, 63, 64, 65, 300 })
        {
            var values = new double[length];
            for (int i = 0; i < length; i++)
            {
                values[i] = (i % 7 - 3) * 1e300 + i; // large but finite: x − x must still be 0
            }
            FiniteCheck.ThrowIfNonFinite(values, d, "point", "x");
            for (int k = 0; k < length; k++)
            {
                double[] copy = (double[])values.Clone();
                copy[k] = bad;
                if (k + 5 < length)
                {
                    copy[k + 5] = double.NaN;
                }
                var e = Assert.Throws<NonFiniteValueException>(() => FiniteCheck.ThrowIfNonFinite(copy, d, "point", "x"));
                Assert.Equal(k / d, e.Index);
                Assert.Equal(k % d, e.Position);
                Assert.Equal(bad, e.Value);
            }
        }
    }

    [Fact]
    public void SubnormalsAndSignedZeros_AreFinite()
    {
        var values = new double[40];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = i % 4 switch { 0 => double.Epsilon, 1 => -0.0, 2 => double.MaxValue, _ => double.MinValue };
        }
        FiniteCheck.ThrowIfNonFinite(values, 4, "point", "x");
    }
}

using Xunit;
using static GmmFlow.Tests.Transport.TransportReference;

namespace GmmFlow.Tests.Transport;

public class CouplingsEmpiricalTransportTests
{
    [Theory]
    [InlineData(50, 50)]
    [InlineData(40, 70)]
    [InlineData(37, 13)]
    [InlineData(1, 9)]
    public void OneDimensional_EqualsTheQuantileFormula(int n, int m)
    {
        var rng = new Random(n * 100 + m);
        double[] x = Uniform(rng, n, 3);
        double[] y = Uniform(rng, m, 5).Select(v => v - 1).ToArray();

        double exact = EmpiricalTransport.ExactW2Squared(x, n, y, m, 1);

        Assert.Equal(QuantileW2Squared(x, y), exact, 1e-11);
    }

    [Theory]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    [InlineData(6, 4)]
    public void EqualSizes_EqualTheBestMatching(int n, int d)
    {
        var rng = new Random(n + (10 * d));
        double[] x = Uniform(rng, n * d);
        double[] y = Uniform(rng, n * d);
        var cost = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                for (int k = 0; k < d; k++)
                {
                    double diff = x[(i * d) + k] - y[(j * d) + k];
                    cost[(i * n) + j] += diff * diff;
                }
            }
        }

        Assert.Equal(BestAssignment(cost, n), EmpiricalTransport.ExactW2Squared(x, n, y, n, d), 1e-12);
    }

    [Fact]
    public void Translation_CostsTheSquaredShift()
    {
        var rng = new Random(41);
        const int n = 120;
        const int d = 3;
        double[] x = Uniform(rng, n * d);
        double[] shift = [0.3, -0.2, 0.05];
        double[] y = x.Select((v, k) => v + shift[k % d]).ToArray();

        Assert.Equal(shift.Sum(s => s * s), EmpiricalTransport.ExactW2Squared(x, n, y, n, d), 1e-11);
        Assert.Equal(0.0, EmpiricalTransport.ExactW2Squared(x, n, x, n, d), 1e-14);
    }

    [Fact]
    public void WeightedOverload_WithUniformWeights_MatchesUniformOverload()
    {
        var rng = new Random(42);
        double[] x = Uniform(rng, 30 * 2);
        double[] y = Uniform(rng, 20 * 2);
        double uniform = EmpiricalTransport.ExactW2Squared(x, 30, y, 20, 2);
        double weighted = EmpiricalTransport.ExactW2Squared(x, Enumerable.Repeat(1.0 / 30, 30).ToArray(), y, Enumerable.Repeat(1.0 / 20, 20).ToArray(), 2);
        Assert.Equal(uniform, weighted, 1e-13);
    }

    [Fact]
    public void WeightedPoints_OnALine_MatchMergedQuantiles()
    {
        // Point masses 0.25 at 0 and 0.75 at 1 against 0.5 at 0.5 and 0.5 at 2 (hand-computed by quantiles):
        // t ∈ [0, .25): 0 → 0.5 (0.25); [.25, .5): 1 → 0.5 (0.25); [.5, 1): 1 → 2 (1) ⇒ 0.25·0.25 + 0.25·0.25 + 0.5·1 = 0.625.
        double w2 = EmpiricalTransport.ExactW2Squared([0.0, 1.0], [0.25, 0.75], [0.5, 2.0], [0.5, 0.5], 1);
        Assert.Equal(0.625, w2, 1e-12);
    }

    [Fact]
    public void BadSizes_ThrowArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => EmpiricalTransport.ExactW2Squared(new double[5], 3, new double[6], 3, 2));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("expected 3 points × 2 dimensions = 6", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => EmpiricalTransport.ExactW2Squared([], 0, new double[2], 1, 2));
        Assert.Throws<NonFiniteValueException>(() => EmpiricalTransport.ExactW2Squared([0, double.NaN], 1, [0, 0], 1, 2));
    }
}

using System.Globalization;

namespace GmmFlow;

/// <summary>
/// The range of magnitudes GmmFlow's closed-form costs and bridges are exact in, checked where components enter a
/// cost, cost matrix, bridge or plan (<see cref="GaussianFactors"/>, and the noise σ), and the final guard that no cost,
/// objective or plan holds NaN or ±∞ (docs/theory/transport-accuracy.md#supported-range). Mixtures themselves accept
/// any finite SPD covariance: fitting, sampling and scoring work at every scale.
/// </summary>
/// <remarks>
/// The pair costs form products of two covariances (Σ0Σ1, L0ᵀΣ1L0, L0⁻¹Σ1L0⁻ᵀ) and the eigen-solvers square their
/// entries, so a variance s makes intermediates of order s⁴: beyond about 1e±75 they overflow or underflow and the
/// result is NaN, 0 or a LAPACK failure. Variances (covariance diagonals) in [1e-50, 1e50] keep every intermediate
/// within about 1e±200 with 25 decades to spare for conditioning and mixed scales; σ² is a variance too.
/// </remarks>
public static class SupportedRange
{
    /// <summary>Smallest supported variance (covariance diagonal entry, diagonal or spherical variance).</summary>
    public const double MinVariance = 1e-50;

    /// <summary>Largest supported variance.</summary>
    public const double MaxVariance = 1e50;

    /// <summary>Largest supported magnitude of a mean coordinate (|Δm|² then stays below d·4e200).</summary>
    public const double MaxMeanMagnitude = 1e100;

    /// <summary>Largest supported noise σ of a Schrödinger bridge (ε = σ² ≤ <see cref="MaxVariance"/>).</summary>
    public const double MaxNoise = 1e25;

    /// <summary>Throws <see cref="OutOfSupportedRangeException"/> for the first mean coordinate beyond ±<see cref="MaxMeanMagnitude"/>.</summary>
    internal static void CheckMean(ReadOnlySpan<double> mean, string what, int index, string paramName)
    {
        for (int i = 0; i < mean.Length; i++)
        {
            if (Math.Abs(mean[i]) > MaxMeanMagnitude)
            {
                throw new OutOfSupportedRangeException(what, index, i, mean[i], -MaxMeanMagnitude, MaxMeanMagnitude, paramName);
            }
        }
    }

    /// <summary>
    /// Checks the variances of one component: the diagonal of a d×d covariance (<paramref name="full"/>) or every
    /// entry of a variance vector (diagonal, spherical). Non-finite and non-positive values are left to the callers'
    /// own checks, which name them more precisely.
    /// </summary>
    internal static void CheckVariances(ReadOnlySpan<double> covariance, int dimension, bool full, string what, int index, string paramName)
    {
        int count = full ? dimension : covariance.Length, stride = full ? dimension + 1 : 1;
        for (int i = 0; i < count; i++)
        {
            double v = covariance[i * stride];
            if (v > 0 && double.IsFinite(v) && (v < MinVariance || v > MaxVariance))
            {
                throw new OutOfSupportedRangeException(what, index, i * stride, v, MinVariance, MaxVariance, paramName);
            }
        }
    }

    /// <summary>Throws for a finite σ above <see cref="MaxNoise"/>.</summary>
    internal static void CheckNoise(double noise, string paramName)
    {
        if (double.IsFinite(noise) && noise > MaxNoise)
        {
            throw new OutOfSupportedRangeException("noise σ", -1, 0, noise, 0, MaxNoise, paramName);
        }
    }

    /// <summary>The final guard on one computed number.</summary>
    internal static void CheckResult(double value, string what)
    {
        if (!double.IsFinite(value))
        {
            throw new NonFiniteResultException(what, -1, -1, value);
        }
    }

    /// <summary>
    /// The final guard on a computed K0×K1 matrix: throws <see cref="NonFiniteResultException"/> for the first NaN or
    /// ±∞. <paramref name="kind"/> names it only on failure, so the check itself allocates nothing.
    /// </summary>
    internal static void CheckCostMatrix(ReadOnlySpan<double> values, int columns, CostKind kind)
    {
        int bad = values.IndexOfAnyExceptInRange(double.MinValue, double.MaxValue);
        if (bad >= 0)
        {
            throw new NonFiniteResultException($"{CostName(kind)} cost matrix entry", bad / columns, bad % columns, values[bad]);
        }
    }

    internal static string CostName(CostKind kind) => kind switch
    {
        CostKind.Wasserstein => "W2",
        CostKind.Surrogate => "surrogate",
        CostKind.SchrodingerBridge => "Schrödinger-bridge",
        _ => "entropic",
    };
}

/// <summary>
/// An input is finite but outside the magnitudes GmmFlow computes exactly (<see cref="SupportedRange"/>): rescale the
/// data (costs are homogeneous: scaling all coordinates by c scales W2², the surrogate and the SB cost with σ → cσ by c²).
/// </summary>
public sealed class OutOfSupportedRangeException : ArgumentOutOfRangeException
{
    public OutOfSupportedRangeException(string what, int index, int position, double value, double minimum, double maximum, string? paramName = null)
        : base(paramName, value, string.Create(CultureInfo.InvariantCulture,
            $"{what}{(index >= 0 ? $" #{index}" : "")} has the value {value:G6} at position {position}, outside the supported range " +
            $"[{minimum:G3}, {maximum:G3}]; rescale the data (see docs/theory/transport-accuracy.md#supported-range)."))
    {
        What = what;
        Index = index;
        Position = position;
        Minimum = minimum;
        Maximum = maximum;
    }

    /// <summary>What the value belongs to, e.g. "covariance of source component".</summary>
    public string What { get; }

    /// <summary>Component index, or -1 for a scalar option.</summary>
    public int Index { get; }

    /// <summary>Flat position of the value inside the component's block.</summary>
    public int Position { get; }

    /// <summary>Lower end of the supported range.</summary>
    public double Minimum { get; }

    /// <summary>Upper end of the supported range.</summary>
    public double Maximum { get; }

    /// <summary>One line, without the parameter-name and actual-value suffixes the base class appends.</summary>
    public override string Message => base.Message.Split(Environment.NewLine)[0].Split(" (Parameter")[0];
}

/// <summary>
/// A computed cost, objective or plan quantity came out NaN or ±∞ although every input was finite and in range: the
/// computation is refused rather than returned (never a NaN or silently wrong number in an output).
/// </summary>
public sealed class NonFiniteResultException : ArithmeticException
{
    public NonFiniteResultException(string what, int row, int column, double value)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"{what}{(row >= 0 ? $" ({row}, {column})" : "")} came out {value} although the inputs are finite; the components are too far apart " +
            $"in scale for double precision (see docs/theory/transport-accuracy.md#supported-range)."))
    {
        What = what;
        Row = row;
        Column = column;
        Value = value;
    }

    /// <summary>What was computed, e.g. "W2 cost matrix entry".</summary>
    public string What { get; }

    /// <summary>Row (source component) of the bad entry, or -1 for a single number.</summary>
    public int Row { get; }

    /// <summary>Column (target component) of the bad entry.</summary>
    public int Column { get; }

    /// <summary>The non-finite value.</summary>
    public double Value { get; }
}

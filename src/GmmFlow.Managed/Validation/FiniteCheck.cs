namespace GmmFlow;

/// <summary>The validating layer in front of the kernels: kernels never throw on bad numbers, this does.</summary>
internal static class FiniteCheck
{
    /// <summary>
    /// Throws <see cref="NonFiniteValueException"/> naming the first row (index) and coordinate (position) of
    /// <paramref name="values"/>, read as rows of <paramref name="rowLength"/>, that holds NaN or ±∞.
    /// </summary>
    public static void ThrowIfNonFinite(ReadOnlySpan<double> values, int rowLength, string what, string paramName)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                ThrowHelper.ThrowNonFinite(what, i / rowLength, i % rowLength, values[i], paramName);
            }
        }
    }

    /// <summary>Throws <see cref="NonFiniteValueException"/> for a single non-finite scalar.</summary>
    public static void ThrowIfNonFinite(double value, string what, string paramName)
    {
        if (!double.IsFinite(value))
        {
            ThrowHelper.ThrowNonFinite(what, -1, 0, value, paramName);
        }
    }
}

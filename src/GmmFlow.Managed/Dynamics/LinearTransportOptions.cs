namespace GmmFlow;

/// <summary>How a <see cref="LinearTransportPlan"/> is built: the noise and the coupling's numerics.</summary>
public sealed record LinearTransportOptions
{
    /// <summary>
    /// σ ≥ 0 of the noise σB(t)dW through the control channel (ε = σ²); 0 is the deterministic (optimal-transport)
    /// limit. Ignored when <see cref="NoiseMatrix"/> is set.
    /// </summary>
    public double Noise { get; init; }

    /// <summary>
    /// Optional noise matrix D (n×<see cref="NoiseColumns"/> row-major) for dX = (AX + Bu)dt + D dW when the noise is
    /// not σB; each pair's Π(0) then comes from Newton shooting.
    /// </summary>
    public double[]? NoiseMatrix { get; init; }

    /// <summary>Columns p of <see cref="NoiseMatrix"/>.</summary>
    public int NoiseColumns { get; init; }

    /// <summary>Receives the fraction of pair bridges built (the cost matrix), for long shooting runs.</summary>
    public IProgress<double>? Progress { get; init; }

    public CancellationToken CancellationToken { get; init; }

    internal void Validate(int n)
    {
        if (!double.IsFinite(Noise) || Noise < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Noise), Noise, "noise σ must be finite and ≥ 0.");
        }
        if (NoiseMatrix is { } d)
        {
            if (NoiseColumns < 1 || d.Length != n * NoiseColumns)
            {
                throw new ArgumentException($"The noise matrix has {d.Length} entries and {NoiseColumns} columns; it must be n×p with " +
                    $"n = {n} and p ≥ 1.", nameof(NoiseMatrix));
            }
            FiniteCheck.ThrowIfNonFinite(d, NoiseColumns, "noise matrix row", nameof(NoiseMatrix));
        }
    }

    /// <summary>Columns of the diffusion: p for a noise matrix, else the control dimension m.</summary>
    internal int DiffusionColumns(LinearDynamics dynamics) => NoiseMatrix is null ? dynamics.ControlDimension : NoiseColumns;

    internal bool IsNoisy => NoiseMatrix is not null || Noise > 0;
}

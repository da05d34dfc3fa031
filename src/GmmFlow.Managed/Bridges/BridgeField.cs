namespace GmmFlow;

/// <summary>Which affine field a <see cref="GaussianBridge"/> reports for noisy (σ &gt; 0) Schrödinger bridges.</summary>
public enum BridgeField
{
    /// <summary>
    /// The SDE drift u of dX = u dt + σ dW (docs/theory.md#sb-bridge: gain K_t = S_tᵀ Σ_t⁻¹, so dΣ/dt = KΣ + ΣKᵀ + εI).
    /// For deterministic bridges (W2 geodesic, surrogate path, σ = 0) it is the velocity field itself.
    /// </summary>
    Drift,

    /// <summary>
    /// The probability-flow ODE field with the same marginals (docs/theory.md#sb-bridge: gain (S_tᵀ + ½εI) Σ_t⁻¹, dΣ/dt = AΣ + ΣAᵀ).
    /// Equal to <see cref="Drift"/> when σ = 0.
    /// </summary>
    ProbabilityFlow,
}

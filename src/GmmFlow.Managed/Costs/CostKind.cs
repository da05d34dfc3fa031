namespace GmmFlow;

/// <summary>
/// Pairwise Gaussian transport cost, and the pair bridge (path + affine field) whose kinetic energy it is.
/// </summary>
/// <remarks>
/// Noise convention (docs/theory.md#noise-convention): the dynamics are dX = u dt + σ dW on [0, 1]. GmmFlow's
/// public parameter is <c>noise</c> = σ; ε = σ² is the noise variance (the GMMflow paper's ε; its reference code
/// passes σ under the name <c>epsilon</c>); POT/OTT's entropic regularisation is reg = 2σ².
/// </remarks>
public enum CostKind
{
    /// <summary>
    /// Exact Bures–Wasserstein W2² (docs/theory.md#exact-w2); bridge: the W2 geodesic (displacement interpolation, "Method B", #w2-geodesic).
    /// </summary>
    Wasserstein,

    /// <summary>
    /// Closed-form kinetic energy of the linear mean/covariance path ("Method A", docs/theory.md#surrogate-cost);
    /// bridge: that linear path with A_t = ½ ΔΣ Σ_t⁻¹. Always ≥ W2².
    /// </summary>
    Surrogate,

    /// <summary>
    /// Gaussian Schrödinger bridge with noise σ (docs/theory.md#sb-cost); the number reported is selected by
    /// <see cref="SchrodingerCostVariant"/>; bridge: the SB marginals with the SDE drift or probability-flow field.
    /// σ = 0 gives W2² exactly.
    /// </summary>
    SchrodingerBridge,

    /// <summary>
    /// Entropic OT cost min_π E|X0 − X1|² + 2σ² KL(π | μ0⊗μ1) (reg = 2σ², Janati et al. 2020, docs/theory.md#sb-cost);
    /// its optimal coupling is the Schrödinger bridge's, so the bridge is the same as <see cref="SchrodingerBridge"/>.
    /// σ = 0 gives W2² exactly.
    /// </summary>
    EntropicTransport,
}

/// <summary>Which Schrödinger-bridge number <see cref="CostKind.SchrodingerBridge"/> reports.</summary>
public enum SchrodingerCostVariant
{
    /// <summary>
    /// The bridge's exact kinetic energy J = ∫₀¹ E|u(X_t, t)|² dt with the SDE drift u (docs/theory.md#sb-cost):
    /// J = |Δm|² + tr Σ0 + tr Σ1 − Σ_k δ_k + ε Σ_k log(δ_k + ε) − ε log det Σ1 − d ε log 2,
    /// δ_k = √(4γ_k + ε²), γ_k = eig(Σ0 Σ1) (algebraically equal to the g_k form of docs/theory.md#sb-cost).
    /// </summary>
    KineticEnergy,

    /// <summary>
    /// The number the GMMflow reference code puts into its LP (docs/theory.md#sb-cost):
    /// |Δm|² + tr Σ0 + tr Σ1 − ε Σ_k (g_k − log g_k) − ε (log det Σ0 + log det Σ1), g_k = 1 + √(1 + 4γ_k/ε²).
    /// It differs from <see cref="KineticEnergy"/> by terms of one component each, so the LP plan is the same
    /// for a fixed σ, but the value is not a kinetic energy.
    /// </summary>
    GmmFlowReference,
}

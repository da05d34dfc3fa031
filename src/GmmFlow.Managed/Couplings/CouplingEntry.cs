namespace GmmFlow;

/// <summary>One nonzero of a two-marginal coupling: mass <paramref name="Weight"/> moved from source component
/// <paramref name="Source"/> to target component <paramref name="Target"/>.</summary>
/// <param name="Source">Row index i (source component).</param>
/// <param name="Target">Column index j (target component).</param>
/// <param name="Weight">λ_ij &gt; 0.</param>
public readonly record struct CouplingEntry(int Source, int Target, double Weight);

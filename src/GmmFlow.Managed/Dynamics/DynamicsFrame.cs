namespace GmmFlow;

/// <summary>
/// What every pair of one <see cref="LinearDynamics"/> needs at a time t, computed once per t and shared: Φ(t, 0),
/// M(t, 0), Φ(T, t), M(T, t), A(t), B(t) and, past the anchor time t_a = T/2 of the Hamiltonian propagation of Π,
/// Φ(t, t_a) and M(t, t_a) (docs/theory/linear-dynamics.md#near-horizon).
/// </summary>
internal sealed class DynamicsFrame
{
    public DynamicsFrame(LinearDynamics dynamics)
    {
        Dynamics = dynamics;
        int n = dynamics.StateDimension, nn = n * n;
        PhiT0 = new double[nn];
        GramT0 = new double[nn];
        PhiHt = new double[nn];
        GramHt = new double[nn];
        PhiAnchor = new double[nn];
        GramAnchor = new double[nn];
        A = new double[nn];
        B = new double[n * dynamics.ControlDimension];
        Scratch = new double[nn];
    }

    public LinearDynamics Dynamics { get; }

    /// <summary>The time the frame holds (NaN before the first <see cref="Fill"/>).</summary>
    public double Time { get; private set; } = double.NaN;

    /// <summary>Whether t is past the anchor (Π then comes from the Hamiltonian flow, not the closed form).</summary>
    public bool PastAnchor { get; private set; }

    public double AnchorTime => 0.5 * Dynamics.Horizon;

    public readonly double[] PhiT0, GramT0, PhiHt, GramHt, PhiAnchor, GramAnchor, A, B, Scratch;

    public void Fill(double t)
    {
        if (t == Time)
        {
            return;
        }
        Time = double.NaN;
        var d = Dynamics;
        double horizon = d.Horizon;
        d.Pair(t, 0, PhiT0, GramT0, Scratch);
        d.Pair(horizon, t, PhiHt, GramHt, Scratch);
        d.SystemMatrices(t, A, B);
        PastAnchor = t > AnchorTime;
        if (PastAnchor)
        {
            d.Pair(t, AnchorTime, PhiAnchor, GramAnchor, Scratch);
        }
        Time = t;
    }
}

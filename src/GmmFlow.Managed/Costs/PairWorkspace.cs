namespace GmmFlow;

/// <summary>
/// Per-thread scratch for pair computations (d×d matrices and d-vectors), grown on demand and kept, so warm
/// batched calls allocate nothing. Thread-static because the cost matrix runs pairs on every core.
/// </summary>
internal sealed class PairWorkspace
{
    [ThreadStatic]
    private static PairWorkspace? t_current;

    public double[] A = [];
    public double[] B = [];
    public double[] C = [];
    public double[] Values = [];
    public double[] Vector = [];

    /// <summary>The calling thread's workspace with room for n×n matrices.</summary>
    public static PairWorkspace ForThread(int n)
    {
        var ws = t_current ??= new PairWorkspace();
        if (ws.Values.Length < n)
        {
            int nn = n * n;
            ws.A = new double[nn];
            ws.B = new double[nn];
            ws.C = new double[nn];
            ws.Values = new double[n];
            ws.Vector = new double[n];
        }
        return ws;
    }
}

namespace GmmFlow.Native;

/// <summary>
/// Per-thread LAPACK work arrays, grown on demand and kept: after the first call of a given size a
/// thread's LAPACK calls allocate nothing. Thread-static because batches run on several threads at once.
/// </summary>
internal sealed class LapackWorkspace
{
    [ThreadStatic]
    private static LapackWorkspace? t_current;

    public double[] Work = [];
    public int[] IWork = [];

    public static LapackWorkspace ForThread(int work, int iwork)
    {
        var ws = t_current ??= new LapackWorkspace();
        if (ws.Work.Length < work)
        {
            ws.Work = new double[Math.Max(work, ws.Work.Length * 2)];
        }
        if (ws.IWork.Length < iwork)
        {
            ws.IWork = new int[Math.Max(iwork, ws.IWork.Length * 2)];
        }
        return ws;
    }
}

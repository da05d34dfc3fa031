namespace GmmFlow.Tests.MultiMarginal;

/// <summary>Plain dense Gaussian elimination for test references (independent of the library's routines).</summary>
internal static class TestLinearAlgebra
{
    public static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        var m = (double[,])a.Clone();
        var x = (double[])b.Clone();
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++)
            {
                if (Math.Abs(m[r, c]) > Math.Abs(m[pivot, c]))
                {
                    pivot = r;
                }
            }
            for (int j = 0; j < n; j++)
            {
                (m[c, j], m[pivot, j]) = (m[pivot, j], m[c, j]);
            }
            (x[c], x[pivot]) = (x[pivot], x[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = m[r, c] / m[c, c];
                for (int j = c; j < n; j++)
                {
                    m[r, j] -= f * m[c, j];
                }
                x[r] -= f * x[c];
            }
        }
        for (int r = n - 1; r >= 0; r--)
        {
            double s = x[r];
            for (int j = r + 1; j < n; j++)
            {
                s -= m[r, j] * x[j];
            }
            x[r] = s / m[r, r];
        }
        return x;
    }
}

using static GmmFlow.Tests.Support.TestMatrices;

namespace GmmFlow.Tests.Dynamics;

internal static class DynamicsTestHelpers
{
    /// <summary>The double-integrator reference pair (one position, T = 1).</summary>
    public static readonly double[] RefM0 = [0, 0], RefS0 = [1, 0.2, 0.2, 0.5], RefM1 = [1, 0], RefS1 = [0.5, -0.1, -0.1, 0.8];

    public static (double[] Mean, double[] Cov, double[] Gain, double[] Offset) FieldAt(LinearGaussianBridge b, double t,
        BridgeField field = BridgeField.Drift)
    {
        int n = b.Dimension;
        double[] mean = new double[n], cov = new double[n * n], gain = new double[n * n], offset = new double[n];
        b.Evaluate(t, mean, cov, gain, offset, field);
        return (mean, cov, gain, offset);
    }

    public static double[] Pi(LinearGaussianBridge b, double t)
    {
        var p = new double[b.Dimension * b.Dimension];
        b.Riccati(t, p);
        return p;
    }

    public static double[] Cov(LinearGaussianBridge b, double t)
    {
        var p = new double[b.Dimension * b.Dimension];
        b.Covariance(t, p);
        return p;
    }

    public static double[] MeanAt(LinearGaussianBridge b, double t)
    {
        var p = new double[b.Dimension];
        b.Mean(t, p);
        return p;
    }

    public static double[] Ff(LinearGaussianBridge b, double t)
    {
        var p = new double[b.ControlDimension];
        b.FeedForward(t, p);
        return p;
    }

    public static (double[] A, double[] B) Matrices(LinearDynamics d, double t)
    {
        int n = d.StateDimension, m = d.ControlDimension;
        double[] a = new double[n * n], b = new double[n * m];
        d.SystemMatrices(t, a, b);
        return (a, b);
    }

    /// <summary>A random LTI system scaled to ‖A‖ ≈ <paramref name="scale"/>, generic (controllable) B.</summary>
    public static LinearDynamics RandomLti(int n, int m, int seed, double scale = 0.8, double horizon = 1.5)
    {
        var a = RandomGeneral(n, n, seed);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] *= scale / Math.Sqrt(n);
        }
        var b = RandomGeneral(n, m, seed + 7);
        return LinearDynamics.TimeInvariant(a, b, n, m, horizon);
    }

    public static double RelDiff(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double scale = 1;
        foreach (double x in b)
        {
            scale = Math.Max(scale, Math.Abs(x));
        }
        return MaxAbsDiff(a, b) / scale;
    }

    /// <summary>Lower Cholesky factor by the textbook loops (a reference independent of the library).</summary>
    public static double[] NaiveCholesky(double[] a, int n)
    {
        var l = new double[n * n];
        for (int j = 0; j < n; j++)
        {
            double s = a[j * n + j];
            for (int k = 0; k < j; k++)
            {
                s -= l[j * n + k] * l[j * n + k];
            }
            l[j * n + j] = Math.Sqrt(s);
            for (int i = j + 1; i < n; i++)
            {
                double t = a[i * n + j];
                for (int k = 0; k < j; k++)
                {
                    t -= l[i * n + k] * l[j * n + k];
                }
                l[i * n + j] = t / l[j * n + j];
            }
        }
        return l;
    }
}

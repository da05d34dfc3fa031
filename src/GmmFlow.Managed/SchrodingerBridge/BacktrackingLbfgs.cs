namespace GmmFlow;

/// <summary>The result of an <see cref="BacktrackingLbfgs"/> run.</summary>
internal readonly record struct BacktrackingLbfgsResult(double Value, int Iterations, int Evaluations, bool Converged);

/// <summary>
/// Limited-memory BFGS (Nocedal &amp; Wright, Numerical Optimization, Alg. 7.4/7.5) with a backtracking Armijo line
/// search (docs/theory/exact-sb.md#optimiser). Pairs with sᵀy ≤ 1e-12·|s||y| are skipped so the inverse-Hessian
/// model stays positive definite; a failed line search restarts from steepest descent once, then stops.
/// </summary>
/// <remarks>
/// Unlike the strong-Wolfe <see cref="Lbfgs"/> of the multi-marginal solver, this search accepts +∞ outside the
/// objective's domain (shortening the step) and stops on a windowed relative decrease.
/// The function returns +∞ for parameters outside its domain; the line search then shortens the step.
/// Convergence: the relative decrease over the last <c>window</c> iterations falls below the tolerance, or the
/// gradient's infinity norm falls below <c>gradientTolerance</c>.
/// </remarks>
internal static class BacktrackingLbfgs
{
    public delegate double Function(ReadOnlySpan<double> x, Span<double> gradient);

    public static BacktrackingLbfgsResult Minimize(Function f, Span<double> x, int maxIterations, double tolerance, double gradientTolerance = 1e-10,
        int memory = 10, IProgress<double>? progress = null, CancellationToken cancellationToken = default, int[]? blocks = null)
    {
        int n = x.Length;
        var g = new double[n];
        var gNew = new double[n];
        var xNew = new double[n];
        var dir = new double[n];
        var s = new double[memory * n];
        var y = new double[memory * n];
        var rho = new double[memory];
        var alpha = new double[memory];
        int stored = 0, head = 0, evaluations = 1;
        double fx = f(x, g);
        if (!double.IsFinite(fx))
        {
            throw new ArgumentException("The objective is not finite at the starting point.", nameof(x));
        }
        const int Window = 5;
        var history = new double[Window];
        history[0] = fx;
        bool restarted = false;
        for (int iter = 1; iter <= maxIterations; iter++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (NormInf(g) <= gradientTolerance)
            {
                return new BacktrackingLbfgsResult(fx, iter - 1, evaluations, true);
            }
            // Two-loop recursion: dir = −H g.
            for (int i = 0; i < n; i++)
            {
                dir[i] = -g[i];
            }
            for (int m = 0; m < stored; m++)
            {
                int idx = (head - 1 - m + memory) % memory;
                alpha[idx] = rho[idx] * Dot(s.AsSpan(idx * n, n), dir);
                Axpy(-alpha[idx], y.AsSpan(idx * n, n), dir);
            }
            double gamma;
            if (stored > 0)
            {
                int last = (head - 1 + memory) % memory;
                ReadOnlySpan<double> yl = y.AsSpan(last * n, n);
                gamma = Dot(s.AsSpan(last * n, n), yl) / Dot(yl, yl);
            }
            else
            {
                // First step (or after a restart): a step of unit length along −g.
                gamma = 1.0 / Math.Max(Norm2(g), 1e-300);
            }
            if (stored > 0 && blocks is not null)
            {
                // Block-wise initial Hessian H0 = diag(γ_b I): γ_b = s_bᵀy_b / y_bᵀy_b on each parameter block of the last
                // pair (the global γ where the block's curvature is not positive; docs/theory/exact-sb.md#optimiser).
                int last = (head - 1 + memory) % memory;
                for (int b = 0; b < blocks.Length; b++)
                {
                    int start = blocks[b], end = b + 1 < blocks.Length ? blocks[b + 1] : n;
                    ReadOnlySpan<double> sb = s.AsSpan(last * n + start, end - start), yb = y.AsSpan(last * n + start, end - start);
                    double sby = Dot(sb, yb), yby = Dot(yb, yb);
                    // Clamped to [γ/100, 100γ]: a block the objective barely sees (a component without mass) has
                    // tiny y_b and would otherwise take unbounded steps that the line search cannot detect.
                    double gb = sby > 0 && yby > 0 ? Math.Clamp(sby / yby, gamma / BlockRange, gamma * BlockRange) : gamma;
                    for (int i = start; i < end; i++)
                    {
                        dir[i] *= gb;
                    }
                }
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    dir[i] *= gamma;
                }
            }
            for (int m = stored - 1; m >= 0; m--)
            {
                int idx = (head - 1 - m + memory) % memory;
                double beta = rho[idx] * Dot(y.AsSpan(idx * n, n), dir);
                Axpy(alpha[idx] - beta, s.AsSpan(idx * n, n), dir);
            }
            double slope = Dot(g, dir);
            if (!(slope < 0))
            {
                // Not a descent direction (rounding): fall back to steepest descent.
                stored = 0;
                double scale = 1.0 / Math.Max(Norm2(g), 1e-300);
                for (int i = 0; i < n; i++)
                {
                    dir[i] = -g[i] * scale;
                }
                slope = Dot(g, dir);
            }
            double step = 1.0, fNew = double.NaN;
            bool accepted = false;
            for (int trial = 0; trial < 40; trial++)
            {
                for (int i = 0; i < n; i++)
                {
                    xNew[i] = x[i] + step * dir[i];
                }
                fNew = f(xNew, gNew);
                evaluations++;
                if (double.IsFinite(fNew) && fNew <= fx + 1e-4 * step * slope)
                {
                    accepted = true;
                    break;
                }
                step *= double.IsFinite(fNew) ? Math.Clamp(-0.5 * slope * step / (fNew - fx - slope * step), 0.1, 0.5) : 0.1;
            }
            if (!accepted)
            {
                if (restarted || stored == 0)
                {
                    return new BacktrackingLbfgsResult(fx, iter - 1, evaluations, false);
                }
                restarted = true;
                stored = 0;
                continue;
            }
            restarted = false;
            Span<double> sNew = s.AsSpan(head * n, n), yNew = y.AsSpan(head * n, n);
            for (int i = 0; i < n; i++)
            {
                sNew[i] = xNew[i] - x[i];
                yNew[i] = gNew[i] - g[i];
            }
            double sy = Dot(sNew, yNew);
            if (sy > 1e-12 * Norm2(sNew) * Norm2(yNew))
            {
                rho[head] = 1.0 / sy;
                head = (head + 1) % memory;
                stored = Math.Min(stored + 1, memory);
            }
            xNew.CopyTo(x);
            gNew.CopyTo(g.AsSpan());
            fx = fNew;
            progress?.Report(fx);
            // history[iter mod Window] holds the value Window iterations ago.
            int w = iter % Window;
            if (iter >= Window && history[w] - fx <= tolerance * Math.Max(1.0, Math.Abs(fx)))
            {
                return new BacktrackingLbfgsResult(fx, iter, evaluations, true);
            }
            history[w] = fx;
        }
        return new BacktrackingLbfgsResult(fx, maxIterations, evaluations, false);
    }

    private const double BlockRange = 100;

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => GmmFlow.Simd.LinearAlgebra.DenseKernels.Dot(a, b);

    private static double Norm2(ReadOnlySpan<double> a) => Math.Sqrt(Dot(a, a));

    private static double NormInf(ReadOnlySpan<double> a)
    {
        double m = 0;
        foreach (double v in a)
        {
            m = Math.Max(m, Math.Abs(v));
        }
        return m;
    }

    private static void Axpy(double a, ReadOnlySpan<double> x, Span<double> y) => System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(x, a, y, y);
}

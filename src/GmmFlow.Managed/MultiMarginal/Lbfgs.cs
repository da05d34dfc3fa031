using GmmFlow.Simd.LinearAlgebra;

namespace GmmFlow;

/// <summary>A smooth objective for <see cref="Lbfgs"/>: value and gradient at a point.</summary>
internal interface IDifferentiableObjective
{
    /// <summary>Returns f(x) and writes ∇f(x) into <paramref name="gradient"/>.</summary>
    double Evaluate(ReadOnlySpan<double> x, Span<double> gradient);
}

/// <summary>Outcome of one <see cref="Lbfgs.Minimize"/> call.</summary>
internal readonly record struct LbfgsResult(double Value, int Iterations, int Evaluations, bool Converged, double GradientNorm);

/// <summary>
/// Limited-memory BFGS (Nocedal &amp; Wright, Numerical Optimization, Alg. 7.4/7.5) with a strong-Wolfe line search
/// (Alg. 3.5/3.6, safeguarded cubic interpolation). One instance is a reusable workspace for a fixed dimension:
/// minimising allocates nothing.
/// </summary>
/// <remarks>
/// docs/theory/multimarginal.md#optimiser. Written here rather than taken from a package: the tuple solver runs it
/// millions of times per tensor on worker threads, so it must not allocate, and the candidate packages are neither
/// trimming- nor AOT-annotated.
/// </remarks>
internal sealed class Lbfgs
{
    private const double C1 = 1e-4;
    private const double C2 = 0.9;
    private const int MaxLineSearchEvaluations = 30;

    private readonly int _n;
    private readonly int _memory;
    private readonly double[] _s, _y, _rho, _alpha;
    private readonly double[] _g, _d, _xTrial, _gTrial, _xLow, _gLow;

    private readonly int[]? _block;
    private readonly double[] _blockSy, _blockYy;

    /// <param name="dimension">Number of variables.</param>
    /// <param name="blocks">
    /// Optional block index (0, 1, …) of every variable: the initial inverse Hessian is then diagonal with one Barzilai–Borwein
    /// scale sᵀy / yᵀy per block (from the newest pair restricted to the block) instead of one for all variables.
    /// </param>
    /// <param name="memory">Number of curvature pairs kept.</param>
    public Lbfgs(int dimension, int[]? blocks = null, int memory = 12)
    {
        if (blocks is not null && blocks.Length != dimension)
        {
            throw new ArgumentException($"expected one block index per variable ({dimension}), got {blocks.Length}.", nameof(blocks));
        }
        _block = blocks;
        int blockCount = blocks is null ? 0 : blocks.Max() + 1;
        _blockSy = new double[blockCount];
        _blockYy = new double[blockCount];
        _n = dimension;
        _memory = memory;
        _s = new double[memory * dimension];
        _y = new double[memory * dimension];
        _rho = new double[memory];
        _alpha = new double[memory];
        _g = new double[dimension];
        _d = new double[dimension];
        _xTrial = new double[dimension];
        _gTrial = new double[dimension];
        _xLow = new double[dimension];
        _gLow = new double[dimension];
    }

    public int Dimension => _n;

    /// <summary>
    /// Minimises from <paramref name="x"/> (overwritten with the minimiser). Stops when ‖∇f‖∞ ≤
    /// <paramref name="gradientTolerance"/>·max(1, |f|), when an iteration lowers f by less than
    /// <paramref name="valueTolerance"/>·max(1, |f|) twice in a row, or after <paramref name="maxIterations"/>.
    /// </summary>
    public LbfgsResult Minimize<T>(ref T objective, Span<double> x, double gradientTolerance, double valueTolerance, int maxIterations)
        where T : struct, IDifferentiableObjective
    {
        int n = _n;
        var g = _g.AsSpan(0, n);
        var d = _d.AsSpan(0, n);
        double f = objective.Evaluate(x, g);
        int evaluations = 1;
        if (!double.IsFinite(f))
        {
            return new LbfgsResult(f, 0, evaluations, false, double.NaN);
        }
        int stored = 0, head = 0, smallDecreases = 0;
        double gNorm = NormInf(g);
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            if (gNorm <= gradientTolerance * Math.Max(1.0, Math.Abs(f)))
            {
                return new LbfgsResult(f, iteration, evaluations, true, gNorm);
            }
            Direction(g, d, stored, head);
            double slope = Dot(g, d);
            if (!(slope < 0))
            {
                // Lost descent (curvature pairs spoiled by round-off): restart from steepest descent.
                stored = 0;
                for (int i = 0; i < n; i++)
                {
                    d[i] = -g[i];
                }
                slope = -Dot(g, g);
            }
            double step = stored == 0 ? Math.Min(1.0, 1.0 / Math.Max(NormInf(g), 1e-300)) : 1.0;
            double fOld = f;
            if (!LineSearch(ref objective, x, f, slope, ref step, ref evaluations, out double fNew))
            {
                // No acceptable step: converged to round-off if the gradient is small-ish, else report failure.
                return new LbfgsResult(f, iteration, evaluations, gNorm <= 1e3 * gradientTolerance * Math.Max(1.0, Math.Abs(f)), gNorm);
            }
            // Accepted point is in _xTrial/_gTrial: store the curvature pair and move.
            var sk = _s.AsSpan(head * n, n);
            var yk = _y.AsSpan(head * n, n);
            double sy = 0.0;
            for (int i = 0; i < n; i++)
            {
                sk[i] = _xTrial[i] - x[i];
                yk[i] = _gTrial[i] - g[i];
                sy += sk[i] * yk[i];
            }
            _xTrial.AsSpan(0, n).CopyTo(x);
            _gTrial.AsSpan(0, n).CopyTo(g);
            f = fNew;
            gNorm = NormInf(g);
            if (sy > 1e-300)
            {
                _rho[head] = 1.0 / sy;
                head = (head + 1) % _memory;
                stored = Math.Min(stored + 1, _memory);
            }
            smallDecreases = fOld - f <= valueTolerance * Math.Max(1.0, Math.Abs(f)) ? smallDecreases + 1 : 0;
            if (smallDecreases >= 2)
            {
                return new LbfgsResult(f, iteration + 1, evaluations, true, gNorm);
            }
        }
        return new LbfgsResult(f, maxIterations, evaluations, false, gNorm);
    }

    /// <summary>
    /// Two-loop recursion: d = −H g with H₀ = (sᵀy / yᵀy) I from the newest pair, or per block (a block whose
    /// restricted sᵀy is not positive keeps the global scale).
    /// </summary>
    private void Direction(ReadOnlySpan<double> g, Span<double> d, int stored, int head)
    {
        int n = _n;
        for (int i = 0; i < n; i++)
        {
            d[i] = -g[i];
        }
        for (int j = 0; j < stored; j++)
        {
            int slot = (head - 1 - j + _memory) % _memory;
            var s = _s.AsSpan(slot * n, n);
            var y = _y.AsSpan(slot * n, n);
            double a = _rho[slot] * Dot(s, d);
            _alpha[slot] = a;
            DenseKernels.Axpy(-a, y, d);
        }
        if (stored > 0)
        {
            int newest = (head - 1 + _memory) % _memory;
            var y = _y.AsSpan(newest * n, n);
            double gamma = 1.0 / (_rho[newest] * Dot(y, y));
            if (_block is null)
            {
                for (int i = 0; i < n; i++)
                {
                    d[i] *= gamma;
                }
            }
            else
            {
                var s0 = _s.AsSpan(newest * n, n);
                Array.Clear(_blockSy);
                Array.Clear(_blockYy);
                for (int i = 0; i < n; i++)
                {
                    _blockSy[_block[i]] += s0[i] * y[i];
                    _blockYy[_block[i]] += y[i] * y[i];
                }
                for (int i = 0; i < n; i++)
                {
                    int b = _block[i];
                    double gb = _blockSy[b] > 0 && _blockYy[b] > 0 ? _blockSy[b] / _blockYy[b] : gamma;
                    d[i] *= gb;
                }
            }
        }
        for (int j = stored - 1; j >= 0; j--)
        {
            int slot = (head - 1 - j + _memory) % _memory;
            var s = _s.AsSpan(slot * n, n);
            var y = _y.AsSpan(slot * n, n);
            double b = _rho[slot] * Dot(y, d);
            DenseKernels.Axpy(_alpha[slot] - b, s, d);
        }
    }

    /// <summary>Strong-Wolfe search along _d from x; on success the accepted point and gradient are in _xTrial/_gTrial.</summary>
    private bool LineSearch<T>(ref T objective, ReadOnlySpan<double> x, double f0, double slope0, ref double step, ref int evaluations, out double fAccepted)
        where T : struct, IDifferentiableObjective
    {
        double prevStep = 0.0, fPrev = f0, slopePrev = slope0;
        for (int i = 0; i < MaxLineSearchEvaluations; i++)
        {
            double fStep = Trial(ref objective, x, step, out double slopeStep);
            evaluations++;
            if (!double.IsFinite(fStep) || fStep > f0 + C1 * step * slope0 || (i > 0 && fStep >= fPrev))
            {
                if (!double.IsFinite(fStep))
                {
                    // Outside the domain (e.g. a covariance lost definiteness): shrink and retry.
                    step = prevStep + 0.1 * (step - prevStep);
                    continue;
                }
                return Zoom(ref objective, x, f0, slope0, prevStep, fPrev, slopePrev, step, fStep, slopeStep, ref evaluations, out fAccepted);
            }
            if (Math.Abs(slopeStep) <= -C2 * slope0)
            {
                fAccepted = fStep;
                return true;
            }
            if (slopeStep >= 0)
            {
                return Zoom(ref objective, x, f0, slope0, step, fStep, slopeStep, prevStep, fPrev, slopePrev, ref evaluations, out fAccepted);
            }
            prevStep = step;
            fPrev = fStep;
            slopePrev = slopeStep;
            step *= 2.0;
        }
        fAccepted = f0;
        return false;
    }

    private bool Zoom<T>(ref T objective, ReadOnlySpan<double> x, double f0, double slope0,
        double low, double fLow, double slopeLow, double high, double fHigh, double slopeHigh, ref int evaluations, out double fAccepted)
        where T : struct, IDifferentiableObjective
    {
        bool haveLow = false;
        for (int i = 0; i < MaxLineSearchEvaluations; i++)
        {
            double width = high - low;
            double trial = CubicMinimizer(low, fLow, slopeLow, high, fHigh, slopeHigh);
            double lo = Math.Min(low, high) + 0.1 * Math.Abs(width), hi = Math.Max(low, high) - 0.1 * Math.Abs(width);
            if (!(trial >= lo && trial <= hi))
            {
                trial = 0.5 * (low + high);
            }
            if (Math.Abs(width) <= 1e-16 * Math.Max(1.0, Math.Abs(low)))
            {
                break;
            }
            double fTrial = Trial(ref objective, x, trial, out double slopeTrial);
            evaluations++;
            if (!double.IsFinite(fTrial) || fTrial > f0 + C1 * trial * slope0 || fTrial >= fLow)
            {
                high = trial;
                fHigh = double.IsFinite(fTrial) ? fTrial : double.MaxValue;
                slopeHigh = double.IsFinite(slopeTrial) ? slopeTrial : 0.0;
            }
            else
            {
                if (Math.Abs(slopeTrial) <= -C2 * slope0)
                {
                    fAccepted = fTrial;
                    return true;
                }
                if (slopeTrial * (high - low) >= 0)
                {
                    high = low;
                    fHigh = fLow;
                    slopeHigh = slopeLow;
                }
                low = trial;
                fLow = fTrial;
                slopeLow = slopeTrial;
                haveLow = true;
                _xTrial.AsSpan(0, _n).CopyTo(_xLow);
                _gTrial.AsSpan(0, _n).CopyTo(_gLow);
            }
        }
        // Interval collapsed: accept the best sufficient-decrease point seen, if any (round-off regime).
        if (haveLow && fLow < f0)
        {
            _xLow.AsSpan(0, _n).CopyTo(_xTrial);
            _gLow.AsSpan(0, _n).CopyTo(_gTrial);
            fAccepted = fLow;
            return true;
        }
        fAccepted = f0;
        return false;
    }

    private double Trial<T>(ref T objective, ReadOnlySpan<double> x, double step, out double slope)
        where T : struct, IDifferentiableObjective
    {
        int n = _n;
        x.CopyTo(_xTrial);
        DenseKernels.Axpy(step, _d.AsSpan(0, n), _xTrial);
        double f = objective.Evaluate(_xTrial.AsSpan(0, n), _gTrial.AsSpan(0, n));
        slope = Dot(_gTrial.AsSpan(0, n), _d.AsSpan(0, n));
        return f;
    }

    /// <summary>Minimiser of the cubic through (a, fa, ga), (b, fb, gb); NaN when it has none.</summary>
    private static double CubicMinimizer(double a, double fa, double ga, double b, double fb, double gb)
    {
        double d1 = ga + gb - 3.0 * (fa - fb) / (a - b);
        double disc = d1 * d1 - ga * gb;
        if (!(disc >= 0))
        {
            return double.NaN;
        }
        double d2 = Math.Sign(b - a) * Math.Sqrt(disc);
        return b - (b - a) * (gb + d2 - d1) / (gb - ga + 2.0 * d2);
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b) => DenseKernels.Dot(a, b);

    private static double NormInf(ReadOnlySpan<double> a)
    {
        double m = 0.0;
        for (int i = 0; i < a.Length; i++)
        {
            m = Math.Max(m, Math.Abs(a[i]));
        }
        return m;
    }
}

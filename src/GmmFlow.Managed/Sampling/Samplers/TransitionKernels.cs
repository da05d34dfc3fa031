namespace GmmFlow.Sampling;

/// <summary>The step of the annealing path a kernel moves for: π_β ∝ p^{1−β} ρ^β, with the step's size.</summary>
/// <param name="Index">Step n in 1..N.</param>
/// <param name="Steps">N.</param>
/// <param name="Beta">β_n.</param>
/// <param name="StepSize">The kernel's step size for this step (adapted between steps).</param>
/// <param name="Preconditioner">Diagonal preconditioner D (d values; the step moves by η D ∇ and noise √(2ηD)).</param>
public readonly record struct AnnealingStep(int Index, int Steps, double Beta, double StepSize, double[] Preconditioner);

/// <summary>
/// A particle's cached state: position and log ρ, ∇log ρ, log p, ∇log p there. Kernels read it and overwrite it
/// with the moved particle.
/// </summary>
public readonly ref struct ParticleState
{
    public ParticleState(Span<double> x, Span<double> gradLogRho, Span<double> gradLogPrior, ref double logRho, ref double logPrior)
    {
        X = x;
        GradLogRho = gradLogRho;
        GradLogPrior = gradLogPrior;
        _logRho = ref logRho;
        _logPrior = ref logPrior;
    }

    private readonly ref double _logRho;
    private readonly ref double _logPrior;

    public Span<double> X { get; }
    public Span<double> GradLogRho { get; }
    public Span<double> GradLogPrior { get; }
    public ref double LogRho => ref _logRho;
    public ref double LogPrior => ref _logPrior;
}

/// <summary>Evaluates target and prior at one point (checked); handed to kernels for their proposals.</summary>
public sealed class PointEvaluator
{
    private readonly ITarget _target;
    private readonly MixturePrior _prior;

    internal PointEvaluator(ITarget target, MixturePrior prior)
    {
        _target = target;
        _prior = prior;
        ScratchLength = prior.ScratchLength + 1;
    }

    public int Dimension => _target.Dimension;

    /// <summary>Scratch doubles <see cref="Evaluate"/> needs.</summary>
    public int ScratchLength { get; }

    public MixturePrior Prior => _prior;

    /// <summary>log ρ(x), log p(x) and their gradients; thread-safe (callers pass their own scratch).</summary>
    public void Evaluate(ReadOnlySpan<double> x, Span<double> gradLogRho, Span<double> gradLogPrior, Span<double> scratch, out double logRho, out double logPrior)
    {
        Span<double> one = scratch[..1];
        TargetChecks.EvaluateChecked(_target, x, one, gradLogRho);
        logRho = one[0];
        logPrior = _prior.LogDensity(x, gradLogPrior, scratch[1..]);
    }
}

/// <summary>
/// A Markov transition used along the annealing path. Invariant kernels (MALA, HMC) leave π_β invariant and return a zero
/// weight correction; an unadjusted kernel (ULA, or a learned drift) returns log γ_β(x′) − log γ_β(x) + log B(x | x′) −
/// log F(x′ | x), which makes the importance weights exact for any step size. docs/theory/samplers.md#kernels
/// </summary>
/// <remarks>Move is called concurrently for different particles: implementations must be thread-safe.</remarks>
public interface ITransitionKernel
{
    string Name { get; }

    /// <summary>Acceptance rate the step size is adapted to (for ULA the would-be MALA acceptance).</summary>
    double TargetAcceptance { get; }

    /// <summary>Scratch doubles <see cref="Move"/> needs for dimension d and an evaluator scratch of <paramref name="evaluatorScratch"/>.</summary>
    int ScratchLength(int dimension, int evaluatorScratch);

    /// <summary>
    /// Moves one particle in place. <paramref name="rng"/> with <paramref name="stream"/> and counters from
    /// <paramref name="counter"/> upwards gives its randomness. Returns the log-weight correction.
    /// </summary>
    double Move(ParticleState particle, in AnnealingStep step, PointEvaluator evaluator, CounterRng rng, ulong stream, ulong counter, Span<double> scratch, out double acceptance);
}

/// <summary>A drift field for an unadjusted Langevin kernel (the annealed score by default; a learned control later).</summary>
public interface IDrift
{
    /// <summary>Writes the drift at the particle's position into <paramref name="drift"/>; thread-safe.</summary>
    void Evaluate(ParticleState particle, in AnnealingStep step, Span<double> drift);
}

/// <summary>The score of the annealed density: ∇log π_β = β ∇log ρ + (1 − β) ∇log p.</summary>
public sealed class AnnealedScoreDrift : IDrift
{
    public static AnnealedScoreDrift Instance { get; } = new();

    public void Evaluate(ParticleState particle, in AnnealingStep step, Span<double> drift)
    {
        double b = step.Beta;
        for (int j = 0; j < drift.Length; j++)
        {
            drift[j] = (b * particle.GradLogRho[j]) + ((1 - b) * particle.GradLogPrior[j]);
        }
    }
}

/// <summary>Shared Langevin formulas.</summary>
internal static class LangevinKernels
{
    /// <summary>
    /// log of the MALA acceptance ratio for a move x → y with proposal N(x + h D g(x), 2hD):
    /// log π(y) − log π(x) + log q(x | y) − log q(y | x). D = null means the identity.
    /// </summary>
    internal static double MalaLogRatio(ReadOnlySpan<double> x, ReadOnlySpan<double> y, double logPx, double logPy,
        ReadOnlySpan<double> gx, ReadOnlySpan<double> gy, double h, double[]? d)
    {
        double forward = 0, backward = 0;
        for (int j = 0; j < x.Length; j++)
        {
            double dj = d is null ? 1 : d[j];
            double f = y[j] - x[j] - (h * dj * gx[j]);
            double b = x[j] - y[j] - (h * dj * gy[j]);
            forward += f * f / dj;
            backward += b * b / dj;
        }
        return logPy - logPx + ((forward - backward) / (4 * h));
    }

    internal static double LogGamma(double beta, double logRho, double logPrior)
        => beta == 0 ? logPrior : beta == 1 ? logRho : (beta * logRho) + ((1 - beta) * logPrior);
}

/// <summary>
/// Langevin kernel x′ = x + η D a(x) + √(2ηD) ξ. Adjusted (MALA): Metropolis–Hastings accept/reject for π_β, drift the
/// annealed score. Unadjusted (ULA): always moves, with forward drift a and backward drift b entering the weight
/// correction (both the annealed score by default; a learned drift plugs in here). docs/theory/samplers.md#kernels
/// </summary>
public sealed class LangevinKernel : ITransitionKernel
{
    private readonly IDrift _forward;
    private readonly IDrift _backward;

    private LangevinKernel(bool adjusted, IDrift forward, IDrift backward)
    {
        Adjusted = adjusted;
        _forward = forward;
        _backward = backward;
    }

    /// <summary>Metropolis-adjusted Langevin for π_β.</summary>
    public static LangevinKernel Mala() => new(true, AnnealedScoreDrift.Instance, AnnealedScoreDrift.Instance);

    /// <summary>Unadjusted Langevin with the given forward and backward drifts (the annealed score when null).</summary>
    public static LangevinKernel Ula(IDrift? forward = null, IDrift? backward = null)
        => new(false, forward ?? AnnealedScoreDrift.Instance, backward ?? AnnealedScoreDrift.Instance);

    public bool Adjusted { get; }
    public string Name => Adjusted ? "mala" : "ula";
    /// <summary>
    /// MALA: 0.574 (the optimal-scaling rate). ULA: 0.9, since its weight correction carries the discretisation error,
    /// whose variance grows quickly with the step; a would-be acceptance of 0.9 keeps it small.
    /// </summary>
    public double TargetAcceptance => Adjusted ? 0.574 : 0.9;

    public int ScratchLength(int dimension, int evaluatorScratch) => (5 * dimension) + evaluatorScratch;

    public double Move(ParticleState particle, in AnnealingStep step, PointEvaluator evaluator, CounterRng rng, ulong stream, ulong counter, Span<double> scratch, out double acceptance)
    {
        int d = particle.X.Length;
        double h = step.StepSize;
        double[] pre = step.Preconditioner;
        Span<double> y = scratch[..d];
        Span<double> gyRho = scratch.Slice(d, d);
        Span<double> gyPrior = scratch.Slice(2 * d, d);
        Span<double> ax = scratch.Slice(3 * d, d);
        Span<double> by = scratch.Slice(4 * d, d);
        Span<double> evalScratch = scratch[(5 * d)..];
        _forward.Evaluate(particle, step, ax);
        rng.FillNormal(stream, counter, y);
        for (int j = 0; j < d; j++)
        {
            y[j] = particle.X[j] + (h * pre[j] * ax[j]) + (Math.Sqrt(2 * h * pre[j]) * y[j]);
        }
        evaluator.Evaluate(y, gyRho, gyPrior, evalScratch, out double logRhoY, out double logPriorY);
        double logRhoX = particle.LogRho, logPriorX = particle.LogPrior;
        double logGx = LangevinKernels.LogGamma(step.Beta, logRhoX, logPriorX);
        double logGy = LangevinKernels.LogGamma(step.Beta, logRhoY, logPriorY);
        var moved = new ParticleState(y, gyRho, gyPrior, ref logRhoY, ref logPriorY);
        _backward.Evaluate(moved, step, by);
        double forward = 0, backward = 0;
        for (int j = 0; j < d; j++)
        {
            double f = y[j] - particle.X[j] - (h * pre[j] * ax[j]);
            double b = particle.X[j] - y[j] - (h * pre[j] * by[j]);
            forward += f * f / pre[j];
            backward += b * b / pre[j];
        }
        double logRatio = logGy - logGx + ((forward - backward) / (4 * h));
        if (double.IsNaN(logRatio) || double.IsNegativeInfinity(logGy))
        {
            logRatio = double.NegativeInfinity;
        }
        acceptance = Math.Exp(Math.Min(0, logRatio));
        if (Adjusted)
        {
            // The uniform uses a counter past the d/2 normal pairs.
            if (rng.Uniform(stream, counter + (ulong)d) >= acceptance)
            {
                return 0;
            }
            Accept(particle, y, gyRho, gyPrior, logRhoY, logPriorY);
            return 0;
        }
        Accept(particle, y, gyRho, gyPrior, logRhoY, logPriorY);
        return logRatio;
    }

    internal static void Accept(ParticleState particle, ReadOnlySpan<double> y, ReadOnlySpan<double> gRho, ReadOnlySpan<double> gPrior, double logRho, double logPrior)
    {
        y.CopyTo(particle.X);
        gRho.CopyTo(particle.GradLogRho);
        gPrior.CopyTo(particle.GradLogPrior);
        particle.LogRho = logRho;
        particle.LogPrior = logPrior;
    }
}

/// <summary>
/// Hamiltonian Monte Carlo for π_β with mass matrix D⁻¹ (D the diagonal preconditioner), L leapfrog steps of size ε
/// (the adapted step size), and a Metropolis–Hastings correction. docs/theory/samplers.md#kernels
/// </summary>
public sealed class HmcKernel(int leapfrogSteps = 5) : ITransitionKernel
{
    public int LeapfrogSteps { get; } = leapfrogSteps >= 1 ? leapfrogSteps : throw new ArgumentOutOfRangeException(nameof(leapfrogSteps), leapfrogSteps, "At least one leapfrog step.");
    public string Name => "hmc";
    public double TargetAcceptance => 0.65;

    public int ScratchLength(int dimension, int evaluatorScratch) => (4 * dimension) + evaluatorScratch;

    public double Move(ParticleState particle, in AnnealingStep step, PointEvaluator evaluator, CounterRng rng, ulong stream, ulong counter, Span<double> scratch, out double acceptance)
    {
        int d = particle.X.Length;
        double eps = step.StepSize;
        double beta = step.Beta;
        double[] pre = step.Preconditioner;
        Span<double> q = scratch[..d];
        Span<double> v = scratch.Slice(d, d);
        Span<double> gRho = scratch.Slice(2 * d, d);
        Span<double> gPrior = scratch.Slice(3 * d, d);
        Span<double> evalScratch = scratch[(4 * d)..];
        rng.FillNormal(stream, counter, v);
        double kinetic0 = 0;
        for (int j = 0; j < d; j++)
        {
            v[j] /= Math.Sqrt(pre[j]); // momentum ~ N(0, D⁻¹)
            kinetic0 += 0.5 * v[j] * v[j] * pre[j];
        }
        particle.X.CopyTo(q);
        particle.GradLogRho.CopyTo(gRho);
        particle.GradLogPrior.CopyTo(gPrior);
        double logRho = particle.LogRho, logPrior = particle.LogPrior;
        for (int l = 0; l < LeapfrogSteps; l++)
        {
            for (int j = 0; j < d; j++)
            {
                v[j] += 0.5 * eps * ((beta * gRho[j]) + ((1 - beta) * gPrior[j]));
                q[j] += eps * pre[j] * v[j];
            }
            evaluator.Evaluate(q, gRho, gPrior, evalScratch, out logRho, out logPrior);
            for (int j = 0; j < d; j++)
            {
                v[j] += 0.5 * eps * ((beta * gRho[j]) + ((1 - beta) * gPrior[j]));
            }
        }
        double kinetic1 = 0;
        for (int j = 0; j < d; j++)
        {
            kinetic1 += 0.5 * v[j] * v[j] * pre[j];
        }
        double logRatio = LangevinKernels.LogGamma(beta, logRho, logPrior) - kinetic1
            - (LangevinKernels.LogGamma(beta, particle.LogRho, particle.LogPrior) - kinetic0);
        acceptance = double.IsNaN(logRatio) ? 0 : Math.Exp(Math.Min(0, logRatio));
        if (rng.Uniform(stream, counter + (ulong)d) < acceptance)
        {
            LangevinKernel.Accept(particle, q, gRho, gPrior, logRho, logPrior);
        }
        return 0;
    }
}

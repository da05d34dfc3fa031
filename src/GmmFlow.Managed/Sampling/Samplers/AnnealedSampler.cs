using System.Buffers;
using GmmFlow.Simd;

namespace GmmFlow.Sampling;

/// <summary>Built-in transition kernels.</summary>
public enum KernelKind
{
    /// <summary>Unadjusted Langevin with exact forward/backward weight corrections.</summary>
    Ula,

    /// <summary>Metropolis-adjusted Langevin.</summary>
    Mala,

    /// <summary>Hamiltonian Monte Carlo.</summary>
    Hmc,
}

/// <summary>Settings of <see cref="AnnealedSampler.Run"/>.</summary>
public sealed class AnnealingOptions
{
    /// <summary>Particles (= samples) P.</summary>
    public int Particles { get; init; } = 2000;

    /// <summary>Annealing steps N; 0 is plain importance sampling from the prior.</summary>
    public int Steps { get; init; } = 128;

    public KernelKind Kernel { get; init; } = KernelKind.Mala;

    /// <summary>A custom kernel (e.g. a learned drift); overrides <see cref="Kernel"/>.</summary>
    public ITransitionKernel? CustomKernel { get; init; }

    /// <summary>Leapfrog steps per HMC move.</summary>
    public int LeapfrogSteps { get; init; } = 5;

    /// <summary>Initial step size (η for Langevin kernels, ε for HMC), relative to the preconditioner.</summary>
    public double InitialStepSize { get; init; } = 0.05;

    /// <summary>Adapt the step size after each annealing step towards the kernel's target acceptance.</summary>
    public bool AdaptStepSize { get; init; } = true;

    /// <summary>SMC: resample when the normalised ESS falls below this; 0 never resamples (AIS).</summary>
    public double ResampleThreshold { get; init; }

    /// <summary>Precondition the kernels by the prior's per-coordinate variances (else the identity).</summary>
    public bool Precondition { get; init; } = true;

    /// <summary>β_n = (n / N)^power.</summary>
    public double SchedulePower { get; init; } = 1;

    public ulong Seed { get; init; }

    internal void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }
        Require(Particles >= 1 && Particles <= (1 << 30), $"Particles must be in [1, 2^30] (got {Particles}).");
        Require(Steps >= 0, $"Steps must be non-negative (got {Steps}).");
        Require(LeapfrogSteps >= 1, $"LeapfrogSteps must be at least 1 (got {LeapfrogSteps}).");
        Require(InitialStepSize > 0 && double.IsFinite(InitialStepSize), $"InitialStepSize must be positive (got {InitialStepSize}).");
        Require(ResampleThreshold is >= 0 and <= 1, $"ResampleThreshold must be in [0, 1] (got {ResampleThreshold}).");
        Require(SchedulePower > 0 && double.IsFinite(SchedulePower), $"SchedulePower must be positive (got {SchedulePower}).");
    }
}

/// <summary>Progress of an annealed run: step n of N, the current step size and acceptance.</summary>
public readonly record struct AnnealingProgress(int Step, int Steps, double StepSize, double Acceptance);

/// <summary>Samples, log-weights and estimates of an importance / annealed importance / SMC run.</summary>
public sealed class SamplerResult
{
    internal SamplerResult(int dimension, double[] samples, double[] logWeights, double logNormalizer, double elbo, int resamplings, double[] stepSizes, double[] acceptance)
    {
        Dimension = dimension;
        Samples = samples;
        LogWeights = logWeights;
        LogNormalizer = logNormalizer;
        Elbo = elbo;
        Resamplings = resamplings;
        StepSizes = stepSizes;
        AcceptanceRates = acceptance;
        EffectiveSampleSize = SamplerMetrics.EffectiveSampleSize(logWeights);
    }

    public int Dimension { get; }

    /// <summary>Final particles, P×d.</summary>
    public double[] Samples { get; }

    /// <summary>Final log-weights (since the last resampling for SMC).</summary>
    public double[] LogWeights { get; }

    /// <summary>log Ẑ (unbiased Ẑ).</summary>
    public double LogNormalizer { get; }

    /// <summary>Mean log-weight, a lower bound on log Z in expectation; NaN when SMC resampled (no per-particle bound then).</summary>
    public double Elbo { get; }

    /// <summary>Normalised effective sample size of the final weights, in (0, 1].</summary>
    public double EffectiveSampleSize { get; }

    public int Resamplings { get; }
    public double[] StepSizes { get; }
    public double[] AcceptanceRates { get; }
}

/// <summary>
/// Importance sampling, annealed importance sampling and SMC from a learned prior along π_β ∝ p^{1−β} ρ^β with ULA, MALA
/// or HMC moves (or any <see cref="ITransitionKernel"/>). Reproducible from the seed for any thread count: every particle
/// draws from its own counter-based stream and all reductions run in particle order. docs/theory/samplers.md#annealing
/// </summary>
public static class AnnealedSampler
{
    private const int Grain = 8;

    public static SamplerResult Run(ITarget target, MixturePrior prior, AnnealingOptions options, IProgress<AnnealingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(prior);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (prior.Dimension != target.Dimension)
        {
            throw new ArgumentException($"The prior has dimension {prior.Dimension}, the target {target.Dimension}.", nameof(prior));
        }
        if (prior.ComponentCount == 0)
        {
            throw new ArgumentException("The prior has no component.", nameof(prior));
        }
        int d = target.Dimension;
        int n = options.Particles;
        var rng = new CounterRng(options.Seed);
        var batch = new ParticleBatch(target, prior, n);
        var z = new double[d];
        int kc = prior.ComponentCount;
        for (int i = 0; i < n; i++)
        {
            ulong stream = (ulong)i;
            rng.FillNormal(stream, 0, z);
            prior.Transform(Math.Min(kc - 1, (int)(rng.Uniform(stream, ulong.MaxValue) * kc)), z, batch.Point(i));
        }
        batch.Evaluate();

        var logW = new double[n];
        var inc = new double[n];
        var acc = new double[n];
        int steps = options.Steps;
        var stepSizes = new double[steps];
        var acceptance = new double[steps];
        ITransitionKernel kernel = options.CustomKernel ?? options.Kernel switch
        {
            KernelKind.Ula => LangevinKernel.Ula(),
            KernelKind.Hmc => new HmcKernel(options.LeapfrogSteps),
            _ => LangevinKernel.Mala(),
        };
        double[] pre = options.Precondition ? prior.MarginalVariances() : Ones(d);
        var evaluator = new PointEvaluator(target, prior);
        double h = options.InitialStepSize;
        double logZAccumulated = 0;
        int resamplings = 0;
        double betaPrev = 0;
        for (int s = 1; s <= steps; s++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double beta = s == steps ? 1 : Math.Pow((double)s / steps, options.SchedulePower);
            var step = new AnnealingStep(s, steps, beta, h, pre);
            var body = new MoveBody
            {
                Batch = batch, Kernel = kernel, Evaluator = evaluator, Step = step, Rng = rng, DeltaBeta = beta - betaPrev,
                Increment = inc, Acceptance = acc, ScratchLength = kernel.ScratchLength(d, evaluator.ScratchLength),
            };
            ParallelRange.For(n, Grain, body);
            double meanAcceptance = 0;
            for (int i = 0; i < n; i++)
            {
                logW[i] += inc[i];
                meanAcceptance += acc[i];
            }
            meanAcceptance /= n;
            stepSizes[s - 1] = h;
            acceptance[s - 1] = meanAcceptance;
            if (options.AdaptStepSize)
            {
                h = Math.Clamp(h * Math.Exp(2 * (meanAcceptance - kernel.TargetAcceptance)), 1e-10, 1e4);
            }
            if (s < steps && options.ResampleThreshold > 0 && SamplerMetrics.EffectiveSampleSize(logW) < options.ResampleThreshold)
            {
                logZAccumulated += SamplerMetrics.LogMeanExp(logW);
                Resample(batch, logW, rng.Uniform(ulong.MaxValue, (ulong)s));
                Array.Clear(logW);
                resamplings++;
            }
            betaPrev = beta;
            progress?.Report(new AnnealingProgress(s, steps, stepSizes[s - 1], meanAcceptance));
        }
        if (steps == 0)
        {
            for (int i = 0; i < n; i++)
            {
                logW[i] = batch.LogRho[i] - batch.LogPrior[i];
            }
        }
        double logZ = logZAccumulated + SamplerMetrics.LogMeanExp(logW);
        double elbo = resamplings == 0 ? SamplerMetrics.Mean(logW) : double.NaN;
        return new SamplerResult(d, batch.X, logW, logZ, elbo, resamplings, stepSizes, acceptance);
    }

    private static double[] Ones(int d)
    {
        var v = new double[d];
        Array.Fill(v, 1.0);
        return v;
    }

    // Systematic resampling with one uniform: particle i is copied floor(P·Wᵢ + …) times, in particle order.
    private static void Resample(ParticleBatch batch, double[] logW, double u)
    {
        int n = batch.Count;
        int d = batch.Target.Dimension;
        double max = double.NegativeInfinity;
        foreach (double v in logW)
        {
            max = Math.Max(max, v);
        }
        var cumulative = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            total += Math.Exp(logW[i] - max);
            cumulative[i] = total;
        }
        var source = new int[n];
        int j = 0;
        for (int i = 0; i < n; i++)
        {
            double position = (i + u) / n * total;
            while (j < n - 1 && cumulative[j] < position)
            {
                j++;
            }
            source[i] = j;
        }
        var x = (double[])batch.X.Clone();
        var gr = (double[])batch.GradRho.Clone();
        var gp = (double[])batch.GradPrior.Clone();
        var lr = (double[])batch.LogRho.Clone();
        var lp = (double[])batch.LogPrior.Clone();
        for (int i = 0; i < n; i++)
        {
            int s = source[i];
            Array.Copy(x, s * d, batch.X, i * d, d);
            Array.Copy(gr, s * d, batch.GradRho, i * d, d);
            Array.Copy(gp, s * d, batch.GradPrior, i * d, d);
            batch.LogRho[i] = lr[s];
            batch.LogPrior[i] = lp[s];
        }
    }

    private struct MoveBody : IRangeBody
    {
        public ParticleBatch Batch;
        public ITransitionKernel Kernel;
        public PointEvaluator Evaluator;
        public AnnealingStep Step;
        public CounterRng Rng;
        public double DeltaBeta;
        public double[] Increment;
        public double[] Acceptance;
        public int ScratchLength;

        public readonly void Execute(int start, int end)
        {
            ParticleBatch b = Batch;
            int d = b.Target.Dimension;
            double[] scratch = ArrayPool<double>.Shared.Rent(ScratchLength);
            try
            {
                for (int i = start; i < end; i++)
                {
                    // AIS increment at the particle before its move: log π_β(x) − log π_β′(x) = Δβ (log ρ − log p).
                    double increment = DeltaBeta * (b.LogRho[i] - b.LogPrior[i]);
                    if (double.IsNaN(increment))
                    {
                        increment = double.NegativeInfinity; // ρ(x) = 0: the particle carries no weight
                    }
                    var particle = new ParticleState(b.X.AsSpan(i * d, d), b.GradRho.AsSpan(i * d, d), b.GradPrior.AsSpan(i * d, d), ref b.LogRho[i], ref b.LogPrior[i]);
                    ulong counter = (ulong)Step.Index * (ulong)(d + 8) * 64;
                    increment += Kernel.Move(particle, Step, Evaluator, Rng, (ulong)i, counter, scratch.AsSpan(0, ScratchLength), out double a);
                    Increment[i] = increment;
                    Acceptance[i] = a;
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(scratch);
            }
        }
    }
}

namespace GmmFlow.Sampling;

/// <summary>Settings of <see cref="VariationalFitter.Fit"/>.</summary>
public sealed class VariationalOptions
{
    /// <summary>Maximum number of components K.</summary>
    public int Components { get; init; } = 10;

    /// <summary>Adam iterations.</summary>
    public int Iterations { get; init; } = 2000;

    /// <summary>Reparameterised samples per iteration.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Element-wise clip of the gradient before Adam (the paper's runs use 1).</summary>
    public double GradientClip { get; init; } = 1;

    public CovarianceType CovarianceType { get; init; } = CovarianceType.Diagonal;

    /// <summary>Scale of the first component and of every component IMR adds.</summary>
    public double InitialScale { get; init; } = 1;

    /// <summary>
    /// Scale of the broad distribution N(InitialMean, scale²) that IMR draws half its chains' starting points from (the
    /// other half from the current prior), and of the random initial means when IMR is off; <see cref="InitialScale"/> when 0.
    /// </summary>
    public double ExplorationScale { get; init; }

    internal double Exploration => ExplorationScale > 0 ? ExplorationScale : InitialScale;

    /// <summary>Mean of the first component (zero when null).</summary>
    public double[]? InitialMean { get; init; }

    /// <summary>
    /// Iterative model refinement: start with one component and add one every this many iterations until
    /// <see cref="Components"/>; 0 starts with all K components at means drawn from N(InitialMean, InitialScale²).
    /// </summary>
    public int ImrEvery { get; init; }

    /// <summary>Number of MALA chains that propose a new component's mean.</summary>
    public int ImrCandidates { get; init; } = 256;

    /// <summary>MALA steps per candidate chain.</summary>
    public int ImrMalaSteps { get; init; } = 30;

    /// <summary>
    /// τ of the candidate score log ρ(x) − max(maxₓ′ log p(x′) − τ, log p(x)) (docs/theory/samplers.md#imr); ∞ gives the
    /// plain difference log ρ − log p.
    /// </summary>
    public double ImrClip { get; init; } = double.PositiveInfinity;

    public ulong Seed { get; init; }

    internal void Validate(int dimension)
    {
        static void Require(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }
        Require(Components >= 1, $"Components must be at least 1 (got {Components}).");
        Require(Iterations >= 0, $"Iterations must be non-negative (got {Iterations}).");
        Require(BatchSize >= 1 && BatchSize <= (1 << 24), $"BatchSize must be in [1, 2^24] (got {BatchSize}).");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), $"LearningRate must be positive (got {LearningRate}).");
        Require(GradientClip > 0, $"GradientClip must be positive (got {GradientClip}).");
        Require(InitialScale > 0 && double.IsFinite(InitialScale), $"InitialScale must be positive (got {InitialScale}).");
        Require(ExplorationScale >= 0 && double.IsFinite(ExplorationScale), $"ExplorationScale must be non-negative (got {ExplorationScale}).");
        Require(InitialMean is null || InitialMean.Length == dimension, $"InitialMean needs {dimension} values.");
        Require(ImrEvery >= 0, $"ImrEvery must be non-negative (got {ImrEvery}).");
        Require(ImrCandidates >= 1 && ImrCandidates <= (1 << 24), $"ImrCandidates must be in [1, 2^24] (got {ImrCandidates}).");
        Require(ImrMalaSteps >= 0, $"ImrMalaSteps must be non-negative (got {ImrMalaSteps}).");
        Require(ImrClip > 0, $"ImrClip must be positive (got {ImrClip}).");
    }
}

/// <summary>Progress of a variational fit: iteration, active components, the batch ELBO estimate.</summary>
public readonly record struct VariationalProgress(int Iteration, int Iterations, int Components, double Elbo);

/// <summary>Result of <see cref="VariationalFitter.Fit"/>: the prior and the per-iteration batch ELBO estimates.</summary>
public sealed record VariationalFit(MixturePrior Prior, double[] ElboTrace, int[] ComponentsAdded);

/// <summary>
/// Fits a <see cref="MixturePrior"/> to a target by maximising the reverse-KL ELBO E_p[log ρ − log p] with pathwise
/// ("sticking the landing") gradients, element-wise gradient clipping and Adam, optionally growing the mixture by
/// iterative model refinement. Reproducible from the seed for any thread count. docs/theory/samplers.md#elbo-gradient
/// </summary>
public static class VariationalFitter
{
    private const double Beta1 = 0.9, Beta2 = 0.999, AdamEpsilon = 1e-8;

    public static VariationalFit Fit(ITarget target, VariationalOptions options, IProgress<VariationalProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        int d = target.Dimension;
        options.Validate(d);
        var rng = new CounterRng(options.Seed);
        var prior = new MixturePrior(d, options.Components, options.CovarianceType);
        double[] mean0 = options.InitialMean ?? new double[d];
        var added = new List<int>();
        if (options.ImrEvery > 0)
        {
            prior.AddComponent(mean0, options.InitialScale);
        }
        else
        {
            var m = new double[d];
            for (int k = 0; k < options.Components; k++)
            {
                rng.FillNormal(ulong.MaxValue - (ulong)k, 0, m);
                for (int j = 0; j < d; j++)
                {
                    m[j] = mean0[j] + (options.Exploration * m[j]);
                }
                prior.AddComponent(m, options.InitialScale);
            }
        }

        int b = options.BatchSize;
        int p = prior.ParametersPerComponent;
        var batch = new ParticleBatch(target, prior, b);
        var xi = new double[b * d];
        var component = new int[b];
        var g = new double[d];
        var grad = new double[prior.Capacity * p];
        var m1 = new double[prior.Capacity * p];
        var m2 = new double[prior.Capacity * p];
        var steps = new int[prior.Capacity];
        var trace = new double[options.Iterations];
        int reportEvery = Math.Max(1, options.Iterations / 100);
        for (int t = 0; t < options.Iterations; t++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (options.ImrEvery > 0 && t > 0 && t % options.ImrEvery == 0 && prior.ComponentCount < prior.Capacity)
            {
                added.Add(t);
                Refine(target, prior, options, rng, prior.ComponentCount - 1);
            }
            int kc = prior.ComponentCount;
            for (int i = 0; i < b; i++)
            {
                ulong stream = ((ulong)t << 24) | (uint)i;
                int k = Math.Min(kc - 1, (int)(rng.Uniform(stream, ulong.MaxValue) * kc));
                component[i] = k;
                Span<double> z = xi.AsSpan(i * d, d);
                rng.FillNormal(stream, 0, z);
                prior.Transform(k, z, batch.Point(i));
            }
            batch.Evaluate();

            // Pathwise gradient of the ELBO: (∇log ρ − ∇log p)(x) · ∂x/∂φ, averaged, in sample order (deterministic).
            Array.Clear(grad);
            double elbo = 0;
            for (int i = 0; i < b; i++)
            {
                elbo += batch.LogRho[i] - batch.LogPrior[i];
                for (int j = 0; j < d; j++)
                {
                    g[j] = batch.GradRho[(i * d) + j] - batch.GradPrior[(i * d) + j];
                }
                int k = component[i];
                prior.AccumulatePathwise(k, g, xi.AsSpan(i * d, d), grad.AsSpan(k * p, p));
            }
            elbo /= b;
            trace[t] = elbo;

            // Adam ascent on the clipped gradient; each component keeps its own step count for bias correction.
            Span<double> theta = prior.Parameters;
            double clip = options.GradientClip;
            for (int k = 0; k < kc; k++)
            {
                int s = ++steps[k];
                double c1 = 1 - Math.Pow(Beta1, s), c2 = 1 - Math.Pow(Beta2, s);
                for (int q = k * p; q < (k + 1) * p; q++)
                {
                    double gq = Math.Clamp(grad[q] / b, -clip, clip);
                    m1[q] = (Beta1 * m1[q]) + ((1 - Beta1) * gq);
                    m2[q] = (Beta2 * m2[q]) + ((1 - Beta2) * gq * gq);
                    theta[q] += options.LearningRate * (m1[q] / c1) / (Math.Sqrt(m2[q] / c2) + AdamEpsilon);
                }
            }
            prior.Refresh();
            if (progress is not null && (t % reportEvery == 0 || t == options.Iterations - 1))
            {
                progress.Report(new VariationalProgress(t + 1, options.Iterations, kc, elbo));
            }
        }
        return new VariationalFit(prior, trace, [.. added]);
    }

    /// <summary>
    /// One IMR round: MALA chains on ρ from half prior samples and half samples of the broad initial distribution, then
    /// the candidate maximising log ρ(x) − max(maxₓ′ log p(x′) − τ, log p(x)) becomes a new component's mean, with the
    /// initial scale. docs/theory/samplers.md#imr
    /// </summary>
    internal static void Refine(ITarget target, MixturePrior prior, VariationalOptions options, CounterRng rng, int round)
    {
        int d = target.Dimension;
        int c = options.ImrCandidates;
        var current = new ParticleBatch(target, prior, c);
        var proposal = new ParticleBatch(target, prior, c);
        double[] mean0 = options.InitialMean ?? new double[d];
        int kc = prior.ComponentCount;
        ulong roundBits = (1UL << 63) | ((ulong)(uint)round << 24);
        var z = new double[d];
        for (int i = 0; i < c; i++)
        {
            ulong stream = roundBits | (uint)i;
            rng.FillNormal(stream, 0, z);
            Span<double> x = current.Point(i);
            if (i % 2 == 0)
            {
                prior.Transform(Math.Min(kc - 1, (int)(rng.Uniform(stream, ulong.MaxValue) * kc)), z, x);
            }
            else
            {
                for (int j = 0; j < d; j++)
                {
                    x[j] = mean0[j] + (options.Exploration * z[j]);
                }
            }
        }
        current.Evaluate();

        // MALA on ρ with one step size for all chains, adapted towards acceptance 0.574 after each step.
        double h = 0.1 * options.InitialScale * options.InitialScale / Math.Pow(d, 1.0 / 3);
        for (int s = 0; s < options.ImrMalaSteps; s++)
        {
            double sqrt2h = Math.Sqrt(2 * h);
            ulong counter = (ulong)(s + 1) * (ulong)(d + 2);
            for (int i = 0; i < c; i++)
            {
                rng.FillNormal(roundBits | (uint)i, counter, z);
                ReadOnlySpan<double> x = current.Point(i);
                ReadOnlySpan<double> gx = current.GradRho.AsSpan(i * d, d);
                Span<double> y = proposal.Point(i);
                for (int j = 0; j < d; j++)
                {
                    y[j] = x[j] + (h * gx[j]) + (sqrt2h * z[j]);
                }
            }
            proposal.Evaluate();
            double accepted = 0;
            for (int i = 0; i < c; i++)
            {
                double logA = LangevinKernels.MalaLogRatio(current.Point(i), proposal.Point(i), current.LogRho[i], proposal.LogRho[i],
                    current.GradRho.AsSpan(i * d, d), proposal.GradRho.AsSpan(i * d, d), h, null);
                double a = double.IsNaN(logA) ? 0 : Math.Exp(Math.Min(0, logA));
                accepted += a;
                if (rng.Uniform(roundBits | (uint)i, counter + (ulong)d + 1) < a)
                {
                    proposal.Point(i).CopyTo(current.Point(i));
                    current.LogRho[i] = proposal.LogRho[i];
                    current.LogPrior[i] = proposal.LogPrior[i];
                    proposal.GradRho.AsSpan(i * d, d).CopyTo(current.GradRho.AsSpan(i * d, d));
                }
            }
            h *= Math.Exp(2 * ((accepted / c) - 0.574));
        }

        double maxLogP = double.NegativeInfinity;
        var scratch = new double[prior.ScratchLength];
        for (int k = 0; k < kc; k++)
        {
            maxLogP = Math.Max(maxLogP, prior.LogDensity(prior.Mean(k), Span<double>.Empty, scratch));
        }
        int best = 0;
        double bestScore = double.NegativeInfinity;
        for (int i = 0; i < c; i++)
        {
            double score = ImrScore(current.LogRho[i], current.LogPrior[i], maxLogP, options.ImrClip);
            if (score > bestScore)
            {
                bestScore = score;
                best = i;
            }
        }
        prior.AddComponent(current.Point(best), options.InitialScale);
    }

    /// <summary>The IMR candidate score log ρ(x) − max(maxₓ′ log p(x′) − τ, log p(x)).</summary>
    public static double ImrScore(double logRho, double logPrior, double maxLogPrior, double tau)
        => logRho - Math.Max(maxLogPrior - tau, logPrior);
}

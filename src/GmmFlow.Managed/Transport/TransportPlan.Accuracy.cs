using System.Diagnostics;

namespace GmmFlow;

// Accuracy control of the transport (docs/theory/transport-accuracy.md): the scheme and its steps, the SDE step rule
// from the gains' spectra, and the built-in log-likelihood check.
public sealed partial class TransportPlan
{
    /// <summary>The grid automatic runs save snapshots on and the SDE step rule refines (100 equal steps).</summary>
    internal const int NominalSteps = 100;

    /// <summary>Cap on the SDE step rule's total steps (the check reports a run this cap made inaccurate).</summary>
    internal const int MaxRuleSteps = 1_000_000;

    /// <summary>
    /// <see cref="Transport"/>, plus which scheme ran with how many steps and, unless <see cref="TransportRunOptions.Check"/>
    /// is off, the built-in check (<see cref="TransportCheck"/>): the outputs' mean target log-likelihood against its
    /// exact expectation, and the same statistic of the inputs against the source mixture.
    /// </summary>
    public TransportResult TransportAndCheck(ReadOnlySpan<double> samples, TransportRunOptions? options = null, Span<double> trajectory = default)
    {
        options ??= new TransportRunOptions();
        long start = Stopwatch.GetTimestamp();
        double[] points = TransportCore(samples, options, trajectory, out Integrator scheme, out IntegrationStats stats);
        TimeSpan integration = Stopwatch.GetElapsedTime(start);
        TransportCheck? check = null;
        if (options.Check && points.Length > 0)
        {
            // Reference samples from streams unrelated to the Brownian increments of the same seed.
            ulong seed = options.Seed ^ 0xC2B2AE3D27D4EB4FUL;
            TransportCheck source = TransportCheck.Compute(Source, samples, seed + 1);
            check = TransportCheck.Compute(Target, points, seed) with { SourceZScore = source.ZScore };
        }
        return new TransportResult
        {
            Points = points, Integrator = scheme, Stats = stats, Check = check,
            IntegrationTime = integration, CheckTime = Stopwatch.GetElapsedTime(start) - integration,
        };
    }

    /// <summary>
    /// The SDE step rule (docs/theory/transport-accuracy.md#sde-steps): the nominal 100-step grid, each step k split into
    /// ⌈h ρ_k / bound⌉ substeps, where ρ_k is the largest spectral norm of an active pair's gain A_p(t) at the step's
    /// ends and midpoint. Returns the substeps and the largest rate seen.
    /// </summary>
    internal int[] StiffnessSubsteps(BridgeField field, double bound, out double maxRate)
    {
        const int n = NominalSteps;
        var rates = new double[2 * n + 1];
        var probe = new GainNorm(Dimension, _bridges.Length > 0 && _bridges[0].IsDiagonal);
        for (int i = 0; i <= 2 * n; i++)
        {
            double t = i == 2 * n ? 1.0 : i / (2.0 * n);
            double rate = 0;
            foreach (GaussianBridge bridge in _bridges)
            {
                rate = Math.Max(rate, probe.Of(bridge, t, field));
            }
            rates[i] = rate;
        }
        var substeps = new int[n];
        maxRate = 0;
        long total = 0;
        for (int k = 0; k < n; k++)
        {
            double rate = Math.Max(rates[2 * k], Math.Max(rates[2 * k + 1], rates[2 * k + 2]));
            maxRate = Math.Max(maxRate, rate);
            substeps[k] = (int)Math.Clamp(Math.Ceiling(rate / (n * bound)), 1, MaxRuleSteps);
            total += substeps[k];
        }
        if (total > MaxRuleSteps)
        {
            double shrink = (double)MaxRuleSteps / total;
            for (int k = 0; k < n; k++)
            {
                substeps[k] = Math.Max(1, (int)(substeps[k] * shrink));
            }
        }
        return substeps;
    }

    /// <summary>The largest standard deviation of any component of either mixture: the length unit of the absolute tolerance.</summary>
    internal double LengthScale()
    {
        double max = 0;
        foreach (GaussianMixture mixture in (ReadOnlySpan<GaussianMixture>)[Source, Target])
        {
            // Variance reads the compact form: Covariances would build K full d×d matrices of a diagonal mixture
            // (20 MB at d = 512, K = 10) to read their diagonals.
            int d = mixture.Dimension;
            for (int k = 0; k < mixture.ComponentCount; k++)
            {
                for (int i = 0; i < d; i++)
                {
                    max = Math.Max(max, mixture.Variance(k, i));
                }
            }
        }
        return Math.Sqrt(max);
    }

    private double[] TransportCore(ReadOnlySpan<double> samples, TransportRunOptions options, Span<double> trajectory,
                                   out Integrator scheme, out IntegrationStats stats)
    {
        options.Validate();
        int d = Dimension;
        if (samples.Length % d != 0)
        {
            ThrowHelper.ThrowArgument($"samples has length {samples.Length}, not a multiple of d = {d}.", nameof(samples));
        }
        var states = samples.ToArray();
        var field = CreatePlanField(options.Field);
        bool noisy = Options.Noise > 0 && options.Field == BridgeField.Drift && IsSchrodinger;
        scheme = options.Integrator != Integrator.Auto ? options.Integrator
            : noisy ? Integrator.EulerMaruyama
            : options.Steps is null ? Integrator.DormandPrince : Integrator.Heun;
        if (noisy && scheme != Integrator.EulerMaruyama)
        {
            throw new ArgumentException($"The SDE drift of a Schrödinger bridge with σ = {Options.Noise} needs Euler–Maruyama; " +
                "use BridgeField.ProbabilityFlow for Heun, RK4 or Dormand–Prince (same marginals, deterministic paths).", nameof(options));
        }
        int[]? substeps = scheme == Integrator.EulerMaruyama && options.Steps is null
            ? StiffnessSubsteps(options.Field, options.StiffnessBound, out _)
            : null;
        var integration = new IntegrationOptions
        {
            Steps = options.Steps ?? NominalSteps,
            SaveEvery = options.SaveEvery,
            Progress = options.Progress,
            CancellationToken = options.CancellationToken,
            FirstStream = options.FirstStream,
            Substeps = substeps,
            Tolerance = options.Tolerance,
            AbsoluteTolerance = options.Tolerance * Math.Max(LengthScale(), double.Epsilon),
        };
        int steps = integration.Steps;
        switch (scheme)
        {
            case Integrator.DormandPrince:
                stats = FlowIntegrator.DormandPrince(field, states, integration, trajectory);
                return states;
            case Integrator.EulerMaruyama:
                FlowIntegrator.EulerMaruyama(field, states, noisy ? Options.Noise : 0.0, options.Seed, integration, trajectory);
                break;
            case Integrator.Heun:
                FlowIntegrator.Heun(field, states, integration, trajectory);
                break;
            default:
                FlowIntegrator.RungeKutta4(field, states, integration, trajectory);
                break;
        }
        int taken = substeps?.Sum() ?? steps, perStep = scheme switch { Integrator.Heun => 2, Integrator.RungeKutta4 => 4, _ => 1 };
        double smallest = 1.0 / steps, largest = smallest;
        if (substeps is not null)
        {
            smallest = 1.0 / (steps * (double)substeps.Max());
            largest = 1.0 / (steps * (double)substeps.Min());
        }
        stats = new IntegrationStats(taken, 0, taken * perStep, smallest, largest);
        return states;
    }

    /// <summary>Spectral norm ‖A‖₂ of a bridge's gain by power iteration on AᵀA (exact max |a_k| for diagonal bridges); reused buffers.</summary>
    private sealed class GainNorm(int d, bool diagonal)
    {
        private readonly double[] _gain = new double[diagonal ? d : d * d], _offset = new double[d], _u = new double[d], _w = new double[d];

        public double Of(GaussianBridge bridge, double t, BridgeField field)
        {
            bridge.Field(t, _gain, _offset, field);
            if (diagonal)
            {
                double max = 0;
                foreach (double g in _gain)
                {
                    max = Math.Max(max, Math.Abs(g));
                }
                return max;
            }
            // A start with distinct weights (not orthogonal to the top singular vector in practice), normalised; each
            // round u ← AᵀA u / ‖AᵀA u‖, and ‖AᵀA u‖ for the unit u increases to σ₁².
            double start = 0;
            for (int j = 0; j < d; j++)
            {
                _u[j] = 1 + 0.37 * j / d;
                start += _u[j] * _u[j];
            }
            start = Math.Sqrt(start);
            for (int j = 0; j < d; j++)
            {
                _u[j] /= start;
            }
            double sigma2 = 0;
            for (int round = 0; round < 40; round++)
            {
                for (int r = 0; r < d; r++)
                {
                    double s = 0;
                    for (int c = 0; c < d; c++)
                    {
                        s += _gain[r * d + c] * _u[c];
                    }
                    _w[r] = s;
                }
                double norm = 0;
                for (int c = 0; c < d; c++)
                {
                    double s = 0;
                    for (int r = 0; r < d; r++)
                    {
                        s += _gain[r * d + c] * _w[r];
                    }
                    _u[c] = s;
                    norm += s * s;
                }
                norm = Math.Sqrt(norm);
                if (norm == 0)
                {
                    return 0;
                }
                for (int c = 0; c < d; c++)
                {
                    _u[c] /= norm;
                }
                sigma2 = norm;
            }
            return Math.Sqrt(sigma2);
        }
    }
}

namespace GmmFlow.Cli.Demo;

/// <summary>One transport plan the demo builds per case: a pair cost (and its bridge) with noise σ.</summary>
/// <param name="Label">Short name used in tables and figure panels.</param>
/// <param name="Cost">Pair cost and bridge.</param>
/// <param name="Noise">σ of dX = u dt + σ dW (ε = σ² is the GMMflow paper's ε); 0 for the deterministic flows.</param>
internal sealed record DemoPlanSpec(string Label, CostKind Cost, double Noise)
{
    /// <summary>The cost kind as written in JSON output.</summary>
    public string CostName => Cost switch
    {
        CostKind.Wasserstein => "wasserstein",
        CostKind.Surrogate => "surrogate",
        CostKind.SchrodingerBridge => "schrodingerBridge",
        _ => "entropicTransport",
    };
}

/// <summary>Sizes of one demo run: the default run (under a minute on two cores) or --quick (a few seconds, for CI).</summary>
internal sealed record DemoSettings
{
    /// <summary>The four plans of every case: exact W2, the surrogate, and Schrödinger bridges with σ = 0.1 and σ = 1.</summary>
    public static readonly IReadOnlyList<DemoPlanSpec> Plans =
    [
        new("W2", CostKind.Wasserstein, 0),
        new("surrogate", CostKind.Surrogate, 0),
        new("SB σ=0.1", CostKind.SchrodingerBridge, 0.1),
        new("SB σ=1", CostKind.SchrodingerBridge, 1),
    ];

    /// <summary>Times of the snapshot figure (multiples of ¼, so <see cref="Steps"/> must be a multiple of 4).</summary>
    public static readonly IReadOnlyList<double> SnapshotTimes = [0, 0.25, 0.5, 0.75, 1];

    public required bool Quick { get; init; }

    public required ulong Seed { get; init; }

    /// <summary>Points of each side the mixtures are fitted to.</summary>
    public required int FitSamples { get; init; }

    /// <summary>Fresh source points transported, and fresh target points they are compared with.</summary>
    public required int TransportSamples { get; init; }

    /// <summary>Integration steps from t = 0 to 1 (Heun for W2/surrogate, Euler–Maruyama for the SB drift).</summary>
    public required int Steps { get; init; }

    /// <summary>EM restarts (k-means++ seeds) per fit; the best likelihood is kept.</summary>
    public required int FitInitializations { get; init; }

    /// <summary>Monte-Carlo points per Gauss–Legendre node of <see cref="TransportPlan.KineticCost"/>.</summary>
    public required int KineticSamplesPerNode { get; init; }

    public required int KineticNodes { get; init; }

    /// <summary>Random directions of the sliced W2².</summary>
    public required int SlicedDirections { get; init; }

    /// <summary>Particle paths drawn per panel of the trajectory figure.</summary>
    public required int DrawnPaths { get; init; }

    public static DemoSettings Default(ulong seed) => new()
    {
        Quick = false,
        Seed = seed,
        FitSamples = 4000,
        TransportSamples = 2000,
        Steps = 100,
        FitInitializations = 3,
        KineticSamplesPerNode = 4096,
        KineticNodes = 12,
        SlicedDirections = 128,
        DrawnPaths = 150,
    };

    public static DemoSettings QuickRun(ulong seed) => new()
    {
        Quick = true,
        Seed = seed,
        FitSamples = 1500,
        TransportSamples = 600,
        Steps = 40,
        FitInitializations = 1,
        KineticSamplesPerNode = 512,
        KineticNodes = 6,
        SlicedDirections = 64,
        DrawnPaths = 80,
    };

    /// <summary>The demo's cases, generated from the run's seed.</summary>
    public IReadOnlyList<DemoCase> Cases(bool fresh)
    {
        // Fit data and evaluation data come from different derived seeds: transported and compared points are unseen by EM.
        int n = fresh ? TransportSamples : FitSamples;
        ulong seed = Derive(fresh ? 2UL : 1UL);
        return
        [
            DemoDatasets.GaussianToEight(n, seed),
            DemoDatasets.MoonsToEight(n, seed),
            DemoDatasets.RingToGrid(n, seed),
        ];
    }

    /// <summary>A seed for one purpose (fit data, evaluation data, plan k's noise, …), derived from the run's seed.</summary>
    public ulong Derive(ulong purpose) => new CounterRng(Seed).NextBits(purpose, 0);
}

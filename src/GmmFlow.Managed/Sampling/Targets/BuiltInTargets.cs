namespace GmmFlow.Sampling;

/// <summary>Settings that suit a built-in target: the scale of new prior components and of IMR's exploration.</summary>
public readonly record struct TargetDefaults(double InitialScale, double ExplorationScale);

/// <summary>The benchmark targets by name (docs/theory/samplers.md#targets).</summary>
public static class BuiltInTargets
{
    /// <summary>Names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["funnel", "gmm40", "mos", "many-well", "phi4", "credit", "cancer", "ionosphere", "sonar"];

    /// <summary>
    /// Creates a target: funnel (d = 10), gmm40 (d = 50), mos (Student-t mixture, d = 50), many-well (d = 50), phi4 (8×8),
    /// and the logistic regression posteriors credit, cancer, ionosphere, sonar (data from Debian packages; a missing
    /// package is a <see cref="DatasetNotFoundException"/>). The random means/locations of gmm40 and mos are fixed (seed 0).
    /// </summary>
    public static ITarget Create(string name) => name switch
    {
        "funnel" => new FunnelTarget(),
        "gmm40" => GaussianMixtureTarget.Gmm40(),
        "mos" => new StudentTMixtureTarget(),
        "many-well" => new ManyWellTarget(),
        "phi4" => new Phi4Target(),
        "credit" or "cancer" or "ionosphere" or "sonar" => BenchmarkDatasets.Load(name).ToTarget(),
        _ => throw new ArgumentException($"Unknown target '{name}' (one of {string.Join(", ", Names)}).", nameof(name)),
    };

    /// <summary>Suggested scales: component scale 1 everywhere; exploration about the spread of the target's modes.</summary>
    public static TargetDefaults Defaults(string name) => name switch
    {
        "gmm40" => new(1, 25),
        "mos" => new(1, 6),
        "funnel" => new(1, 3),
        "many-well" => new(1, 2),
        "credit" or "cancer" or "ionosphere" or "sonar" => new(0.1, 1),
        _ => new(1, 1),
    };
}

namespace GmmFlow.Tests.MultiMarginal;

/// <summary>Small mixture cases shared by the momentum-bridge tests.</summary>
internal static class MomentumFixtures
{
    public static readonly double[] Times = [0, 1, 2.5];

    /// <summary>Three 2-D snapshots with two components each: a population that splits and moves.</summary>
    public static GaussianMixture[] Snapshots() =>
    [
        new GaussianMixture([0.6, 0.4], [0, 0, 0.5, 1], [0.3, 0.05, 0.05, 0.2, 0.25, 0, 0, 0.3]),
        new GaussianMixture([0.5, 0.5], [1.5, 0.8, 1.2, -0.6], [0.2, 0, 0, 0.15, 0.3, -0.1, -0.1, 0.25]),
        new GaussianMixture([0.45, 0.55], [3.5, 2, 2.8, -1.8], [0.35, 0.1, 0.1, 0.3, 0.2, 0, 0, 0.4]),
    ];

    private static MultiMarginalPlan? s_plan;

    /// <summary>The plan of <see cref="Snapshots"/> with σ = 0.4, solved once per test run.</summary>
    public static MultiMarginalPlan Plan => s_plan ??= MultiMarginalPlan.Create(Times, Snapshots(), new MultiMarginalOptions { Noise = 0.4 });
}

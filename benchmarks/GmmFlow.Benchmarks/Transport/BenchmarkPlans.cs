using GmmFlow.Benchmarks.Mixtures;

namespace GmmFlow.Benchmarks.Transport;

/// <summary>Transport plans for the field benchmarks: two random K-component mixtures (EmBenchmarkData) coupled by the exact LP.</summary>
internal static class BenchmarkPlans
{
    /// <summary>
    /// The first plan from <paramref name="seed"/> on whose LP solution has the full K0 + K1 − 1 = 2K − 1 active pairs
    /// (19 for K = 10: the number of pairs docs/anchors.md's field timings use).
    /// </summary>
    public static TransportPlan FullSupport(int k, int d, int seed, TransportOptions? options = null)
    {
        for (int s = seed; s < seed + 200; s += 2)
        {
            var plan = TransportPlan.Create(EmBenchmarkData.Truth(k, d, s), EmBenchmarkData.Truth(k, d, s + 1), options);
            if (plan.Pairs.Count == 2 * k - 1)
            {
                return plan;
            }
        }
        throw new InvalidOperationException($"No seed in [{seed}, {seed + 200}) gave a non-degenerate {k}×{k} plan.");
    }
}

using GmmFlow.Native;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Costs;

/// <summary>
/// The README promises bit-identical cost matrices whatever the thread count: lockstep groups start at multiples of
/// the lane count however the pairs are split between threads. Serial against parallel runs, so alone (the parallel
/// run needs the shared workers free).
/// </summary>
[Collection(nameof(RunsAlone))]
public class CostMatrixThreadingTests
{
    [Theory]
    [MemberData(nameof(Providers.Available), MemberType = typeof(Providers))]
    public void Matrices_are_bit_identical_on_one_thread_and_on_all_cores(LapackProviderKind provider)
    {
        var lapack = Providers.Get(provider);
        // d = 2: closed forms; 7, 16: lockstep eigen (8 and 16 lanes); 37: past two vectors. K1 = 29 makes groups
        // straddle source rows, and 41·29 pairs are not a multiple of any lane count.
        foreach (int d in new[] { 2, 7, 16, 37 })
        {
            int k0 = d <= 2 ? 41 : 23, k1 = 29;
            var (source, _, _, c0, m1, c1) = CostMatrixTests.RandomSets(lapack, k0, k1, d, 5 * d + 1);
            // Target 3 = 2 × source 11's covariance: pair (11, 3) has one eigenvalue d times over, so its lockstep
            // group falls back to rotation QL and its neighbours' last bits depend on which pairs share the group
            // (pair 11·29 + 3 sits mid-matrix, where a grain that is not a multiple of the lanes would shift groups).
            c1[3] = c0[11].Select(v => 2 * v).ToArray();
            var target = GaussianFactors.FromFull(lapack, m1.SelectMany(x => x).ToArray(), c1.SelectMany(x => x).ToArray(), k1, d, "target");
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate, CostKind.SchrodingerBridge, CostKind.EntropicTransport })
            {
                var parallel = new double[k0 * k1];
                GaussianCosts.Compute(kind, source, target, parallel, noise: 0.3);
                var serial = new double[k0 * k1];
                Serially.Run(() => GaussianCosts.Compute(kind, source, target, serial, noise: 0.3));
                for (int p = 0; p < parallel.Length; p++)
                {
                    Assert.True(BitConverter.DoubleToInt64Bits(parallel[p]) == BitConverter.DoubleToInt64Bits(serial[p]),
                        $"{kind} d={d} pair {p}: parallel {parallel[p]:R}, serial {serial[p]:R}");
                }
            }
        }
    }
}

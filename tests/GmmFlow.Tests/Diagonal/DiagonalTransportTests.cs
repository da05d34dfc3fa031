using System.Text;
using GmmFlow.Simd;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Diagonal;

/// <summary>
/// Diagonal plans end to end: transported samples against fresh target samples (two-sample MMD permutation test at a
/// fixed false-alarm level, with the test's power shown on the untransported samples), exact ρ_t samples against the
/// diagonal moments, the static maps, and plan files (covariance type recorded, older files without it still read).
/// </summary>
public class DiagonalTransportTests
{
    private const double FalseAlarm = 0.01;

    public static TheoryData<int, CovarianceType, CostKind, double, BridgeField> Cases() => new()
    {
        { 64, CovarianceType.Diagonal, CostKind.Wasserstein, 0, BridgeField.Drift },
        { 64, CovarianceType.Diagonal, CostKind.SchrodingerBridge, 0.5, BridgeField.Drift },
        { 64, CovarianceType.Spherical, CostKind.Surrogate, 0, BridgeField.Drift },
        { 512, CovarianceType.Diagonal, CostKind.Wasserstein, 0, BridgeField.Drift },
        { 512, CovarianceType.Diagonal, CostKind.SchrodingerBridge, 1.0, BridgeField.ProbabilityFlow },
        { 512, CovarianceType.Spherical, CostKind.SchrodingerBridge, 0.5, BridgeField.Drift },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Transported_samples_pass_the_two_sample_test_against_the_target(int d, CovarianceType type, CostKind cost, double noise, BridgeField field)
    {
        var source = DiagonalMixtures.Random(4, d, 7 + d, type, spread: 0.4);
        var target = DiagonalMixtures.Random(3, d, 9 + d, type, spread: 0.4);
        var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = cost, Noise = noise });
        Assert.Equal(type, plan.CovarianceType);
        Assert.True(plan.Bridges.All(b => b.IsDiagonal));
        int n = d >= 512 ? 300 : 400;
        bool sde = noise > 0 && field == BridgeField.Drift;
        var x0 = source.Sample(n, seed: 5);
        var x1 = plan.Transport(x0, new TransportRunOptions { Steps = sde ? 200 : 40, Field = field, Seed = 3 });
        var fresh = target.Sample(n, seed: 1234);
        var test = SampleMetrics.MmdPermutationTest(x1, fresh, d, permutations: 200, seed: 3);
        Assert.True(test.PValue > FalseAlarm, $"t = 1: MMD² = {test.MmdSquared:g3}, p = {test.PValue}");
        // Power: the same test rejects the samples before transport.
        var control = SampleMetrics.MmdPermutationTest(x0, fresh, d, permutations: 200, seed: 3);
        Assert.True(control.PValue <= FalseAlarm, $"control not rejected: p = {control.PValue}");
    }

    [Theory]
    [InlineData(CovarianceType.Diagonal)]
    [InlineData(CovarianceType.Spherical)]
    public void Exact_marginal_samples_have_the_mixture_moments(CovarianceType type)
    {
        const int d = 24, n = 40_000;
        var source = DiagonalMixtures.Random(3, d, 31, type);
        var target = DiagonalMixtures.Random(2, d, 32, type);
        var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.7 });
        const double t = 0.4;
        var x = plan.SampleMarginal(t, n, seed: 11);
        // ρ_t's mean and per-coordinate variance from the pairs' m(t) and diagonal Σ(t), against the sample's.
        var mean = new double[d];
        var second = new double[d];
        var m = new double[d];
        var s = new double[d];
        for (int p = 0; p < plan.Pairs.Count; p++)
        {
            double w = plan.Pairs[p].Weight;
            plan.Bridges[p].Mean(t, m);
            plan.Bridges[p].Covariance(t, s);
            for (int j = 0; j < d; j++)
            {
                mean[j] += w * m[j];
                second[j] += w * (s[j] + m[j] * m[j]);
            }
        }
        for (int j = 0; j < d; j++)
        {
            double sum = 0, sumSq = 0;
            for (int i = 0; i < n; i++)
            {
                double v = x[i * d + j];
                sum += v;
                sumSq += v * v;
            }
            double variance = second[j] - mean[j] * mean[j];
            double se = Math.Sqrt(variance / n);
            Assert.True(Math.Abs(sum / n - mean[j]) < 5 * se, $"coordinate {j}: mean {sum / n} vs {mean[j]} (se {se:g3})");
            double sampleVariance = sumSq / n - (sum / n) * (sum / n);
            Assert.True(Math.Abs(sampleVariance - variance) < 0.05 * variance, $"coordinate {j}: variance {sampleVariance} vs {variance}");
        }
    }

    [Fact]
    public void Static_maps_of_a_diagonal_plan_equal_those_of_the_expanded_plan()
    {
        const int d = 9;
        var a = DiagonalMixtures.Random(3, d, 41, CovarianceType.Diagonal);
        var b = DiagonalMixtures.Random(3, d, 42, CovarianceType.Diagonal);
        var options = new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.4 };
        var diag = TransportPlan.Create(a, b, options);
        var full = TransportPlan.Create(DiagonalMixtures.Expanded(a), DiagonalMixtures.Expanded(b), options);
        var x = a.Sample(50, seed: 2);
        Assert.True(DiagonalMixtures.Relative(diag.MapBarycentric(x), full.MapBarycentric(x)) <= 1e-12);
        // The random map draws the same normals; a diagonal Cholesky factor is the elementwise square root.
        Assert.True(DiagonalMixtures.Relative(diag.MapRandom(x, seed: 4), full.MapRandom(x, seed: 4)) <= 1e-12);
    }

    [Fact]
    public void Plan_files_record_the_covariance_type_and_old_files_still_load()
    {
        const int d = 5;
        var a = DiagonalMixtures.Random(3, d, 51, CovarianceType.Spherical);
        var b = DiagonalMixtures.Random(2, d, 52, CovarianceType.Diagonal);
        var plan = TransportPlan.Create(a, b, new TransportOptions { Cost = CostKind.Wasserstein });
        Assert.Equal(CovarianceType.Diagonal, plan.CovarianceType);
        using var buffer = new MemoryStream();
        PlanJson.Write(plan, buffer);
        string text = Encoding.UTF8.GetString(buffer.ToArray());
        Assert.Contains("\"covariance_type\": \"diag\"", text);
        var back = PlanJson.Read(new MemoryStream(buffer.ToArray()), "plan.json");
        Assert.Equal(CovarianceType.Diagonal, back.CovarianceType);
        Assert.Equal(plan.Pairs, back.Pairs);
        var x = a.Sample(20, seed: 1);
        Assert.Equal(plan.Transport(x), back.Transport(x));

        // A file written before plans recorded the type: the first occurrence is the plan's own field.
        int at = text.IndexOf("\"covariance_type\": \"diag\",", StringComparison.Ordinal);
        string old = text.Remove(at, "\"covariance_type\": \"diag\",".Length);
        var legacy = PlanJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(old)), "old.json");
        Assert.Equal(CovarianceType.Diagonal, legacy.CovarianceType);

        // A recorded type that contradicts the mixtures is refused, naming the field.
        string wrong = text.Remove(at, "\"covariance_type\": \"diag\",".Length).Insert(at, "\"covariance_type\": \"full\",");
        var e = Assert.Throws<DataFormatException>(() => PlanJson.Read(new MemoryStream(Encoding.UTF8.GetBytes(wrong)), "wrong.json"));
        Assert.Contains("covariance_type", e.Message);

        // Mixed storage (a full side) takes the general path.
        var mixed = TransportPlan.Create(a, DiagonalMixtures.Expanded(b), new TransportOptions());
        Assert.Equal(CovarianceType.Full, mixed.CovarianceType);
        Assert.False(mixed.Bridges[0].IsDiagonal);
    }

    [Fact]
    public void Mixed_storage_costs_equal_the_diagonal_costs()
    {
        const int d = 6;
        var a = DiagonalMixtures.Random(3, d, 61, CovarianceType.Diagonal);
        var b = DiagonalMixtures.Random(4, d, 62, CovarianceType.Spherical);
        var (ds, dt) = GaussianFactors.ForTransport(a, b);
        var (fs, ft) = GaussianFactors.ForTransport(a, DiagonalMixtures.Expanded(b));
        Assert.True(ds.IsDiagonal && !fs.IsDiagonal && !ft.IsDiagonal);
        var c1 = new double[12];
        var c2 = new double[12];
        GaussianCosts.Compute(CostKind.EntropicTransport, ds, dt, c1, 0.9);
        GaussianCosts.Compute(CostKind.EntropicTransport, fs, ft, c2, 0.9);
        Assert.True(DiagonalMixtures.Relative(c1, c2) <= 1e-12);
        Assert.Throws<ArgumentException>(() => GaussianFactors.FromMixtureDiagonal(DiagonalMixtures.Expanded(b)));
    }
}

[Collection(nameof(RunsAlone))]
public class DiagonalFieldRunsAloneTests
{
    [Theory]
    [InlineData(17, CovarianceType.Diagonal)]
    [InlineData(512, CovarianceType.Spherical)]
    public void Warm_batched_field_calls_allocate_nothing_and_threads_do_not_change_the_bits(int d, CovarianceType type)
    {
        var a = DiagonalMixtures.Random(5, d, 71, type);
        var b = DiagonalMixtures.Random(5, d, 72, type);
        var plan = TransportPlan.Create(a, b, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.5 });
        var field = (DiagonalPlanVelocityField)plan.CreatePlanField(BridgeField.Drift);
        int n = d >= 512 ? 2_000 : 10_003;
        var x = plan.SampleMarginal(0.5, n, seed: 1);
        var v = new double[x.Length];
        var serial = new double[x.Length];
        var ld = new double[n];
        var vi = new double[d];
        DiagonalVelocityFrame frame = field.FrameAt(0.5);
        frame.EvaluateBatch(x, serial, ld, parallel: false);
        field.Evaluate(0.5, x, v, ld);
        Assert.Equal(serial, v);
        plan.Velocity(0.5, x.AsSpan(0, d), vi);
        field.Evaluate(0.5, x, v);

        // This thread: some round of 100 single-point calls and one serial batch allocates nothing (as for the full frame).
        var perRound = new List<long>();
        for (int round = 0; round < 5 && (perRound.Count == 0 || perRound[^1] != 0); round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                plan.Velocity(0.5, x.AsSpan(d * i, d), vi);
            }
            frame.EvaluateBatch(x, v, ld, parallel: false);
            perRound.Add(GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(perRound[^1] == 0, $"this thread allocated {string.Join(", ", perRound)} bytes in 5 rounds");

        // All threads: some round of ten warm parallel field calls allocates nothing at all.
        long allocated = long.MaxValue;
        for (int round = 0; round < 5 && allocated != 0; round++)
        {
            long total = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < 10; i++)
            {
                field.Evaluate(0.5, x, v, ld);
            }
            allocated = GC.GetTotalAllocatedBytes(precise: true) - total;
        }
        Assert.True(allocated == 0, $"parallel evaluation allocated {allocated} bytes in each of 5 rounds of 10 calls");
    }
}

using System.Diagnostics;
namespace GmmFlow.Tests.Accuracy;

public class ExploreTests
{
    static (double mean, double std) Moments(double[] x) { double m = x.Average(); return (m, Math.Sqrt(x.Select(v => (v - m) * (v - m)).Average())); }

    [Fact]
    public void Explore()
    {
        var sb = new System.Text.StringBuilder();
        var source = new GaussianMixture([0.5, 0.5], [-2.0, 2.0], [0.25, 0.25], CovarianceType.Spherical);
        var target = new GaussianMixture([1.0], [1.5], [0.86 * 0.86], CovarianceType.Spherical);
        var xs = source.Sample(20000, 1);
        {
            static double[] Rot(double angle, double a, double b) { double c = Math.Cos(angle), s = Math.Sin(angle); return [c * c * a + s * s * b, c * s * (a - b), c * s * (a - b), s * s * a + c * c * b]; }
            foreach (var kind in new[] { CostKind.Wasserstein, CostKind.Surrogate })
            foreach (double cond in new[] { 1e4, 1e6 })
            {
                var a = new GaussianMixture([0.5, 0.5], [-2.0, 0, 2, 0], [.. Rot(0.3, 1, 1 / cond), .. Rot(1.2, 1, 1 / cond)]);
                var b = new GaussianMixture([0.5, 0.5], [0.0, -2, 0, 2], [.. Rot(2.0, 1 / cond, 1), .. Rot(0.7, 1, 1 / cond)]);
                var plan = TransportPlan.Create(a, b, new TransportOptions { Cost = kind });
                var x = a.Sample(20000, 2);
                foreach (int? steps in new int?[] { 100, 1000, null })
                {
                    try
                    {
                        var clock = Stopwatch.StartNew();
                        var r = plan.TransportAndCheck(x, new TransportRunOptions { Steps = steps });
                        sb.AppendLine($"{kind} cond={cond:E0} steps={steps}: {r.Integrator} acc={r.Stats.AcceptedSteps} rej={r.Stats.RejectedSteps} ev={r.Stats.Evaluations} z={r.Check!.ZScore:F2} t={clock.ElapsedMilliseconds}ms");
                    }
                    catch (Exception e) { sb.AppendLine($"cond steps={steps}: {e.GetType().Name} {e.Message}"); }
                }
            }
        }
        File.WriteAllText("/tmp/hn/explore.txt", sb.ToString());
        if (sb.Length > 0) return;
        foreach (double sigma in new[] { 10.0, 100.0 })
        {
            var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = sigma });
            foreach (var field in new[] { BridgeField.Drift, BridgeField.ProbabilityFlow })
            foreach (int? steps in new int?[] { 100, 1000, null })
            {
                try
                {
                    var clock = Stopwatch.StartNew();
                    var r = plan.TransportAndCheck(xs, new TransportRunOptions { Steps = steps, Field = field, Seed = 3 });
                    var (m, s) = Moments(r.Points);
                    sb.AppendLine($"sigma={sigma} {field} steps={steps}: {r.Integrator} acc={r.Stats.AcceptedSteps} rej={r.Stats.RejectedSteps} ev={r.Stats.Evaluations} mean={m:F3} std={s:F3} z={r.Check!.ZScore:F2} srcz={r.Check.SourceZScore:F2} t={clock.ElapsedMilliseconds}ms");
                }
                catch (Exception e) { sb.AppendLine($"sigma={sigma} {field} steps={steps}: {e.GetType().Name} {e.Message}"); }
            }
        }
        // condition number 1e6
        {
            var a = new GaussianMixture([1.0], [0.0, 0.0], [1.0, 1e-6], CovarianceType.Diagonal);
            var b = new GaussianMixture([1.0], [1.0, 0.0], [1e-6, 1.0], CovarianceType.Diagonal);
            var plan = TransportPlan.Create(a, b);
            var x = a.Sample(20000, 2);
            foreach (int? steps in new int?[] { 100, 1000, null })
            {
                try
                {
                    var r = plan.TransportAndCheck(x, new TransportRunOptions { Steps = steps });
                    var c0 = Moments(r.Points.Where((v, i) => i % 2 == 0).ToArray()); var c1 = Moments(r.Points.Where((v, i) => i % 2 == 1).ToArray());
                    sb.AppendLine($"cond1e6 steps={steps}: {r.Integrator} acc={r.Stats.AcceptedSteps} rej={r.Stats.RejectedSteps} ev={r.Stats.Evaluations} m0={c0.mean:F4} s0={c0.std:E3} s1={c1.std:F4} z={r.Check!.ZScore:F2}");
                }
                catch (Exception e) { sb.AppendLine($"cond steps={steps}: {e.GetType().Name} {e.Message}"); }
            }
        }
        File.WriteAllText("/tmp/hn/explore.txt", sb.ToString());
    }
}

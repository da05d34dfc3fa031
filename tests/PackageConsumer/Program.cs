// Uses the packed GmmFlow package the way the README shows: two mixtures, a Schrödinger-bridge plan through
// HiGHS (the native asset must have come with the package), transport, and a check against the target.
using GmmFlow;

var source = new GaussianMixture([0.5, 0.5], [0, 0, 3, 0], [1, 0.2, 0.2, 0.5, 0.5, 0, 0, 0.5]);
var target = new GaussianMixture([0.3, 0.3, 0.4], [0, 5, 4, 5, 2, -4], [0.3, 0, 0, 0.3, 0.6, 0.1, 0.1, 0.4, 1, 0, 0, 1]);
var plan = TransportPlan.Create(source, target, new TransportOptions { Cost = CostKind.SchrodingerBridge, Noise = 0.5 });
double[] x = source.Sample(4000, seed: 1);
double[] y = plan.Transport(x, new TransportRunOptions { Steps = 100, Seed = 2 });
double reached = target.MeanLogLikelihood(y), expected = target.MeanLogLikelihood(target.Sample(4000, seed: 3));
Console.WriteLine($"GmmFlow package: LP objective {plan.Objective:F4}, {plan.Pairs.Count} pairs, " +
                  $"target log-likelihood of transported points {reached:F3} (target samples {expected:F3})");
if (plan.Pairs.Count < 3 || Math.Abs(reached - expected) > 0.1)
{
    Console.Error.WriteLine("package consumer: transport did not reach the target");
    return 1;
}
return 0;

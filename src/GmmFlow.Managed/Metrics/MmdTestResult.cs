namespace GmmFlow;

/// <summary>Outcome of <see cref="SampleMetrics.MmdPermutationTest"/>.</summary>
/// <param name="MmdSquared">The unbiased MMD² of the two samples as given (the test statistic).</param>
/// <param name="PValue">
/// (1 + #{permutations with statistic ≥ the observed one}) / (1 + permutations): the probability, under "same
/// distribution", of a statistic at least this large. Reject at level α when PValue ≤ α.
/// </param>
/// <param name="Permutations">Number of random relabellings drawn.</param>
/// <param name="Bandwidths">The Gaussian kernel bandwidths h_b used.</param>
public sealed record MmdTestResult(double MmdSquared, double PValue, int Permutations, IReadOnlyList<double> Bandwidths);

using System.Buffers;
using GmmFlow.Simd;

namespace GmmFlow.Sampling;

/// <summary>
/// n points with log ρ, ∇log ρ, log p and ∇log p for a target and a prior, evaluated in parallel (checked) in fixed
/// chunks, so the results do not depend on the thread count. Buffers are allocated once per run.
/// </summary>
internal sealed class ParticleBatch
{
    private const int Grain = 8;

    public ParticleBatch(ITarget target, MixturePrior prior, int count)
    {
        Target = target;
        Prior = prior;
        Count = count;
        int d = target.Dimension;
        X = new double[count * d];
        LogRho = new double[count];
        GradRho = new double[count * d];
        LogPrior = new double[count];
        GradPrior = new double[count * d];
    }

    public ITarget Target { get; }
    public MixturePrior Prior { get; }
    public int Count { get; }
    public double[] X { get; }
    public double[] LogRho { get; }
    public double[] GradRho { get; }
    public double[] LogPrior { get; }
    public double[] GradPrior { get; }

    public Span<double> Point(int i) => X.AsSpan(i * Target.Dimension, Target.Dimension);

    /// <summary>Evaluates target and prior (values and gradients) at points [0, count).</summary>
    public void Evaluate(int count = -1)
    {
        var body = new EvaluateBody { Batch = this };
        ParallelRange.For(count < 0 ? Count : count, Grain, body);
    }

    private struct EvaluateBody : IRangeBody
    {
        public ParticleBatch Batch;

        public readonly void Execute(int start, int end)
        {
            ParticleBatch b = Batch;
            int d = b.Target.Dimension;
            // Fixed chunks of Grain points whatever the split, so a target's batch calls are the same for any thread count.
            for (int c = start; c < end; c += Grain)
            {
                int e = Math.Min(end, c + Grain);
                TargetChecks.EvaluateChecked(b.Target, b.X.AsSpan(c * d, (e - c) * d), b.LogRho.AsSpan(c, e - c), b.GradRho.AsSpan(c * d, (e - c) * d), c);
            }
            double[] scratch = ArrayPool<double>.Shared.Rent(b.Prior.ScratchLength);
            try
            {
                for (int i = start; i < end; i++)
                {
                    b.LogPrior[i] = b.Prior.LogDensity(b.X.AsSpan(i * d, d), b.GradPrior.AsSpan(i * d, d), scratch);
                }
            }
            finally
            {
                ArrayPool<double>.Shared.Return(scratch);
            }
        }
    }
}

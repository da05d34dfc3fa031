namespace GmmFlow.Fitting;

/// <summary>
/// EM's starting clusters, written as labels into the workspace (then one M-step from those hard
/// assignments gives the first weights, means and covariances, as scikit-learn's init_params="kmeans").
/// </summary>
/// <remarks>
/// k-means++ follows scikit-learn's greedy variant (_kmeans_plusplus: the first centre drawn ∝ sample
/// weight, then 2 + ⌊ln K⌋ candidates ∝ w·D² per centre, keeping the one that lowers the potential most;
/// Arthur &amp; Vassilvitskii 2007), then Lloyd iterations until no label changes or the centres move less
/// than 1e-4 × the mean coordinate variance (scikit-learn's tolerance), at most 100. Every distance pass
/// runs through the workspace's parallel pass with the SIMD kernels; random draws come from CounterRng
/// stream <c>stream</c>, so the result depends on the seed only.
/// </remarks>
internal static class KMeansInitializer
{
    public const int MaxLloydIterations = 100;
    private const double RelativeTolerance = 1e-4;

    /// <summary>Number of k-means++ candidates per centre (scikit-learn's n_local_trials).</summary>
    public static int Trials(int k) => 2 + (int)Math.Log(k);

    public static void KMeansPlusPlus(EmWorkspace ws, CounterRng rng, ulong stream, CancellationToken cancellationToken)
    {
        EmData data = ws.Data;
        int n = data.Count, d = data.Dimension, kk = ws.K, trials = Trials(kk);
        ulong counter = 0;
        Span<double> cumulative = ws.Scores; // scratch until the final assignment overwrites it

        // First centre ∝ sample weight.
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            total += data.Weights[i];
            cumulative[i] = total;
        }
        int first = SearchSorted(cumulative[..n], rng.Uniform(stream, counter++) * total);
        data.GetPoint(first, ws.Params.Means.AsSpan(0, d));
        ws.Params.Means.AsSpan(0, d).CopyTo(ws.Candidates);
        ws.MinDistance.AsSpan(0, n).Fill(double.PositiveInfinity);
        ws.CandidateCount = 1;
        ws.Pass(EmWorkspace.PassKind.Commit);
        double potential = 0;
        for (int i = 0; i < n; i++)
        {
            potential += data.Weights[i] * ws.MinDistance[i];
        }

        for (int c = 1; c < kk; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double s = 0;
            for (int i = 0; i < n; i++)
            {
                s += data.Weights[i] * ws.MinDistance[i];
                cumulative[i] = s;
            }
            for (int t = 0; t < trials; t++)
            {
                int id = SearchSorted(cumulative[..n], rng.Uniform(stream, counter++) * potential);
                data.GetPoint(id, ws.Candidates.AsSpan(t * d, d));
            }
            ws.CandidateCount = trials;
            ws.Pass(EmWorkspace.PassKind.Candidates);
            int best = 0;
            double bestPotential = double.PositiveInfinity;
            for (int t = 0; t < trials; t++)
            {
                double p = 0;
                for (int b = 0; b < data.Blocks; b++)
                {
                    p += ws.BlockPotential[b * trials + t];
                }
                if (p < bestPotential)
                {
                    bestPotential = p;
                    best = t;
                }
            }
            ws.Candidates.AsSpan(best * d, d).CopyTo(ws.Params.Means.AsSpan(c * d, d));
            ws.Candidates.AsSpan(best * d, d).CopyTo(ws.Candidates);
            ws.CandidateCount = 1;
            ws.Pass(EmWorkspace.PassKind.Commit);
            potential = bestPotential;
        }
        Lloyd(ws, cancellationToken);
    }

    public static void RandomFromData(EmWorkspace ws, CounterRng rng, ulong stream)
    {
        EmData data = ws.Data;
        int d = data.Dimension;
        // Partial Fisher–Yates over the points with positive weight: K distinct indices, uniformly.
        var pool = new int[data.PositiveCount];
        for (int i = 0, p = 0; i < data.Count; i++)
        {
            if (data.Weights[i] > 0)
            {
                pool[p++] = i;
            }
        }
        for (int k = 0; k < ws.K; k++)
        {
            int j = k + (int)(rng.Uniform(stream, (ulong)k) * (pool.Length - k));
            (pool[k], pool[j]) = (pool[j], pool[k]);
            data.GetPoint(pool[k], ws.Params.Means.AsSpan(k * d, d));
        }
        ws.Labels.AsSpan().Fill(-1);
        ws.Pass(EmWorkspace.PassKind.Assign);
    }

    /// <summary>Lloyd iterations on the centres in ws.Params.Means; leaves labels and scores of the final centres.</summary>
    private static void Lloyd(EmWorkspace ws, CancellationToken cancellationToken)
    {
        EmData data = ws.Data;
        int d = data.Dimension, kk = ws.K;
        double tolerance = 0;
        for (int j = 0; j < d; j++)
        {
            tolerance += data.Variance[j] / d;
        }
        tolerance *= RelativeTolerance;
        ws.Labels.AsSpan().Fill(-1);
        for (int iteration = 0; iteration < MaxLloydIterations; iteration++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ws.Pass(EmWorkspace.PassKind.Assign);
            int changes = 0;
            foreach (int c in ws.BlockChanges)
            {
                changes += c;
            }
            if (changes == 0)
            {
                return; // labels are stable: the centres are the means of their clusters
            }
            ws.Reduce();
            ReadOnlySpan<double> n = ws.ReducedN, s1 = ws.ReducedS1;
            double shift = 0;
            for (int k = 0; k < kk; k++)
            {
                Span<double> centre = ws.Params.Means.AsSpan(k * d, d);
                if (n[k] > 0)
                {
                    for (int j = 0; j < d; j++)
                    {
                        double delta = s1[k * ws.S1Stride + j] / n[k];
                        centre[j] += delta;
                        shift += delta * delta;
                    }
                }
                else
                {
                    // An empty cluster moves to the point farthest from its centre (scikit-learn relocates the same way).
                    int far = Farthest(ws);
                    data.GetPoint(far, centre);
                    ws.Scores[far] = 0;
                    shift = double.PositiveInfinity;
                }
            }
            if (shift <= tolerance)
            {
                break;
            }
        }
        ws.Pass(EmWorkspace.PassKind.Assign); // labels of the final centres
    }

    private static int Farthest(EmWorkspace ws)
    {
        int best = 0;
        double lowest = double.PositiveInfinity;
        for (int i = 0; i < ws.Data.Count; i++)
        {
            if (ws.Data.Weights[i] > 0 && ws.Scores[i] < lowest)
            {
                lowest = ws.Scores[i];
                best = i;
            }
        }
        return best;
    }

    /// <summary>First index whose cumulative value is ≥ <paramref name="value"/> (NumPy's searchsorted, side='left'), clipped to the last index.</summary>
    private static int SearchSorted(ReadOnlySpan<double> cumulative, double value)
    {
        int lo = 0, hi = cumulative.Length - 1;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (cumulative[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}

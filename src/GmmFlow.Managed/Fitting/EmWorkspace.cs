using System.Globalization;
using System.Runtime.CompilerServices;
using GmmFlow.Mixtures;
using GmmFlow.Native;
using GmmFlow.Simd;
using GmmFlow.Simd.Mixtures;

namespace GmmFlow.Fitting;

/// <summary>
/// Every buffer one EM fit needs, allocated once: the current parameters and their factors, per-block
/// sufficient statistics, per-point scores and labels, and one scratch set per concurrent thread. An EM
/// iteration is one parallel pass (<see cref="Pass"/>) plus a small serial M-step (<see cref="MStep"/>)
/// and allocates nothing.
/// </summary>
/// <remarks>
/// The pass fuses the E-step and the M-step statistics per chunk of 256 points while the chunk is in
/// cache: log aₖ + log Nₖ(x) for all K (SIMD kernels over the coordinate-major chunk), a weighted
/// log-sum-exp that turns them into responsibilities in place, then Σr, Σr(x − mₖ), Σr(x − mₖ)(x − mₖ)ᵀ
/// about the current means. The k-means initialisation runs through the same pass with other kinds.
/// </remarks>
internal sealed class EmWorkspace
{
    /// <summary>A component whose total responsibility is below this fraction of one average point is "empty".</summary>
    private const double EmptyFraction = 1e-3;
    private const int MaxWarnings = 50;

    private readonly int _slots;
    private readonly int[] _slotBusy;
    private readonly double[][] _slotRows;
    private readonly double[][] _slotLse;
    private readonly double[][] _slotMoments;
    private readonly double[] _reducedN;
    private readonly double[] _reducedS1;
    private readonly double[] _reducedS2;
    private readonly bool[] _empty;
    private readonly bool[] _singularWarned;
    private readonly double[] _point;
    private readonly double[] _fallback;
    private int _warningCount;

    public EmWorkspace(EmData data, int components, CovarianceType type, double regCovar, Lapack? lapack, int candidateCapacity)
    {
        Data = data;
        K = components;
        Type = type;
        RegCovar = regCovar;
        Lapack = lapack;
        int d = data.Dimension, b = data.Blocks, c = EmData.Chunk;
        // Point-major statistics (full covariances, larger d) pad rows to a multiple of 8: the first moments
        // and each second-moment row then have PaddedDimension entries.
        PointMajor = type == CovarianceType.Full && data.HasRowMajor;
        S1Stride = PointMajor ? data.PaddedDimension : d;
        S2Row = PointMajor ? data.PaddedDimension : d;
        S = type == CovarianceType.Full ? d * S2Row : d;
        PaddedMeans = new double[components * S1Stride];
        Params = new MixtureFactors(components, d, type);
        BlockN = new double[b * components];
        BlockS1 = new double[b * components * S1Stride];
        BlockS2 = new double[b * components * S];
        BlockLogLikelihood = new double[b];
        BlockChanges = new int[b];
        BlockPotential = new double[b * Math.Max(1, candidateCapacity)];
        Scores = new double[data.Chunks * c];
        MinDistance = new double[data.Chunks * c];
        Labels = new int[data.Chunks * c];
        Ones = new double[d];
        Ones.AsSpan().Fill(1.0);
        Candidates = new double[Math.Max(1, candidateCapacity) * d];
        _reducedN = new double[components];
        _reducedS1 = new double[components * S1Stride];
        _reducedS2 = new double[components * S];
        _empty = new bool[components];
        _singularWarned = new bool[components];
        _point = new double[d];
        _fallback = new double[MixtureFactors.CompactLength(type, 1, d)];

        _slots = ParallelRange.Concurrency;
        _slotBusy = new int[_slots];
        _slotRows = new double[_slots][];
        _slotLse = new double[_slots][];
        _slotMoments = new double[_slots][];
        for (int s = 0; s < _slots; s++)
        {
            _slotRows[s] = new double[Math.Max(components, Math.Max(1, candidateCapacity)) * EmData.Stride];
            _slotLse[s] = new double[c];
            _slotMoments[s] = type == CovarianceType.Full ? new double[WeightedMomentsKernel.FullScratchLength(d, c)] : new double[components];
        }
    }

    public EmData Data { get; }

    public int K { get; }

    public CovarianceType Type { get; }

    public double RegCovar { get; }

    /// <summary>The provider for full-covariance factorisations; null means Lapack.Default (diagonal fits never load it).</summary>
    public Lapack? Lapack { get; }

    /// <summary>Second-moment entries per component: d × <see cref="S2Row"/> (full) or d.</summary>
    public int S { get; }

    /// <summary>Entries per component of the first moments (d, or d padded to 8 for point-major statistics).</summary>
    public int S1Stride { get; }

    /// <summary>Row length of a full second-moment matrix.</summary>
    public int S2Row { get; }

    /// <summary>True when full-covariance statistics use the point-major kernel.</summary>
    public bool PointMajor { get; }

    /// <summary>Means with rows padded to <see cref="S1Stride"/> (zero padding), the shift of the point-major kernel.</summary>
    public double[] PaddedMeans { get; }

    /// <summary>Current parameters (k-means centres live in Params.Means during initialisation).</summary>
    public MixtureFactors Params { get; }

    public double[] BlockN { get; }

    public double[] BlockS1 { get; }

    public double[] BlockS2 { get; }

    public double[] BlockLogLikelihood { get; }

    public int[] BlockChanges { get; }

    public double[] BlockPotential { get; }

    /// <summary>Per point: log p(x) after an E-step, −(squared distance to the nearest centre) after a k-means assignment.</summary>
    public double[] Scores { get; }

    /// <summary>k-means++: squared distance of each point to its nearest chosen centre.</summary>
    public double[] MinDistance { get; }

    public int[] Labels { get; }

    public double[] Ones { get; }

    /// <summary>k-means++ candidate centres (T×d) for <see cref="PassKind.Candidates"/> and <see cref="PassKind.Commit"/>.</summary>
    public double[] Candidates { get; }

    public int CandidateCount { get; set; }

    /// <summary>Warnings collected since <see cref="ResetWarnings"/>.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Set when the last M-step re-seeded a component (the log-likelihood may then drop once).</summary>
    public bool Reseeded { get; private set; }

    public enum PassKind
    {
        /// <summary>E-step (responsibilities) and M-step statistics about the current means.</summary>
        EStep,

        /// <summary>Log-likelihood only (scores written, no statistics).</summary>
        LogLikelihood,

        /// <summary>Statistics of one-hot responsibilities from <see cref="Labels"/> about the current means.</summary>
        FromLabels,

        /// <summary>k-means: nearest centre (Params.Means) per point, label changes, and the clusters' n and Σ(x − c).</summary>
        Assign,

        /// <summary>k-means++: potential Σ w·min(D², |x − cₜ|²) of each candidate.</summary>
        Candidates,

        /// <summary>k-means++: D² := min(D², |x − c₀|²) for candidate 0.</summary>
        Commit,
    }

    public void ResetWarnings()
    {
        Warnings.Clear();
        _warningCount = 0;
        Array.Clear(_singularWarned);
    }

    /// <summary>Runs one parallel pass over the data; returns the weighted mean log-likelihood for E-step kinds.</summary>
    public double Pass(PassKind kind)
    {
        if (PointMajor)
        {
            for (int k = 0; k < K; k++)
            {
                Params.Means.AsSpan(k * Data.Dimension, Data.Dimension).CopyTo(PaddedMeans.AsSpan(k * S1Stride));
            }
        }
        var body = new PassBody { Workspace = this, Kind = kind };
        ParallelRange.For(Data.Blocks, 1, in body);
        double sum = 0;
        for (int b = 0; b < Data.Blocks; b++)
        {
            sum += BlockLogLikelihood[b];
        }
        return sum / Data.TotalWeight;
    }

    private struct PassBody : IRangeBody
    {
        public EmWorkspace Workspace;
        public PassKind Kind;

        public readonly void Execute(int start, int end)
        {
            for (int b = start; b < end; b++)
            {
                Workspace.RunBlock(b, Kind);
            }
        }
    }

    private int AcquireSlot()
    {
        // At most Concurrency threads run a pass at once, so a free slot always exists.
        while (true)
        {
            for (int s = 0; s < _slots; s++)
            {
                if (Interlocked.CompareExchange(ref _slotBusy[s], 1, 0) == 0)
                {
                    return s;
                }
            }
            Thread.SpinWait(1);
        }
    }

    private void RunBlock(int b, PassKind kind)
    {
        int slot = AcquireSlot();
        try
        {
            RunBlock(b, kind, _slotRows[slot], _slotLse[slot], _slotMoments[slot]);
        }
        finally
        {
            Volatile.Write(ref _slotBusy[slot], 0);
        }
    }

    // Hot loop of every pass: optimised from the first call (see the kernels' note on tiering).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunBlock(int b, PassKind kind, double[] rowsArray, double[] lseArray, double[] momentsArray)
    {
        int d = Data.Dimension, c = EmData.Chunk, s = EmData.Stride, kk = K;
        bool statistics = kind is PassKind.EStep or PassKind.FromLabels or PassKind.Assign;
        Span<double> blockN = BlockN.AsSpan(b * kk, kk);
        Span<double> blockS1 = BlockS1.AsSpan(b * kk * S1Stride, kk * S1Stride);
        Span<double> blockS2 = BlockS2.AsSpan(b * kk * S, kk * S);
        if (statistics)
        {
            blockN.Clear();
            blockS1.Clear();
            blockS2.Clear();
        }
        int t = CandidateCount;
        Span<double> potential = BlockPotential.AsSpan(b * Math.Max(1, t), Math.Max(1, t));
        if (kind == PassKind.Candidates)
        {
            potential.Clear();
        }
        double logLikelihood = 0;
        int changes = 0;
        Span<double> rows = rowsArray;
        Span<double> lse = lseArray;
        (int firstChunk, int endChunk) = Data.BlockChunks(b);
        for (int chunk = firstChunk; chunk < endChunk; chunk++)
        {
            (int n, int padded) = Data.ChunkSize(chunk);
            ReadOnlySpan<double> points = Data.ChunkPoints(chunk);
            ReadOnlySpan<double> weights = Data.ChunkWeights(chunk);
            int offset = chunk * c;
            switch (kind)
            {
                case PassKind.EStep:
                case PassKind.LogLikelihood:
                    Params.Terms.EvaluateBlock(points, s, padded, rows, s, weighted: true);
                    logLikelihood += LogSumExpKernel.Evaluate(rows, s, padded, kk, lse, responsibilities: kind == PassKind.EStep, weights);
                    lse[..n].CopyTo(Scores.AsSpan(offset, n));
                    break;
                case PassKind.FromLabels:
                    OneHot(rows, n, padded, weights, offset);
                    break;
                case PassKind.Assign:
                    changes += AssignChunk(points, rows, n, padded, weights, offset);
                    break;
                case PassKind.Candidates:
                    for (int j = 0; j < t; j++)
                    {
                        Span<double> row = rows.Slice(j * s, padded);
                        DiagonalGaussianKernel.Evaluate(points, s, padded, d, Ones, Candidates.AsSpan(j * d, d), 0, row);
                        double sum = 0;
                        for (int i = 0; i < n; i++)
                        {
                            sum += weights[i] * Math.Min(MinDistance[offset + i], -2 * row[i]);
                        }
                        potential[j] += sum;
                    }
                    break;
                case PassKind.Commit:
                    {
                        Span<double> row = rows[..padded];
                        DiagonalGaussianKernel.Evaluate(points, s, padded, d, Ones, Candidates.AsSpan(0, d), 0, row);
                        for (int i = 0; i < n; i++)
                        {
                            MinDistance[offset + i] = Math.Min(MinDistance[offset + i], -2 * row[i]);
                        }
                        break;
                    }
            }
            if (!statistics)
            {
                continue;
            }
            if (Type != CovarianceType.Full)
            {
                // All components per coordinate row (bit-identical to the per-component loop below); momentsArray holds the chunk's Σr.
                WeightedMomentsKernel.AccumulateDiagonalComponents(points, s, padded, d, kk, rows, s, Params.Means, blockS1, S1Stride, blockS2, S,
                    momentsArray);
                for (int k = 0; k < kk; k++)
                {
                    blockN[k] += momentsArray[k];
                }
                continue;
            }
            for (int k = 0; k < kk; k++)
            {
                ReadOnlySpan<double> r = rows.Slice(k * s, padded);
                ReadOnlySpan<double> shift = Params.Means.AsSpan(k * d, d);
                Span<double> s1 = blockS1.Slice(k * S1Stride, S1Stride);
                if (Type == CovarianceType.Full && kind != PassKind.Assign)
                {
                    blockN[k] += PointMajor
                        ? WeightedMomentsKernel.AccumulateFullPointMajor(Data.ChunkRows(chunk), padded, d, r,
                            PaddedMeans.AsSpan(k * S1Stride, S1Stride), s1, blockS2.Slice(k * S, S))
                        : WeightedMomentsKernel.AccumulateFull(points, s, padded, d, r, shift, momentsArray, s1, blockS2.Slice(k * S, S));
                }
                else
                {
                    blockN[k] += WeightedMomentsKernel.AccumulateDiagonal(points, s, padded, d, r, shift, s1, blockS2.Slice(k * S, d));
                }
            }
        }
        BlockLogLikelihood[b] = logLikelihood;
        BlockChanges[b] = changes;
    }

    private void OneHot(Span<double> rows, int n, int padded, ReadOnlySpan<double> weights, int offset)
    {
        int s = EmData.Stride;
        for (int k = 0; k < K; k++)
        {
            rows.Slice(k * s, padded).Clear();
        }
        for (int i = 0; i < n; i++)
        {
            rows[Labels[offset + i] * s + i] = weights[i];
        }
    }

    /// <summary>Nearest centre per point (ties to the lowest index); writes labels, scores and one-hot rows; returns label changes.</summary>
    private int AssignChunk(ReadOnlySpan<double> points, Span<double> rows, int n, int padded, ReadOnlySpan<double> weights, int offset)
    {
        int d = Data.Dimension, s = EmData.Stride, changes = 0;
        for (int k = 0; k < K; k++)
        {
            // −½|x − cₖ|² with unit scale and the centre as shift.
            DiagonalGaussianKernel.Evaluate(points, s, padded, d, Ones, Params.Means.AsSpan(k * d, d), 0, rows.Slice(k * s, padded));
        }
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            double bestValue = rows[i];
            for (int k = 1; k < K; k++)
            {
                double v = rows[k * s + i];
                if (v > bestValue)
                {
                    bestValue = v;
                    best = k;
                }
            }
            changes += Labels[offset + i] != best ? 1 : 0;
            Labels[offset + i] = best;
            Scores[offset + i] = 2 * bestValue;
        }
        OneHot(rows, n, padded, weights, offset);
        return changes;
    }

    /// <summary>
    /// Turns the statistics of the last statistics pass into new weights, means and covariances (adding
    /// reg_covar), re-seeds empty components and factorises everything. <paramref name="iteration"/> only labels warnings.
    /// </summary>
    public void MStep(int iteration)
    {
        int d = Data.Dimension, kk = K;
        Reduce();
        double total = Data.TotalWeight, emptyBelow = EmptyFraction * total / Data.PositiveCount;
        int emptyCount = 0;
        for (int k = 0; k < kk; k++)
        {
            double n = _reducedN[k];
            _empty[k] = !(n >= emptyBelow);
            if (_empty[k])
            {
                emptyCount++;
                continue;
            }
            Span<double> mean = Params.Means.AsSpan(k * d, d);
            ReadOnlySpan<double> s1 = _reducedS1.AsSpan(k * S1Stride, d);
            ReadOnlySpan<double> s2 = _reducedS2.AsSpan(k * S, S);
            double inv = 1 / n;
            int block = Type switch { CovarianceType.Full => d * d, CovarianceType.Diagonal => d, _ => 1 };
            CovarianceFromMoments(Type, s1, s2, S2Row, inv, RegCovar, Params.Compact.AsSpan(k * block, block), d);
            for (int j = 0; j < d; j++)
            {
                mean[j] += s1[j] * inv;
            }
            Params.Weights[k] = n / total;
        }
        Reseeded = false;
        if (emptyCount > 0)
        {
            Reseed(iteration);
        }
        double weightSum = 0;
        for (int k = 0; k < kk; k++)
        {
            weightSum += Params.Weights[k];
        }
        for (int k = 0; k < kk; k++)
        {
            Params.Weights[k] /= weightSum;
            Factor(k, iteration);
        }
        Params.RefreshWeights();
    }

    /// <summary>Sets the parameters from <paramref name="initial"/>, converting its covariances to this fit's type.</summary>
    public void SetParameters(GaussianMixture initial)
    {
        int d = Data.Dimension;
        initial.Weights.CopyTo(Params.Weights);
        initial.Means.CopyTo(Params.Means);
        // Only a full fit needs the full matrices; the others read variances from the compact form (Covariances would
        // build K d×d matrices of a diagonal start to read their diagonals).
        ReadOnlySpan<double> full = Type == CovarianceType.Full ? initial.Covariances : default;
        for (int k = 0; k < K; k++)
        {
            switch (Type)
            {
                case CovarianceType.Full:
                    full.Slice(k * d * d, d * d).CopyTo(Params.Compact.AsSpan(k * d * d, d * d));
                    break;
                case CovarianceType.Diagonal:
                    for (int j = 0; j < d; j++)
                    {
                        Params.Compact[k * d + j] = initial.Variance(k, j);
                    }
                    break;
                default:
                    double s = 0;
                    for (int j = 0; j < d; j++)
                    {
                        s += initial.Variance(k, j);
                    }
                    Params.Compact[k] = s / d;
                    break;
            }
            Factor(k, 0);
        }
        Params.RefreshWeights();
    }

    /// <summary>Totals of the last statistics pass: per component n, Σr(x − m) (K×d) and the second moments (K×S), added block by block in order.</summary>
    public ReadOnlySpan<double> ReducedN => _reducedN;

    /// <summary>K × <see cref="S1Stride"/>.</summary>
    public ReadOnlySpan<double> ReducedS1 => _reducedS1;

    /// <summary>Adds the per-block statistics in block order (deterministic for any thread count).</summary>
    public void Reduce()
    {
        int kk = K, d = Data.Dimension, blocks = Data.Blocks;
        Array.Clear(_reducedN);
        Array.Clear(_reducedS1);
        Array.Clear(_reducedS2);
        for (int b = 0; b < blocks; b++)
        {
            for (int k = 0; k < kk; k++)
            {
                _reducedN[k] += BlockN[b * kk + k];
            }
            ReadOnlySpan<double> s1 = BlockS1.AsSpan(b * kk * S1Stride, kk * S1Stride);
            for (int i = 0; i < s1.Length; i++)
            {
                _reducedS1[i] += s1[i];
            }
            ReadOnlySpan<double> s2 = BlockS2.AsSpan(b * kk * S, kk * S);
            for (int i = 0; i < s2.Length; i++)
            {
                _reducedS2[i] += s2[i];
            }
        }
    }

    /// <summary>
    /// Each empty component restarts at the point the current model explains worst (lowest score) with the
    /// weight of one average point and the average covariance of the other components (the data's variances
    /// if every component is empty), so the next E-step can give it the points nobody fits well.
    /// </summary>
    private void Reseed(int iteration)
    {
        int d = Data.Dimension, kk = K, block = Params.Compact.Length / kk;
        Span<double> fallback = _fallback;
        fallback.Clear();
        double weightSum = 0;
        for (int k = 0; k < kk; k++)
        {
            if (_empty[k])
            {
                continue;
            }
            double w = Params.Weights[k];
            weightSum += w;
            ReadOnlySpan<double> cov = Params.Compact.AsSpan(k * block, block);
            for (int i = 0; i < block; i++)
            {
                fallback[i] += w * cov[i];
            }
        }
        if (weightSum > 0)
        {
            for (int i = 0; i < block; i++)
            {
                fallback[i] /= weightSum;
            }
        }
        else
        {
            double mean = 0;
            for (int j = 0; j < d; j++)
            {
                double v = Data.Variance[j] + RegCovar;
                mean += v / d;
                switch (Type)
                {
                    case CovarianceType.Full:
                        fallback[j * d + j] = v;
                        break;
                    case CovarianceType.Diagonal:
                        fallback[j] = v;
                        break;
                }
            }
            if (Type == CovarianceType.Spherical)
            {
                fallback[0] = mean;
            }
        }
        for (int k = 0; k < kk; k++)
        {
            if (!_empty[k])
            {
                continue;
            }
            int worst = -1;
            double worstScore = double.PositiveInfinity;
            for (int i = 0; i < Data.Count; i++)
            {
                if (Data.Weights[i] > 0 && Scores[i] < worstScore)
                {
                    worstScore = Scores[i];
                    worst = i;
                }
            }
            Data.GetPoint(worst, _point);
            _point.CopyTo(Params.Means.AsSpan(k * d, d));
            fallback.CopyTo(Params.Compact.AsSpan(k * block, block));
            Params.Weights[k] = 1.0 / Data.PositiveCount;
            // Another empty component must not restart at the same point.
            Scores[worst] = double.PositiveInfinity;
            Warn(string.Create(CultureInfo.InvariantCulture,
                $"iteration {iteration}: component {k} was left with (almost) no points (total responsibility {_reducedN[k]:G3}); re-seeded at point {worst}, the one the model explained worst"));
            Reseeded = true;
        }
    }

    /// <summary>Factorises component k; repairs a covariance that is not positive definite by a growing diagonal jitter and reports it.</summary>
    private void Factor(int k, int iteration)
    {
        int d = Data.Dimension;
        int info = Params.TryFactor(k, Lapack);
        if (info != 0)
        {
            int block = Params.Compact.Length / K;
            Span<double> cov = Params.Compact.AsSpan(k * block, block);
            double scale = 0;
            for (int j = 0; j < d; j++)
            {
                scale += Math.Abs(Type == CovarianceType.Full ? cov[j * d + j] : Type == CovarianceType.Diagonal ? cov[j] : cov[0]) / d;
            }
            double jitter = Math.Max(Math.Max(RegCovar, 1e-10 * scale), 1e-300), added = 0;
            for (int attempt = 0; attempt < 40 && info != 0; attempt++, jitter *= 10)
            {
                if (Type == CovarianceType.Full)
                {
                    for (int j = 0; j < d; j++)
                    {
                        cov[j * d + j] += jitter;
                    }
                }
                else
                {
                    for (int j = 0; j < block; j++)
                    {
                        cov[j] = Math.Max(cov[j], 0) + jitter;
                    }
                }
                added += jitter;
                info = Params.TryFactor(k, Lapack);
            }
            if (info != 0)
            {
                throw new NotPositiveDefiniteException("fitted covariance of component", k, info);
            }
            Warn(string.Create(CultureInfo.InvariantCulture,
                $"iteration {iteration}: the covariance of component {k} was not positive definite (duplicate or collinear points?); added {added:G3} to its diagonal"));
            _singularWarned[k] = true;
            return;
        }
        if (_singularWarned[k])
        {
            return;
        }
        // Near-singular data: the smallest conditional variance (Lⱼⱼ² for full, the variance otherwise) is
        // mostly reg_covar, or tiny relative to the largest variance.
        double minVar = double.PositiveInfinity, maxVar = 0;
        for (int j = 0; j < d; j++)
        {
            double p = Params.Terms.Precision[Type == CovarianceType.Full ? (k * d + j) * d + j : k * d + j];
            double v = 1 / (p * p);
            minVar = Math.Min(minVar, v);
            maxVar = Math.Max(maxVar, v);
        }
        if (minVar <= Math.Max(10 * RegCovar, 1e-10 * maxVar))
        {
            _singularWarned[k] = true;
            Warn(string.Create(CultureInfo.InvariantCulture,
                $"iteration {iteration}: the data of component {k} are (nearly) degenerate (duplicate or collinear points): its smallest variance {minVar:G3} is held up by reg_covar = {RegCovar:G3}"));
        }
    }

    private void Warn(string message)
    {
        _warningCount++;
        if (_warningCount <= MaxWarnings)
        {
            Warnings.Add(message);
        }
        else if (_warningCount == MaxWarnings + 1)
        {
            Warnings.Add("further warnings suppressed");
        }
    }

    /// <summary>
    /// One component's covariance about its new mean from its moments about the old one (M-step; also the distributed
    /// EM's <see cref="EmStatistics.Maximize"/>): s2/n − δδᵀ with δ = s1/n, negative round-off variances clamped to 0,
    /// plus the ridge; full (s2 rows <paramref name="s2Row"/> apart, lower triangle read), diagonal, or spherical (the
    /// mean of the diagonal variances, as scikit-learn).
    /// </summary>
    internal static void CovarianceFromMoments(CovarianceType type, ReadOnlySpan<double> s1, ReadOnlySpan<double> s2, int s2Row,
        double inv, double regCovar, Span<double> destination, int d)
    {
        switch (type)
        {
            case CovarianceType.Full:
                for (int a = 0; a < d; a++)
                {
                    double da = s1[a] * inv;
                    for (int bb = 0; bb <= a; bb++)
                    {
                        double v = s2[a * s2Row + bb] * inv - da * s1[bb] * inv;
                        destination[a * d + bb] = v;
                        destination[bb * d + a] = v;
                    }
                    destination[a * d + a] = Math.Max(destination[a * d + a], 0) + regCovar;
                }
                break;
            case CovarianceType.Diagonal:
                for (int j = 0; j < d; j++)
                {
                    double dj = s1[j] * inv;
                    destination[j] = Math.Max(s2[j] * inv - dj * dj, 0) + regCovar;
                }
                break;
            default:
                {
                    double v = 0;
                    for (int j = 0; j < d; j++)
                    {
                        double dj = s1[j] * inv;
                        v += Math.Max(s2[j] * inv - dj * dj, 0);
                    }
                    destination[0] = v / d + regCovar;
                    break;
                }
        }
    }
}

using GmmFlow.Native;

namespace GmmFlow;

/// <summary>
/// The per-component factors of one set of Gaussians (one side of a transport problem), computed once and
/// shared by every pair cost and bridge: validated means and covariances, Cholesky factors L (Σ = L Lᵀ),
/// their inverses, traces and log-determinants. Immutable and thread-safe once built.
/// </summary>
/// <remarks>
/// Full covariances are stored row-major K×d×d; diagonal ones as K×d variances, with every formula in its
/// closed diagonal form. Validation happens here, once, so the pair loops can call LAPACK unchecked:
/// means and covariances finite, covariances symmetric (to 1e-8 relative; the lower triangle is then used) and
/// positive definite, errors naming the side (<see cref="Name"/>) and the component index.
/// </remarks>
public sealed class GaussianFactors
{
    private const double SymmetryTolerance = 1e-8;

    private GaussianFactors(string name, int count, int dimension, bool diagonal, Lapack lapack)
    {
        Name = name;
        Count = count;
        Dimension = dimension;
        IsDiagonal = diagonal;
        Lapack = lapack;
        int block = diagonal ? dimension : dimension * dimension;
        Means = new double[count * dimension];
        Covariances = Blocks(count, block);
        Cholesky = Blocks(count, block);
        if (diagonal)
        {
            _inverse = Blocks(count, block);
            _transposes = new TransposedFactors([], []);
        }
        Traces = new double[count];
        LogDeterminants = new double[count];
        Determinants = new double[count];
        LogVariances = diagonal ? new double[count * dimension] : [];
    }

    /// <summary>
    /// One array per component rather than one K·d·d array: a component's matrix is at most 32 KiB up to d = 64, so
    /// these come from the GC's small-object heap, whose memory is reused, while one large array lands on the
    /// large-object heap and, when factors are built per call, costs a page fault and a page clear every 4 KiB
    /// (at d = 16, K = 50 that was half the time of <see cref="FromFull(ReadOnlySpan{double}, ReadOnlySpan{double}, int, int, string)"/>).
    /// </summary>
    private static double[][] Blocks(int count, int block)
    {
        var blocks = new double[count][];
        for (int k = 0; k < count; k++)
        {
            blocks[k] = GC.AllocateUninitializedArray<double>(block);
        }
        return blocks;
    }

    /// <summary>Side name used in error messages, e.g. "source" or "target".</summary>
    public string Name { get; }

    /// <summary>Number of components K.</summary>
    public int Count { get; }

    /// <summary>Dimension d.</summary>
    public int Dimension { get; }

    /// <summary>True when the covariances are diagonal (stored as K×d variances).</summary>
    public bool IsDiagonal { get; }

    internal Lapack Lapack { get; }

    /// <summary>K×d means.</summary>
    internal double[] Means { get; }

    /// <summary>Per component: the d×d symmetric covariance (lower triangle mirrored), or the d variances.</summary>
    private double[][] Covariances { get; }

    /// <summary>Per component: the lower Cholesky factor L, or the d standard deviations √s.</summary>
    private double[][] Cholesky { get; }

    /// <summary>Per component: L⁻¹ (lower triangular), or the d values 1/√s.</summary>
    private double[][] CholeskyInverse => Volatile.Read(ref _inverse) ?? BuildInverse();

    /// <summary>
    /// L⁻¹ and the transposes Lᵀ, L⁻ᵀ of full-storage factors are built on first use, for all components at once, and
    /// separately: the lockstep W2 / SB cost matrices need only L, the lockstep surrogate L and L⁻¹, and only the
    /// one-pair kernels, bridges and regime diagnostics read the transposes. At d = 16 the inverse (dtrtri) and the
    /// two transposes cost more than the Cholesky factorisation itself, and at d = 64 the transposes alone are 2.6 MB
    /// of fresh memory per 40 components. Built once under a lock; warm calls read the published arrays.
    /// </summary>
    private TransposedFactors Transposes => Volatile.Read(ref _transposes) ?? BuildTransposes();

    private double[][]? _inverse;
    private TransposedFactors? _transposes;
    private readonly Lock _derivedLock = new();

    /// <summary>Per component Lᵀ and L⁻ᵀ (full storage only): the row-axpy kernels need their columns contiguous.</summary>
    private sealed record TransposedFactors(double[][] Transposed, double[][] InverseTransposed);

    private double[][] BuildInverse()
    {
        lock (_derivedLock)
        {
            if (_inverse is { } built)
            {
                return built;
            }
            int d = Dimension;
            var inverse = Blocks(Count, d * d);
            for (int k = 0; k < Count; k++)
            {
                Span<double> inv = inverse[k];
                // LAPACK dtrtri: the managed column-order loop this replaced strode through memory and cost more
                // than the Cholesky itself at d = 64.
                Factor(k).CopyTo(inv);
                Lapack.InvertLowerTriangular(inv, d);
            }
            Volatile.Write(ref _inverse, inverse);
            return inverse;
        }
    }

    private TransposedFactors BuildTransposes()
    {
        double[][] inverse = CholeskyInverse;
        lock (_derivedLock)
        {
            if (_transposes is { } built)
            {
                return built;
            }
            int d = Dimension;
            var transposed = Blocks(Count, d * d);
            var inverseTransposed = Blocks(Count, d * d);
            for (int k = 0; k < Count; k++)
            {
                Transpose(Factor(k), transposed[k], d);
                Transpose(inverse[k], inverseTransposed[k], d);
            }
            var result = new TransposedFactors(transposed, inverseTransposed);
            Volatile.Write(ref _transposes, result);
            return result;
        }
    }

    internal double[] Traces { get; }

    internal double[] LogDeterminants { get; }

    /// <summary>det Σ (used by the d = 2 closed forms; may under/overflow for large d, which never reads it).</summary>
    internal double[] Determinants { get; }

    /// <summary>K×d log-variances (diagonal storage only).</summary>
    internal double[] LogVariances { get; }

    internal int Block => IsDiagonal ? Dimension : Dimension * Dimension;

    internal ReadOnlySpan<double> Mean(int k) => Means.AsSpan(k * Dimension, Dimension);

    internal ReadOnlySpan<double> Covariance(int k) => Covariances[k];

    internal ReadOnlySpan<double> Factor(int k) => Cholesky[k];

    internal ReadOnlySpan<double> FactorInverse(int k) => CholeskyInverse[k];

    internal ReadOnlySpan<double> FactorTransposed(int k) => Transposes.Transposed[k];

    internal ReadOnlySpan<double> FactorInverseTransposed(int k) => Transposes.InverseTransposed[k];

    /// <summary>
    /// The factors of a mixture's components, for <see cref="GaussianCosts.Compute"/>, <see cref="RegimeTable.Compute"/>
    /// and bridges. Full storage for every covariance type (the batched kernels pair like with like).
    /// </summary>
    /// <param name="mixture">The mixture.</param>
    /// <param name="name">How errors name this side, e.g. "source" or "target".</param>
    public static GaussianFactors FromMixture(GaussianMixture mixture, string name = "source")
    {
        ArgumentNullException.ThrowIfNull(mixture);
        return FromFull(mixture.Means, mixture.Covariances, mixture.ComponentCount, mixture.Dimension, name);
    }

    /// <summary>
    /// The factors of a mixture in diagonal storage (K×d variances, every cost and bridge in its O(d) closed form,
    /// docs/theory/structured-covariances.md): for <see cref="CovarianceType.Diagonal"/> and
    /// <see cref="CovarianceType.Spherical"/> mixtures, whose spherical variances are repeated over the d coordinates.
    /// </summary>
    /// <param name="mixture">A diagonal or spherical mixture.</param>
    /// <param name="name">How errors name this side.</param>
    /// <exception cref="ArgumentException">The mixture has full covariances (use <see cref="FromMixture(GaussianMixture, string)"/>).</exception>
    public static GaussianFactors FromMixtureDiagonal(GaussianMixture mixture, string name = "source")
    {
        ArgumentNullException.ThrowIfNull(mixture);
        if (mixture.CovarianceType == CovarianceType.Full)
        {
            ThrowHelper.ThrowArgument($"The {name} mixture has full covariances; diagonal storage needs a diagonal or spherical mixture.", nameof(mixture));
        }
        int k = mixture.ComponentCount, d = mixture.Dimension;
        ReadOnlySpan<double> variances = mixture.CompactCovariances;
        if (mixture.CovarianceType == CovarianceType.Spherical)
        {
            var expanded = new double[k * d];
            for (int c = 0; c < k; c++)
            {
                expanded.AsSpan(c * d, d).Fill(variances[c]);
            }
            variances = expanded;
        }
        return FromDiagonal(mixture.Means, variances, k, d, name);
    }

    /// <summary>
    /// Factors for a transport problem between two mixtures: diagonal storage when both are diagonal or spherical
    /// (O(d) closed forms, no eigensolver), full storage otherwise (a diagonal side is then expanded to full matrices).
    /// This is what <see cref="TransportPlan"/> and the CLI's cost command use.
    /// </summary>
    public static (GaussianFactors Source, GaussianFactors Target) ForTransport(GaussianMixture source, GaussianMixture target)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        return SharesDiagonalStorage(source, target)
            ? (FromMixtureDiagonal(source, "source"), FromMixtureDiagonal(target, "target"))
            : (FromMixture(source, "source"), FromMixture(target, "target"));
    }

    /// <summary>True when neither mixture has full covariances, so their pairs can use diagonal storage.</summary>
    public static bool SharesDiagonalStorage(GaussianMixture source, GaussianMixture target)
        => source.CovarianceType != CovarianceType.Full && target.CovarianceType != CovarianceType.Full;

    /// <summary>
    /// Factors K Gaussians with full covariances. <paramref name="means"/> is K×d and
    /// <paramref name="covariances"/> K×d×d, both row-major.
    /// </summary>
    /// <param name="means">K×d means, row-major.</param>
    /// <param name="covariances">K×d×d covariances, row-major, symmetric positive definite.</param>
    /// <param name="count">K.</param>
    /// <param name="dimension">d.</param>
    /// <param name="name">Side name for error messages ("source", "target", "marginal 2", ...).</param>
    /// <exception cref="NonFiniteValueException">A mean or covariance entry is NaN or infinite.</exception>
    /// <exception cref="NotPositiveDefiniteException">A covariance is not SPD (names the side and the component).</exception>
    /// <exception cref="ArgumentException">Lengths do not match K and d, or a covariance is not symmetric.</exception>
    public static GaussianFactors FromFull(ReadOnlySpan<double> means, ReadOnlySpan<double> covariances, int count, int dimension, string name = "source")
        => FromFull(Lapack.Default, means, covariances, count, dimension, name);

    /// <summary>
    /// Factors K Gaussians with diagonal covariances: <paramref name="means"/> and <paramref name="variances"/> are K×d.
    /// </summary>
    /// <exception cref="NonFiniteValueException">A mean or variance is NaN or infinite.</exception>
    /// <exception cref="NotPositiveDefiniteException">A variance is not positive (names the side, component and minor = coordinate + 1).</exception>
    public static GaussianFactors FromDiagonal(ReadOnlySpan<double> means, ReadOnlySpan<double> variances, int count, int dimension, string name = "source")
        => FromDiagonal(Lapack.Default, means, variances, count, dimension, name);

    internal static GaussianFactors FromFull(Lapack lapack, ReadOnlySpan<double> means, ReadOnlySpan<double> covariances, int count, int dimension, string name)
    {
        CheckShape(means, covariances, count, dimension, dimension * dimension, name);
        var f = new GaussianFactors(name, count, dimension, diagonal: false, lapack);
        int d = dimension, dd = d * d;
        string what = $"covariance of {name} component";
        for (int k = 0; k < count; k++)
        {
            ReadOnlySpan<double> input = covariances.Slice(k * dd, dd);
            Lapack.CheckFinite(input, what, k, nameof(covariances));
            SupportedRange.CheckVariances(input, d, full: true, what, k, nameof(covariances));
            Span<double> sigma = f.Covariances[k];
            double trace = 0;
            for (int i = 0; i < d; i++)
            {
                trace += input[i * d + i];
                for (int j = 0; j <= i; j++)
                {
                    double lower = input[i * d + j], upper = input[j * d + i];
                    // |Σ_ij| ≤ √(Σ_ii Σ_jj) for SPD matrices, so that is the natural scale of an asymmetry (compared
                    // squared: no square root per entry).
                    double gap = lower - upper;
                    if (gap * gap > SymmetryTolerance * SymmetryTolerance * Math.Abs(input[i * d + i] * input[j * d + j]))
                    {
                        ThrowHelper.ThrowArgument(
                            $"{what} #{k} is not symmetric: entry ({i},{j}) = {lower} but ({j},{i}) = {upper}.", nameof(covariances));
                    }
                    sigma[i * d + j] = sigma[j * d + i] = lower;
                }
            }
            Span<double> l = f.Cholesky[k];
            sigma.CopyTo(l);
            int info = lapack.CholeskyUnchecked(l, d);
            if (info > 0)
            {
                ThrowHelper.ThrowNotPositiveDefinite(what, k, info, nameof(covariances));
            }
            double logDet = 0;
            for (int i = 0; i < d; i++)
            {
                logDet += Math.Log(l[i * d + i]);
            }
            f.Traces[k] = trace;
            f.LogDeterminants[k] = 2 * logDet;
            f.Determinants[k] = Math.Exp(2 * logDet);
        }
        means.Slice(0, count * d).CopyTo(f.Means);
        return f;
    }

    internal static GaussianFactors FromDiagonal(Lapack lapack, ReadOnlySpan<double> means, ReadOnlySpan<double> variances, int count, int dimension, string name)
    {
        CheckShape(means, variances, count, dimension, dimension, name);
        var f = new GaussianFactors(name, count, dimension, diagonal: true, lapack);
        int d = dimension;
        string what = $"covariance of {name} component";
        for (int k = 0; k < count; k++)
        {
            ReadOnlySpan<double> s = variances.Slice(k * d, d);
            Lapack.CheckFinite(s, what, k, nameof(variances));
            SupportedRange.CheckVariances(s, d, full: false, what, k, nameof(variances));
            double trace = 0, logDet = 0;
            for (int i = 0; i < d; i++)
            {
                if (!(s[i] > 0))
                {
                    // A diagonal matrix's leading minor of order i+1 is the first to fail.
                    ThrowHelper.ThrowNotPositiveDefinite(what, k, i + 1, nameof(variances));
                }
                double root = Math.Sqrt(s[i]), log = Math.Log(s[i]);
                f.Covariances[k][i] = s[i];
                f.Cholesky[k][i] = root;
                f.CholeskyInverse[k][i] = 1 / root;
                f.LogVariances[k * d + i] = log;
                trace += s[i];
                logDet += log;
            }
            f.Traces[k] = trace;
            f.LogDeterminants[k] = logDet;
            f.Determinants[k] = Math.Exp(logDet);
        }
        means.Slice(0, count * d).CopyTo(f.Means);
        return f;
    }

    private static void CheckShape(ReadOnlySpan<double> means, ReadOnlySpan<double> covariances, int count, int dimension, int block, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (count < 1 || dimension < 1)
        {
            ThrowHelper.ThrowArgument($"The {name} side needs at least one component and dimension ≥ 1 (got K = {count}, d = {dimension}).", nameof(count));
        }
        if (means.Length != (long)count * dimension)
        {
            ThrowHelper.ThrowArgument($"{name} means have length {means.Length}, expected K·d = {count}·{dimension}.", nameof(means));
        }
        if (covariances.Length != (long)count * block)
        {
            ThrowHelper.ThrowArgument($"{name} covariances have length {covariances.Length}, expected {count}·{block}.", nameof(covariances));
        }
        for (int k = 0; k < count; k++)
        {
            Lapack.CheckFinite(means.Slice(k * dimension, dimension), $"mean of {name} component", k, nameof(means));
            SupportedRange.CheckMean(means.Slice(k * dimension, dimension), $"mean of {name} component", k, nameof(means));
        }
    }

    private static void Transpose(ReadOnlySpan<double> a, Span<double> t, int d)
    {
        for (int i = 0; i < d; i++)
        {
            for (int j = 0; j < d; j++)
            {
                t[j * d + i] = a[i * d + j];
            }
        }
    }
}

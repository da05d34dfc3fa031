using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd;

/// <summary>
/// All the kernel sums an MMD permutation test needs, for every relabelling at once, in one pass over the pairs
/// of the pooled sample z_0..z_{N−1}. With K_ij the kernel, e_·b the 0/1 label column b (1 = "first sample"),
/// and R_ib = Σ_{j&gt;i} K_ij e_jb, it returns per column b
/// <code>
/// P_b = Σ_{i&lt;j} K_ij e_ib e_jb = Σ_i e_ib R_ib,   Q_b = Σ_{i&lt;j} K_ij e_jb = Σ_i R_ib,   V_b = Σ_i e_ib U_i,
/// </code>
/// where U_i = Σ_{j&gt;i} K_ij is R for a column of ones (which the caller includes, at <c>onesColumn</c>). Every
/// pair's kernel value is computed once; R is the product of the strictly upper triangle of K with the label
/// matrix, done tile by tile (a small GEMM), so the cost is N²/2 kernel values plus N²/2 · columns multiply-adds.
/// </summary>
/// <remarks>
/// Lanes: in the kernel tile, lane k holds the pair (z_i, z_{j+k}); in the product, lane k holds column b + k
/// of the label matrix (columns are padded to a multiple of 8, so every width divides them).
/// Tails: columns are padded with zero labels to a multiple of 8; a last row tile with fewer rows uses the one-row
/// product; kernel-tile entries with j ≤ i or j ≥ N are set to 0 after the whole vectors are computed.
/// Tiles of <see cref="TileRows"/> rows run in parallel; each writes its own partial P, Q, V, summed afterwards
/// in tile order, so results do not depend on thread count.
/// </remarks>
internal static class PermutationKernelSums
{
    public const int TileRows = 16;
    public const int TileColumns = 128;

    /// <summary>
    /// Row length the pooled SoA copy must have. A row tile starting at i0 reads whole column tiles from j0 = i0,
    /// i0 + TileColumns, … while j0 &lt; N, that is up to index N − 1 + TileColumns − 1: N + TileColumns (rounded up to
    /// 8) covers every read. (N merely rounded up to whole column tiles did not: with N = 128 the tile at i0 = 112
    /// read 111 doubles past the end of the last coordinate's row, past the array, and crashed now and then.)
    /// </summary>
    public static int SoaStride(int n) => (n + TileColumns + 7) / 8 * 8;

    /// <param name="z">Pooled points, N×d row-major.</param>
    /// <param name="zSoa">The same points coordinate-major with rows of <see cref="SoaStride"/> (padding values are ignored).</param>
    /// <param name="d">Dimension.</param>
    /// <param name="labels">N × <paramref name="columns"/> row-major 0/1 matrix.</param>
    /// <param name="columns">Label columns, a multiple of 8.</param>
    /// <param name="onesColumn">The column of <paramref name="labels"/> that is all ones.</param>
    /// <param name="term">The kernel.</param>
    /// <param name="p">Receives P_b (length <paramref name="columns"/>).</param>
    /// <param name="q">Receives Q_b.</param>
    /// <param name="v">Receives V_b.</param>
    /// <param name="parallel">Tiles on all cores (<see cref="ParallelRange"/>) or on the calling thread; results are identical.</param>
    /// <param name="width">SIMD width (tests force each).</param>
    public static unsafe void Compute(ReadOnlySpan<double> z, ReadOnlySpan<double> zSoa, int d, ReadOnlySpan<double> labels, int columns,
                                      int onesColumn, GaussianKernelTerm term, Span<double> p, Span<double> q, Span<double> v, bool parallel,
                                      SimdWidth width = SimdWidth.Auto)
    {
        int n = z.Length / d;
        if (columns % 8 != 0)
        {
            throw new ArgumentException("The label matrix must have a multiple of 8 columns.", nameof(columns));
        }
        // The kernel tiles read whole vectors through the SoA rows' padding: a shorter copy would be read past its end.
        if (zSoa.Length < (long)d * SoaStride(n))
        {
            throw new ArgumentException($"The SoA copy holds {zSoa.Length} doubles; {d} rows of SoaStride({n}) = {SoaStride(n)} are needed.", nameof(zSoa));
        }
        if (labels.Length < (long)n * columns || (uint)onesColumn >= (uint)columns || p.Length < columns || q.Length < columns || v.Length < columns)
        {
            throw new ArgumentException($"Need {n}×{columns} labels, a ones column below {columns} and {columns} entries of P, Q and V.");
        }
        int tiles = (n + TileRows - 1) / TileRows;
        var partials = new double[(long)tiles * 3 * columns];
        SimdWidth resolved = SimdDispatch.Resolve(width);
        fixed (double* pz = z)
        fixed (double* pSoa = zSoa)
        fixed (double* pLabels = labels)
        {
            var body = new Tile
            {
                Z = pz, ZSoa = pSoa, Stride = SoaStride(n), N = n, D = d, Labels = pLabels, Columns = columns, OnesColumn = onesColumn,
                Term = term, Partials = partials, Width = resolved,
            };
            // ParallelRange.For returns only when every tile is done, so the pointers stay pinned throughout.
            if (parallel)
            {
                ParallelRange.For(tiles, 1, body);
            }
            else
            {
                body.Execute(0, tiles);
            }
        }

        p[..columns].Clear();
        q[..columns].Clear();
        v[..columns].Clear();
        for (int t = 0; t < tiles; t++)
        {
            int o = t * 3 * columns;
            for (int b = 0; b < columns; b++)
            {
                p[b] += partials[o + b];
                q[b] += partials[o + columns + b];
                v[b] += partials[o + 2 * columns + b];
            }
        }
    }

    /// <summary>Row tiles [start, end); the pointers are pinned by <see cref="Compute"/> until every tile is done.</summary>
    private unsafe struct Tile : IRangeBody
    {
        public double* Z, ZSoa, Labels;
        public double[] Partials;
        public int Stride, N, D, Columns, OnesColumn;
        public GaussianKernelTerm Term;
        public SimdWidth Width;

        public readonly void Execute(int start, int end)
        {
            for (int tile = start; tile < end; tile++)
            {
                switch (Width)
                {
                    case SimdWidth.V512: Run<Simd512, Vector512<double>>(tile); break;
                    case SimdWidth.V256: Run<Simd256, Vector256<double>>(tile); break;
                    case SimdWidth.V128: Run<Simd128, Vector128<double>>(tile); break;
                    default: Run<SimdScalar, double>(tile); break;
                }
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private readonly void Run<TOps, TV>(int tile)
            where TOps : struct, ISimdOps<TV>
            where TV : struct
        {
            int i0 = tile * TileRows;
            int rows = Math.Min(TileRows, N - i0);
            int cols = Columns, d = D, lanes = TOps.Count;
            // Scratch: R (rows × cols) and the kernel tile (rows × TileColumns).
            double[] scratch = ArrayPool<double>.Shared.Rent(TileRows * (cols + TileColumns));
            Span<double> r = scratch.AsSpan(0, rows * cols);
            r.Clear();
            ref double rRef = ref MemoryMarshal.GetArrayDataReference(scratch);
            ref double kRef = ref Unsafe.Add(ref rRef, TileRows * cols);
            ref double zSoa = ref Unsafe.AsRef<double>(ZSoa);
            ref double labels = ref Unsafe.AsRef<double>(Labels);

            // Column tiles from the tile's first row onwards (the strictly upper triangle starts at j = i + 1).
            for (int j0 = i0; j0 < N; j0 += TileColumns)
            {
                int width = Math.Min(TileColumns, N - j0);

                // Kernel tile: kt[a][c] = K(z_{i0+a}, z_{j0+c}), zeroed where j ≤ i or j ≥ N. Whole vectors are
                // computed (the SoA rows are padded to a whole column tile) and the excluded entries overwritten.
                for (int a = 0; a < rows; a++)
                {
                    ref double xi = ref Unsafe.AsRef<double>(Z + (long)(i0 + a) * d);
                    ref double kt = ref Unsafe.Add(ref kRef, a * TileColumns);
                    for (int c = 0; c < TileColumns; c += lanes)
                    {
                        TV sq = TOps.Zero;
                        ref double zk = ref Unsafe.Add(ref zSoa, j0 + c);
                        for (int k = 0; k < d; k++)
                        {
                            TV diff = TOps.Subtract(TOps.Load(ref zk), TOps.Create(Unsafe.Add(ref xi, k)));
                            sq = TOps.MultiplyAdd(diff, diff, sq);
                            zk = ref Unsafe.Add(ref zk, Stride);
                        }
                        TOps.Store(Term.Apply<TOps, TV>(sq), ref Unsafe.Add(ref kt, c));
                    }
                    int firstKept = Math.Max(0, i0 + a + 1 - j0);
                    for (int c = 0; c < Math.Min(firstKept, TileColumns); c++)
                    {
                        Unsafe.Add(ref kt, c) = 0.0;
                    }
                    for (int c = width; c < TileColumns; c++)
                    {
                        Unsafe.Add(ref kt, c) = 0.0;
                    }
                }

                // R[a][·] += Σ_c kt[a][c] · labels[j0 + c][·]. Column blocks of 4 vectors on the outside, so that
                // block of the label tile (TileColumns × 4 vectors) stays in L1 while every row uses it; rows in
                // groups of four inside, 16 independent accumulators that share each label load and each broadcast.
                // Lanes hold consecutive label columns. A group starts at its first row's first kept column: the
                // kernel tile holds zeros wherever a later row of the group has nothing yet.
                int b = 0;
                for (; b + 4 * lanes <= cols; b += 4 * lanes)
                {
                    int a = 0;
                    for (; a + 4 <= rows; a += 4)
                    {
                        MultiplyAccumulate4x4<TOps, TV>(ref Unsafe.Add(ref kRef, a * TileColumns), ref Unsafe.Add(ref rRef, a * cols + b),
                                                        ref Unsafe.Add(ref labels, (nint)j0 * cols + b), cols,
                                                        Math.Max(0, i0 + a + 1 - j0), width);
                    }
                    for (; a < rows; a++)
                    {
                        for (int q = 0; q < 4; q++)
                        {
                            MultiplyAccumulate1x1<TOps, TV>(ref Unsafe.Add(ref kRef, a * TileColumns), ref Unsafe.Add(ref rRef, a * cols + b + q * lanes),
                                                            ref Unsafe.Add(ref labels, (nint)j0 * cols + b + q * lanes), cols,
                                                            Math.Max(0, i0 + a + 1 - j0), width);
                        }
                    }
                }
                for (; b < cols; b += lanes)
                {
                    for (int a = 0; a < rows; a++)
                    {
                        MultiplyAccumulate1x1<TOps, TV>(ref Unsafe.Add(ref kRef, a * TileColumns), ref Unsafe.Add(ref rRef, a * cols + b),
                                                        ref Unsafe.Add(ref labels, (nint)j0 * cols + b), cols,
                                                        Math.Max(0, i0 + a + 1 - j0), width);
                    }
                }
            }

            // This tile's share of P, Q and V (rows in order, so the sums are reproducible).
            Span<double> part = Partials.AsSpan(tile * 3 * cols, 3 * cols);
            for (int a = 0; a < rows; a++)
            {
                ReadOnlySpan<double> ra = scratch.AsSpan(a * cols, cols);
                var ea = new ReadOnlySpan<double>(Labels + (long)(i0 + a) * cols, cols);
                double u = ra[OnesColumn];
                for (int b = 0; b < cols; b++)
                {
                    part[b] += ea[b] * ra[b];
                    part[cols + b] += ra[b];
                    part[2 * cols + b] += ea[b] * u;
                }
            }
            ArrayPool<double>.Shared.Return(scratch);
        }

        /// <summary>
        /// Four rows × four vectors of R: r[a][q] += Σ_{c ∈ [c0, width)} kt[a][c] · e[c][q], with kt rows TileColumns
        /// apart, r rows and e rows <paramref name="cols"/> apart.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void MultiplyAccumulate4x4<TOps, TV>(ref double kt, ref double r, ref double e, int cols, int c0, int width)
            where TOps : struct, ISimdOps<TV>
            where TV : struct
        {
            int lanes = TOps.Count;
            ref double r1 = ref Unsafe.Add(ref r, cols);
            ref double r2 = ref Unsafe.Add(ref r, 2 * cols);
            ref double r3 = ref Unsafe.Add(ref r, 3 * cols);
            TV a00 = TOps.Load(ref r), a01 = TOps.Load(ref Unsafe.Add(ref r, lanes)), a02 = TOps.Load(ref Unsafe.Add(ref r, 2 * lanes)), a03 = TOps.Load(ref Unsafe.Add(ref r, 3 * lanes));
            TV a10 = TOps.Load(ref r1), a11 = TOps.Load(ref Unsafe.Add(ref r1, lanes)), a12 = TOps.Load(ref Unsafe.Add(ref r1, 2 * lanes)), a13 = TOps.Load(ref Unsafe.Add(ref r1, 3 * lanes));
            TV a20 = TOps.Load(ref r2), a21 = TOps.Load(ref Unsafe.Add(ref r2, lanes)), a22 = TOps.Load(ref Unsafe.Add(ref r2, 2 * lanes)), a23 = TOps.Load(ref Unsafe.Add(ref r2, 3 * lanes));
            TV a30 = TOps.Load(ref r3), a31 = TOps.Load(ref Unsafe.Add(ref r3, lanes)), a32 = TOps.Load(ref Unsafe.Add(ref r3, 2 * lanes)), a33 = TOps.Load(ref Unsafe.Add(ref r3, 3 * lanes));
            ref double ec = ref Unsafe.Add(ref e, (nint)c0 * cols);
            for (int c = c0; c < width; c++)
            {
                TV e0 = TOps.Load(ref ec), e1 = TOps.Load(ref Unsafe.Add(ref ec, lanes));
                TV e2 = TOps.Load(ref Unsafe.Add(ref ec, 2 * lanes)), e3 = TOps.Load(ref Unsafe.Add(ref ec, 3 * lanes));
                TV k0 = TOps.Create(Unsafe.Add(ref kt, c));
                a00 = TOps.MultiplyAdd(k0, e0, a00); a01 = TOps.MultiplyAdd(k0, e1, a01); a02 = TOps.MultiplyAdd(k0, e2, a02); a03 = TOps.MultiplyAdd(k0, e3, a03);
                TV k1 = TOps.Create(Unsafe.Add(ref kt, TileColumns + c));
                a10 = TOps.MultiplyAdd(k1, e0, a10); a11 = TOps.MultiplyAdd(k1, e1, a11); a12 = TOps.MultiplyAdd(k1, e2, a12); a13 = TOps.MultiplyAdd(k1, e3, a13);
                TV k2 = TOps.Create(Unsafe.Add(ref kt, 2 * TileColumns + c));
                a20 = TOps.MultiplyAdd(k2, e0, a20); a21 = TOps.MultiplyAdd(k2, e1, a21); a22 = TOps.MultiplyAdd(k2, e2, a22); a23 = TOps.MultiplyAdd(k2, e3, a23);
                TV k3 = TOps.Create(Unsafe.Add(ref kt, 3 * TileColumns + c));
                a30 = TOps.MultiplyAdd(k3, e0, a30); a31 = TOps.MultiplyAdd(k3, e1, a31); a32 = TOps.MultiplyAdd(k3, e2, a32); a33 = TOps.MultiplyAdd(k3, e3, a33);
                ec = ref Unsafe.Add(ref ec, cols);
            }
            TOps.Store(a00, ref r); TOps.Store(a01, ref Unsafe.Add(ref r, lanes)); TOps.Store(a02, ref Unsafe.Add(ref r, 2 * lanes)); TOps.Store(a03, ref Unsafe.Add(ref r, 3 * lanes));
            TOps.Store(a10, ref r1); TOps.Store(a11, ref Unsafe.Add(ref r1, lanes)); TOps.Store(a12, ref Unsafe.Add(ref r1, 2 * lanes)); TOps.Store(a13, ref Unsafe.Add(ref r1, 3 * lanes));
            TOps.Store(a20, ref r2); TOps.Store(a21, ref Unsafe.Add(ref r2, lanes)); TOps.Store(a22, ref Unsafe.Add(ref r2, 2 * lanes)); TOps.Store(a23, ref Unsafe.Add(ref r2, 3 * lanes));
            TOps.Store(a30, ref r3); TOps.Store(a31, ref Unsafe.Add(ref r3, lanes)); TOps.Store(a32, ref Unsafe.Add(ref r3, 2 * lanes)); TOps.Store(a33, ref Unsafe.Add(ref r3, 3 * lanes));
        }

        /// <summary>One row × one vector of R: r[q] += Σ_{c ∈ [c0, width)} kt[c] · e[c][q] (rows of e <paramref name="cols"/> apart).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void MultiplyAccumulate1x1<TOps, TV>(ref double kt, ref double r, ref double e, int cols, int c0, int width)
            where TOps : struct, ISimdOps<TV>
            where TV : struct
        {
            TV acc = TOps.Load(ref r);
            ref double ec = ref Unsafe.Add(ref e, (nint)c0 * cols);
            for (int c = c0; c < width; c++)
            {
                acc = TOps.MultiplyAdd(TOps.Create(Unsafe.Add(ref kt, c)), TOps.Load(ref ec), acc);
                ec = ref Unsafe.Add(ref ec, cols);
            }
            TOps.Store(acc, ref r);
        }
    }
}

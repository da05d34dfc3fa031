namespace GmmFlow.Tests.MultiMarginal;

/// <summary>
/// The pieces that make the tuple-cost tensor fast: block-scaled L-BFGS, the register-blocked phase-space products, the
/// cold starts that make the tensor
/// independent of chunking and threads, and the accuracy of the default stopping tolerance.
/// </summary>
public class TupleSolverSpeedTests
{
    /// <summary>f = ½ xᵀHx − bᵀx with H = D^½ (I + coupling) D^½ and D spanning six decades in three blocks.</summary>
    private readonly struct ScaledQuadratic(double[] h, double[] b, int n) : IDifferentiableObjective
    {
        public double Evaluate(ReadOnlySpan<double> x, Span<double> gradient)
        {
            double f = 0;
            for (int i = 0; i < n; i++)
            {
                double hx = 0;
                for (int j = 0; j < n; j++)
                {
                    hx += h[i * n + j] * x[j];
                }
                gradient[i] = hx - b[i];
                f += 0.5 * x[i] * hx - b[i] * x[i];
            }
            return f;
        }
    }

    private static (double[] H, double[] B, int[] Blocks) Quadratic(int n)
    {
        var rng = new CounterRng(3);
        var blocks = new int[n];
        var scale = new double[n];
        for (int i = 0; i < n; i++)
        {
            blocks[i] = i % 3;
            scale[i] = Math.Pow(1e3, blocks[i] - 1) * (1 + 0.5 * rng.Uniform(1, (ulong)i));
        }
        var h = new double[n * n];
        var b = new double[n];
        for (int i = 0; i < n; i++)
        {
            h[i * n + i] = scale[i];
            if (i + 1 < n)
            {
                // Weak chain coupling keeps H positive definite (diagonally dominant after the scaling).
                double c = 0.3 * Math.Sqrt(scale[i] * scale[i + 1]);
                h[i * n + i + 1] = h[(i + 1) * n + i] = c;
            }
            b[i] = scale[i] * (rng.Uniform(2, (ulong)i) - 0.5);
        }
        return (h, b, blocks);
    }

    [Fact]
    public void Block_scaled_lbfgs_finds_the_minimiser_of_a_badly_scaled_quadratic_in_fewer_evaluations()
    {
        const int n = 30;
        var (h, b, blocks) = Quadratic(n);
        var hm = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                hm[i, j] = h[i * n + j];
            }
        }
        double[] exact = TestLinearAlgebra.Solve(hm, b);
        var evaluations = new int[2];
        for (int variant = 0; variant < 2; variant++)
        {
            var lbfgs = new Lbfgs(n, variant == 0 ? null : blocks);
            var objective = new ScaledQuadratic(h, b, n);
            var x = new double[n];
            var result = lbfgs.Minimize(ref objective, x, 1e-10, 0, 20000);
            Assert.True(result.Converged);
            // f* = −½ bᵀx*; the stopping gradient (1e-10·|f|) leaves a value gap of order ‖g‖²/λ_min, far below 1e-10.
            double fStar = 0;
            for (int i = 0; i < n; i++)
            {
                fStar -= 0.5 * b[i] * exact[i];
            }
            Assert.InRange(result.Value - fStar, -1e-12 * Math.Abs(fStar), 1e-10 * Math.Abs(fStar));
            evaluations[variant] = result.Evaluations;
        }
        // One Barzilai–Borwein scale per block absorbs the six decades between the blocks.
        Assert.True(5 * evaluations[1] < evaluations[0], $"block-scaled {evaluations[1]} vs plain {evaluations[0]} evaluations");
    }

    [Fact]
    public void Lbfgs_rejects_a_block_map_of_the_wrong_length()
    {
        var e = Assert.Throws<ArgumentException>(() => new Lbfgs(5, [0, 1, 0]));
        Assert.Equal("blocks", e.ParamName);
    }

    [Fact]
    public void Scaling_blocks_separate_factor_entries_from_log_diagonals()
    {
        // Two knots in 2-D: per knot 4 entries of W, then R (lower, row-major) = r00, r10, r11.
        int[] blocks = MomentumTupleSolver.ScalingBlocks(2, 2);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 2, 1, 2], blocks);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(8)]
    [InlineData(10)]
    [InlineData(13)]
    [InlineData(16)]
    [InlineData(17)]
    public void Phase_space_products_match_the_naive_triple_loop(int n)
    {
        var rng = new CounterRng(17);
        var a = new double[n * n];
        var b = new double[n * n];
        for (int i = 0; i < n * n; i++)
        {
            a[i] = rng.Uniform(1, (ulong)i) - 0.5;
            b[i] = rng.Uniform(2, (ulong)i) - 0.5;
        }
        var c = new double[n * n];
        for (int op = 0; op < 3; op++)
        {
            switch (op)
            {
                case 0: MomentumTupleSolver.Multiply(a, b, c, n); break;
                case 1: MomentumTupleSolver.MultiplyTransposedLeft(a, b, c, n); break;
                default: MomentumTupleSolver.MultiplyTransposedRight(a, b, c, n); break;
            }
            for (int i = 0; i < n; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int k = 0; k < n; k++)
                    {
                        s += op switch
                        {
                            0 => a[i * n + k] * b[k * n + j],
                            1 => a[k * n + i] * b[k * n + j],
                            _ => a[i * n + k] * b[j * n + k],
                        };
                    }
                    Assert.Equal(s, c[i * n + j], 1e-14 * n);
                }
            }
        }
    }

    [Fact]
    public void Gradient_matches_central_finite_differences_in_five_dimensions()
    {
        // n = 5: the 10×10 phase-space products take the register-blocked path.
        const int d = 5;
        var solver = new MomentumTupleSolver([0, 1, 2, 3.5, 4], d, noise: 0.1);
        var chol = solver.CholeskyForTests();
        var rng = new CounterRng(23);
        for (int k = 0; k < 5; k++)
        {
            for (int i = 0; i < d; i++)
            {
                for (int j = 0; j <= i; j++)
                {
                    chol[k * d * d + i * d + j] = i == j ? 0.5 + rng.Uniform(3, (ulong)(k * 25 + i)) : 0.6 * (rng.Uniform(4, (ulong)(k * 25 + i * d + j)) - 0.5);
                }
            }
        }
        var p = new double[solver.ParameterCount];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = 0.6 * (rng.Uniform(5, (ulong)i) - 0.5);
        }
        TupleSolverTests.AssertGradientMatchesFiniteDifferences(solver, p, 2e-5);
    }

    private static GaussianMixture[] RandomMixtures(int knots, int components, int d, ulong seed)
    {
        var rng = new CounterRng(seed);
        var mixtures = new GaussianMixture[knots];
        for (int k = 0; k < knots; k++)
        {
            var weights = new double[components];
            var means = new double[components * d];
            var covariances = new double[components * d * d];
            for (int c = 0; c < components; c++)
            {
                weights[c] = 0.5 + rng.Uniform((ulong)k, (ulong)c);
                var f = new double[d * d];
                for (int i = 0; i < d; i++)
                {
                    means[c * d + i] = 3 * (rng.Uniform((ulong)k + 10, (ulong)(c * d + i)) - 0.5) + k;
                    for (int j = 0; j < d; j++)
                    {
                        f[i * d + j] = rng.Uniform((ulong)k + 20, (ulong)(c * d * d + i * d + j)) - 0.5;
                    }
                }
                // Σ = F Fᵀ + 0.2 I: eigenvalues spread over about a decade.
                for (int i = 0; i < d; i++)
                {
                    for (int j = 0; j < d; j++)
                    {
                        double s = i == j ? 0.2 : 0.0;
                        for (int m = 0; m < d; m++)
                        {
                            s += 2 * f[i * d + m] * f[j * d + m];
                        }
                        covariances[c * d * d + i * d + j] = s;
                    }
                }
            }
            mixtures[k] = new GaussianMixture(weights, means, covariances, renormalizeWeights: true);
        }
        return mixtures;
    }

    [Fact]
    public void Tensor_equals_independent_solves_of_every_tuple()
    {
        // Every tuple starts cold, so the parallel tensor (whatever its chunking and thread count) equals one fresh
        // solver run tuple by tuple, bit for bit.
        double[] times = [0, 1, 2];
        var mixtures = RandomMixtures(3, 3, 2, 31);
        var settings = new MultiMarginalOptions { Noise = 0.2 }.Settings;
        var tensor = new double[27];
        MomentumTupleCosts.Compute(times, mixtures, 0.2, tensor, null, TestContext.Current.CancellationToken, settings, out var stats);
        Assert.Equal(0, stats.Unconverged);
        var solver = new MomentumTupleSolver(times, 2, 0.2);
        for (int t = 26; t >= 0; t--)
        {
            int[] index = [t / 9, t / 3 % 3, t % 3];
            Assert.Equal(tensor[t], MomentumTupleCosts.SolveOne(solver, mixtures, index, default, default, settings).Total);
        }
    }

    [Fact]
    public void Default_tolerance_costs_are_within_1e5_of_a_tight_solve()
    {
        // Every iterate is feasible, so a looser stop can only overestimate: 0 ≤ (J_default − J_tight) / J_tight ≤ 1e-5
        // (docs/theory/multimarginal.md#stopping-rule; the 5-D benchmark's worst tuple is at 2e-6).
        double[] times = [0, 1, 2, 3, 4];
        const int d = 4;
        var mixtures = RandomMixtures(5, 2, d, 37);
        var loose = new MultiMarginalOptions { Noise = 0.1 }.Settings;
        var tight = new TupleSolverSettings(1e-12, 1e-14, 20000);
        var solver = new MomentumTupleSolver(times, d, 0.1);
        for (int t = 0; t < 32; t += 3)
        {
            int[] index = [t >> 4 & 1, t >> 3 & 1, t >> 2 & 1, t >> 1 & 1, t & 1];
            double a = MomentumTupleCosts.SolveOne(solver, mixtures, index, default, default, loose).Total;
            double b = MomentumTupleCosts.SolveOne(solver, mixtures, index, default, default, tight).Total;
            double rel = (a - b) / Math.Abs(b);
            Assert.InRange(rel, -1e-7, 1e-5);
        }
    }
}

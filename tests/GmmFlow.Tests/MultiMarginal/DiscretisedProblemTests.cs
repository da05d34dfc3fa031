namespace GmmFlow.Tests.MultiMarginal;

/// <summary>
/// The SDP-free tuple cost against an independently solved Euler-discretised problem of the same tuple: per segment,
/// N Euler steps of the double integrator (x += h v, v += h u + σ√h ξ), cost Σ h|u_j|², affine feedback
/// u_j = k_j + K_j(z_j − m_j) steering the knot law P_a to P_b. The mean part is the discrete minimum-energy problem
/// (discrete Gramian); the covariance part is a discrete LQR with a terminal multiplier Q found by Newton shooting so
/// that the end covariance is P_b. No closed form of the library is used besides the knot laws being steered.
/// </summary>
public class DiscretisedProblemTests
{
    private static double DiscreteSegmentCost(double tau, int steps, double noise, double[] ma, double[] pa, double[] mb, double[] pb, double[] q0)
    {
        double h = tau / steps;
        // Mean part: δᵀ M_d⁻¹ δ, M_d = h Σ_k A^k B Bᵀ A^kᵀ with A^k B = (k h, 1).
        double m00 = 0, m01 = 0, m11 = 0;
        for (int k = 0; k < steps; k++)
        {
            m00 += h * k * h * k * h;
            m01 += h * k * h;
            m11 += h;
        }
        double dx = mb[0] - ma[0] - tau * ma[1], dv = mb[1] - ma[1];
        double det = m00 * m11 - m01 * m01;
        double meanCost = (m11 * dx * dx - 2 * m01 * dx * dv + m00 * dv * dv) / det;

        // Covariance part: shoot the symmetric terminal multiplier Q = [[q0, q1], [q1, q2]].
        double[] Rollout(double[] q, out double cost)
        {
            var sMat = new double[steps + 1][];
            sMat[steps] = [q[0], q[1], q[1], q[2]];
            var gains = new double[steps][];
            for (int j = steps - 1; j >= 0; j--)
            {
                var s = sMat[j + 1];
                // B̃ = (0, h): B̃ᵀS = h (s10, s11); B̃ᵀSB̃ = h² s11; K = −(h + h² s11)⁻¹ h (s10, s11) A, A = [[1, h], [0, 1]].
                double r = h + h * h * s[3];
                double b0 = h * s[2], b1 = h * s[3];
                var kk = new[] { -b0 / r, -(b0 * h + b1) / r };
                gains[j] = kk;
                // S_j = Aᵀ S A + Aᵀ S B̃ K (symmetric).
                double a00 = s[0], a01 = s[0] * h + s[1], a11 = h * h * s[0] + 2 * h * s[1] + s[3];
                double c0 = s[1] * h, c1 = s[1] * h * h + s[3] * h; // Aᵀ S B̃ = (h s01, h(h s01 + s11))
                sMat[j] = [a00 + c0 * kk[0], a01 + c0 * kk[1], a01 + c0 * kk[1], a11 + c1 * kk[1]];
            }
            double p00 = pa[0], p01 = pa[1], p11 = pa[3];
            cost = 0;
            for (int j = 0; j < steps; j++)
            {
                var kk = gains[j];
                cost += h * (kk[0] * kk[0] * p00 + 2 * kk[0] * kk[1] * p01 + kk[1] * kk[1] * p11);
                // Closed loop F = A + B̃K = [[1, h], [h k0, 1 + h k1]].
                double f00 = 1, f01 = h, f10 = h * kk[0], f11 = 1 + h * kk[1];
                double n00 = f00 * f00 * p00 + 2 * f00 * f01 * p01 + f01 * f01 * p11;
                double n01 = f00 * f10 * p00 + (f00 * f11 + f01 * f10) * p01 + f01 * f11 * p11;
                double n11 = f10 * f10 * p00 + 2 * f10 * f11 * p01 + f11 * f11 * p11 + noise * noise * h;
                (p00, p01, p11) = (n00, n01, n11);
            }
            return [p00 - pb[0], p01 - pb[1], p11 - pb[3]];
        }

        var qv = (double[])q0.Clone();
        double covCost = double.NaN;
        for (int it = 0; it < 60; it++)
        {
            var f = Rollout(qv, out covCost);
            double norm = Math.Abs(f[0]) + Math.Abs(f[1]) + Math.Abs(f[2]);
            if (norm < 1e-12)
            {
                break;
            }
            var jac = new double[3, 3];
            for (int c = 0; c < 3; c++)
            {
                double step = 1e-6 * Math.Max(1, Math.Abs(qv[c]));
                var qp = (double[])qv.Clone();
                qp[c] += step;
                var fp = Rollout(qp, out _);
                for (int r = 0; r < 3; r++)
                {
                    jac[r, c] = (fp[r] - f[r]) / step;
                }
            }
            var delta = TestLinearAlgebra.Solve(jac, [-f[0], -f[1], -f[2]]);
            // Backtracking on the residual norm.
            double lambda = 1;
            for (int b = 0; b < 30; b++, lambda /= 2)
            {
                var trial = new[] { qv[0] + lambda * delta[0], qv[1] + lambda * delta[1], qv[2] + lambda * delta[2] };
                var ft = Rollout(trial, out _);
                if (Math.Abs(ft[0]) + Math.Abs(ft[1]) + Math.Abs(ft[2]) < norm)
                {
                    qv = trial;
                    break;
                }
            }
        }
        var final = Rollout(qv, out covCost);
        Assert.True(Math.Abs(final[0]) + Math.Abs(final[1]) + Math.Abs(final[2]) < 1e-9, "shooting did not reach P_b");
        return meanCost + covCost;
    }

    [Fact]
    public void Euler_discretised_value_converges_to_the_sdp_free_cost()
    {
        double[] times = [0, 1, 2.2];
        double noise = 0.5;
        var solver = new MomentumTupleSolver(times, 1, noise);
        double[] mu = [0, 1.5, 0.8];
        double[] chol = [1, Math.Sqrt(0.4), Math.Sqrt(0.7)];
        var means = new double[6];
        var covs = new double[12];
        var cost = solver.Solve(mu, chol, means, covs, new TupleSolverSettings(1e-12, 0, 5000));
        // The continuous value's own pieces: the covariance part is measured with its entropy terms removed, as in
        // E∫|u|²; compare the controlled energies, i.e. the discrete cost against the segment's E∫|u|² by quadrature-free
        // bookkeeping: J_seg = mean part + E∫|u − v_t|² (covariance feedback energy).
        double continuous = 0;
        var discrete = new List<double>();
        int[] stepCounts = [8, 16, 32, 64, 128];
        var segs = new List<MomentumSegment>();
        for (int s = 0; s < 2; s++)
        {
            segs.Add(new MomentumSegment(times[s], times[s + 1], 1, noise, means.AsSpan(2 * s, 2), covs.AsSpan(4 * s, 4), means.AsSpan(2 * s + 2, 2), covs.AsSpan(4 * s + 4, 4)));
        }
        foreach (int steps in stepCounts)
        {
            double total = 0;
            for (int s = 0; s < 2; s++)
            {
                // Initial multiplier from the continuous Riccati solution at the segment end (S ≈ −Π).
                var pi = new double[4];
                segs[s].Riccati(times[s + 1], pi, new SegmentScratch(1));
                total += DiscreteSegmentCost(times[s + 1] - times[s], steps, noise, means[(2 * s)..(2 * s + 2)], covs[(4 * s)..(4 * s + 4)],
                    means[(2 * s + 2)..(2 * s + 4)], covs[(4 * s + 4)..(4 * s + 8)], [-pi[0], -pi[1], -pi[3]]);
            }
            discrete.Add(total);
        }
        continuous = EnergyByQuadrature(segs, noise);
        // The tuple cost is E∫|u|² (checked here by quadrature of the policy on its exact marginals).
        Assert.Equal(cost.Total, continuous, 2e-4 * Math.Abs(cost.Total));
        var errors = discrete.Select(v => v - cost.Total).ToArray();
        for (int i = 1; i < errors.Length; i++)
        {
            // First-order convergence of the Euler scheme: each halving of h roughly halves the gap.
            Assert.True(Math.Abs(errors[i]) < 0.7 * Math.Abs(errors[i - 1]), $"gap {errors[i]} after {errors[i - 1]}");
        }
        Assert.True(Math.Abs(errors[^1]) < 0.03 * cost.Total, $"gap {errors[^1]} at the finest step");
        // Sign: the SDP-free (continuous) value lies below every discretised one here.
        Assert.All(errors, e => Assert.True(e > 0, $"discrete value below the continuous one by {-e}"));
    }

    /// <summary>E∫|u|² dt by Gauss–Legendre quadrature in t of E|K(z − m) + v|² = tr(K Σ Kᵀ) + |v|² under the exact marginals.</summary>
    private static double EnergyByQuadrature(List<MomentumSegment> segments, double noise)
    {
        double[] nodes = [-0.9602898564975363, -0.7966664774136267, -0.5255324099163290, -0.1834346424956498, 0.1834346424956498, 0.5255324099163290, 0.7966664774136267, 0.9602898564975363];
        double[] weights = [0.1012285362903763, 0.2223810344533745, 0.3137066458778873, 0.3626837833783620, 0.3626837833783620, 0.3137066458778873, 0.2223810344533745, 0.1012285362903763];
        var ws = new SegmentScratch(1);
        var m = new double[2];
        var c = new double[4];
        var k = new double[2];
        var v = new double[1];
        double total = 0;
        foreach (var seg in segments)
        {
            // Composite rule on 16 panels (u grows like 1/(t_b − t) in places near the ends of a panel? no: smooth).
            int panels = 16;
            double width = (seg.End - seg.Start) / panels;
            for (int p = 0; p < panels; p++)
            {
                double a = seg.Start + p * width;
                for (int i = 0; i < nodes.Length; i++)
                {
                    double t = a + 0.5 * width * (nodes[i] + 1);
                    seg.Evaluate(t, m, c, k, v, ws);
                    double e = k[0] * k[0] * c[0] + 2 * k[0] * k[1] * c[1] + k[1] * k[1] * c[3] + v[0] * v[0];
                    total += 0.5 * width * weights[i] * e;
                }
            }
        }
        _ = noise;
        return total;
    }
}

using System.Runtime.InteropServices;

namespace GmmFlow.CApi;

/// <summary>C layout of gmf_plan_options.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PlanOptions
{
    public int Cost;
    public int Coupling;
    public double Noise;
    public double SinkhornTemperature;
}

/// <summary>Costs, plans, transport and the distributed-EM statistics (gmf_cost_*, gmf_plan_*, gmf_em_*).</summary>
internal static unsafe partial class Exports
{
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_options_default")]
    public static int PlanOptionsDefault(PlanOptions* options)
    {
        if (options is null)
        {
            return (int)Errors.Fail(Status.InvalidArgument, "ArgumentNullException: options is NULL.");
        }
        *options = new PlanOptions { Cost = (int)CostKind.Wasserstein, Coupling = (int)CouplingMethod.ExactLp };
        Errors.Clear();
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_cost_matrix")]
    public static int CostMatrix(nint source, nint target, int kind, double noise, double* destination)
    {
        try
        {
            Errors.Clear();
            var a = Handles.Get<GaussianMixture>(source, "source");
            var b = Handles.Get<GaussianMixture>(target, "target");
            Span<double> costs = Handles.Out(destination, Handles.Elements(a.ComponentCount, b.ComponentCount, "source components"), "out");
            GaussianCosts.Compute(ToCost(kind), GaussianFactors.FromMixture(a, "source"), GaussianFactors.FromMixture(b, "target"), costs, noise);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_create")]
    public static int PlanCreate(nint source, nint target, PlanOptions* options, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            var a = Handles.Get<GaussianMixture>(source, "source");
            var b = Handles.Get<GaussianMixture>(target, "target");
            var transport = new TransportOptions();
            if (options is not null)
            {
                PlanOptions o = *options;
                transport = transport with
                {
                    Cost = ToCost(o.Cost),
                    Noise = o.Noise,
                    Coupling = o.Coupling switch
                    {
                        0 => CouplingMethod.ExactLp,
                        1 => CouplingMethod.Sinkhorn,
                        _ => throw new ArgumentOutOfRangeException("coupling", o.Coupling, "coupling must be GMF_COUPLING_LP (0) or GMF_COUPLING_SINKHORN (1)."),
                    },
                    SinkhornTemperature = o.SinkhornTemperature == 0 ? null : o.SinkhornTemperature,
                };
            }
            Handles.Out(result, TransportPlan.Create(a, b, transport));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>
    /// A plan under linear prior dynamics dX = A(t)X dt + B(t)(u dt + σ dW): the dynamics as the CLI's dynamics JSON
    /// (LTI, a preset such as the double integrator, or a time grid), the pair cost the exact kinetic energy, the
    /// coupling the HiGHS LP. The mixtures live in the state space of the dynamics.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_create_linear")]
    public static int PlanCreateLinear(nint source, nint target, byte* dynamicsJson, long length, double noise, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            var a = Handles.Get<GaussianMixture>(source, "source");
            var b = Handles.Get<GaussianMixture>(target, "target");
            LinearDynamics dynamics;
            using (var stream = In(dynamicsJson, length))
            {
                dynamics = DynamicsJson.Read(stream, "dynamics JSON");
            }
            Handles.Out(result, LinearTransportPlan.Create(a, b, dynamics, new LinearTransportOptions { Noise = noise }));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_free")]
    public static void PlanFree(nint plan)
    {
        try
        {
            Handles.Free(plan);
        }
        catch (Exception e)
        {
            Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_info")]
    public static int PlanInfo(nint plan, double* objective, int* pairCount, int* dimension)
    {
        try
        {
            Errors.Clear();
            var p = PlanView.Of(plan);
            if (objective is not null) { *objective = p.Objective; }
            if (pairCount is not null) { *pairCount = p.Pairs.Count; }
            if (dimension is not null) { *dimension = p.Dimension; }
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>The active pairs: source index, target index and weight λ, each array of gmf_plan_info's pair count.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_pairs")]
    public static int PlanPairs(nint plan, int* sources, int* targets, double* weights)
    {
        try
        {
            Errors.Clear();
            var p = PlanView.Of(plan);
            int count = p.Pairs.Count;
            Span<int> s = Handles.Out(sources, count, "source");
            Span<int> t = Handles.Out(targets, count, "target");
            Span<double> w = Handles.Out(weights, count, "weight");
            for (int i = 0; i < count; i++)
            {
                s[i] = p.Pairs[i].Source;
                t[i] = p.Pairs[i].Target;
                w[i] = p.Pairs[i].Weight;
            }
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>Component handles of a plan's source (which = 0) or target (1) mixture; free them with gmf_mixture_free.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_mixture")]
    public static int PlanMixture(nint plan, int which, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            var p = PlanView.Of(plan);
            GaussianMixture m = which switch
            {
                0 => p.Source,
                1 => p.Target,
                _ => throw new ArgumentOutOfRangeException("which", which, "which must be 0 (source) or 1 (target)."),
            };
            Handles.Out(result, m);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>
    /// Moves N points from t = 0 to 1. steps ≤ 0 uses the library's default step rule. Point i of the call uses random
    /// stream i of the seed (see gmf_plan_transport_chunk for chunks of one set).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_transport")]
    public static int PlanTransport(nint plan, double* points, long count, int steps, ulong seed, double* destination)
        => Transport(plan, points, count, steps, seed, 0, destination);

    /// <summary>
    /// gmf_plan_transport for points first_index … first_index + N − 1 of a larger set: point i of the call uses random
    /// stream first_index + i, so chunks transported with the same seed reproduce one call over the whole set.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_transport_chunk")]
    public static int PlanTransportChunk(nint plan, double* points, long count, int steps, ulong seed, long firstIndex, double* destination)
        => Transport(plan, points, count, steps, seed, firstIndex, destination);

    private static int Transport(nint plan, double* points, long count, int steps, ulong seed, long firstIndex, double* destination)
    {
        try
        {
            Errors.Clear();
            ArgumentOutOfRangeException.ThrowIfNegative(firstIndex, "first_index");
            var p = PlanView.Of(plan);
            long length = Handles.Elements(count, p.Dimension, "n");
            ReadOnlySpan<double> x = Handles.In(points, length, "x");
            Span<double> y = Handles.Out(destination, length, "out");
            var run = new TransportRunOptions { Seed = seed, FirstStream = (ulong)firstIndex };
            if (steps > 0)
            {
                run = run with { Steps = steps };
            }
            p.Transport(x, run).CopyTo(y);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>The mixture policy's velocity (field = 0: SDE drift; 1: probability flow) at time t for N points.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_velocity")]
    public static int PlanVelocity(nint plan, double t, double* points, long count, int field, double* destination)
    {
        try
        {
            Errors.Clear();
            var p = PlanView.Of(plan);
            long length = Handles.Elements(count, p.Dimension, "n");
            BridgeField kind = field switch
            {
                0 => BridgeField.Drift,
                1 => BridgeField.ProbabilityFlow,
                _ => throw new ArgumentOutOfRangeException("field", field, "field must be GMF_FIELD_DRIFT (0) or GMF_FIELD_PROBABILITY_FLOW (1)."),
            };
            if (!(t >= 0 && t <= p.Horizon))
            {
                throw new ArgumentOutOfRangeException("t", t, $"t must be in [0, {p.Horizon}] (the plan's horizon).");
            }
            p.Velocities(t, Handles.In(points, length, "x"), Handles.Out(destination, length, "out"), kind);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>The static maps of the plan: method 0 barycentric (E[T(x)] over pairs), 1 random pair per point.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_map")]
    public static int PlanMap(nint plan, double* points, long count, int method, ulong seed, double* destination)
    {
        try
        {
            Errors.Clear();
            var p = PlanView.Of(plan);
            long length = Handles.Elements(count, p.Dimension, "n");
            ReadOnlySpan<double> x = Handles.In(points, length, "x");
            Span<double> y = Handles.Out(destination, length, "out");
            double[] mapped = method switch
            {
                0 => p.Brownian("the barycentric map").MapBarycentric(x),
                1 => p.Brownian("the random map").MapRandom(x, seed),
                _ => throw new ArgumentOutOfRangeException("method", method, "method must be GMF_MAP_BARYCENTRIC (0) or GMF_MAP_RANDOM (1)."),
            };
            mapped.CopyTo(y);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_sample_marginal")]
    public static int PlanSampleMarginal(nint plan, double t, long count, ulong seed, double* destination)
    {
        try
        {
            Errors.Clear();
            var p = PlanView.Of(plan);
            Span<double> y = Handles.Out(destination, Handles.Elements(count, p.Dimension, "n"), "out");
            p.SampleMarginal(t, checked((int)count), seed).CopyTo(y);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_read_json")]
    public static int PlanReadJson(byte* path, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            string file = Handles.Utf8(path, "path");
            bool linear = LinearPlanJson.HasDynamics(file);
            using var stream = File.OpenRead(file);
            Handles.Out(result, linear ? LinearPlanJson.Read(stream, file) : PlanJson.Read(stream, file));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_plan_write_json")]
    public static int PlanWriteJson(nint plan, byte* path)
    {
        try
        {
            Errors.Clear();
            var p = PlanView.Of(plan);
            WriteAtomic(Handles.Utf8(path, "path"), p.Write);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>Length of the second-moment array gmf_em_statistics writes for K, d and a covariance type.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_em_second_moment_length")]
    public static long EmSecondMomentLength(int components, int dimension, int covarianceType)
    {
        try
        {
            Errors.Clear();
            ArgumentOutOfRangeException.ThrowIfLessThan(components, 1, "k");
            ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1, "d");
            return EmStatistics.SecondMomentLength(ToCovarianceType(covarianceType), components, dimension);
        }
        catch (Exception e)
        {
            Errors.Report(e);
            return -1;
        }
    }

    /// <summary>
    /// The E-step statistics of a chunk against the mixture: nk (K), s1 (K×d), s2 (see gmf_em_second_moment_length)
    /// and totals[3] = {Σ w log p(x), Σ w, number of points with positive weight}. weights may be NULL (all 1).
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_em_statistics")]
    public static int EmStatisticsOf(nint mixture, double* points, long count, double* sampleWeights,
        double* nk, double* s1, double* s2, double* totals)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            int k = m.ComponentCount, d = m.Dimension;
            Span<double> nkOut = Handles.Out(nk, k, "nk");
            Span<double> s1Out = Handles.Out(s1, (long)k * d, "s1");
            Span<double> s2Out = Handles.Out(s2, EmStatistics.SecondMomentLength(m.CovarianceType, k, d), "s2");
            Span<double> totalsOut = Handles.Out(totals, 3, "totals");
            var stats = EmStatistics.Compute(m, Handles.In(points, Handles.Elements(count, d, "n"), "x"),
                sampleWeights is null ? default : Handles.In(sampleWeights, count, "weights"));
            stats.Weights.CopyTo(nkOut);
            stats.FirstMoments.CopyTo(s1Out);
            stats.SecondMoments.CopyTo(s2Out);
            totalsOut[0] = stats.LogLikelihood;
            totalsOut[1] = stats.TotalWeight;
            totalsOut[2] = stats.PositiveCount;
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>The M-step on summed statistics taken against <paramref name="current"/>; writes a new mixture handle.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_em_maximize")]
    public static int EmMaximize(nint current, double* nk, double* s1, double* s2, double* totals, double regCovar, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            var m = Handles.Get<GaussianMixture>(current, "mixture");
            int k = m.ComponentCount, d = m.Dimension;
            var stats = new EmStatistics(k, d, m.CovarianceType);
            Handles.In(nk, k, "nk").CopyTo(stats.Weights);
            Handles.In(s1, (long)k * d, "s1").CopyTo(stats.FirstMoments);
            Handles.In(s2, stats.SecondMoments.Length, "s2").CopyTo(stats.SecondMoments);
            ReadOnlySpan<double> t = Handles.In(totals, 3, "totals");
            if (!double.IsFinite(t[2]) || t[2] < 0 || t[2] != Math.Floor(t[2]))
            {
                throw new ArgumentException($"totals[2] (the point count) is {t[2]}; it must be a non-negative whole number.", "totals");
            }
            stats.LogLikelihood = t[0];
            stats.TotalWeight = t[1];
            stats.PositiveCount = (long)t[2];
            FiniteOrThrow(stats.Weights, "nk");
            FiniteOrThrow(stats.FirstMoments, "s1");
            FiniteOrThrow(stats.SecondMoments, "s2");
            Handles.Out(result, stats.Maximize(m, regCovar));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    private static void FiniteOrThrow(ReadOnlySpan<double> values, string name)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new NonFiniteValueException(name, -1, i, values[i], name);
            }
        }
    }

    private static CostKind ToCost(int value) => value switch
    {
        0 => CostKind.Wasserstein,
        1 => CostKind.Surrogate,
        2 => CostKind.SchrodingerBridge,
        3 => CostKind.EntropicTransport,
        _ => throw new ArgumentOutOfRangeException("cost", value, "cost must be GMF_COST_W2 (0), GMF_COST_SURROGATE (1), GMF_COST_SB (2) or GMF_COST_ENTROPIC (3)."),
    };
}

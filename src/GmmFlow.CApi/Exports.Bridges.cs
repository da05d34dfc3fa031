using System.Runtime.InteropServices;
using System.Text.Json;

namespace GmmFlow.CApi;

/// <summary>
/// What a gmf_bridge handle holds: the exact Schrödinger bridge and its LightSB objective on the fitting samples
/// (NaN when it was built from parameters or read from JSON that does not store one).
/// </summary>
internal sealed class SchrodingerBridge(LightBridge bridge, double objective)
{
    public LightBridge Bridge { get; } = bridge;

    public double Objective { get; } = objective;

    public static LightBridge Of(nint handle) => Handles.Get<SchrodingerBridge>(handle, "bridge").Bridge;

    /// <summary>A bridge JSON document: the bridge and, when the document stores one, its objective.</summary>
    public static SchrodingerBridge Read(Stream stream, string sourceName)
    {
        LightBridge bridge = LightBridgeJson.Read(stream, sourceName);
        stream.Position = 0;
        double objective = double.NaN;
        // LightBridgeJson.Read validated the document; the objective is the one optional field it does not return.
        using (var doc = JsonDocument.Parse(stream))
        {
            if (doc.RootElement.TryGetProperty("objective", out JsonElement o) && o.ValueKind == JsonValueKind.Number)
            {
                objective = o.GetDouble();
            }
        }
        return new SchrodingerBridge(bridge, objective);
    }

    public void Write(Stream stream) => LightBridgeJson.Write(Bridge, stream, Objective);
}

/// <summary>
/// The exact Schrödinger bridge (gmf_bridge_*): the LightSB-family potential fitted to unpaired samples, its conditional
/// plan π(· | x) in closed form (samples and moments) and the SDE transport (docs/theory/exact-sb.md).
/// </summary>
internal static unsafe partial class Exports
{
    /// <summary>
    /// Fits the bridge with noise σ between n0 source and n1 target points in dimension d. components ≤ 0 chooses K
    /// among 1, 2, 4, 8 by the held-out objective; the other fitter options keep their defaults.
    /// </summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_fit")]
    public static int BridgeFit(double* source, long sourceCount, double* target, long targetCount, int dimension, double noise,
        int components, int covarianceType, int restarts, ulong seed, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1, "d");
            ReadOnlySpan<double> x0 = Handles.In(source, Handles.Elements(sourceCount, dimension, "n0"), "x0");
            ReadOnlySpan<double> x1 = Handles.In(target, Handles.Elements(targetCount, dimension, "n1"), "x1");
            ArgumentOutOfRangeException.ThrowIfNegative(restarts, "restarts");
            var options = new LightBridgeFitOptions
            {
                Components = components > 0 ? components : null,
                CovarianceType = ToBridgeScales(covarianceType),
                Restarts = restarts,
                Seed = seed,
            };
            LightBridgeFit fit = LightBridgeFitter.Fit(x0, x1, dimension, noise, options);
            Handles.Out(result, new SchrodingerBridge(fit.Bridge, fit.Objective));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>A bridge from its potential: σ, weights α (k), centers r (k×d), scales S (k×d×d full or k×d diagonal).</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_create")]
    public static int BridgeCreate(double noise, int components, int dimension, int covarianceType, double* weights, double* centers,
        double* scales, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            ArgumentOutOfRangeException.ThrowIfLessThan(components, 1, "k");
            ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1, "d");
            CovarianceType type = ToBridgeScales(covarianceType);
            long block = type == CovarianceType.Full ? (long)dimension * dimension : dimension;
            var bridge = new LightBridge(noise, Handles.In(weights, components, "weights"),
                Handles.In(centers, Handles.Elements(components, dimension, "k"), "centers"),
                Handles.In(scales, Handles.Elements(components, block, "k"), "scales"), type);
            Handles.Out(result, new SchrodingerBridge(bridge, double.NaN));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_free")]
    public static void BridgeFree(nint bridge)
    {
        try
        {
            Handles.Free(bridge);
        }
        catch (Exception e)
        {
            Errors.Report(e);
        }
    }

    /// <summary>Shape, noise and fitting objective (NaN when unknown); any output may be NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_info")]
    public static int BridgeInfo(nint bridge, int* dimension, int* components, int* covarianceType, double* noise, double* objective)
    {
        try
        {
            Errors.Clear();
            var b = Handles.Get<SchrodingerBridge>(bridge, "bridge");
            if (dimension is not null) { *dimension = b.Bridge.Dimension; }
            if (components is not null) { *components = b.Bridge.ComponentCount; }
            if (covarianceType is not null) { *covarianceType = b.Bridge.CovarianceType == CovarianceType.Full ? 0 : 1; }
            if (noise is not null) { *noise = b.Bridge.Noise; }
            if (objective is not null) { *objective = b.Objective; }
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>The potential's weights (k, summing to 1), centers (k×d) and scales (compact form); any may be NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_parameters")]
    public static int BridgeParameters(nint bridge, double* weights, double* centers, double* scales)
    {
        try
        {
            Errors.Clear();
            LightBridge b = SchrodingerBridge.Of(bridge);
            double[] compact = b.CompactScales();
            // All or nothing: every requested output is checked before any is written.
            Span<double> w = Handles.Out(weights, weights is null ? 0 : b.ComponentCount, "weights");
            Span<double> r = Handles.Out(centers, centers is null ? 0 : b.Centers.Length, "centers");
            Span<double> s = Handles.Out(scales, scales is null ? 0 : compact.Length, "scales");
            if (weights is not null) { b.Weights.CopyTo(w); }
            if (centers is not null) { b.Centers.CopyTo(r); }
            if (scales is not null) { compact.CopyTo(s); }
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>per_point samples of π(· | x) for each of n points, no simulation: rows i·per_point … of out.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_sample")]
    public static int BridgeSample(nint bridge, double* points, long count, int perPoint, ulong seed, double* destination)
    {
        try
        {
            Errors.Clear();
            LightBridge b = SchrodingerBridge.Of(bridge);
            ArgumentOutOfRangeException.ThrowIfLessThan(perPoint, 1, "per_point");
            long length = Handles.Elements(count, b.Dimension, "n");
            ReadOnlySpan<double> x = Handles.In(points, length, "x");
            Span<double> y = Handles.Out(destination, Handles.Elements(length, perPoint, "n"), "out");
            b.SampleConditional(x, perPoint, seed).CopyTo(y);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>Euler–Maruyama on dX = u(X, t) dt + σ dW over [0, 1] with the closed-form drift; steps ≤ 0 means 100.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_transport")]
    public static int BridgeTransport(nint bridge, double* points, long count, int steps, ulong seed, double* destination)
    {
        try
        {
            Errors.Clear();
            LightBridge b = SchrodingerBridge.Of(bridge);
            long length = Handles.Elements(count, b.Dimension, "n");
            ReadOnlySpan<double> x = Handles.In(points, length, "x");
            Span<double> y = Handles.Out(destination, length, "out");
            b.Transport(x, steps > 0 ? steps : DefaultBridgeSteps, seed).CopyTo(y);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>The exact mean (n×d) and covariance (n×d×d) of π(· | x) per point; either output may be NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_conditional_moments")]
    public static int BridgeConditionalMoments(nint bridge, double* points, long count, double* meanOut, double* covarianceOut)
    {
        try
        {
            Errors.Clear();
            LightBridge b = SchrodingerBridge.Of(bridge);
            int d = b.Dimension;
            long length = Handles.Elements(count, d, "n");
            ReadOnlySpan<double> x = Handles.In(points, length, "x");
            long covLength = Handles.Elements(length, d, "n");
            // ConditionalMoments validates everything before it writes, so the caller's arrays are written directly
            // (still all or nothing); a NULL output gets a scratch array.
            Span<double> mean = meanOut is null ? new double[length] : Handles.Out(meanOut, length, "mean");
            Span<double> covariance = covarianceOut is null ? new double[covLength] : Handles.Out(covarianceOut, covLength, "cov");
            b.ConditionalMoments(x, mean, covariance);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_read_json")]
    public static int BridgeReadJson(byte* path, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            string file = Handles.Utf8(path, "path");
            using var stream = File.OpenRead(file);
            Handles.Out(result, SchrodingerBridge.Read(stream, file));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_write_json")]
    public static int BridgeWriteJson(nint bridge, byte* path)
    {
        try
        {
            Errors.Clear();
            var b = Handles.Get<SchrodingerBridge>(bridge, "bridge");
            WriteAtomic(Handles.Utf8(path, "path"), b.Write);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_to_json")]
    public static int BridgeToJson(nint bridge, byte* buffer, long capacity, long* length)
    {
        try
        {
            Errors.Clear();
            var b = Handles.Get<SchrodingerBridge>(bridge, "bridge");
            using var stream = new MemoryStream();
            b.Write(stream);
            return CopyOut(stream, buffer, capacity, length);
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_bridge_from_json")]
    public static int BridgeFromJson(byte* text, long length, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            using var stream = In(text, length);
            Handles.Out(result, SchrodingerBridge.Read(stream, "bridge JSON"));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>The CLI's default step count of `gmmflow bridge transport`.</summary>
    private const int DefaultBridgeSteps = 100;

    private static CovarianceType ToBridgeScales(int value) => value switch
    {
        0 => CovarianceType.Full,
        1 => CovarianceType.Diagonal,
        _ => throw new ArgumentOutOfRangeException("covariance_type", value, "a bridge's scales are GMF_COV_FULL (0) or GMF_COV_DIAG (1)."),
    };
}

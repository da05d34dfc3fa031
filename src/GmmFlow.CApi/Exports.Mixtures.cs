using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GmmFlow.CApi;

/// <summary>C layout of gmf_fit_options (include/gmmflow.h).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FitOptions
{
    public int CovarianceType;
    public int MaxIterations;
    public int Initializations;
    public int Reserved;
    public double Tolerance;
    public double RegCovar;
    public ulong Seed;
    public nint Initial;
}

/// <summary>C layout of gmf_fit_info.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FitInfo
{
    public int Converged;
    public int Iterations;
    public double MeanLogLikelihood;
    public double Bic;
}

/// <summary>Library version, errors, and the mixture exports (gmf_mixture_*).</summary>
internal static unsafe partial class Exports
{
    /// <summary>ABI version: major changes break callers; minor adds functions.</summary>
    public const int AbiMajor = 1, AbiMinor = 1, AbiPatch = 0;

    [UnmanagedCallersOnly(EntryPoint = "gmf_version")]
    public static int Version(int* major, int* minor, int* patch)
    {
        if (major is not null) { *major = AbiMajor; }
        if (minor is not null) { *minor = AbiMinor; }
        if (patch is not null) { *patch = AbiPatch; }
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_last_error")]
    public static byte* LastError() => Errors.LastMessage;

    [UnmanagedCallersOnly(EntryPoint = "gmf_fit_options_default")]
    public static int FitOptionsDefault(FitOptions* options)
    {
        if (options is null)
        {
            return (int)Errors.Fail(Status.InvalidArgument, "ArgumentNullException: options is NULL.");
        }
        var defaults = new GaussianMixtureFitOptions();
        *options = new FitOptions
        {
            CovarianceType = (int)defaults.CovarianceType,
            MaxIterations = defaults.MaxIterations,
            Initializations = defaults.Initializations,
            Tolerance = defaults.Tolerance,
            RegCovar = defaults.RegCovar,
            Seed = defaults.Seed,
        };
        Errors.Clear();
        return 0;
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_create")]
    public static int MixtureCreate(int components, int dimension, int covarianceType, double* weights, double* means, double* covariances, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            ArgumentOutOfRangeException.ThrowIfLessThan(components, 1, "k");
            ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1, "d");
            CovarianceType type = ToCovarianceType(covarianceType);
            long covLength = type switch
            {
                CovarianceType.Full => Handles.Elements(components, (long)dimension * dimension, "k"),
                CovarianceType.Diagonal => Handles.Elements(components, dimension, "k"),
                _ => components,
            };
            var mixture = new GaussianMixture(
                Handles.In(weights, components, "weights"),
                Handles.In(means, Handles.Elements(components, dimension, "k"), "means"),
                Handles.In(covariances, covLength, "covariances"), type);
            Handles.Out(result, mixture);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_free")]
    public static void MixtureFree(nint mixture)
    {
        try
        {
            Handles.Free(mixture);
        }
        catch (Exception e)
        {
            Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_shape")]
    public static int MixtureShape(nint mixture, int* components, int* dimension, int* covarianceType)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            if (components is not null) { *components = m.ComponentCount; }
            if (dimension is not null) { *dimension = m.Dimension; }
            if (covarianceType is not null) { *covarianceType = (int)m.CovarianceType; }
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    /// <summary>Copies the parameters out: weights (K), means (K×d), covariances in the compact form of the type.</summary>
    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_parameters")]
    public static int MixtureParameters(nint mixture, double* weights, double* means, double* covariances)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            if (weights is not null) { m.Weights.CopyTo(Handles.Out(weights, m.Weights.Length, "weights")); }
            if (means is not null) { m.Means.CopyTo(Handles.Out(means, m.Means.Length, "means")); }
            if (covariances is not null) { m.CompactCovariances.CopyTo(Handles.Out(covariances, m.CompactCovariances.Length, "covariances")); }
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_fit")]
    public static int MixtureFit(double* points, long count, int dimension, int components, FitOptions* options, nint* result, FitInfo* info)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1, "d");
            var fitOptions = new GaussianMixtureFitOptions();
            if (options is not null)
            {
                FitOptions o = *options;
                fitOptions = fitOptions with
                {
                    CovarianceType = ToCovarianceType(o.CovarianceType),
                    MaxIterations = o.MaxIterations,
                    Initializations = o.Initializations,
                    Tolerance = o.Tolerance,
                    RegCovar = o.RegCovar,
                    Seed = o.Seed,
                    InitialMixture = o.Initial == 0 ? null : Handles.Get<GaussianMixture>(o.Initial, "options->initial"),
                };
            }
            var fit = GaussianMixtureFitter.Fit(Handles.In(points, Handles.Elements(count, dimension, "n"), "x"), dimension, components, fitOptions);
            if (info is not null)
            {
                *info = new FitInfo
                {
                    Converged = fit.Converged ? 1 : 0,
                    Iterations = fit.Iterations,
                    MeanLogLikelihood = fit.MeanLogLikelihood,
                    Bic = fit.Bic,
                };
            }
            Handles.Out(result, fit.Mixture);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_log_density")]
    public static int MixtureLogDensity(nint mixture, double* points, long count, double* destination)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            m.LogDensity(Handles.In(points, Handles.Elements(count, m.Dimension, "n"), "x"), Handles.Out(destination, count, "out"));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_responsibilities")]
    public static int MixtureResponsibilities(nint mixture, double* points, long count, double* destination)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            m.Responsibilities(Handles.In(points, Handles.Elements(count, m.Dimension, "n"), "x"),
                Handles.Out(destination, Handles.Elements(count, m.ComponentCount, "n"), "out"));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_predict")]
    public static int MixturePredict(nint mixture, double* points, long count, int* labels)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            m.Predict(Handles.In(points, Handles.Elements(count, m.Dimension, "n"), "x"), Handles.Out(labels, count, "labels"));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_bic")]
    public static int MixtureBic(nint mixture, double* points, long count, double* bic)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(bic, "bic");
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            *bic = m.Bic(Handles.In(points, Handles.Elements(count, m.Dimension, "n"), "x"));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_sample")]
    public static int MixtureSample(nint mixture, long count, ulong seed, long firstIndex, double* destination, int* labels)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            Span<double> x = Handles.Out(destination, Handles.Elements(count, m.Dimension, "n"), "out");
            ArgumentOutOfRangeException.ThrowIfNegative(firstIndex, "first_index");
            m.Sample(seed, x, labels is null ? default : Handles.Out(labels, count, "labels"), firstIndex);
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_read_json")]
    public static int MixtureReadJson(byte* path, nint* result)
    {
        try
        {
            Errors.Clear();
            Handles.CheckOut(result, "out");
            Handles.Out(result, MixtureJson.Read(Handles.Utf8(path, "path")));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "gmf_mixture_write_json")]
    public static int MixtureWriteJson(nint mixture, byte* path)
    {
        try
        {
            Errors.Clear();
            var m = Handles.Get<GaussianMixture>(mixture, "mixture");
            MixtureJson.Write(m, Handles.Utf8(path, "path"));
            return 0;
        }
        catch (Exception e)
        {
            return Errors.Report(e);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static CovarianceType ToCovarianceType(int value) => value switch
    {
        0 => CovarianceType.Full,
        1 => CovarianceType.Diagonal,
        2 => CovarianceType.Spherical,
        _ => throw new ArgumentOutOfRangeException("covariance_type", value, "covariance_type must be GMF_COV_FULL (0), GMF_COV_DIAG (1) or GMF_COV_SPHERICAL (2)."),
    };
}

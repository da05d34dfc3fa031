using System.Runtime.InteropServices;
using System.Text;

namespace GmmFlow.Native;

/// <summary>
/// One loaded LAPACK provider and the Span-based wrappers around its routines (this file: loading and
/// selection; Lapack.Routines.cs: the wrappers; Lapack.Batched.cs: batch loops).
/// </summary>
internal sealed unsafe partial class Lapack
{
    /// <summary>Environment variable that forces a provider: "mkl" or "system".</summary>
    public const string ProviderVariable = "GMMFLOW_LAPACK";

    private static readonly Lock s_loadLock = new();
    private static Lapack? s_default;
    private static Lapack? s_mkl;
    private static Lapack? s_system;
    private static string? s_mklError;
    private static string? s_systemError;

    private readonly Interop.LapackFunctions _f;

    private Lapack(LapackProviderKind kind, Interop.LapackFunctions functions, string version)
    {
        Kind = kind;
        _f = functions;
        Version = version;
    }

    public LapackProviderKind Kind { get; }

    /// <summary>Provider version, e.g. "Intel(R) Math Kernel Library Version 2020.0.4 ..." or "reference LAPACK 3.11.0".</summary>
    public string Version { get; }

    /// <summary>
    /// The process-wide provider: GMMFLOW_LAPACK if set, otherwise MKL when it loads, otherwise the system LAPACK.
    /// Throws <see cref="NativeLibraryNotFoundException"/> naming what to install when nothing loads.
    /// </summary>
    public static Lapack Default => s_default ?? SelectDefault();

    private static Lapack SelectDefault()
    {
        lock (s_loadLock)
        {
            if (s_default is not null)
            {
                return s_default;
            }
            string? forced = Environment.GetEnvironmentVariable(ProviderVariable)?.Trim().ToLowerInvariant();
            Lapack? chosen;
            switch (forced)
            {
                case null or "":
                    chosen = TryGet(LapackProviderKind.Mkl, out _) ?? TryGet(LapackProviderKind.System, out _);
                    if (chosen is null)
                    {
                        throw new NativeLibraryNotFoundException("LAPACK",
                            Interop.Libraries.MklInstallHint + "; or " + Interop.Libraries.SystemLapackInstallHint + ".",
                            $"MKL: {s_mklError}; system: {s_systemError}");
                    }
                    break;
                case "mkl":
                    chosen = TryGet(LapackProviderKind.Mkl, out string? mklError)
                        ?? throw new NativeLibraryNotFoundException("Intel MKL (forced by GMMFLOW_LAPACK=mkl)", Interop.Libraries.MklInstallHint + ".", mklError);
                    break;
                case "system":
                    chosen = TryGet(LapackProviderKind.System, out string? sysError)
                        ?? throw new NativeLibraryNotFoundException("system LAPACK (forced by GMMFLOW_LAPACK=system)", Interop.Libraries.SystemLapackInstallHint + ".", sysError);
                    break;
                default:
                    throw new ArgumentException($"{ProviderVariable}='{forced}' is not a LAPACK provider; use 'mkl' or 'system' (or unset it).");
            }
            s_default = chosen;
            return chosen;
        }
    }

    /// <summary>Loads (once) and returns the given provider, or null with the reason.</summary>
    public static Lapack? TryGet(LapackProviderKind kind, out string? error)
    {
        lock (s_loadLock)
        {
            if (kind == LapackProviderKind.Mkl)
            {
                s_mkl ??= LoadMkl(out s_mklError);
                error = s_mklError;
                return s_mkl;
            }
            s_system ??= LoadSystem(out s_systemError);
            error = s_systemError;
            return s_system;
        }
    }

    /// <summary>Every provider this machine has (for tests and `gmmflow info`).</summary>
    public static IReadOnlyList<Lapack> Available()
    {
        var list = new List<Lapack>(2);
        foreach (LapackProviderKind kind in (ReadOnlySpan<LapackProviderKind>)[LapackProviderKind.Mkl, LapackProviderKind.System])
        {
            if (TryGet(kind, out _) is { } lapack)
            {
                list.Add(lapack);
            }
        }
        return list;
    }

    private static nint TryLoadAny(string[] names, out string? error)
    {
        foreach (string name in names)
        {
            if (NativeLibrary.TryLoad(name, out nint handle))
            {
                error = null;
                return handle;
            }
        }
        error = $"none of {string.Join(", ", names)} could be loaded";
        return 0;
    }

    private static Lapack? LoadMkl(out string? error)
    {
        nint mkl = TryLoadAny(Interop.Libraries.MklRuntime, out error);
        if (mkl == 0)
        {
            return null;
        }
        if (!Interop.MklService.TryResolve(mkl, out var service))
        {
            error = "libmkl_rt lacks MKL_Set_Threading_Layer/MKL_Get_Version_String";
            return null;
        }
        // The threading layer must be chosen before the first computational call: libmkl_rt's default
        // (Intel OpenMP) needs libiomp5, which Debian's libmkl-rt does not pull in, and the first LAPACK
        // call would abort on an undefined symbol. GmmFlow parallelises over batches itself.
        service.MKL_Set_Threading_Layer(Interop.MklService.MKL_THREADING_SEQUENTIAL);
        // Conditional numerical reproducibility, unless the user chose a mode (MKL_CBWR): without it MKL picks code
        // paths by the memory alignment of the arrays it is given, so the same pair cost could differ in the last
        // bit between two calls (and "σ = 0 gives exactly W2" or a bit-identical rerun would hold only by luck).
        // AUTO keeps the branch MKL would pick for this CPU; it must be set before the first computational call.
        if (service.MKL_CBWR_Set != null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MKL_CBWR")))
        {
            service.MKL_CBWR_Set(Interop.MklService.MKL_CBWR_AUTO);
        }
        if (!Interop.LapackFunctions.TryResolve(mkl, mkl, out var functions, out string? missing))
        {
            error = $"libmkl_rt lacks {missing}";
            return null;
        }
        byte* buffer = stackalloc byte[256];
        new Span<byte>(buffer, 256).Clear();
        service.MKL_Get_Version_String(buffer, 255);
        string version = Encoding.ASCII.GetString(new ReadOnlySpan<byte>(buffer, 256).TrimEnd((byte)0)).Trim();
        return new Lapack(LapackProviderKind.Mkl, functions, version);
    }

    private static Lapack? LoadSystem(out string? error)
    {
        nint lapack = TryLoadAny(Interop.Libraries.SystemLapack, out error);
        if (lapack == 0)
        {
            return null;
        }
        nint blas = TryLoadAny(Interop.Libraries.SystemBlas, out error);
        if (blas == 0)
        {
            return null;
        }
        if (!Interop.LapackFunctions.TryResolve(lapack, blas, out var functions, out string? missing))
        {
            error = $"system LAPACK/BLAS lacks {missing}";
            return null;
        }
        int major, minor, patch;
        functions.ilaver_(&major, &minor, &patch);
        return new Lapack(LapackProviderKind.System, functions, $"LAPACK {major}.{minor}.{patch} (liblapack.so.3)");
    }

    public override string ToString() => $"{Kind}: {Version}";
}

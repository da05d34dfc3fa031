using System.Diagnostics.CodeAnalysis;

// Public exception types live in namespace GmmFlow (the facade's namespace) although they are
// defined here: the native wrappers are where most of them are raised, and users catch them by
// these names without knowing which layer threw.
namespace GmmFlow;

/// <summary>A native library GmmFlow needs (LAPACK, HiGHS) could not be loaded. The message says what to install.</summary>
public sealed class NativeLibraryNotFoundException : DllNotFoundException
{
    public NativeLibraryNotFoundException(string library, string howToInstall, string? details = null)
        : base($"{library} could not be loaded. {howToInstall}" + (details is null ? "" : $" ({details})"))
    {
        Library = library;
        HowToInstall = howToInstall;
    }

    /// <summary>Which library was missing, e.g. "LAPACK" or "HiGHS".</summary>
    public string Library { get; }

    /// <summary>The command or step that installs it.</summary>
    public string HowToInstall { get; }
}

/// <summary>A matrix that must be symmetric positive definite is not (Cholesky failed).</summary>
public sealed class NotPositiveDefiniteException : ArgumentException
{
    public NotPositiveDefiniteException(string matrixName, int index, int minorOrder, string? paramName = null)
        : base($"{matrixName}{(index >= 0 ? $" #{index}" : "")} is not positive definite " +
               $"(its leading minor of order {minorOrder} is not positive).", paramName)
    {
        MatrixName = matrixName;
        Index = index;
        MinorOrder = minorOrder;
    }

    /// <summary>What the matrix is, e.g. "covariance of source component".</summary>
    public string MatrixName { get; }

    /// <summary>Index of the offending matrix in its batch (component index), or -1 for a single matrix.</summary>
    public int Index { get; }

    /// <summary>Order of the first leading minor that is not positive (LAPACK potrf's info).</summary>
    public int MinorOrder { get; }
}

/// <summary>An input holds NaN or ±infinity where finite numbers are required.</summary>
public sealed class NonFiniteValueException : ArgumentException
{
    public NonFiniteValueException(string what, int index, int position, double value, string? paramName = null)
        : base($"{what}{(index >= 0 ? $" #{index}" : "")} has a non-finite value {value} at position {position}.", paramName)
    {
        What = what;
        Index = index;
        Position = position;
        Value = value;
    }

    public string What { get; }

    /// <summary>Index in the batch (component index), or -1 for a single array.</summary>
    public int Index { get; }

    /// <summary>Flat position of the bad value inside the item.</summary>
    public int Position { get; }

    public double Value { get; }
}

/// <summary>
/// A LAPACK routine reported a failure that is not the caller's input: info &lt; 0 (an argument GmmFlow passed
/// was wrong, i.e. our bug) or a convergence failure (info &gt; 0 from an eigen/SVD routine).
/// </summary>
public sealed class LapackException : InvalidOperationException
{
    public LapackException(string routine, int info, string? detail = null)
        : base($"LAPACK {routine} failed with info = {info}" + (detail is null ? "." : $": {detail}."))
    {
        Routine = routine;
        Info = info;
    }

    public string Routine { get; }

    public int Info { get; }
}

/// <summary>HiGHS returned an error status (not an infeasible or unbounded model, which are results).</summary>
public sealed class HighsException : InvalidOperationException
{
    public HighsException(string call, int status, string? detail = null)
        : base($"HiGHS {call} returned error status {status}" + (detail is null ? "." : $": {detail}."))
    {
        Call = call;
        Status = status;
    }

    public string Call { get; }

    public int Status { get; }
}

/// <summary>Throw helpers: keep throw sites out of hot methods so they stay small and inlinable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgument(string message, string? paramName = null) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void ThrowSize(string paramName, long expected, long actual)
        => throw new ArgumentException($"{paramName} has length {actual}, expected {expected}.", paramName);

    [DoesNotReturn]
    public static void ThrowNotPositiveDefinite(string matrixName, int index, int minorOrder, string? paramName = null)
        => throw new NotPositiveDefiniteException(matrixName, index, minorOrder, paramName);

    [DoesNotReturn]
    public static void ThrowNonFinite(string what, int index, int position, double value, string? paramName = null)
        => throw new NonFiniteValueException(what, index, position, value, paramName);

    [DoesNotReturn]
    public static void ThrowLapack(string routine, int info, string? detail = null) => throw new LapackException(routine, info, detail);

    [DoesNotReturn]
    public static void ThrowHighs(string call, int status, string? detail = null) => throw new HighsException(call, status, detail);
}

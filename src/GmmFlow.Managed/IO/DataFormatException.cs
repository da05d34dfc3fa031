namespace GmmFlow;

/// <summary>
/// A file GmmFlow reads (mixture JSON, .npy or CSV samples) is malformed. The message names the file,
/// the field or line, the component or row, and the offending value; the properties carry the same for programs.
/// </summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>Creates the exception; <paramref name="message"/> is the complete one-line description.</summary>
    public DataFormatException(string fileName, string? field, int index, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        FileName = fileName;
        Field = field;
        Index = index;
    }

    /// <summary>The file (or stream name) that was being read.</summary>
    public string FileName { get; }

    /// <summary>The JSON field ("weights", "means", "covariances", "covariance_type"), "header" or "data" for sample files; null for the file as a whole.</summary>
    public string? Field { get; }

    /// <summary>The component (mixture JSON) or row (samples) at fault, or −1.</summary>
    public int Index { get; }
}

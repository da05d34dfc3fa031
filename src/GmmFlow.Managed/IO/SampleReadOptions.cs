namespace GmmFlow;

/// <summary>
/// How <see cref="SampleFiles"/> reads text sample files, and the cancellation and notices of any read.
/// CSV/TSV rules: the delimiter is a tab for .tsv files and for a .csv whose first content line has tabs and no
/// commas, else a comma; fields may be double-quoted ("" inside quotes is a quote); blank lines and lines starting
/// with '#' are skipped. The first content line is a header when <see cref="Header"/> says so; when it is null, the line
/// is a header if none of its fields is a number, data if all are, and an error if it mixes both (a typo in the first
/// row is never dropped silently). A header whose first name is empty or "Unnamed: 0" (pandas' to_csv with its index)
/// marks the first column as a row index, which is dropped and reported through <see cref="Notice"/>.
/// </summary>
public sealed record SampleReadOptions
{
    /// <summary>True: the first content line is a header; false: it is data; null (default): decided by the rule above.</summary>
    public bool? Header { get; init; }

    /// <summary>Observed between chunks of a large read.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Receives one-line notices about how the file was read (e.g. a dropped index column).</summary>
    public Action<string>? Notice { get; init; }
}

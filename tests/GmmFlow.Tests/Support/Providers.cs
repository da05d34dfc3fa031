using GmmFlow.Native;

namespace GmmFlow.Tests.Support;

/// <summary>
/// The LAPACK providers this machine has, as xunit theory data: every LAPACK test runs once per provider
/// in the same process (and .ci/run runs the whole suite again with GMMFLOW_LAPACK forcing each one).
/// </summary>
public static class Providers
{
    public static TheoryData<LapackProviderKind> Available()
    {
        var data = new TheoryData<LapackProviderKind>();
        foreach (var lapack in Lapack.Available())
        {
            data.Add(lapack.Kind);
        }
        return data;
    }

    internal static Lapack Get(LapackProviderKind kind)
        => Lapack.TryGet(kind, out string? error) ?? throw new InvalidOperationException($"{kind} not available: {error}");
}

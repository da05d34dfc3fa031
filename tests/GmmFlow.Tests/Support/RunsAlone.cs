namespace GmmFlow.Tests.Support;

/// <summary>
/// Tests that must not share the machine with other tests: allocation counts (other threads would allocate) and
/// serial-versus-parallel comparisons (ParallelRange runs one region at a time and falls back to the calling thread
/// when another test holds it, which would make the "parallel" run serial).
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

using System.Runtime.CompilerServices;
using GmmFlow.Simd;

namespace GmmFlow.Tests.Support;

/// <summary>
/// Runs an action on one thread however the library would parallelise it: the action runs inside a parallel region
/// (<see cref="ParallelRange"/> runs one region at a time, and a region opened inside another runs on its caller).
/// For serial-versus-parallel comparisons, which belong in the <see cref="RunsAlone"/> collection so that the
/// parallel run really gets the workers.
/// </summary>
internal static class Serially
{
    public static void Run(Action action)
    {
        var body = new Body { Action = action, Ran = new StrongBox<bool>() };
        ParallelRange.For(ParallelRange.Concurrency + 1, 1, body);
        Assert.True(body.Ran.Value, "the serial run did not happen");
    }

    private struct Body : IRangeBody
    {
        public Action Action;
        public StrongBox<bool> Ran;

        public readonly void Execute(int start, int end)
        {
            if (start == 0)
            {
                Action();
                Ran.Value = true;
            }
        }
    }
}

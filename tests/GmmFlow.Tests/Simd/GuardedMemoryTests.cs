using System.Runtime.CompilerServices;
using GmmFlow.Tests.Support;

namespace GmmFlow.Tests.Simd;

/// <summary>
/// The guard-page helper itself: every element of a guarded buffer can be read and written, and one element past the
/// end (or before the start) faults. The fault kills the process, so it is shown in a child process: this test
/// assembly started again with <see cref="GuardProbe.Variable"/> set, which reads outside a buffer before anything
/// else runs.
/// </summary>
/// <remarks>
/// What it would have caught: the MMD permutation kernel's old SoA stride (N rounded up to whole column tiles of 128).
/// At N = 128, d rows of 128 doubles, the row tile at i0 = 112 read its column tile j0 = 112 whole, up to index
/// 112 + 127 of the last row, 111 doubles past the copy: with the copy flush against a guard page that read faults on
/// every run instead of now and then (PermutationKernelSumsTests and GuardPageMetricTests cover the fixed stride).
/// </remarks>
public class GuardedMemoryTests
{
    [Fact]
    public void Every_element_of_a_guarded_buffer_is_usable()
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        foreach (GuardSide side in GuardedArena.Sides)
        {
            // Lengths around a page (512 doubles): partial, exactly one and just over one data page.
            foreach (int length in new[] { 0, 1, 7, 511, 512, 513, 1500 })
            {
                using var buffer = GuardedMemory.Allocate<double>(length, side);
                Span<double> span = buffer.Span;
                Assert.Equal(length, span.Length);
                for (int i = 0; i < length; i++)
                {
                    Assert.Equal(0.0, span[i]);
                    span[i] = i;
                }
                for (int i = 0; i < length; i++)
                {
                    Assert.Equal(i, span[i]);
                }
            }
        }
        using var ints = GuardedMemory.Copy<int>([1, 2, 3]);
        Assert.Equal([1, 2, 3], ints.ToArray());
    }

    [Theory]
    [InlineData("after")]
    [InlineData("before")]
    public async Task A_read_just_outside_a_guarded_buffer_kills_the_process(string side)
    {
        Assert.SkipUnless(GuardedMemory.IsSupported, GuardedMemory.SkipReason);
        var (exitCode, output, error) = await TestHostChild.RunAsync(new Dictionary<string, string> { [GuardProbe.Variable] = side });
        Assert.Contains("inside ok", output, StringComparison.Ordinal);
        Assert.DoesNotContain("outside survived", output, StringComparison.Ordinal);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("AccessViolationException", error, StringComparison.Ordinal);
    }
}

/// <summary>
/// Runs when this assembly loads: with <see cref="Variable"/> set to "after" or "before" it reads the last and first
/// elements of a guarded buffer (printing "inside ok"), then the element outside it on that side, which must fault;
/// if it does not, it prints "outside survived" and exits with 3. Set to "width" it prints the SIMD width the kernels
/// dispatch to and the lane count of <see cref="System.Numerics.Vector{T}"/> of double (which the managed vector loops
/// use), and lets the test runner go on. Without the variable it does nothing.
/// </summary>
internal static class GuardProbe
{
    public const string Variable = "GMMFLOW_GUARD_PROBE";

#pragma warning disable CA2255 // a module initializer in a test executable: the probe must run before the test platform starts
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static unsafe void RunIfAsked()
    {
        string? side = Environment.GetEnvironmentVariable(Variable);
        if (side is null)
        {
            return;
        }
        if (side == "width")
        {
            Console.Out.WriteLine($"simd width {GmmFlow.Simd.SimdCapabilities.WidthBits}");
            Console.Out.WriteLine($"vector lanes {System.Numerics.Vector<double>.Count}");
            return;
        }
        GuardSide guard = side == "before" ? GuardSide.Before : GuardSide.After;
        var buffer = GuardedMemory.Allocate<double>(100, guard);
        double* p = buffer.Start;
        double inside = Volatile.Read(ref p[0]) + Volatile.Read(ref p[99]);
        Console.Out.WriteLine($"inside ok {inside}");
        Console.Out.Flush();
        double outside = Volatile.Read(ref guard == GuardSide.After ? ref p[100] : ref p[-1]);
        Console.Out.WriteLine($"outside survived {outside}");
        Console.Out.Flush();
        Environment.Exit(3);
    }
}

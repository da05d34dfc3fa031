using GmmFlow.Native.Highs;
using GmmFlow.Tests.Support;
using Xunit;

namespace GmmFlow.Tests.Native;

/// <summary>
/// The pinned <c>threads</c> option (<see cref="HighsThreads"/>): HiGHS' own default count, and a fallback when
/// another user of HiGHS in the process sized the shared scheduler differently. Runs alone: it resets the
/// process-wide scheduler, which no run may use meanwhile.
/// </summary>
[Collection(nameof(RunsAlone))]
public class HighsThreadsTests
{
    [Fact]
    public void Pinned_count_is_HiGHS_default_for_this_machine()
    {
        HighsLibrary.EnsureLoaded();
        // HiGHS' default is (hardware_concurrency() + 1) / 2; on Linux that is get_nprocs(), the online CPUs,
        // which /sys/devices/system/cpu/online lists as ranges such as "0-1" or "0,2-5".
        Assert.SkipUnless(OperatingSystem.IsLinux(), "get_nprocs is glibc's");
        int online = 0;
        foreach (string range in File.ReadAllText("/sys/devices/system/cpu/online").Trim().Split(','))
        {
            string[] ends = range.Split('-');
            online += ends.Length == 1 ? 1 : int.Parse(ends[1]) - int.Parse(ends[0]) + 1;
        }

        HighsThreads.Reset();
        Assert.Equal((online + 1) / 2, HighsThreads.Value);
        using SafeHighsHandle highs = SafeHighsHandle.Create();
        Assert.Equal((online + 1) / 2, HighsOptions.GetInt(highs, "threads\0"u8));
    }

    [Fact]
    public void Scheduler_sized_by_another_user_falls_back_to_the_default_and_still_solves()
    {
        double[] a = [0.2, 0.3, 0.5];
        double[] b = [0.4, 0.1, 0.25, 0.25];
        double[] cost = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
        HighsThreads.Reset();
        Coupling before = Couplings.ExactLp(a, b, cost); // also loads libhighs
        int pinned = HighsThreads.Value;
        Assert.SkipWhen(pinned == 0, "no pinned count on this platform: nothing to refuse");
        try
        {
            // Another HiGHS user asks for a different explicit count first: the scheduler takes its size.
            Interop.Highs.Highs_resetGlobalScheduler(1);
            using (SafeHighsHandle other = SafeHighsHandle.Create())
            {
                HighsOptions.SetInt(other, "threads\0"u8, pinned + 1);
                var x = new double[1];
                var model = new HighsLpModel([1.0], [0.0], [1.0], [], [], [0, 0], [], []);
                Assert.Equal(HighsModelStatus.Optimal, HighsLp.Run(Load(other, model), x, default).Status);
            }

            // HiGHS versions that keep the first size refuse our pinned count now (the solve then retries with the
            // default and stops pinning); HiGHS 1.12 as shipped by OR-Tools accepts it. Either way: the same plan.
            Coupling after = Couplings.ExactLp(a, b, cost);
            Assert.Equal(LpStatus.Optimal, after.Status);
            Assert.Equal(before.Objective, after.Objective, 1e-15);
            Assert.Equal(before.Entries, after.Entries);
            Assert.Contains(HighsThreads.Value, new[] { 0, pinned });
        }
        finally
        {
            Interop.Highs.Highs_resetGlobalScheduler(1);
            HighsThreads.Reset();
        }
    }

    private static SafeHighsHandle Load(SafeHighsHandle highs, HighsLpModel model)
    {
        HighsLp.Pass(highs, model);
        return highs;
    }
}

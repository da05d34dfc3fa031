using System.Runtime.InteropServices;

namespace GmmFlow.Native.Highs;

/// <summary>
/// The value GmmFlow gives HiGHS' <c>threads</c> option: the thread count HiGHS would pick by itself, computed once
/// per process instead of on every run.
/// </summary>
/// <remarks>
/// <para>Why: with <c>threads = 0</c> (the default) every <c>Highs_run</c> asks for
/// <c>std::thread::hardware_concurrency()</c>, which glibc answers by opening and reading
/// <c>/sys/devices/system/cpu/online</c>: three system calls per LP. strace showed one open per solve, and
/// <c>perf</c> put 10 % of a K = 10 transport LP in the kernel. Pinning the option removes them. On this 2-vCPU
/// machine, 20 000 K = 10 LPs went from 131–140 to 117–127 µs each in interleaved runs.</para>
/// <para>Which value: HiGHS keeps one thread scheduler per process, sized by its first run. A later run whose
/// <c>threads</c> option is non-zero and differs from that size is refused with an error. HiGHS' own default is
/// (hardware_concurrency() + 1) / 2. <c>get_nprocs()</c>, glibc's answer behind hardware_concurrency, gives the same
/// number. So GmmFlow's first run sizes the scheduler exactly as a default run would, and other HiGHS users in the
/// process that keep the default are unaffected. <see cref="Environment.ProcessorCount"/> is not used: it honours
/// affinity masks and cgroup limits, which hardware_concurrency does not, so it can differ.</para>
/// <para>Fallback: where get_nprocs is unavailable (not glibc), the option stays 0. Some HiGHS releases (from 1.7,
/// as their users report) refuse a run whose explicit count differs from the size another HiGHS user in the process
/// already gave the scheduler; the 1.12 build GmmFlow ships accepted every such order we tried. For a library found through
/// GMMFLOW_HIGHS_PATH that refuses, <see cref="HighsLp.Run"/> retries with 0 and calls <see cref="Disable"/>, so
/// every later instance uses the default.</para>
/// </remarks>
internal static unsafe class HighsThreads
{
    private static int s_value = -1; // −1: not computed yet

    /// <summary>The <c>threads</c> option for new instances: HiGHS' default count, or 0 (let HiGHS decide per run).</summary>
    internal static int Value
    {
        get
        {
            int value = Volatile.Read(ref s_value);
            if (value < 0)
            {
                value = Compute();
                // A racing Disable wins: never overwrite a 0 that was stored after a refused run.
                Interlocked.CompareExchange(ref s_value, value, -1);
                value = Volatile.Read(ref s_value);
            }

            return value;
        }
    }

    /// <summary>Stops pinning for the rest of the process (a run was refused with the pinned value).</summary>
    internal static void Disable() => Volatile.Write(ref s_value, 0);

    /// <summary>Forgets <see cref="Disable"/> and the computed value (tests that size the scheduler themselves).</summary>
    internal static void Reset() => Volatile.Write(ref s_value, -1);

    private static int Compute()
    {
        if (!OperatingSystem.IsLinux()
            || !NativeLibrary.TryLoad("libc.so.6", out IntPtr libc)
            || !NativeLibrary.TryGetExport(libc, "get_nprocs", out IntPtr export))
        {
            return 0;
        }

        int processors = ((delegate* unmanaged<int>)export)();
        return processors > 0 ? (processors + 1) / 2 : 0;
    }
}

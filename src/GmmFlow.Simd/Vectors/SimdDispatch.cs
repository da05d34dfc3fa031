using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace GmmFlow.Simd;

/// <summary>
/// Picks the <see cref="ISimdOps{TV}"/> width a kernel runs at: <see cref="Best"/> for the mixture kernels, which always
/// run at the widest accelerated width; <see cref="Resolve"/> for the field and metric kernels, which take a
/// <see cref="SimdWidth"/> so tests can force every path.
/// </summary>
internal static class SimdDispatch
{
    /// <summary>
    /// Whether multiply-add is fused in hardware (x64 FMA3, Arm64). A JIT-time constant. Where it is not (an x64
    /// Native-AOT build for the default x86-64-v2 baseline), the fused operation is a software routine some 20 times
    /// slower, so the kernels use a·b + c there instead: every width still agrees with every other on that machine.
    /// Publish Native AOT with IlcInstructionSet=x86-64-v3 (or native) to get FMA, AVX2 and AVX-512 paths.
    /// </summary>
    public static bool HardwareFma
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Fma.IsSupported || AdvSimd.Arm64.IsSupported;
    }

    /// <summary>
    /// The width <see cref="SimdWidth.Auto"/> resolves to on this machine (the one <see cref="SimdCapabilities"/> reports).
    /// Computed from the IsHardwareAccelerated properties, so it is a JIT-time constant: a <c>switch</c> on it in
    /// optimised code keeps only the branch for this machine, with no static-initialisation check.
    /// </summary>
    public static SimdWidth Best
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => (SimdWidth)SimdCapabilities.DoubleLanes; // enum values are lane counts
    }

    public static SimdWidth Resolve(SimdWidth requested)
    {
        bool ok = requested switch
        {
            SimdWidth.Auto => true,
            SimdWidth.Scalar => true,
            SimdWidth.V128 => Vector128.IsHardwareAccelerated,
            SimdWidth.V256 => Vector256.IsHardwareAccelerated,
            SimdWidth.V512 => Vector512.IsHardwareAccelerated,
            _ => false,
        };
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(nameof(requested), requested, "This SIMD width is not accelerated on this machine.");
        }
        return requested == SimdWidth.Auto ? Best : requested;
    }

    /// <summary>Widths that can run here, widest first (for tests that force every path).</summary>
    public static SimdWidth[] Available()
    {
        var list = new List<SimdWidth>(4);
        if (Vector512.IsHardwareAccelerated) list.Add(SimdWidth.V512);
        if (Vector256.IsHardwareAccelerated) list.Add(SimdWidth.V256);
        if (Vector128.IsHardwareAccelerated) list.Add(SimdWidth.V128);
        list.Add(SimdWidth.Scalar);
        return list.ToArray();
    }
}

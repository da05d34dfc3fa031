using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GmmFlow.Simd;

/// <summary>The widest hardware-accelerated vector the kernels dispatch to on this machine.</summary>
public static class SimdCapabilities
{
    /// <summary>Vector width in bits the kernels use: 512, 256, 128, or 64 for the scalar path.</summary>
    // Inlined so the value is a JIT-time constant in callers (SimdDispatch.Best): kernels switch on it.
    public static int WidthBits
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get =>
            Vector512.IsHardwareAccelerated ? 512 :
            Vector256.IsHardwareAccelerated ? 256 :
            Vector128.IsHardwareAccelerated ? 128 : 64;
    }

    /// <summary>Doubles per vector at <see cref="WidthBits"/>.</summary>
    public static int DoubleLanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => WidthBits / 64;
    }
}

using System.Runtime.Intrinsics;

namespace GmmFlow.Simd;

/// <summary>The widest hardware-accelerated vector the kernels dispatch to on this machine.</summary>
public static class SimdCapabilities
{
    /// <summary>Vector width in bits the kernels use: 512, 256, 128, or 64 for the scalar path.</summary>
    public static int WidthBits =>
        Vector512.IsHardwareAccelerated ? 512 :
        Vector256.IsHardwareAccelerated ? 256 :
        Vector128.IsHardwareAccelerated ? 128 : 64;

    /// <summary>Doubles per vector at <see cref="WidthBits"/>.</summary>
    public static int DoubleLanes => WidthBits / 64;
}

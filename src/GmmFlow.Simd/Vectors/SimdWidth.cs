namespace GmmFlow.Simd;

/// <summary>
/// Which vector width a kernel runs at. <see cref="Auto"/> picks the widest accelerated one; the others
/// exist so tests can force every code path on one machine.
/// </summary>
internal enum SimdWidth
{
    Auto = 0,
    Scalar = 1,
    V128 = 2,
    V256 = 4,
    V512 = 8,
}

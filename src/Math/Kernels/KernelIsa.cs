using System.Runtime.Intrinsics;

namespace RingActors.Math.Kernels;

/// <summary>The vector width, and with it the micro-kernel shape, the attention kernels run with.</summary>
public enum VectorIsa
{
    /// <summary>Vector256 (AVX2 + FMA on x86): 6 rows × 2 vectors, 12 accumulators of 16 ymm registers.</summary>
    Vector256,

    /// <summary>Vector512 (AVX-512): 4 rows × 4 vectors, 16 accumulators of 32 zmm registers.</summary>
    Vector512,
}

/// <summary>Which <see cref="VectorIsa"/> this process runs, chosen once, and how to name it in a report.</summary>
public static class KernelIsa
{
    /// <summary>
    /// Vector512 where the processor accelerates it, Vector256 otherwise. Decided once per process: the JIT reads
    /// the processor (and <c>DOTNET_EnableAVX512=0</c>; .NET 10 ignores DOTNET_EnableAVX512F=0) at start-up, so it cannot change later.
    /// </summary>
    public static readonly VectorIsa Selected = Vector512.IsHardwareAccelerated ? VectorIsa.Vector512 : VectorIsa.Vector256;

    /// <summary>Whether the processor runs <paramref name="isa"/> in hardware (a Vector512 path on AVX2 would be emulated).</summary>
    public static bool IsAccelerated(VectorIsa isa) =>
        isa == VectorIsa.Vector512 ? Vector512.IsHardwareAccelerated : Vector256.IsHardwareAccelerated;

    /// <summary>A short stable name for JSON: <c>avx512</c> or <c>avx2</c>.</summary>
    public static string Id(VectorIsa isa) => isa == VectorIsa.Vector512 ? "avx512" : "avx2";

    /// <summary>The instruction set, vector and micro-kernel shape, e.g. <c>AVX-512 Vector512 4×4</c>.</summary>
    public static string Describe(VectorIsa isa) => isa == VectorIsa.Vector512 ? "AVX-512 Vector512 4×4" : "AVX2 Vector256 6×2";
}

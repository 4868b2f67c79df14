using RingActors.Math;
using RingActors.Math.IO;

namespace RingActors.Host.Cli;

/// <summary>Q, K and V read from NumPy files ([B,H,N,d] or [H,N,d]), and the ring's output written back in q's layout.</summary>
public static class NpyInputs
{
    /// <summary>Reads and checks the three files; every mismatch is an <see cref="ArgumentException"/> with one line naming the files and shapes.</summary>
    public static (AttentionInput Input, int[] QueryFileShape) Load(string qPath, string kPath, string vPath)
    {
        var (q, qShape) = NpyFile.Read(qPath);
        var (k, kShape) = NpyFile.Read(kPath);
        var (v, vShape) = NpyFile.Read(vPath);
        var qs = ToFourDimensions(qShape, qPath, "q");
        var ks = ToFourDimensions(kShape, kPath, "k");
        var vs = ToFourDimensions(vShape, vPath, "v");
        if (!ks.SequenceEqual(vs))
        {
            throw new ArgumentException($"k {Format(kShape)} and v {Format(vShape)} must have the same shape", "v");
        }

        if (qs[0] != ks[0] || qs[2] != ks[2] || qs[3] != ks[3])
        {
            throw new ArgumentException($"q {Format(qShape)} and k {Format(kShape)} must agree on batch, sequence length and head dimension ([B,H,N,d] and [B,Hkv,N,d])", "k");
        }

        var shape = new AttentionShape(qs[0], qs[1], ks[1], qs[2], qs[3]);
        shape.Validate();
        foreach (var (name, data) in new[] { ("q", q), ("k", k), ("v", v) })
        {
            if (data.Any(x => !float.IsFinite(x)))
            {
                throw new ArgumentException($"{name} holds NaN or infinite values: attention of such inputs is undefined", name);
            }
        }

        return (new AttentionInput(shape, q, k, v), qShape);
    }

    /// <summary>Writes the output [B,H,N,d] as float32 with q's own rank ([H,N,d] when q had no batch).</summary>
    public static void WriteOutput(string path, float[] output, AttentionShape shape, int[]? queryFileShape)
    {
        int[] fileShape = queryFileShape is { Length: 3 } ? [shape.Heads, shape.SeqLen, shape.HeadDim] : [shape.Batch, shape.Heads, shape.SeqLen, shape.HeadDim];
        NpyFile.Write(path, output, fileShape);
    }

    private static int[] ToFourDimensions(int[] shape, string path, string name) => shape.Length switch
    {
        4 => shape,
        3 => [1, shape[0], shape[1], shape[2]],
        _ => throw new ArgumentException($"{name} ({path}) has shape {Format(shape)}; expected [B,H,N,d] or [H,N,d]", name),
    };

    private static string Format(int[] shape) => "[" + string.Join(",", shape) + "]";
}

using RingActors.Math;
using RingActors.Math.IO;

namespace RingActors.Host.Cli;

/// <summary>The shapes q and k had in their files ([B,H,N,d] or [H,N,d]): outputs are written back with the same rank.</summary>
public sealed record FileLayout(int[] Query, int[] Key);

/// <summary>Q, K and V read from NumPy files ([B,H,N,d] or [H,N,d]), dO beside them, and outputs written back in q's and k's layouts.</summary>
public static class NpyInputs
{
    /// <summary>Reads and checks the three files; every mismatch is an <see cref="ArgumentException"/> with one line naming the files and shapes.</summary>
    public static (AttentionInput Input, FileLayout Files) Load(string qPath, string kPath, string vPath)
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

        return (new AttentionInput(shape, q, k, v), new FileLayout(qShape, kShape));
    }

    /// <summary>
    /// Reads the output gradient dO of <c>--grad-out</c>: q's shape [B,H,N,d] (or [H,N,d] when B = 1), every value finite;
    /// anything else is an <see cref="ArgumentException"/> in one line naming the file, what it holds and what it must hold.
    /// </summary>
    public static float[] LoadOutputGradient(string path, AttentionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var (data, fileShape) = NpyFile.Read(path);
        int[] expected = [shape.Batch, shape.Heads, shape.SeqLen, shape.HeadDim];
        var four = fileShape.Length switch
        {
            4 => fileShape,
            3 => [1, fileShape[0], fileShape[1], fileShape[2]],
            _ => null,
        };
        if (four is null || !four.SequenceEqual(expected))
        {
            throw new ArgumentException($"--grad-out {path} has shape {Format(fileShape)}; dO must have q's shape {Format(expected)} ([B,H,N,d], or [H,N,d] when B = 1)", "grad-out");
        }

        var bad = Array.FindIndex(data, x => !float.IsFinite(x));
        if (bad >= 0)
        {
            throw new ArgumentException($"--grad-out {path} holds {data[bad]} at element {bad}: every value of dO must be finite", "grad-out");
        }

        return data;
    }

    /// <summary>Writes the output [B,H,N,d] as float32 with q's own rank ([H,N,d] when q had no batch).</summary>
    public static void WriteOutput(string path, float[] output, AttentionShape shape, FileLayout? files) =>
        WriteAll([(path, output, QueryLayout(shape, files))]);

    /// <summary>Where dQ goes (q's layout), and where dK and dV go (k's layout).</summary>
    public static int[] QueryLayout(AttentionShape shape, FileLayout? files) =>
        files?.Query is { Length: 3 } ? [shape.Heads, shape.SeqLen, shape.HeadDim] : [shape.Batch, shape.Heads, shape.SeqLen, shape.HeadDim];

    /// <inheritdoc cref="QueryLayout"/>
    public static int[] KeyLayout(AttentionShape shape, FileLayout? files) =>
        files?.Key is { Length: 3 } ? [shape.KvHeads, shape.SeqLen, shape.HeadDim] : [shape.Batch, shape.KvHeads, shape.SeqLen, shape.HeadDim];

    /// <summary>
    /// Writes every file or none: each goes to a temporary file beside it, and only when all are written are they renamed
    /// into place; on any failure the temporary files are deleted, so no partial output is left.
    /// </summary>
    public static void WriteAll(IReadOnlyList<(string Path, float[] Data, int[] Shape)> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var temporary = new List<string>();
        try
        {
            foreach (var (path, data, shape) in files)
            {
                var full = Path.GetFullPath(path);
                var part = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.part");
                temporary.Add(part);
                NpyFile.Write(part, data, shape);
            }

            for (var i = 0; i < files.Count; i++)
            {
                File.Move(temporary[i], files[i].Path, overwrite: true);
            }
        }
        finally
        {
            foreach (var part in temporary)
            {
                File.Delete(part); // nothing there once moved: Delete ignores a missing file
            }
        }
    }

    /// <summary>
    /// Throws a one-line <see cref="UserInputException"/> when <paramref name="path"/> (of <paramref name="option"/>) cannot be
    /// written: a missing directory, a directory, no permission. Checked before the job runs, so nothing is computed for a file
    /// that cannot be kept.
    /// </summary>
    public static void CheckWritable(string option, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        if (Directory.Exists(full))
        {
            throw new UserInputException($"{option} {path} is a directory; give a file name such as {Path.Combine(path, "out.npy")}");
        }

        if (!Directory.Exists(directory))
        {
            throw new UserInputException($"{option} {path} cannot be written: its directory {directory} does not exist");
        }

        var probe = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.probe");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception error) when (error is UnauthorizedAccessException or IOException)
        {
            throw new UserInputException($"{option} {path} cannot be written: {error.Message}");
        }

        if (File.Exists(full) && (File.GetAttributes(full) & FileAttributes.ReadOnly) != 0)
        {
            throw new UserInputException($"{option} {path} cannot be written: the file is read-only");
        }
    }

    private static int[] ToFourDimensions(int[] shape, string path, string name) => shape.Length switch
    {
        4 => shape,
        3 => [1, shape[0], shape[1], shape[2]],
        _ => throw new ArgumentException($"{name} ({path}) has shape {Format(shape)}; expected [B,H,N,d] or [H,N,d]", name),
    };

    private static string Format(int[] shape) => "[" + string.Join(",", shape) + "]";
}

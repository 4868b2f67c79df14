using RingActors.Math;

namespace RingActors.Actors;

/// <summary>
/// Which global token positions each device of a ring holds, for any sequence length N and ring size P ≤ N.
/// Every device holds at least one token and every token is held by exactly one device; positions are sorted.
/// Shares are balanced when N is not a multiple of P (or 2P): device r holds ⌊(r+1)·N/P⌋ − ⌊r·N/P⌋ tokens in the
/// contiguous and zigzag layouts, ⌈(N − r)/P⌉ in the striped one. Zigzag keeps each device's share and splits it into a
/// front chunk of ⌈n_r/2⌉ tokens (chunks laid out in device order in the first half) and a back chunk (laid out in reverse
/// device order in the second half), which is exactly chunks r and 2P − 1 − r when 2P divides N and never leaves a device
/// empty when it does not.
/// </summary>
public sealed class SequenceLayout
{
    private readonly int[][] _positions;
    private readonly int[] _owner;

    public SequenceLayout(LayoutKind kind, int tokens, int devices)
    {
        if (devices < 1)
        {
            throw new ArgumentException($"devices must be ≥ 1, got {devices}", nameof(devices));
        }

        if (tokens < devices)
        {
            throw new ArgumentException($"a ring of {devices} devices needs at least {devices} tokens (one per device), got {tokens}", nameof(tokens));
        }

        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentException($"unknown layout {kind}", nameof(kind));
        }

        Kind = kind;
        Tokens = tokens;
        Devices = devices;
        _positions = kind switch
        {
            LayoutKind.Contiguous => Contiguous(tokens, devices),
            LayoutKind.Striped => Striped(tokens, devices),
            _ => Zigzag(tokens, devices),
        };
        _owner = new int[tokens];
        for (var device = 0; device < devices; device++)
        {
            foreach (var position in _positions[device])
            {
                _owner[position] = device;
            }
        }
    }

    /// <summary>Names accepted by <see cref="ParseKind"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["contiguous", "striped", "zigzag"];

    public LayoutKind Kind { get; }

    public string Name => NameOf(Kind);

    public int Tokens { get; }

    public int Devices { get; }

    /// <summary>The layout's name as written on the command line.</summary>
    public static string NameOf(LayoutKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>Parses <c>contiguous</c>, <c>striped</c> or <c>zigzag</c> (case-insensitive).</summary>
    public static LayoutKind ParseKind(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "contiguous" => LayoutKind.Contiguous,
            "striped" => LayoutKind.Striped,
            "zigzag" => LayoutKind.Zigzag,
            _ => throw new ArgumentException($"unknown layout '{name}': expected one of {string.Join(", ", Names)}", nameof(name)),
        };
    }

    /// <summary>The sorted global positions device <paramref name="device"/> holds (a copy).</summary>
    public int[] Positions(int device) => (int[])_positions[CheckDevice(device)].Clone();

    /// <summary>How many tokens device <paramref name="device"/> holds.</summary>
    public int Count(int device) => _positions[CheckDevice(device)].Length;

    /// <summary>The device that holds the token at global <paramref name="position"/>.</summary>
    public int DeviceOf(int position)
    {
        if ((uint)position >= (uint)Tokens)
        {
            throw new ArgumentException($"position must be in 0..{Tokens - 1}, got {position}", nameof(position));
        }

        return _owner[position];
    }

    /// <summary>Device <paramref name="device"/>'s query rows [B, H, n_r, d] gathered from Q, with their global positions (positions only for a phantom input).</summary>
    public QueryChunk QueryChunkOf(AttentionInput input, int device)
    {
        var shape = CheckShape(input);
        var positions = _positions[CheckDevice(device)];
        if (input.IsPhantom)
        {
            return new QueryChunk([], (int[])positions.Clone());
        }

        return new QueryChunk(Gather(input.Q, shape.Batch * shape.Heads, Tokens, shape.HeadDim, positions), (int[])positions.Clone());
    }

    /// <summary>Device <paramref name="device"/>'s key/value block [B, Hkv, n_r, d] each, gathered from K and V, with their global positions (positions only for a phantom input).</summary>
    public KeyValueBlock KeyValueBlockOf(AttentionInput input, int device)
    {
        var shape = CheckShape(input);
        var positions = _positions[CheckDevice(device)];
        if (input.IsPhantom)
        {
            return new KeyValueBlock([], [], (int[])positions.Clone());
        }

        var outer = shape.Batch * shape.KvHeads;
        return new KeyValueBlock(
            Gather(input.K, outer, Tokens, shape.HeadDim, positions),
            Gather(input.V, outer, Tokens, shape.HeadDim, positions),
            (int[])positions.Clone());
    }

    /// <summary>
    /// Device <paramref name="device"/>'s query rows, as <see cref="QueryChunkOf(AttentionInput, int)"/> gives them, in a
    /// buffer rented from <paramref name="pool"/>: return it with <see cref="Release(QueryChunk, ChunkBufferPool)"/> once the
    /// device is done with it (the job finished).
    /// </summary>
    public QueryChunk QueryChunkOf(AttentionInput input, int device, ChunkBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var shape = CheckShape(input);
        var positions = _positions[CheckDevice(device)];
        if (input.IsPhantom)
        {
            return new QueryChunk([], (int[])positions.Clone());
        }

        var outer = shape.Batch * shape.Heads;
        var data = pool.Rent(outer * positions.Length * shape.HeadDim);
        GatherInto(input.Q, outer, Tokens, shape.HeadDim, positions, data);
        return new QueryChunk(data, (int[])positions.Clone());
    }

    /// <summary>Device <paramref name="device"/>'s K/V block in buffers rented from <paramref name="pool"/>; see <see cref="Release(KeyValueBlock, ChunkBufferPool)"/>.</summary>
    public KeyValueBlock KeyValueBlockOf(AttentionInput input, int device, ChunkBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var shape = CheckShape(input);
        var positions = _positions[CheckDevice(device)];
        if (input.IsPhantom)
        {
            return new KeyValueBlock([], [], (int[])positions.Clone());
        }

        var outer = shape.Batch * shape.KvHeads;
        var keys = pool.Rent(outer * positions.Length * shape.HeadDim);
        var values = pool.Rent(keys.Length);
        GatherInto(input.K, outer, Tokens, shape.HeadDim, positions, keys);
        GatherInto(input.V, outer, Tokens, shape.HeadDim, positions, values);
        return new KeyValueBlock(keys, values, (int[])positions.Clone());
    }

    /// <summary>Returns a pooled query chunk's buffer; the chunk must not be used afterwards.</summary>
    public static void Release(QueryChunk chunk, ChunkBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        ArgumentNullException.ThrowIfNull(pool);
        pool.Return(chunk.Data);
    }

    /// <summary>Returns a pooled K/V block's buffers; the block must not be used afterwards.</summary>
    public static void Release(KeyValueBlock block, ChunkBufferPool pool)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(pool);
        pool.Return(block.Keys);
        pool.Return(block.Values);
    }

    /// <summary>
    /// Writes device <paramref name="device"/>'s rows back to their original token order:
    /// <paramref name="chunk"/> is [outer, n_r, width], <paramref name="full"/> is [outer, N, width]
    /// (outputs: outer = B·H, width = d; log-sum-exps: width = 1).
    /// </summary>
    public void Scatter(ReadOnlySpan<float> chunk, int device, int outer, int width, Span<float> full)
    {
        var positions = _positions[CheckDevice(device)];
        CheckRows(outer, width);
        var n = positions.Length;
        if (chunk.Length != (long)outer * n * width)
        {
            throw new ArgumentException($"chunk holds {chunk.Length} values, device {device} needs {(long)outer * n * width} ({outer}×{n}×{width})", nameof(chunk));
        }

        if (full.Length != (long)outer * Tokens * width)
        {
            throw new ArgumentException($"full holds {full.Length} values, expected {(long)outer * Tokens * width} ({outer}×{Tokens}×{width})", nameof(full));
        }

        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < n; i++)
            {
                chunk.Slice(((o * n) + i) * width, width).CopyTo(full.Slice(((o * Tokens) + positions[i]) * width, width));
            }
        }
    }

    /// <summary>Copies the rows at <paramref name="positions"/> of a [outer, tokens, width] array into a new [outer, positions, width] array.</summary>
    public static float[] Gather(ReadOnlySpan<float> source, int outer, int tokens, int width, ReadOnlySpan<int> positions)
    {
        var result = new float[(long)outer * positions.Length * width];
        GatherInto(source, outer, tokens, width, positions, result);
        return result;
    }

    /// <summary>
    /// <see cref="Gather"/> into <paramref name="destination"/> ([outer, positions, width], e.g. a pooled buffer), allocating nothing.
    /// </summary>
    public static void GatherInto(ReadOnlySpan<float> source, int outer, int tokens, int width, ReadOnlySpan<int> positions, Span<float> destination)
    {
        CheckRows(outer, width);
        if (source.Length != (long)outer * tokens * width)
        {
            throw new ArgumentException($"source holds {source.Length} values, expected {(long)outer * tokens * width} ({outer}×{tokens}×{width})", nameof(source));
        }

        var n = positions.Length;
        if (destination.Length != (long)outer * n * width)
        {
            throw new ArgumentException($"destination holds {destination.Length} values, expected {(long)outer * n * width} ({outer}×{n}×{width})", nameof(destination));
        }

        var result = destination;
        for (var o = 0; o < outer; o++)
        {
            for (var i = 0; i < n; i++)
            {
                var position = positions[i];
                if ((uint)position >= (uint)tokens)
                {
                    throw new ArgumentException($"position {position} is outside 0..{tokens - 1}", nameof(positions));
                }

                source.Slice(((o * tokens) + position) * width, width).CopyTo(result.Slice(((o * n) + i) * width, width));
            }
        }
    }

    private static void CheckRows(int outer, int width)
    {
        if (outer < 1 || width < 1)
        {
            throw new ArgumentException($"outer and width must be ≥ 1, got {outer} and {width}", nameof(outer));
        }
    }

    private AttentionShape CheckShape(AttentionInput input)
    {
        if (input.Shape.SeqLen != Tokens)
        {
            throw new ArgumentException($"input has {input.Shape.SeqLen} tokens, the layout {Tokens}", nameof(input));
        }

        return input.Shape;
    }

    private int CheckDevice(int device)
    {
        if ((uint)device >= (uint)Devices)
        {
            throw new ArgumentException($"device must be in 0..{Devices - 1}, got {device}", nameof(device));
        }

        return device;
    }

    /// <summary>Balanced share: ⌊(r+1)·N/P⌋ − ⌊r·N/P⌋, so shares differ by at most one token.</summary>
    private static int Share(int tokens, int devices, int device) =>
        (int)(((long)(device + 1) * tokens / devices) - ((long)device * tokens / devices));

    private static int[][] Contiguous(int tokens, int devices)
    {
        var result = new int[devices][];
        for (var r = 0; r < devices; r++)
        {
            var start = (int)((long)r * tokens / devices);
            result[r] = Enumerable.Range(start, Share(tokens, devices, r)).ToArray();
        }

        return result;
    }

    private static int[][] Striped(int tokens, int devices)
    {
        var result = new int[devices][];
        for (var r = 0; r < devices; r++)
        {
            result[r] = new int[(tokens - r + devices - 1) / devices];
            for (var i = 0; i < result[r].Length; i++)
            {
                result[r][i] = r + (i * devices);
            }
        }

        return result;
    }

    private static int[][] Zigzag(int tokens, int devices)
    {
        var front = new int[devices];
        var back = new int[devices];
        for (var r = 0; r < devices; r++)
        {
            var share = Share(tokens, devices, r);
            front[r] = (share + 1) / 2;
            back[r] = share - front[r];
        }

        var result = new int[devices][];
        var frontStart = 0;
        for (var r = 0; r < devices; r++)
        {
            result[r] = new int[front[r] + back[r]];
            for (var i = 0; i < front[r]; i++)
            {
                result[r][i] = frontStart + i;
            }

            frontStart += front[r];
        }

        // The back chunks fill the second half in reverse device order: device P−1's first, device 0's last.
        var backStart = frontStart;
        for (var r = devices - 1; r >= 0; r--)
        {
            for (var i = 0; i < back[r]; i++)
            {
                result[r][front[r] + i] = backStart + i;
            }

            backStart += back[r];
        }

        return result;
    }
}

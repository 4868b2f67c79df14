using RingActors.Math;
using RingActors.Math.Verification;

namespace RingActors.Actors;

/// <summary>
/// The memory a ring job will need, estimated from its sizes before anything is allocated: fp32 values of 4 bytes, ints of 4,
/// doubles of 8. The ring's part follows what the supervisor and devices hold (the split copy of Q, K and V, each device's
/// partial output and the K/V blocks it receives, the reassembled output); each baseline's part is what it holds beyond the
/// inputs, so the job fits when <see cref="Required"/> does and a baseline runs when <see cref="Required"/> plus its own bytes fit.
/// </summary>
/// <param name="Inputs">Q, K and V.</param>
/// <param name="Ring">The ring beyond the inputs: chunks split off, partial outputs, received blocks, reassembled output and lse (and for a backward job dO, dQ, the dK/dV sums, contributions in flight and the reassembled gradients).</param>
/// <param name="PerDevice">One device's resident state at its peak (largest chunk c): Q, O and lse, its own K/V block and two more.</param>
/// <param name="Reference">The float64 check: per-thread group state and leaf tiles, the row lists, the key positions.</param>
/// <param name="HalfInput">The first N/2 tokens kept for the scalability column (0 without it).</param>
/// <param name="Runtime">The .NET runtime, Akka and the report: a fixed allowance.</param>
public sealed record JobMemory(long Inputs, long Ring, long PerDevice, long Reference, long HalfInput, long Runtime)
{
    /// <summary>Allowance for the runtime, the actor system, JIT'd code and the report's own objects.</summary>
    public const long RuntimeAllowance = 256L << 20;

    /// <summary>What the ring job needs whatever baselines run.</summary>
    public long Required => Inputs + Ring + Reference + HalfInput + Runtime;

    /// <summary>
    /// Null when the job fits in <paramref name="available"/> bytes, else the one line that refuses it, naming the sizes.
    /// </summary>
    public string? Shortfall(long available)
    {
        if (Required <= available)
        {
            return null;
        }

        return $"the job needs {GiB(Required)} (inputs {GiB(Inputs)}, ring {GiB(Ring)}, reference {GiB(Reference)}"
            + (HalfInput > 0 ? $", N/2 copy {GiB(HalfInput)}" : string.Empty)
            + $", runtime {GiB(Runtime)}) but only {GiB(available)} is available: lower --seq, --batch or --heads"
            + (HalfInput > 0 ? ", or add --no-scaling" : string.Empty);
    }

    /// <summary>Bytes in GiB with two decimals, as every memory line of a report gives them.</summary>
    public static string GiB(long bytes) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB");

    /// <summary>Estimates the job of <paramref name="shape"/> on <paramref name="devices"/> devices.</summary>
    public static JobMemory Estimate(AttentionShape shape, int devices, bool measureScaling, int referenceThreads, bool backward = false, int threadsPerDevice = 1)
    {
        ArgumentNullException.ThrowIfNull(shape);
        shape.Validate();
        if (devices < 1 || devices > shape.SeqLen)
        {
            throw new ArgumentException($"devices must be in 1..{shape.SeqLen}, got {devices}", nameof(devices));
        }

        const long Float = sizeof(float);
        var q = (long)shape.QueryLength * Float;
        var kv = (long)shape.KeyValueLength * Float;
        var rows = (long)shape.Batch * shape.Heads * shape.SeqLen;
        var inputs = q + (2 * kv);

        // Every device holds its share of Q and its own K/V block (the split: one copy of the inputs), a partial output and
        // lse of its rows, and up to two received K/V blocks (the one computed on and the one arriving); the supervisor then
        // reassembles output and lse, the devices' own results still alive until the job ends.
        var ring = inputs + (q + (rows * Float * 2)) + (2 * 2 * kv) + (q + (rows * Float));

        var chunk = (shape.SeqLen + devices - 1) / devices;
        var chunkShape = shape.WithSeqLen(chunk);
        var perDevice = (((long)chunkShape.QueryLength * 2) + ((long)chunkShape.KeyValueLength * 2 * 3) + ((long)shape.Batch * shape.Heads * chunk * 2)) * Float;
        if (backward)
        {
            // The backward adds dO (the job's and the devices' chunks of it), each device's dQ and D, its block's dK/dV sums and
            // up to two contributions of its own on their way home; then the supervisor's reassembled dQ, dK and dV.
            ring += (q * 2) + (q + (rows * Float)) + (2 * kv) + (2 * 2 * kv) + (q + (2 * kv));
            perDevice += (((long)chunkShape.QueryLength * 2) + ((long)chunkShape.KeyValueLength * 2 * 3) + ((long)shape.Batch * shape.Heads * chunk)) * Float;

            // The backward kernel's scratch for one block (its query tiles of a kv head's group packed, a dQ per worker): about
            // (2 + threads) × G × chunk × d floats, more than the chunk's Q itself under MQA.
            var kernel = Math.BlockwiseBackward.ScratchBytes(shape.Heads / shape.KvHeads, chunk, chunk, shape.HeadDim, threadsPerDevice);
            perDevice += kernel;
            ring += devices * kernel;
        }


        var threads = System.Math.Max(1, referenceThreads);
        var group = (long)TiledReference.RowsPerGroup * shape.HeadDim * sizeof(double);
        var leaf = (long)TiledReference.KeyTile * ((2 * shape.HeadDim) + 1) * sizeof(double);
        var reference = (threads * ((3 * group) + leaf + (TiledReference.RowsPerGroup * 3L * sizeof(double)))) + (rows * sizeof(int)) + (shape.SeqLen * (long)sizeof(int));

        return new JobMemory(inputs, ring, perDevice, reference, measureScaling ? inputs / 2 : 0, RuntimeAllowance);
    }

    /// <summary>Bytes dense attention holds beyond the inputs: its output and lse, Kᵀ and Vᵀ of one head, the N×N scores.</summary>
    public static long DenseBytes(AttentionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return DenseAttention.PeakWorkingBytes(shape) - (((long)shape.QueryLength + (2L * shape.KeyValueLength)) * sizeof(float));
    }

    /// <summary>Whether the dense baseline's N×N score matrix can be allocated as one array at all.</summary>
    public static bool DenseScoresFitOneArray(AttentionShape shape) => (long)shape.SeqLen * shape.SeqLen <= Array.MaxLength;

    /// <summary>Bytes a sparse baseline holds beyond the inputs (<see cref="SparseAttention.PeakWorkingBytes"/> less Q, K and V).</summary>
    public static long SparseBytes(AttentionShape shape, AttentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return SparseAttention.PeakWorkingBytes(shape, options) - (((long)shape.QueryLength + (2L * shape.KeyValueLength)) * sizeof(float));
    }

    /// <summary>
    /// The ring's per-device activation memory by the paper's law (ANCHORS.md §1), 6·b·c·h elements: one query block, two
    /// current and two incoming K/V blocks, one output block, here with h = H·d for Q and O and Hkv·d for K and V (grouped-query
    /// attention), in fp32 bytes (4 per element).
    /// </summary>
    public static long LawBytesPerDevice(AttentionShape shape, int chunkTokens)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var c = (long)shape.Batch * chunkTokens;
        return ((2 * c * shape.Heads * shape.HeadDim) + (4 * c * shape.KvHeads * shape.HeadDim)) * sizeof(float);
    }
}

namespace RingActors.Math.Modelling;

/// <summary>
/// A ring to plan: a device profile, P devices, N tokens, heads, K/V heads, head size, element type, layout and mask.
/// <paramref name="RecordTimeline"/> false keeps only the timeline's totals (for thousands of devices).
/// </summary>
public sealed record PlanRequest(
    DeviceProfile Profile,
    int Devices,
    int SeqLen,
    int Heads,
    int KvHeads,
    int HeadDim,
    ElementType DataType = ElementType.Bf16,
    LayoutKind Layout = LayoutKind.Contiguous,
    bool Causal = false,
    int Batch = 1,
    bool RecordTimeline = true)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public PlanRequest Validate()
    {
        ArgumentNullException.ThrowIfNull(Profile);
        Require(Devices >= 1, nameof(Devices), $"devices must be ≥ 1, got {Devices}");
        Require(SeqLen >= 1, nameof(SeqLen), $"sequence length must be ≥ 1, got {SeqLen}");
        Require(Devices <= SeqLen, nameof(Devices), $"devices ({Devices}) must not exceed the sequence length ({SeqLen})");
        Require(Batch >= 1, nameof(Batch), $"batch must be ≥ 1, got {Batch}");
        Require(Heads >= 1, nameof(Heads), $"heads must be ≥ 1, got {Heads}");
        Require(KvHeads >= 1, nameof(KvHeads), $"kv-heads must be ≥ 1, got {KvHeads}");
        Require(Heads % KvHeads == 0, nameof(Heads), $"heads ({Heads}) must be a multiple of kv-heads ({KvHeads})");
        Require(HeadDim >= 1, nameof(HeadDim), $"head dimension must be ≥ 1, got {HeadDim}");
        Require(Enum.IsDefined(Layout), nameof(Layout), $"unknown layout {Layout}");
        Require(Enum.IsDefined(DataType), nameof(DataType), $"unknown dtype {DataType}");
        return this;
    }

    /// <summary>The hidden size h = H·d of the paper's memory formulas.</summary>
    public long Hidden => (long)Heads * HeadDim;

    private static void Require(bool condition, string parameter, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message, parameter);
        }
    }
}

/// <summary>
/// What <see cref="RingPlanner"/> predicts for a <see cref="PlanRequest"/>. Block sizes are in tokens, times in simulated
/// seconds, memory in bytes per device per layer.
/// </summary>
/// <param name="MinBlockSize">Block size at which a step's compute hides its hand-off for this configuration: (e/2)·(H_kv/H)·F_eff/B.</param>
/// <param name="PaperMinBlockSize">The paper's rule c = F/B with peak F (multi-head bf16).</param>
/// <param name="MinBlockSizeWithLatency">Like <paramref name="MinBlockSize"/> with the link latency counted.</param>
/// <param name="MinSeqPerDevice">The paper's sequence length per device for <paramref name="MinBlockSize"/>: 6·c.</param>
/// <param name="BlockSize">Tokens per device in this plan (the largest device's share).</param>
/// <param name="PredictedSeconds">Simulated time of the whole ring pass.</param>
/// <param name="PerStepSeconds">Predicted seconds divided by the P steps.</param>
/// <param name="Overlap">Share of hand-off time hidden behind compute.</param>
/// <param name="MemoryPerDeviceBytes">The paper's Ring Attention activation memory 6·b·c·h (bf16 bytes, scaled by dtype), c = <paramref name="BlockSize"/>.</param>
/// <param name="ResidentBytesPerDevice">Bytes the device's buffers hold: query and output chunks (H heads) and four K/V blocks (H_kv heads), b·c·d·(2·H + 4·H_kv) elements.</param>
/// <param name="Fits">Whether <paramref name="MemoryPerDeviceBytes"/> fits the device's memory.</param>
/// <param name="DenseMemoryBytes">Vanilla attention on one device holding the whole sequence: 2·b·h·N² (bf16, scaled).</param>
/// <param name="MemoryEfficientMemoryBytes">Memory-efficient attention on one device: 8·b·N·h.</param>
/// <param name="BlockwiseMemoryBytes">Blockwise parallel transformer (BPT) on one device: 2·b·N·h.</param>
/// <param name="TotalFlops">FLOPs of the whole pass (causal skipping counted).</param>
/// <param name="Imbalance">Most work of a device over the mean: about 2 for contiguous causal, 1 for zigzag and striped.</param>
/// <param name="HandOffBytes">Bytes of the largest hand-off.</param>
public sealed record PlanResult(
    PlanRequest Request,
    double MinBlockSize,
    double PaperMinBlockSize,
    double MinBlockSizeWithLatency,
    double MinSeqPerDevice,
    long BlockSize,
    double PredictedSeconds,
    double PerStepSeconds,
    double Overlap,
    double MemoryPerDeviceBytes,
    double ResidentBytesPerDevice,
    bool Fits,
    double DenseMemoryBytes,
    double MemoryEfficientMemoryBytes,
    double BlockwiseMemoryBytes,
    double TotalFlops,
    double Imbalance,
    long HandOffBytes,
    RingTimeline Timeline);

/// <summary>
/// Plans a ring on modelled hardware: counts the exact query–key pairs of every (device, step) from the layout and
/// the causal mask, turns them into compute seconds and hand-off bytes, runs <see cref="RingTimelineSimulator"/>, and
/// adds the paper's closed-form figures.
/// </summary>
public static class RingPlanner
{
    public static PlanResult Plan(PlanRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var (profile, p, n) = (request.Profile, request.Devices, request.SeqLen);

        var runs = new LayoutRuns.Run[p][];
        var tokens = new long[p];
        for (var r = 0; r < p; r++)
        {
            runs[r] = LayoutRuns.For(request.Layout, n, p, r);
            tokens[r] = LayoutRuns.Tokens(runs[r]);
        }

        var compute = new double[(long)p * p];
        var work = new double[p];
        double totalFlops = 0;
        for (var r = 0; r < p; r++)
        {
            for (var step = 0; step < p; step++)
            {
                var origin = ((r - step) % p + p) % p;
                var pairs = request.Causal ? LayoutRuns.CausalPairs(runs[r], runs[origin]) : tokens[r] * tokens[origin];
                var flops = RingCostModel.PairFlops(pairs, request.HeadDim, request.Heads, request.Batch);
                compute[((long)r * p) + step] = StepTiming.ComputeSeconds(flops, profile);
                work[r] += flops;
                totalFlops += flops;
            }
        }

        var blockBytes = new long[p];
        for (var r = 0; r < p; r++)
        {
            blockBytes[r] = RingCostModel.HandOffBytes(tokens[r], request.HeadDim, request.KvHeads, request.DataType, request.Batch);
        }

        var timeline = RingTimelineSimulator.Run(profile, new RingWorkload(p, compute, blockBytes), request.RecordTimeline);

        var blockSize = tokens.Max();
        var minBlock = RingCostModel.MinBlockSize(profile, request.DataType, request.Heads, request.KvHeads);
        var memory = RingCostModel.RingActivationBytes(request.Batch, request.Hidden, blockSize, request.DataType);
        var resident = (double)request.Batch * blockSize * request.HeadDim * ((2.0 * request.Heads) + (4.0 * request.KvHeads)) * request.DataType.Bytes();
        var meanWork = totalFlops / p;

        return new PlanResult(
            request,
            minBlock,
            profile.PeakFlops / profile.LinkBandwidth,
            RingCostModel.MinBlockSizeWithLatency(profile, request.DataType, request.HeadDim, request.Heads, request.KvHeads),
            RingCostModel.MinSeqPerDevice(minBlock),
            blockSize,
            timeline.TotalSeconds,
            timeline.PerStepSeconds,
            timeline.Overlap,
            memory,
            resident,
            memory <= profile.MemoryBytes,
            RingCostModel.VanillaActivationBytes(request.Batch, request.Hidden, n, request.DataType),
            RingCostModel.MemoryEfficientActivationBytes(request.Batch, request.Hidden, n, request.DataType),
            RingCostModel.BlockwiseActivationBytes(request.Batch, request.Hidden, n, request.DataType),
            totalFlops,
            meanWork > 0 ? work.Max() / meanWork : 1,
            blockBytes.Max(),
            timeline);
    }
}

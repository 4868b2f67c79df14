using System.Globalization;

namespace RingActors.Math.Modelling;

/// <summary>The context-parallel strategies the planner compares (ANCHORS.md §6).</summary>
public enum CpStrategy
{
    /// <summary>Ring Attention / Megatron CP "p2p": K/V blocks travel the ring, P − 1 hand-offs per device.</summary>
    RingPassKv,

    /// <summary>Yang et al. 2024: queries travel the ring; partial outputs and their lse return in one all-to-all at the end.</summary>
    PassQ,

    /// <summary>Megatron CP all-gather / the "llama3" variant: K/V gathered a few heads at a time, the next group gathered while the last computes.</summary>
    AllGatherKv,

    /// <summary>DeepSpeed-Ulysses: all-to-all of Q, K, V (sequence-sharded → head-sharded), full-sequence attention per head group, all-to-all of O back.</summary>
    Ulysses,

    /// <summary>USP (yunchang): a Ulysses degree × a ring degree on a 2-D grid of devices.</summary>
    Usp,

    /// <summary>TransformerEngine a2a+p2p: Ulysses inside a node, ring pass-KV across nodes.</summary>
    Hierarchical,
}

/// <summary>
/// One attention layer to plan on a cluster: the shape (B, N, H, H_kv, d, element type), layout and mask as in
/// <see cref="PlanRequest"/>, tensor parallelism inside a node (<paramref name="TensorParallel"/> devices share a layer's heads),
/// K/V heads gathered per step for <see cref="CpStrategy.AllGatherKv"/> (null: all at once) and the Ulysses degree for
/// <see cref="CpStrategy.Usp"/> (null: the fastest proper divisor of the CP degree).
/// </summary>
public sealed record CpRequest(
    ClusterProfile Cluster,
    int SeqLen,
    int Heads,
    int KvHeads,
    int HeadDim,
    ElementType DataType = ElementType.Bf16,
    LayoutKind Layout = LayoutKind.Zigzag,
    bool Causal = true,
    int Batch = 1,
    int TensorParallel = 1,
    int? KvHeadsPerStep = null,
    int? UlyssesDegree = null,
    ModelShape? Model = null,
    PlanMode Mode = PlanMode.Prefill,
    double GemmEfficiency = 1,
    bool RecordTasks = false)
{
    /// <summary>Throws an <see cref="ArgumentException"/> naming the first value out of range (strategy-specific refusals are <see cref="CpGeometry.Refusal"/>).</summary>
    public CpRequest Validate()
    {
        ArgumentNullException.ThrowIfNull(Cluster);
        var devices = Cluster.Devices;
        Require(SeqLen >= 1, $"sequence length must be ≥ 1, got {SeqLen}");
        Require(Batch >= 1, $"batch must be ≥ 1, got {Batch}");
        Require(Heads >= 1 && KvHeads >= 1 && Heads % KvHeads == 0, $"heads ({Heads}) must be a positive multiple of kv-heads ({KvHeads})");
        Require(HeadDim >= 1, $"head dimension must be ≥ 1, got {HeadDim}");
        Require(TensorParallel >= 1 && Cluster.DevicesPerNode % TensorParallel == 0,
            $"tensor parallelism ({TensorParallel}) must divide the devices per node ({Cluster.DevicesPerNode}): it stays inside a node");
        Require(Heads % TensorParallel == 0, $"heads ({Heads}) must be divisible by the tensor-parallel degree ({TensorParallel})");
        Require(KvHeads % TensorParallel == 0 || TensorParallel % KvHeads == 0,
            $"kv-heads ({KvHeads}) and the tensor-parallel degree ({TensorParallel}) must divide one another (K/V heads are split, or replicated when fewer)");
        Require(devices / TensorParallel <= SeqLen, $"the context-parallel degree ({devices / TensorParallel}) must not exceed the sequence length ({SeqLen})");
        Require(KvHeadsPerStep is null or >= 1, $"kv-heads per step must be ≥ 1, got {KvHeadsPerStep}");
        Require(UlyssesDegree is null or >= 1, $"the Ulysses degree must be ≥ 1, got {UlyssesDegree}");
        Require(double.IsFinite(GemmEfficiency) && GemmEfficiency is > 0 and <= 1, $"GEMM efficiency must be in (0, 1], got {GemmEfficiency.ToString("G6", CultureInfo.InvariantCulture)}");
        Require(Enum.IsDefined(Layout) && Enum.IsDefined(DataType) && Enum.IsDefined(Mode), "unknown layout, dtype or mode");
        Model?.Validate();
        if (Model is { } model)
        {
            Require(model.Heads == Heads && model.KvHeads == KvHeads && model.HeadDim == HeadDim, "the attention shape must be the model's");
        }

        return this;
    }

    /// <summary>Devices that hold one copy of a layer's heads (the context-parallel degree): cluster devices / tensor parallelism.</summary>
    public int ContextParallel => Cluster.Devices / TensorParallel;

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}

/// <summary>
/// How a strategy lays its devices out: <see cref="Ulysses"/> × <see cref="Ring"/> = the CP degree (ring pass-KV, pass-Q and
/// all-gather: 1 × P; Ulysses: P × 1), the heads one device computes after tensor parallelism and the Ulysses split, and
/// the K/V heads it sees (<see cref="KvReplicated"/> when fewer K/V heads than the Ulysses degree are replicated, the
/// DeepSpeed-Ulysses / yunchang rule for GQA). <see cref="Refusal"/> says in one line why the strategy cannot run, else null.
/// </summary>
public sealed record CpGeometry(CpStrategy Strategy, int Ulysses, int Ring, int QueryHeads, int KvHeads, bool KvReplicated, int KvHeadsPerStep, string? Refusal)
{
    public string Name => Strategy switch
    {
        CpStrategy.RingPassKv => "ring-pass-kv",
        CpStrategy.PassQ => "pass-q",
        CpStrategy.AllGatherKv => KvHeadsPerStep < KvHeads ? $"all-gather-kv ({KvHeadsPerStep} kv heads/step)" : "all-gather-kv",
        CpStrategy.Ulysses => "ulysses",
        CpStrategy.Usp => $"usp (ulysses {Ulysses} × ring {Ring})",
        CpStrategy.Hierarchical => $"hierarchical (a2a {Ulysses} in node × ring {Ring})",
        _ => Strategy.ToString(),
    };

    /// <summary>The command-line name of <paramref name="strategy"/>.</summary>
    public static string Key(CpStrategy strategy) => strategy switch
    {
        CpStrategy.RingPassKv => "ring-pass-kv",
        CpStrategy.PassQ => "pass-q",
        CpStrategy.AllGatherKv => "all-gather-kv",
        CpStrategy.Ulysses => "ulysses",
        CpStrategy.Usp => "usp",
        CpStrategy.Hierarchical => "hierarchical",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
    };

    /// <summary>Parses a strategy's command-line name.</summary>
    public static CpStrategy Parse(string name) =>
        Enum.GetValues<CpStrategy>().Cast<CpStrategy?>().FirstOrDefault(s => string.Equals(Key(s!.Value), name?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown strategy '{name}': expected {string.Join(", ", Enum.GetValues<CpStrategy>().Select(Key))}", nameof(name));

    /// <summary>The geometry of <paramref name="strategy"/> for <paramref name="request"/> with Ulysses degree <paramref name="ulysses"/> (USP only).</summary>
    public static CpGeometry Of(CpStrategy strategy, CpRequest request, int? ulysses = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var t = request.TensorParallel;
        var p = request.ContextParallel;
        var queryHeads = request.Heads / t;
        var kvHeads = request.KvHeads >= t ? request.KvHeads / t : 1;
        var perNode = request.Cluster.DevicesPerNode / t;
        var u = strategy switch
        {
            CpStrategy.Ulysses => p,
            CpStrategy.Usp => ulysses ?? request.UlyssesDegree ?? 1,
            CpStrategy.Hierarchical => System.Math.Min(perNode, p),
            _ => 1,
        };
        string? refusal = null;
        if (p % u != 0)
        {
            refusal = $"{Key(strategy)}: the Ulysses degree {u} must divide the {p} context-parallel devices";
        }
        else if (queryHeads % u != 0)
        {
            refusal = $"{Key(strategy)}: {queryHeads} query heads per device cannot be split over {u} devices (heads must be divisible by the Ulysses degree)";
        }
        else if (kvHeads >= u ? kvHeads % u != 0 : u % kvHeads != 0)
        {
            refusal = $"{Key(strategy)}: {kvHeads} K/V heads per device cannot be split over {u} devices, nor replicated evenly (one must divide the other)";
        }

        var kvPerDevice = kvHeads >= u ? kvHeads / u : 1;
        var perStep = request.KvHeadsPerStep ?? kvPerDevice;
        if (refusal is null && strategy == CpStrategy.AllGatherKv && kvPerDevice % perStep != 0)
        {
            refusal = $"{Key(strategy)}: kv-heads per step ({perStep}) must divide the {kvPerDevice} K/V heads of a device";
        }

        return new CpGeometry(strategy, u, u == 0 ? 0 : p / u, u == 0 ? 0 : queryHeads / u, kvPerDevice, kvHeads < u, System.Math.Min(perStep, kvPerDevice), refusal);
    }
}

/// <summary>
/// One strategy's plan. <see cref="BytesSentPerDevice"/> is what the busiest device sent in one forward attention pass of one
/// layer, counted from the simulated messages; the seconds are the whole model's (layers × one layer's simulated
/// schedule) when the request names a model, else one attention pass (forward, plus backward when training).
/// </summary>
public sealed record StrategyPlan(
    CpGeometry Geometry,
    double PredictedSeconds,
    double AttentionSeconds,
    double LayerSeconds,
    double Overlap,
    long BytesSentPerDevice,
    long LayerBytesSentPerDevice,
    long MessagesPerDevice,
    double MemoryPerDeviceBytes,
    MemoryBreakdown Memory,
    bool Fits,
    double TotalFlops,
    ClusterTimeline Timeline)
{
    public string Name => Geometry.Name;

    public CpStrategy Strategy => Geometry.Strategy;
}

/// <summary>Peak memory of one device: weights (and, training, gradients and optimizer state), stored activations and KV cache, and the strategy's buffers in flight.</summary>
public sealed record MemoryBreakdown(double WeightBytes, double ActivationBytes, double InFlightBytes)
{
    public double Total => WeightBytes + ActivationBytes + InFlightBytes;
}

/// <summary>Every strategy for one request, fastest first among those that fit; refused strategies carry only their reason.</summary>
public sealed record CpComparison(CpRequest Request, IReadOnlyList<StrategyPlan> Plans, IReadOnlyList<CpGeometry> Refused)
{
    /// <summary>The fastest plan that fits, or null when none does.</summary>
    public StrategyPlan? Best => Plans.Where(p => p.Fits).OrderBy(p => p.PredictedSeconds).FirstOrDefault();
}

/// <summary>
/// Plans context-parallel strategies on a <see cref="ClusterProfile"/>: each strategy emits its computes and messages into a
/// <see cref="ClusterSchedule"/> (the pattern of its papers, message by message) and <see cref="ClusterSimulator"/> runs it.
/// A whole model is one layer's schedule (projections, attention, FFN, tensor-parallel all-reduces; backward after forward
/// when training) times the layers: layers are identical and each starts when the previous ended.
/// </summary>
public static class ContextParallelPlanner
{
    /// <summary>Backward attention ≈ 2.5 × the forward's FLOPs (FlashAttention-2; ANCHORS.md §7).</summary>
    public const double BackwardAttentionFactor = 2.5;

    /// <summary>Backward GEMMs: the input gradient and the weight gradient, 2 × the forward.</summary>
    public const double BackwardGemmFactor = 2;

    /// <summary>Stored activations per layer and token in bytes over the hidden size, with flash attention and sequence parallelism (Korthikanti et al. 2022: 34·s·b·h / t).</summary>
    public const double TrainingActivationBytesPerHidden = 34;

    /// <summary>Every strategy in <see cref="CpStrategy"/> order; USP without a degree tries every proper divisor on the attention layer and keeps the fastest.</summary>
    public static CpComparison Compare(CpRequest request, IEnumerable<CpStrategy>? strategies = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var plans = new List<StrategyPlan>();
        var refused = new List<CpGeometry>();
        foreach (var strategy in strategies ?? Enum.GetValues<CpStrategy>())
        {
            if (strategy == CpStrategy.Usp && request.UlyssesDegree is null)
            {
                var p = request.ContextParallel;
                StrategyPlan? best = null;
                CpGeometry? firstRefusal = null;
                for (var u = 2; u < p; u++)
                {
                    if (p % u != 0)
                    {
                        continue;
                    }

                    var geometry = CpGeometry.Of(strategy, request, u);
                    if (geometry.Refusal is not null)
                    {
                        firstRefusal ??= geometry;
                        continue;
                    }

                    // Choose the degree on the attention layer alone (a model's other work is the same for every degree), then plan it fully.
                    var plan = Plan(request with { Model = null, RecordTasks = false }, geometry);
                    if (best is null || plan.PredictedSeconds < best.PredictedSeconds)
                    {
                        best = plan;
                    }
                }

                if (best is not null)
                {
                    plans.Add(request.Model is null && !request.RecordTasks ? best : Plan(request, best.Geometry));
                }
                else
                {
                    refused.Add(firstRefusal ?? CpGeometry.Of(strategy, request, 1) with { Refusal = $"usp: {p} context-parallel devices have no Ulysses degree between 2 and {p - 1} that divides them" });
                }

                continue;
            }

            var g = CpGeometry.Of(strategy, request);
            if (g.Refusal is not null)
            {
                refused.Add(g);
            }
            else
            {
                plans.Add(Plan(request, g));
            }
        }

        return new CpComparison(request, plans, refused);
    }

    /// <summary>Plans one strategy; throws an <see cref="ArgumentException"/> with the one-line refusal when it cannot run.</summary>
    public static StrategyPlan Plan(CpRequest request, CpStrategy strategy) =>
        Plan(request.Validate(), CpGeometry.Of(strategy, request));

    /// <summary>Plans <paramref name="geometry"/> (which must carry no refusal).</summary>
    public static StrategyPlan Plan(CpRequest request, CpGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(geometry);
        if (geometry.Refusal is { } refusal)
        {
            throw new ArgumentException(refusal);
        }

        var cluster = request.Cluster;
        var devices = cluster.Devices;
        var training = request.Mode == PlanMode.Training;

        // One forward attention pass of one layer: the bytes and messages of the strategy's pattern.
        var attention = new ClusterSchedule(devices);
        var emitter = new Emitter(request, geometry, attention);
        var ends = emitter.Attention(Starts(devices), backward: false);
        if (training)
        {
            emitter.Attention(ends, backward: true);
        }

        var attentionRecord = request.RecordTasks && request.Model is null;
        var attentionTimeline = ClusterSimulator.Run(cluster, attention, attentionRecord);

        // The forward pass's own messages (its phase), whatever else the schedule holds.
        var bytes = attentionTimeline.Traffic.Max(t => t.AttentionBytesSent);
        var messages = attentionTimeline.Traffic.Max(t => (long)t.AttentionMessagesSent);

        var timeline = attentionTimeline;
        var layerSeconds = attentionTimeline.TotalSeconds;
        var layerBytes = attentionTimeline.MaxBytesSent;
        var predicted = attentionTimeline.TotalSeconds;
        var flops = emitter.Flops;
        if (request.Model is { } model)
        {
            var layer = new ClusterSchedule(devices);
            var layerEmitter = new Emitter(request, geometry, layer);
            layerEmitter.Layer(training);
            timeline = ClusterSimulator.Run(cluster, layer, request.RecordTasks);
            layerSeconds = timeline.TotalSeconds;
            layerBytes = timeline.MaxBytesSent;
            predicted = layerSeconds * model.Layers;
            flops = layerEmitter.Flops * model.Layers;
        }

        var memory = Memory(request, geometry);
        return new StrategyPlan(geometry, predicted, attentionTimeline.TotalSeconds, layerSeconds, timeline.Overlap, bytes, layerBytes, messages,
            memory.Total, memory, memory.Total <= cluster.Device.MemoryBytes, flops, timeline);
    }

    /// <summary>
    /// Peak bytes on one device. In flight, per layer: its own Q, K, V, O (sequence-sharded); with a Ulysses degree the
    /// head-sharded Q, K, V, O of its group's sequence; ring pass-KV two current and two incoming K/V blocks (the paper's
    /// rule); pass-Q two current and two incoming Q blocks plus the partial outputs and lse it holds for the final all-to-all;
    /// all-gather the gathered K/V of the heads of one step (two steps when pipelined). With a model: weights split by tensor
    /// parallelism (and in training bf16 gradients and fp32 Adam state of 12 bytes per weight, sharded over the CP devices as
    /// Megatron's distributed optimizer does); prefill keeps every layer's K/V cache of its tokens, training the stored
    /// activations of every layer (34·b·c·h / t bytes in bf16, Korthikanti et al. 2022).
    /// </summary>
    public static MemoryBreakdown Memory(CpRequest request, CpGeometry geometry)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(geometry);
        var e = (double)request.DataType.Bytes();
        double b = request.Batch, d = request.HeadDim, n = request.SeqLen;
        var t = request.TensorParallel;
        var p = request.ContextParallel;
        var c = System.Math.Ceiling(n / p);
        var group = System.Math.Ceiling(n / geometry.Ring);
        var heads = request.Heads / t;
        var kv = request.KvHeads >= t ? request.KvHeads / t : 1;
        double hq = geometry.QueryHeads, hkv = geometry.KvHeads;

        var inFlight = b * c * ((2 * heads) + (2 * kv)) * d * e;
        if (geometry.Ulysses > 1)
        {
            inFlight += b * group * ((2 * hq) + (2 * hkv)) * d * e;
        }

        if (geometry.Ring > 1)
        {
            inFlight += geometry.Strategy switch
            {
                CpStrategy.PassQ => (4 * b * group * hq * d * e) + ((geometry.Ring - 1) * b * group * hq * ((d * e) + 4)),
                CpStrategy.AllGatherKv => System.Math.Min(2, hkv / geometry.KvHeadsPerStep) * b * n * 2 * geometry.KvHeadsPerStep * d * e,
                _ => 4 * b * group * 2 * hkv * d * e,
            };
        }

        if (request.Model is not { } model)
        {
            return new MemoryBreakdown(0, 0, inFlight);
        }

        var ffnBytes = model.Fp8FeedForward ? 1 : e;
        var weights = ((model.Layers * ((model.AttentionParameters * e) + (model.FeedForwardParameters * ffnBytes))) + (2.0 * model.Vocabulary * model.Hidden * e)) / t;
        double activations;
        if (request.Mode == PlanMode.Training)
        {
            var perDevice = model.Parameters / t;
            weights += (perDevice * 2) + (perDevice * 12 / p);
            activations = model.Layers * TrainingActivationBytesPerHidden * b * c * model.Hidden / t * (e / 2);
        }
        else
        {
            // The prefill's K/V cache, and the layer's hidden states (residual, norm, attention output, FFN output).
            activations = (model.Layers * b * c * 2 * kv * d * e) + (4 * b * c * model.Hidden * e);
        }

        return new MemoryBreakdown(weights, activations, inFlight);
    }

    private static Dependency[][] Starts(int devices)
    {
        var starts = new Dependency[devices][];
        Array.Fill(starts, []);
        return starts;
    }

    /// <summary>Emits one strategy's tasks. Device of (CP rank i, TP rank j) is i·t + j; CP rank of (ring group g, Ulysses member m) is g·u + m.</summary>
    private sealed class Emitter
    {
        private readonly CpRequest _request;
        private readonly CpGeometry _geometry;
        private readonly ClusterSchedule _schedule;
        private readonly int _t;
        private readonly int _u;
        private readonly int _q;
        private readonly LayoutRuns.Run[][] _runs;
        private readonly long[] _groupTokens;
        private readonly long[][] _memberTokens;
        private readonly double _attentionFlops;
        private readonly double _gemmFlops;
        private readonly int _e;

        public Emitter(CpRequest request, CpGeometry geometry, ClusterSchedule schedule)
        {
            _request = request;
            _geometry = geometry;
            _schedule = schedule;
            _t = request.TensorParallel;
            _u = geometry.Ulysses;
            _q = geometry.Ring;
            _e = request.DataType.Bytes();
            _attentionFlops = request.Cluster.Device.EffectiveFlops;
            _gemmFlops = request.Cluster.Device.PeakFlops * request.GemmEfficiency;
            _runs = new LayoutRuns.Run[_q][];
            _groupTokens = new long[_q];
            _memberTokens = new long[_q][];
            for (var g = 0; g < _q; g++)
            {
                _runs[g] = LayoutRuns.For(request.Layout, request.SeqLen, _q, g);
                _groupTokens[g] = LayoutRuns.Tokens(_runs[g]);
                _memberTokens[g] = new long[_u];
                for (var m = 0; m < _u; m++)
                {
                    _memberTokens[g][m] = (_groupTokens[g] * (m + 1) / _u) - (_groupTokens[g] * m / _u);
                }
            }
        }

        public double Flops { get; private set; }

        private int Device(int group, int member, int tp) => ((group * _u) + member) * _t + tp;

        private long Batch => _request.Batch;

        /// <summary>A layer: QKV projection, attention, output projection, TP all-reduce, FFN, TP all-reduce; backward in reverse when training.</summary>
        public void Layer(bool training)
        {
            var model = _request.Model!;
            var devices = _schedule.Devices;
            var ends = Starts(devices);
            var heads = _request.Heads / _t;
            var kv = _request.KvHeads >= _t ? _request.KvHeads / _t : 1;
            double d = _request.HeadDim, h = model.Hidden;
            var ffnRate = model.Fp8FeedForward ? 2.0 : 1.0;

            double Qkv(long c) => 2.0 * Batch * c * h * (heads + (2.0 * kv)) * d;
            double Out(long c) => 2.0 * Batch * c * heads * d * h;
            double Ffn(long c) => 2.0 * Batch * c * h * model.FeedForward * 3 / _t;

            ends = Gemm(ends, Qkv, 1, TaskPhase.Projection);
            ends = Attention(ends, backward: false);
            ends = Gemm(ends, Out, 1, TaskPhase.Projection);
            ends = AllReduce(ends);
            ends = Gemm(ends, Ffn, ffnRate, TaskPhase.FeedForward);
            ends = AllReduce(ends);
            if (!training)
            {
                return;
            }

            ends = Gemm(ends, c => BackwardGemmFactor * Ffn(c), ffnRate, TaskPhase.FeedForward);
            ends = AllReduce(ends);
            ends = Gemm(ends, c => BackwardGemmFactor * Out(c), 1, TaskPhase.Projection);
            ends = Attention(ends, backward: true);
            ends = Gemm(ends, c => BackwardGemmFactor * Qkv(c), 1, TaskPhase.Projection);
            AllReduce(ends);
        }

        private Dependency[][] Gemm(Dependency[][] after, Func<long, double> flops, double rateFactor, TaskPhase phase)
        {
            var ends = new Dependency[_schedule.Devices][];
            for (var g = 0; g < _q; g++)
            {
                for (var m = 0; m < _u; m++)
                {
                    for (var j = 0; j < _t; j++)
                    {
                        var device = Device(g, m, j);
                        var f = flops(_memberTokens[g][m]);
                        Flops += f;
                        ends[device] = [_schedule.Compute(device, f / (_gemmFlops * rateFactor), phase, after[device])];
                    }
                }
            }

            return ends;
        }

        /// <summary>A ring all-reduce of one CP rank's hidden states over its t tensor-parallel devices: reduce-scatter then all-gather, 2·(t − 1) messages of 1/t each.</summary>
        private Dependency[][] AllReduce(Dependency[][] after)
        {
            if (_t == 1)
            {
                return after;
            }

            var model = _request.Model!;
            var ends = new Dependency[_schedule.Devices][];
            var previous = new int[_t];
            var current = new int[_t];
            for (var g = 0; g < _q; g++)
            {
                for (var m = 0; m < _u; m++)
                {
                    var chunk = Batch * _memberTokens[g][m] * model.Hidden * _e / _t;
                    for (var step = 0; step < 2 * (_t - 1); step++)
                    {
                        for (var j = 0; j < _t; j++)
                        {
                            var from = Device(g, m, j);
                            var to = Device(g, m, (j + 1) % _t);
                            var predecessor = (j + _t - 1) % _t;
                            Dependency[] deps = step == 0 ? after[from] : [previous[predecessor]];
                            current[j] = _schedule.Message(from, to, chunk, TaskPhase.TensorParallel, deps);
                        }

                        (previous, current) = (current, previous);
                    }

                    for (var j = 0; j < _t; j++)
                    {
                        var device = Device(g, m, j);
                        ends[device] = [previous[(j + _t - 1) % _t], .. after[device]];
                    }
                }
            }

            return ends;
        }

        /// <summary>One attention pass (forward, or backward with 2.5 × the FLOPs and the strategy's backward bytes); returns each device's last tasks.</summary>
        public Dependency[][] Attention(Dependency[][] after, bool backward)
        {
            var phase = backward ? TaskPhase.AttentionBackward : TaskPhase.Attention;
            var ends = after;
            if (_u > 1)
            {
                ends = UlyssesAllToAll(ends, phase, output: backward);
            }

            ends = _q > 1
                ? _geometry.Strategy switch
                {
                    CpStrategy.PassQ => PassQ(ends, backward, phase),
                    CpStrategy.AllGatherKv => AllGather(ends, backward, phase),
                    _ => PassKv(ends, backward, phase),
                }
                : Local(ends, backward, phase);

            if (_u > 1)
            {
                ends = UlyssesAllToAll(ends, phase, output: !backward);
            }

            return ends;
        }

        private double AttentionSeconds(long pairs, double heads, bool backward)
        {
            var flops = RingCostModel.PairFlops(pairs, _request.HeadDim, 1, _request.Batch) * heads * (backward ? BackwardAttentionFactor : 1);
            Flops += flops;
            return flops / _attentionFlops;
        }

        private long Pairs(int queries, int keys) =>
            _request.Causal ? LayoutRuns.CausalPairs(_runs[queries], _runs[keys]) : _groupTokens[queries] * _groupTokens[keys];

        /// <summary>
        /// The Ulysses all-to-all inside each group of u devices, in u − 1 shifted rounds (round k: member m sends to m + k):
        /// before attention (<paramref name="output"/> false) member m sends member m′ its tokens' Q for m′'s query heads and K, V
        /// for m′'s K/V heads; after it (true) the output of m′'s tokens for its own heads. Backward sends the same volumes
        /// the other way round (dO in, dQ/dK/dV out), so it reuses the two patterns in reverse order.
        /// </summary>
        private Dependency[][] UlyssesAllToAll(Dependency[][] after, TaskPhase phase, bool output)
        {
            var ends = new Dependency[_schedule.Devices][];
            var incoming = new List<Dependency>[_schedule.Devices];
            for (var i = 0; i < incoming.Length; i++)
            {
                incoming[i] = [.. after[i]];
            }

            double d = _request.HeadDim, hq = _geometry.QueryHeads, hkv = _geometry.KvHeads;
            for (var k = 1; k < _u; k++)
            {
                for (var j = 0; j < _t; j++)
                {
                    for (var g = 0; g < _q; g++)
                    {
                        for (var m = 0; m < _u; m++)
                        {
                            var target = (m + k) % _u;
                            var from = Device(g, m, j);
                            var to = Device(g, target, j);
                            var bytes = output
                                ? (long)(Batch * _memberTokens[g][target] * hq * d * _e)
                                : (long)(Batch * _memberTokens[g][m] * (hq + (2 * hkv)) * d * _e);
                            incoming[to].Add(_schedule.Message(from, to, bytes, phase, after[from]));
                        }
                    }
                }
            }

            for (var i = 0; i < ends.Length; i++)
            {
                ends[i] = [.. incoming[i]];
            }

            return ends;
        }

        /// <summary>No ring: each device attends its group's whole sequence for its heads (pure Ulysses, or one device).</summary>
        private Dependency[][] Local(Dependency[][] after, bool backward, TaskPhase phase)
        {
            var ends = new Dependency[_schedule.Devices][];
            for (var device = 0; device < ends.Length; device++)
            {
                var seconds = AttentionSeconds(Pairs(0, 0), _geometry.QueryHeads, backward);
                ends[device] = [_schedule.Compute(device, seconds, phase, after[device])];
            }

            return ends;
        }

        /// <summary>
        /// Ring pass-KV over the q ring groups, one ring per (Ulysses member, TP rank), step-major as
        /// <see cref="RingTimelineSimulator"/>: at step s device g computes on the K/V of origin (g − s) mod q and forwards it to
        /// g + 1 once it holds it, its link is free and g + 1 released its block of step s − 1 (two buffers; the credit takes a
        /// latency). Backward carries dK/dV with K/V: twice the bytes (ring-flash-attention).
        /// </summary>
        private Dependency[][] PassKv(Dependency[][] after, bool backward, TaskPhase phase)
        {
            var rings = Rings();
            var count = rings.Count;
            var compute = new int[count, _q];
            var nextCompute = new int[count, _q];
            var sent = new int[count, _q];
            var nextSent = new int[count, _q];
            double hq = _geometry.QueryHeads;
            var scale = backward ? 2 : 1;
            for (var step = 0; step < _q; step++)
            {
                for (var ring = 0; ring < count; ring++)
                {
                    var members = rings[ring];
                    for (var g = 0; g < _q; g++)
                    {
                        var device = members[g];
                        var origin = ((g - step) % _q + _q) % _q;
                        var predecessor = g == 0 ? _q - 1 : g - 1;
                        var successor = g + 1 == _q ? 0 : g + 1;
                        Dependency[] held = step == 0 ? after[device] : [sent[ring, predecessor]];
                        var c = _schedule.Compute(device, AttentionSeconds(Pairs(g, origin), hq, backward), phase, held);
                        if (step < _q - 1)
                        {
                            var bytes = scale * RingCostModel.HandOffBytes(_groupTokens[origin], _request.HeadDim, _geometry.KvHeads, _request.DataType, _request.Batch);
                            Dependency[] deps = step == 0
                                ? held
                                : [held[0], new(compute[ring, successor], DependencyKind.DoneCredit), new(sent[ring, successor], DependencyKind.SentCredit)];
                            nextSent[ring, g] = _schedule.Message(device, members[successor], bytes, phase, deps);
                        }

                        nextCompute[ring, g] = c;
                    }
                }

                (sent, nextSent) = (nextSent, sent);
                (compute, nextCompute) = (nextCompute, compute);
            }

            return Finals(rings, compute);
        }

        /// <summary>
        /// Pass-Q (Yang et al. 2024): the same ring with the queries travelling (Q blocks of H query heads, two buffers); at step s
        /// device g computes origin (g − s)'s queries against its own K/V; after the ring an all-to-all returns each origin its
        /// partial outputs and lse (O in the element type, lse in fp32), which it merges. Backward: Q and dO travel, dQ returns
        /// (twice the ring's bytes, the same return).
        /// </summary>
        private Dependency[][] PassQ(Dependency[][] after, bool backward, TaskPhase phase)
        {
            var rings = Rings();
            var count = rings.Count;
            var compute = new int[count, _q, _q];
            var sent = new int[count, _q];
            var nextSent = new int[count, _q];
            double hq = _geometry.QueryHeads, d = _request.HeadDim;
            var scale = backward ? 2 : 1;
            for (var step = 0; step < _q; step++)
            {
                for (var ring = 0; ring < count; ring++)
                {
                    var members = rings[ring];
                    for (var g = 0; g < _q; g++)
                    {
                        var device = members[g];
                        var origin = ((g - step) % _q + _q) % _q;
                        var predecessor = g == 0 ? _q - 1 : g - 1;
                        var successor = g + 1 == _q ? 0 : g + 1;
                        Dependency[] held = step == 0 ? after[device] : [sent[ring, predecessor]];
                        var c = _schedule.Compute(device, AttentionSeconds(Pairs(origin, g), hq, backward), phase, held);
                        if (step < _q - 1)
                        {
                            var bytes = (long)(scale * Batch * _groupTokens[origin] * hq * d * _e);
                            Dependency[] deps = step == 0
                                ? held
                                : [held[0], new(compute[ring, successor, step - 1], DependencyKind.DoneCredit), new(sent[ring, successor], DependencyKind.SentCredit)];
                            nextSent[ring, g] = _schedule.Message(device, members[successor], bytes, phase, deps);
                        }

                        compute[ring, g, step] = c;
                    }
                }

                (sent, nextSent) = (nextSent, sent);
            }

            var ends = new Dependency[_schedule.Devices][];
            var incoming = new List<Dependency>[count, _q];
            for (var ring = 0; ring < count; ring++)
            {
                for (var g = 0; g < _q; g++)
                {
                    incoming[ring, g] = [compute[ring, g, 0], .. after[rings[ring][g]]];
                }
            }

            for (var k = 1; k < _q; k++)
            {
                for (var ring = 0; ring < count; ring++)
                {
                    for (var g = 0; g < _q; g++)
                    {
                        // Device g computed origin (g − k)'s queries at step k: send them home.
                        var origin = ((g - k) % _q + _q) % _q;
                        var bytes = (long)(Batch * _groupTokens[origin] * hq * ((d * _e) + 4));
                        incoming[ring, origin].Add(_schedule.Message(rings[ring][g], rings[ring][origin], bytes, phase, [compute[ring, g, k]]));
                    }
                }
            }

            for (var ring = 0; ring < count; ring++)
            {
                for (var g = 0; g < _q; g++)
                {
                    var device = rings[ring][g];
                    ends[device] = [_schedule.Join(device, [.. incoming[ring, g]])];
                }
            }

            return ends;
        }

        /// <summary>
        /// All-gather of K/V (Megatron CP, the "llama3" variant): the K/V heads are gathered <see cref="CpGeometry.KvHeadsPerStep"/>
        /// at a time by a ring all-gather (q − 1 forwards per device, as NCCL's ring algorithm), and each group's attention runs
        /// once it is complete, so the next group's gather overlaps this group's compute; two gather buffers, so the gather of
        /// group k + 2 into a device waits for its compute of group k. Backward gathers again and reduce-scatters dK/dV: twice
        /// the bytes.
        /// </summary>
        private Dependency[][] AllGather(Dependency[][] after, bool backward, TaskPhase phase)
        {
            var rings = Rings();
            var count = rings.Count;
            var stages = _geometry.KvHeads / _geometry.KvHeadsPerStep;
            var headsPerStage = (double)_geometry.QueryHeads * _geometry.KvHeadsPerStep / _geometry.KvHeads;
            var computes = new int[count, _q, stages];
            var sent = new int[count, _q];
            var nextSent = new int[count, _q];
            var scale = backward ? 2 : 1;
            for (var stage = 0; stage < stages; stage++)
            {
                for (var step = 0; step < _q - 1; step++)
                {
                    for (var ring = 0; ring < count; ring++)
                    {
                        var members = rings[ring];
                        for (var g = 0; g < _q; g++)
                        {
                            var device = members[g];
                            var origin = ((g - step) % _q + _q) % _q;
                            var predecessor = g == 0 ? _q - 1 : g - 1;
                            var successor = g + 1 == _q ? 0 : g + 1;
                            var deps = new List<Dependency>(step == 0 ? after[device] : [sent[ring, predecessor]]);
                            if (stage >= 2)
                            {
                                deps.Add(computes[ring, successor, stage - 2]);
                            }

                            var bytes = scale * RingCostModel.HandOffBytes(_groupTokens[origin], _request.HeadDim, _geometry.KvHeadsPerStep, _request.DataType, _request.Batch);
                            nextSent[ring, g] = _schedule.Message(device, members[successor], bytes, phase, [.. deps]);
                        }
                    }

                    (sent, nextSent) = (nextSent, sent);
                }

                for (var ring = 0; ring < count; ring++)
                {
                    var members = rings[ring];
                    for (var g = 0; g < _q; g++)
                    {
                        var device = members[g];
                        long pairs = 0;
                        for (var origin = 0; origin < _q; origin++)
                        {
                            pairs += Pairs(g, origin);
                        }

                        var predecessor = g == 0 ? _q - 1 : g - 1;
                        Dependency[] deps = [sent[ring, predecessor], .. after[device]];
                        computes[ring, g, stage] = _schedule.Compute(device, AttentionSeconds(pairs, headsPerStage, backward), phase, deps);
                    }
                }
            }

            var ends = new Dependency[_schedule.Devices][];
            for (var ring = 0; ring < count; ring++)
            {
                for (var g = 0; g < _q; g++)
                {
                    ends[rings[ring][g]] = [computes[ring, g, stages - 1]];
                }
            }

            return ends;
        }

        /// <summary>The rings of the q groups: one per (Ulysses member m, TP rank j), members in group order.</summary>
        private List<int[]> Rings()
        {
            var rings = new List<int[]>(_u * _t);
            for (var j = 0; j < _t; j++)
            {
                for (var m = 0; m < _u; m++)
                {
                    var members = new int[_q];
                    for (var g = 0; g < _q; g++)
                    {
                        members[g] = Device(g, m, j);
                    }

                    rings.Add(members);
                }
            }

            return rings;
        }

        private Dependency[][] Finals(List<int[]> rings, int[,] compute)
        {
            var ends = new Dependency[_schedule.Devices][];
            for (var ring = 0; ring < rings.Count; ring++)
            {
                for (var g = 0; g < _q; g++)
                {
                    var device = rings[ring][g];
                    ends[device] = [compute[ring, g]];
                }
            }

            return ends;
        }
    }
}

namespace RingActors.Math.Modelling;

/// <summary>What a dependency waits for: a task's end (a compute's end, a message's arrival) or the moment a message's last byte left its sender; the credit forms add the waiting message's own link latency (a credit travelling back).</summary>
public enum DependencyKind
{
    Done = 0,
    Sent = 1,
    DoneCredit = 2,
    SentCredit = 3,
}

/// <summary>A task another one waits for.</summary>
public readonly record struct Dependency(int Task, DependencyKind Kind = DependencyKind.Done)
{
    public static implicit operator Dependency(int task) => new(task);
}

/// <summary>
/// The tasks of one simulated pass over a <see cref="ClusterProfile"/>, in emission order: computes on a device and messages
/// from one device to another, each after its dependencies. Strategies (<see cref="ContextParallelPlanner"/>) emit them; the
/// <see cref="ClusterSimulator"/> runs them. Every byte a strategy moves is a message here, so the bytes a device sends are
/// counted from what was simulated, not from a formula.
/// </summary>
public sealed class ClusterSchedule
{
    private const int KindCompute = 0;
    private const int KindMessage = 1;

    private readonly List<uint> _dependencies = [];
    private TaskRecord[] _tasks = new TaskRecord[1024];

    public ClusterSchedule(int devices)
    {
        Devices = devices >= 1 ? devices : throw new ArgumentException($"devices must be ≥ 1, got {devices}", nameof(devices));
    }

    public int Devices { get; }

    public int Count { get; private set; }

    internal ReadOnlySpan<TaskRecord> Tasks => _tasks.AsSpan(0, Count);

    internal List<uint> DependencyList => _dependencies;

    /// <summary>A compute of <paramref name="seconds"/> on <paramref name="device"/>, after <paramref name="after"/>; returns its index.</summary>
    public int Compute(int device, double seconds, TaskPhase phase, ReadOnlySpan<Dependency> after)
    {
        CheckDevice(device, nameof(device));
        if (!double.IsFinite(seconds) || seconds < 0)
        {
            throw new ArgumentException($"compute seconds must be finite and ≥ 0, got {seconds}", nameof(seconds));
        }

        return Add(new TaskRecord(KindCompute, phase, device, device, seconds, 0, _dependencies.Count, after.Length), after);
    }

    /// <summary>A message of <paramref name="bytes"/> from <paramref name="from"/> to <paramref name="to"/> (distinct devices), after <paramref name="after"/>.</summary>
    public int Message(int from, int to, long bytes, TaskPhase phase, ReadOnlySpan<Dependency> after)
    {
        CheckDevice(from, nameof(from));
        CheckDevice(to, nameof(to));
        if (from == to)
        {
            throw new ArgumentException($"a message needs two devices, got {from} → {to}", nameof(to));
        }

        if (bytes < 0)
        {
            throw new ArgumentException($"message bytes must be ≥ 0, got {bytes}", nameof(bytes));
        }

        return Add(new TaskRecord(KindMessage, phase, from, to, 0, bytes, _dependencies.Count, after.Length), after);
    }

    /// <summary>A zero-length compute that ends when all of <paramref name="after"/> have: a join point.</summary>
    public int Join(int device, ReadOnlySpan<Dependency> after) => Compute(device, 0, TaskPhase.Other, after);

    internal static bool IsMessage(in TaskRecord task) => task.Kind == KindMessage;

    private int Add(TaskRecord task, ReadOnlySpan<Dependency> after)
    {
        foreach (var dependency in after)
        {
            if (dependency.Task < 0 || dependency.Task >= Count)
            {
                throw new ArgumentException($"a dependency must be an earlier task, got {dependency.Task} (tasks so far: {Count})", nameof(after));
            }

            _dependencies.Add((uint)dependency.Task | ((uint)dependency.Kind << 30));
        }

        if (Count == _tasks.Length)
        {
            Array.Resize(ref _tasks, _tasks.Length * 2);
        }

        _tasks[Count] = task;
        return Count++;
    }

    private void CheckDevice(int device, string parameter)
    {
        if (device < 0 || device >= Devices)
        {
            throw new ArgumentException($"device must be in [0, {Devices}), got {device}", parameter);
        }
    }

    internal readonly record struct TaskRecord(int Kind, TaskPhase Phase, int From, int To, double Seconds, long Bytes, int DependencyStart, int DependencyCount);
}

/// <summary>What a task is part of, for reports and traces.</summary>
public enum TaskPhase
{
    Attention,
    AttentionBackward,
    Projection,
    FeedForward,
    TensorParallel,
    Other,
}

/// <summary>One simulated task: a compute on <paramref name="From"/> (= <paramref name="To"/>) or a message; times in simulated seconds.</summary>
public readonly record struct SimulatedTask(bool IsMessage, TaskPhase Phase, int From, int To, long Bytes, double Start, double SentAt, double End);

/// <summary>Per-device totals of a simulated schedule.</summary>
/// <remarks><see cref="AttentionBytesSent"/> and <see cref="AttentionMessagesSent"/> count the forward attention's messages alone (<see cref="TaskPhase.Attention"/>).</remarks>
public sealed record DeviceTraffic(int Device, long BytesSent, long BytesReceived, int MessagesSent, double ComputeSeconds, double ReceiveSeconds, double HiddenReceiveSeconds,
    long AttentionBytesSent = 0, int AttentionMessagesSent = 0);

/// <summary>
/// The result of <see cref="ClusterSimulator.Run"/>: the time of the whole schedule (its last task's end), per-device
/// traffic, and, when recorded, every task with its times (for traces and charts).
/// </summary>
public sealed record ClusterTimeline(int Devices, double TotalSeconds, IReadOnlyList<DeviceTraffic> Traffic, IReadOnlyList<SimulatedTask> Tasks)
{
    /// <summary>Share of receive time (message start to arrival) during which the receiver was computing: 1 when nothing travels.</summary>
    public double Overlap
    {
        get
        {
            double receive = 0, hidden = 0;
            foreach (var device in Traffic)
            {
                receive += device.ReceiveSeconds;
                hidden += device.HiddenReceiveSeconds;
            }

            return receive > 0 ? hidden / receive : 1;
        }
    }

    /// <summary>Most bytes any device sent.</summary>
    public long MaxBytesSent => Traffic.Count == 0 ? 0 : Traffic.Max(t => t.BytesSent);

    /// <summary>Messages sent by all devices.</summary>
    public long Messages => Traffic.Sum(t => (long)t.MessagesSent);
}

/// <summary>
/// Runs a <see cref="ClusterSchedule"/> on a <see cref="ClusterProfile"/> by list scheduling in emission order, the same
/// arithmetic as <see cref="StepTiming"/>:
/// <list type="bullet">
/// <item>a compute starts when its device's previous compute ended and its dependencies are met, and lasts its seconds;</item>
/// <item>a message occupies the sender's egress port and the receiver's ingress port (full duplex: sending and receiving do
/// not contend) for bytes / bandwidth, and arrives one latency after its last byte left; it starts when its dependencies are
/// met and both ports are free. Inside a node the ports are the devices' switch ports; between nodes they are the NICs, one per
/// device or one per node, so transfers sharing a NIC (or a port) queue behind each other in emission order;</item>
/// <item>nothing reads the host's clock: the result depends on the schedule alone.</item>
/// </list>
/// On a <see cref="ClusterProfile.Flat"/> cluster a ring pass-KV schedule gives exactly <see cref="RingTimelineSimulator"/>'s time.
/// </summary>
public static class ClusterSimulator
{
    public static ClusterTimeline Run(ClusterProfile cluster, ClusterSchedule schedule, bool recordTasks = false)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(schedule);
        if (schedule.Devices > cluster.Devices)
        {
            throw new ArgumentException($"the schedule uses {schedule.Devices} devices, the cluster has {cluster.Devices}", nameof(schedule));
        }

        var devices = schedule.Devices;
        var tasks = schedule.Tasks;
        var dependencies = schedule.DependencyList;
        var end = new double[tasks.Length];
        var sent = new double[tasks.Length];
        var start = new double[tasks.Length];
        var computeFree = new double[devices];
        var portOut = new double[devices];
        var portIn = new double[devices];
        var nics = cluster.Nic == NicSharing.PerDevice ? devices : cluster.Nodes;
        var nicOut = new double[nics];
        var nicIn = new double[nics];
        var bytesSent = new long[devices];
        var bytesReceived = new long[devices];
        var messages = new int[devices];
        var attentionBytes = new long[devices];
        var attentionMessages = new int[devices];
        var computeSeconds = new double[devices];

        for (var i = 0; i < tasks.Length; i++)
        {
            ref readonly var task = ref tasks[i];
            var isMessage = ClusterSchedule.IsMessage(task);
            var (bandwidth, latency, outIndex, inIndex, crossesNodes) = isMessage ? Route(cluster, task.From, task.To) : default;
            var ready = 0.0;
            for (var k = 0; k < task.DependencyCount; k++)
            {
                var encoded = dependencies[task.DependencyStart + k];
                var index = (int)(encoded & 0x3FFF_FFFF);
                var kind = (DependencyKind)(encoded >> 30);
                var at = kind is DependencyKind.Sent or DependencyKind.SentCredit ? sent[index] : end[index];
                if (kind is DependencyKind.DoneCredit or DependencyKind.SentCredit)
                {
                    at += latency;
                }

                ready = System.Math.Max(ready, at);
            }

            if (!isMessage)
            {
                var begin = System.Math.Max(computeFree[task.From], ready);
                start[i] = begin;
                end[i] = sent[i] = begin + task.Seconds;
                computeFree[task.From] = end[i];
                computeSeconds[task.From] += task.Seconds;
                continue;
            }

            var egress = crossesNodes ? nicOut : portOut;
            var ingress = crossesNodes ? nicIn : portIn;
            var leave = System.Math.Max(ready, System.Math.Max(egress[outIndex], ingress[inIndex]));
            var serialization = task.Bytes / bandwidth;
            start[i] = leave;
            sent[i] = leave + serialization;
            end[i] = leave + serialization + latency;
            egress[outIndex] = sent[i];
            ingress[inIndex] = sent[i];
            bytesSent[task.From] += task.Bytes;
            bytesReceived[task.To] += task.Bytes;
            messages[task.From]++;
            if (task.Phase == TaskPhase.Attention)
            {
                attentionBytes[task.From] += task.Bytes;
                attentionMessages[task.From]++;
            }
        }

        double total = 0;
        foreach (var t in end)
        {
            total = System.Math.Max(total, t);
        }

        var (receive, hidden) = HiddenReceives(tasks, start, end, devices);
        var traffic = new DeviceTraffic[devices];
        for (var d = 0; d < devices; d++)
        {
            traffic[d] = new DeviceTraffic(d, bytesSent[d], bytesReceived[d], messages[d], computeSeconds[d], receive[d], hidden[d], attentionBytes[d], attentionMessages[d]);
        }

        var recorded = new List<SimulatedTask>(recordTasks ? tasks.Length : 0);
        if (recordTasks)
        {
            for (var i = 0; i < tasks.Length; i++)
            {
                ref readonly var task = ref tasks[i];
                recorded.Add(new SimulatedTask(ClusterSchedule.IsMessage(task), task.Phase, task.From, task.To, task.Bytes, start[i], sent[i], end[i]));
            }
        }

        return new ClusterTimeline(devices, total, traffic, recorded);
    }

    /// <summary>Bandwidth, latency, the egress and ingress port indices, and whether the message crosses nodes.</summary>
    private static (double Bandwidth, double Latency, int Out, int In, bool CrossesNodes) Route(ClusterProfile cluster, int from, int to)
    {
        var fromNode = cluster.NodeOf(from);
        var toNode = cluster.NodeOf(to);
        if (fromNode == toNode)
        {
            return (cluster.IntraBandwidth, cluster.IntraLatency, from, to, false);
        }

        return cluster.Nic == NicSharing.PerDevice
            ? (cluster.NicBandwidth, cluster.NicLatency, from, to, true)
            : (cluster.NicBandwidth, cluster.NicLatency, fromNode, toNode, true);
    }

    /// <summary>
    /// Per device, the seconds messages spent travelling to it and the part of them during which it computed. A device's
    /// computes never overlap and start in emission order, so its compute intervals are sorted and a prefix sum answers
    /// each message's intersection by binary search.
    /// </summary>
    private static (double[] Receive, double[] Hidden) HiddenReceives(ReadOnlySpan<ClusterSchedule.TaskRecord> tasks, double[] start, double[] end, int devices)
    {
        var computeStarts = new List<double>[devices];
        var computeEnds = new List<double>[devices];
        for (var d = 0; d < devices; d++)
        {
            computeStarts[d] = [];
            computeEnds[d] = [];
        }

        for (var i = 0; i < tasks.Length; i++)
        {
            if (!ClusterSchedule.IsMessage(tasks[i]) && end[i] > start[i])
            {
                computeStarts[tasks[i].From].Add(start[i]);
                computeEnds[tasks[i].From].Add(end[i]);
            }
        }

        var prefix = new double[devices][];
        for (var d = 0; d < devices; d++)
        {
            var sums = new double[computeStarts[d].Count + 1];
            for (var k = 0; k < computeStarts[d].Count; k++)
            {
                sums[k + 1] = sums[k] + (computeEnds[d][k] - computeStarts[d][k]);
            }

            prefix[d] = sums;
        }

        var receive = new double[devices];
        var hidden = new double[devices];
        for (var i = 0; i < tasks.Length; i++)
        {
            if (!ClusterSchedule.IsMessage(tasks[i]))
            {
                continue;
            }

            var to = tasks[i].To;
            receive[to] += end[i] - start[i];
            hidden[to] += Covered(computeStarts[to], computeEnds[to], prefix[to], start[i], end[i]);
        }

        return (receive, hidden);
    }

    private static double Covered(List<double> starts, List<double> ends, double[] prefix, double a, double b) =>
        b <= a || starts.Count == 0 ? 0 : CoveredUpTo(starts, ends, prefix, b) - CoveredUpTo(starts, ends, prefix, a);

    /// <summary>Compute seconds of the device before time <paramref name="t"/>.</summary>
    private static double CoveredUpTo(List<double> starts, List<double> ends, double[] prefix, double t)
    {
        // The number of intervals that start before t.
        int lo = 0, hi = starts.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (starts[mid] < t)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        if (lo == 0)
        {
            return 0;
        }

        return prefix[lo - 1] + (System.Math.Min(ends[lo - 1], t) - starts[lo - 1]);
    }
}

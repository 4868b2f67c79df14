using System.Text.Encodings.Web;
using System.Text.Json;
using RingActors.Actors;
using RingActors.Host.Plots;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>
/// Writes a timeline in the Chrome trace event format (the JSON object form, <c>{"traceEvents": [...]}</c>), which
/// Perfetto and chrome://tracing open: one process per device ("device r"), with a thread per lane — compute (compute and
/// idle spans), send and receive — as complete events (<c>ph: "X"</c>, <c>ts</c> and <c>dur</c> in microseconds), faults
/// as instant events (<c>ph: "i"</c>) and, on a faults lane, each fault's recovery and a slow device's span of slowed compute
/// as complete events. <c>otherData.clock</c> says which clock the times are on (for a cluster run, how each node's clock
/// was put on the coordinator's, with <c>otherData.clockAlignment</c> per device). Fed by <see cref="RingTimeline"/> (the ring simulator, the actors' virtual
/// and measured clocks) or <see cref="ClusterTimeline"/> (the strategy planner); written as it goes, so a million spans
/// do not sit in memory twice.
/// </summary>
public static class ChromeTrace
{
    public const int ComputeLane = 0;
    public const int SendLane = 1;
    public const int ReceiveLane = 2;
    public const int FaultLane = 3;

    /// <summary>The clock of a timeline of one process: nothing to align.</summary>
    public const string LocalClock = "simulated or measured seconds from the start, written in microseconds";

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A ring's timeline: compute and idle on the compute lane, each hand-off on the receiver's receive lane and the sender's send lane.</summary>
    public static void Write(string path, RingTimeline timeline, string title, IEnumerable<FaultMark>? faults = null, IReadOnlyList<DeviceClockAlignment>? alignments = null)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        using var stream = Create(path);
        using var writer = Open(stream, title, timeline.Devices.Count, alignments);
        var p = timeline.Devices.Count;
        foreach (var device in timeline.Devices)
        {
            foreach (var interval in device.Intervals)
            {
                switch (interval.Kind)
                {
                    case IntervalKind.Compute:
                        Span(writer, "compute", "compute", device.Device, ComputeLane, interval.Start, interval.End, interval.Step);
                        break;
                    case IntervalKind.Idle:
                        Span(writer, "idle", "idle", device.Device, ComputeLane, interval.Start, interval.End, interval.Step);
                        break;
                    case IntervalKind.Communicate:
                        // In a ring the block of step k arrives from the predecessor.
                        var sender = (device.Device + p - 1) % p;
                        Span(writer, "receive", "communication", device.Device, ReceiveLane, interval.Start, interval.End, interval.Step);
                        Span(writer, "send", "communication", sender, SendLane, interval.Start, interval.End, interval.Step);
                        break;
                }
            }
        }

        Faults(writer, faults);
        Close(writer);
    }

    /// <summary>A strategy's simulated schedule (recorded with its tasks): computes and idle gaps, sends and receives.</summary>
    public static void Write(string path, ClusterTimeline timeline, string title)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        using var stream = Create(path);
        using var writer = Open(stream, title, timeline.Devices);
        var freeAt = new double[timeline.Devices];
        foreach (var task in timeline.Tasks)
        {
            var phase = task.Phase.ToString();
            if (task.IsMessage)
            {
                Span(writer, $"send to {task.To}", phase, task.From, SendLane, task.Start, task.SentAt, null, task.Bytes);
                Span(writer, $"receive from {task.From}", phase, task.To, ReceiveLane, task.Start, task.End, null, task.Bytes);
                continue;
            }

            if (task.End <= task.Start)
            {
                continue;
            }

            Span(writer, "idle", "idle", task.From, ComputeLane, freeAt[task.From], task.Start, null);
            Span(writer, phase, phase, task.From, ComputeLane, task.Start, task.End, null);
            freeAt[task.From] = task.End;
        }

        for (var device = 0; device < timeline.Devices; device++)
        {
            Span(writer, "idle", "idle", device, ComputeLane, freeAt[device], timeline.TotalSeconds, null);
        }

        Close(writer);
    }

    private static FileStream Create(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        return File.Create(path);
    }

    /// <summary>
    /// What <c>otherData.clock</c> says of a measured timeline: the process's own clock, or how devices on other nodes were put
    /// on the coordinator's (<see cref="MeasuredTimelines"/>) and the worst uncertainty of it.
    /// </summary>
    public static string ClockOf(IReadOnlyList<DeviceClockAlignment>? alignments)
    {
        var remote = alignments?.Where(a => !a.SameClock).ToList() ?? [];
        if (remote.Count == 0)
        {
            return LocalClock;
        }

        var unknown = remote.Count(a => a.OffsetSeconds is null);
        var worst = remote.Where(a => a.OffsetSeconds is not null).Select(a => a.UncertaintySeconds).DefaultIfEmpty(0).Max();
        return "wall clock of the coordinator, seconds from the ring's start, written in microseconds; each device on another node recorded on its own node's clock, "
            + "put on the coordinator's by the round trip of its start order (its start placed midway between the order leaving and its acknowledgement arriving), "
            + (worst * 1e3).ToString("G3", System.Globalization.CultureInfo.InvariantCulture).Insert(0, "within ± ") + " ms"
            + (unknown > 0 ? $"; {unknown} incarnation(s) never acknowledged their start and are not aligned" : string.Empty);
    }

    private static Utf8JsonWriter Open(Stream stream, string title, int devices, IReadOnlyList<DeviceClockAlignment>? alignments = null)
    {
        var writer = new Utf8JsonWriter(stream, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("displayTimeUnit", "ms");
        writer.WriteStartObject("otherData");
        writer.WriteString("title", title);
        writer.WriteString("clock", ClockOf(alignments));
        if (alignments?.Any(a => !a.SameClock) == true)
        {
            writer.WriteStartArray("clockAlignment");
            foreach (var a in alignments)
            {
                writer.WriteStartObject();
                writer.WriteNumber("device", a.Device);
                writer.WriteNumber("epoch", a.Epoch);
                writer.WriteBoolean("sameClock", a.SameClock);
                if (a.OffsetSeconds is { } offset)
                {
                    writer.WriteNumber("offsetSeconds", offset);
                }

                writer.WriteNumber("uncertaintySeconds", a.UncertaintySeconds);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        writer.WriteStartArray("traceEvents");
        for (var device = 0; device < devices; device++)
        {
            Metadata(writer, "process_name", device, 0, $"device {device}");
            Metadata(writer, "process_sort_index", device, 0, null, device);
            Metadata(writer, "thread_name", device, ComputeLane, "compute");
            Metadata(writer, "thread_name", device, SendLane, "send");
            Metadata(writer, "thread_name", device, ReceiveLane, "receive");
            Metadata(writer, "thread_name", device, FaultLane, "faults");
        }

        return writer;
    }

    private static void Close(Utf8JsonWriter writer)
    {
        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
    }

    private static void Metadata(Utf8JsonWriter writer, string name, int pid, int tid, string? label, int? sortIndex = null)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("ph", "M");
        writer.WriteNumber("ts", 0);
        writer.WriteNumber("pid", pid);
        writer.WriteNumber("tid", tid);
        writer.WriteStartObject("args");
        if (label is not null)
        {
            writer.WriteString("name", label);
        }

        if (sortIndex is { } index)
        {
            writer.WriteNumber("sort_index", index);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void Span(Utf8JsonWriter writer, string name, string category, int pid, int tid, double start, double end, int? step, long? bytes = null)
    {
        if (!(end > start))
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("cat", category);
        writer.WriteString("ph", "X");
        writer.WriteNumber("ts", start * 1e6);
        writer.WriteNumber("dur", (end - start) * 1e6);
        writer.WriteNumber("pid", pid);
        writer.WriteNumber("tid", tid);
        if (step is not null || bytes is not null)
        {
            writer.WriteStartObject("args");
            if (step is { } s)
            {
                writer.WriteNumber("step", s);
            }

            if (bytes is { } b)
            {
                writer.WriteNumber("bytes", b);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static void Faults(Utf8JsonWriter writer, IEnumerable<FaultMark>? faults)
    {
        foreach (var fault in faults ?? [])
        {
            writer.WriteStartObject();
            writer.WriteString("name", fault.Label);
            writer.WriteString("cat", "fault");
            writer.WriteString("ph", "i");
            writer.WriteString("s", fault.Device == FaultMarks.AnyDevice ? "g" : "p");
            writer.WriteNumber("ts", fault.Time * 1e6);
            writer.WriteNumber("dur", 0);
            writer.WriteNumber("pid", System.Math.Max(fault.Device, 0));
            writer.WriteNumber("tid", ComputeLane);
            writer.WriteEndObject();
            // Spans on the device's faults lane, not its compute lane: they overlap computes only in part, which a trace
            // viewer cannot nest on one thread.
            if (fault.RecoveredAt is { } recovered)
            {
                // The recovery, from the fault to the moment the ring had recovered.
                Span(writer, $"recovery: {fault.Label}", "recovery", System.Math.Max(fault.Device, 0), FaultLane, fault.Time, recovered, null);
            }

            if (fault.SlowedUntil is { } slowedUntil)
            {
                Span(writer, $"slowed: {fault.Label}", "slowed", System.Math.Max(fault.Device, 0), FaultLane, fault.Time, slowedUntil, null);
            }
        }
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>The device profile a plan used, as written to <c>plan --json</c>.</summary>
public sealed record PlanReportProfile(
    string Name,
    double PeakFlops,
    double Efficiency,
    long MemoryBytes,
    double LinkBandwidth,
    double LinkLatency,
    string Source);

/// <summary>The ring a plan was made for, as written to <c>plan --json</c>.</summary>
public sealed record PlanReportRequest(
    int Devices,
    int SeqLen,
    int Batch,
    int Heads,
    int KvHeads,
    int HeadDim,
    string Dtype,
    string Layout,
    bool Causal);

/// <summary>
/// What <c>ringactors plan --json FILE</c> writes: the inputs and every figure of <see cref="PlanResult"/>, camelCase,
/// tokens, seconds and bytes. <see cref="IdleShare"/> is the devices' idle time over P × the predicted time.
/// </summary>
public sealed record PlanReport(
    PlanReportProfile Profile,
    PlanReportRequest Request,
    double MinBlockSize,
    double PaperMinBlockSize,
    double MinBlockSizeWithLatency,
    double MinSeqPerDevice,
    long BlockSize,
    double PredictedSeconds,
    double PerStepSeconds,
    double Overlap,
    double IdleShare,
    long HandOffs,
    long HandOffBytes,
    double MemoryPerDeviceBytes,
    double ResidentBytesPerDevice,
    bool Fits,
    double DenseMemoryBytes,
    double MemoryEfficientMemoryBytes,
    double BlockwiseMemoryBytes,
    double TotalFlops,
    double Imbalance)
{
    /// <summary>The mask in the one vocabulary of every verb: <c>causal</c> or <c>no-causal</c>; first in the JSON.</summary>
    [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
    public string Mask => Cli.MaskWords.Name(Request.Causal);

    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        // Sources name µs and other non-ASCII text; the file is written as UTF-8, so keep them readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static PlanReport From(PlanResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var request = result.Request;
        var profile = request.Profile;
        return new PlanReport(
            new PlanReportProfile(profile.Name, profile.PeakFlops, profile.Efficiency, profile.MemoryBytes, profile.LinkBandwidth, profile.LinkLatency, profile.Source),
            new PlanReportRequest(request.Devices, request.SeqLen, request.Batch, request.Heads, request.KvHeads, request.HeadDim,
                request.DataType.ToString().ToLowerInvariant(), request.Layout.ToString().ToLowerInvariant(), request.Causal),
            result.MinBlockSize,
            result.PaperMinBlockSize,
            result.MinBlockSizeWithLatency,
            result.MinSeqPerDevice,
            result.BlockSize,
            result.PredictedSeconds,
            result.PerStepSeconds,
            result.Overlap,
            IdleShareOf(result.Timeline),
            result.Timeline.HandOffs,
            result.HandOffBytes,
            result.MemoryPerDeviceBytes,
            result.ResidentBytesPerDevice,
            result.Fits,
            result.DenseMemoryBytes,
            result.MemoryEfficientMemoryBytes,
            result.BlockwiseMemoryBytes,
            result.TotalFlops,
            result.Imbalance);
    }

    /// <summary>Idle seconds of all devices over P × the ring's time: 0 when no device ever waits.</summary>
    public static double IdleShareOf(RingTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(timeline);
        var span = timeline.TotalSeconds * timeline.Devices.Count;
        return span > 0 ? timeline.Devices.Sum(d => d.IdleSeconds) / span : 0;
    }

    public string ToJson() => JsonSerializer.Serialize(this, Options);

    public void Write(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        File.WriteAllText(path, ToJson() + Environment.NewLine);
    }
}

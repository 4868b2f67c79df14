using System.Globalization;

namespace RingActors.Math.Modelling;

/// <summary>
/// What the ring model needs to know about one accelerator and its link to the next one: peak FLOP/s, the share of it a
/// blockwise attention kernel achieves, memory, and the unidirectional bandwidth and latency of the neighbour link.
/// Every rate is validated on construction and in <c>with</c> expressions: a non-positive or non-finite value throws an
/// <see cref="ArgumentException"/> naming the field and the value.
/// </summary>
public sealed record DeviceProfile
{
    private readonly string _name = "custom";
    private readonly double _peakFlops = 1;
    private readonly double _efficiency = 1;
    private readonly long _memoryBytes = 1;
    private readonly double _linkBandwidth = 1;
    private readonly double _linkLatency;
    private readonly string _source = "";

    public DeviceProfile(string name, double peakFlops, double efficiency, long memoryBytes, double linkBandwidth, double linkLatency, string source)
    {
        Name = name;
        PeakFlops = peakFlops;
        Efficiency = efficiency;
        MemoryBytes = memoryBytes;
        LinkBandwidth = linkBandwidth;
        LinkLatency = linkLatency;
        Source = source;
    }

    /// <summary>Short lower-case name used on the command line (<c>a100-nvlink</c>).</summary>
    public string Name
    {
        get => _name;
        init => _name = string.IsNullOrWhiteSpace(value) ? throw new ArgumentException("profile name must not be empty", nameof(Name)) : value;
    }

    /// <summary>Peak dense FLOP/s of one device in the data type the profile is for (bf16 for the accelerators).</summary>
    public double PeakFlops { get => _peakFlops; init => _peakFlops = Positive(value, nameof(PeakFlops)); }

    /// <summary>Share of <see cref="PeakFlops"/> the attention kernel achieves, 0 &lt; e ≤ 1.</summary>
    public double Efficiency
    {
        get => _efficiency;
        init => _efficiency = Positive(value, nameof(Efficiency)) <= 1
            ? value
            : throw new ArgumentException($"{nameof(Efficiency)} must be in (0, 1], got {Show(value)}", nameof(Efficiency));
    }

    /// <summary>Device memory (HBM) in bytes.</summary>
    public long MemoryBytes
    {
        get => _memoryBytes;
        init => _memoryBytes = value > 0 ? value : throw new ArgumentException($"{nameof(MemoryBytes)} must be > 0, got {value}", nameof(MemoryBytes));
    }

    /// <summary>Bytes per second one device can send to its ring successor (one direction).</summary>
    public double LinkBandwidth { get => _linkBandwidth; init => _linkBandwidth = Positive(value, nameof(LinkBandwidth)); }

    /// <summary>Seconds from the start of a hand-off until its first byte arrives; 0 is allowed.</summary>
    public double LinkLatency
    {
        get => _linkLatency;
        init => _linkLatency = double.IsFinite(value) && value >= 0
            ? value
            : throw new ArgumentException($"{nameof(LinkLatency)} must be finite and ≥ 0 seconds, got {Show(value)}", nameof(LinkLatency));
    }

    /// <summary>Where the numbers come from (datasheet, paper, measurement).</summary>
    public string Source { get => _source; init => _source = value ?? ""; }

    /// <summary>FLOP/s the kernel achieves: <see cref="PeakFlops"/> × <see cref="Efficiency"/>.</summary>
    public double EffectiveFlops => PeakFlops * Efficiency;

    private static double Positive(double value, string field) =>
        double.IsFinite(value) && value > 0
            ? value
            : throw new ArgumentException($"{field} must be finite and > 0, got {Show(value)}", field);

    private static string Show(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}

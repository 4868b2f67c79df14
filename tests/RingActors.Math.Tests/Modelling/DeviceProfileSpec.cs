using RingActors.Math.Modelling;

namespace RingActors.Math.Tests.Modelling;

public class DeviceProfileSpec
{
    private static DeviceProfile Valid => new("test", 1e12, 0.5, 1L << 30, 1e9, 1e-6, "a test");

    public static TheoryData<string, double> BadRates => new()
    {
        { nameof(DeviceProfile.PeakFlops), 0 },
        { nameof(DeviceProfile.PeakFlops), -1e12 },
        { nameof(DeviceProfile.PeakFlops), double.NaN },
        { nameof(DeviceProfile.PeakFlops), double.PositiveInfinity },
        { nameof(DeviceProfile.LinkBandwidth), 0 },
        { nameof(DeviceProfile.LinkBandwidth), -5 },
        { nameof(DeviceProfile.LinkBandwidth), double.NaN },
        { nameof(DeviceProfile.Efficiency), 0 },
        { nameof(DeviceProfile.Efficiency), 1.5 },
        { nameof(DeviceProfile.Efficiency), double.NaN },
        { nameof(DeviceProfile.LinkLatency), -1e-6 },
        { nameof(DeviceProfile.LinkLatency), double.NaN },
        { nameof(DeviceProfile.LinkLatency), double.PositiveInfinity },
    };

    [Theory]
    [MemberData(nameof(BadRates))]
    public void DeviceProfile_must_reject_a_bad_rate_naming_the_field_and_value(string field, double value)
    {
        var error = Assert.Throws<ArgumentException>(() => field switch
        {
            nameof(DeviceProfile.PeakFlops) => new DeviceProfile("x", value, 1, 1, 1, 0, ""),
            nameof(DeviceProfile.LinkBandwidth) => new DeviceProfile("x", 1, 1, 1, value, 0, ""),
            nameof(DeviceProfile.Efficiency) => new DeviceProfile("x", 1, value, 1, 1, 0, ""),
            _ => new DeviceProfile("x", 1, 1, 1, 1, value, ""),
        });
        Assert.Equal(field, error.ParamName);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Contains(value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DeviceProfile_must_validate_with_expressions_too()
    {
        Assert.Equal(nameof(DeviceProfile.PeakFlops), Assert.Throws<ArgumentException>(() => Valid with { PeakFlops = -1 }).ParamName);
        Assert.Equal(nameof(DeviceProfile.MemoryBytes), Assert.Throws<ArgumentException>(() => Valid with { MemoryBytes = 0 }).ParamName);
        Assert.Equal(nameof(DeviceProfile.Name), Assert.Throws<ArgumentException>(() => Valid with { Name = " " }).ParamName);
        Assert.Equal(2e9, (Valid with { LinkBandwidth = 2e9 }).LinkBandwidth);
        Assert.Equal(0.5e12, Valid.EffectiveFlops);
    }

    [Fact]
    public void ProfileCatalog_must_hold_the_papers_rows_and_H100()
    {
        Assert.Equal(
            ["a100-nvlink", "a100-infiniband", "tpu-v3", "tpu-v4", "tpu-v5e", "h100-nvlink", "h100-infiniband", "local"],
            ProfileCatalog.Names);
        var h100 = ProfileCatalog.Get("H100-InfiniBand");
        Assert.Equal(989e12, h100.PeakFlops);
        Assert.Equal(50e9, h100.LinkBandwidth);
        Assert.Equal(450e9, ProfileCatalog.Get("h100-nvlink").LinkBandwidth);
        Assert.Equal(12.5e9, ProfileCatalog.Get("a100-infiniband").LinkBandwidth);
        Assert.All(ProfileCatalog.BuiltIns, p => Assert.False(string.IsNullOrWhiteSpace(p.Source)));
        Assert.Contains("datasheet", h100.Source, StringComparison.Ordinal);
        Assert.Contains("Table 2", ProfileCatalog.Get("tpu-v4").Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileCatalog_must_list_the_known_names_for_an_unknown_one()
    {
        var error = Assert.Throws<ArgumentException>(() => ProfileCatalog.Get("a200"));
        Assert.StartsWith("unknown profile 'a200': known profiles are a100-nvlink, a100-infiniband, tpu-v3", error.Message, StringComparison.Ordinal);
        Assert.Contains("local", Assert.Throws<ArgumentException>(() => ProfileCatalog.Get("local")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileCatalog_must_build_local_and_custom_profiles_from_numbers()
    {
        var local = ProfileCatalog.Local(kernelGflops: 250, linkBytesPerSecond: 200e6, latencySeconds: 50e-6, memoryBytes: 8L << 30);
        Assert.Equal(("local", 250e9, 1.0, 200e6, 50e-6), (local.Name, local.PeakFlops, local.Efficiency, local.LinkBandwidth, local.LinkLatency));
        Assert.Contains("measured", local.Source, StringComparison.Ordinal);

        var custom = ProfileCatalog.Custom(flops: 1e15, bandwidth: 1e11, latencySeconds: 1e-6, memoryBytes: 1L << 36);
        Assert.Equal(("custom", 1e15, 1e11, 1L << 36), (custom.Name, custom.PeakFlops, custom.LinkBandwidth, custom.MemoryBytes));
        Assert.Throws<ArgumentException>(() => ProfileCatalog.Custom(flops: 0, bandwidth: 1, latencySeconds: 0, memoryBytes: 1));
        Assert.Throws<ArgumentException>(() => ProfileCatalog.Local(double.NaN, 1, 0, 1));
    }

    [Fact]
    public void ProfileCatalog_must_read_a_JSON_profile()
    {
        var profile = ProfileCatalog.FromJson("""
            {
              "name": "b200-nvlink",
              "peakFlops": 2.25e15,
              "efficiency": 0.6,
              "memoryBytes": 193273528320,
              "linkBandwidth": 9e11,
              "linkLatency": 2e-6,
              "source": "a test"
            }
            """);
        Assert.Equal(new DeviceProfile("b200-nvlink", 2.25e15, 0.6, 193273528320, 9e11, 2e-6, "a test"), profile);

        var minimal = ProfileCatalog.FromJson("""{"peakFlops": 1e12, "memoryBytes": 1e9, "linkBandwidth": 1e9}""", "min.json");
        Assert.Equal(("custom", 1.0, 0.0, 1_000_000_000L), (minimal.Name, minimal.Efficiency, minimal.LinkLatency, minimal.MemoryBytes));
        Assert.Contains("min.json", minimal.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void ProfileCatalog_must_load_a_JSON_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ringactors-profile-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, """{"name": "disk", "peakFlops": 3e12, "memoryBytes": 1024, "linkBandwidth": 5e8}""");
            Assert.Equal(3e12, ProfileCatalog.LoadJson(path).PeakFlops);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("""{"peakFlops": 1e12, "memoryBytes": 1e9}""", "required field 'linkBandwidth' is missing")]
    [InlineData("""{"peakFlops": 1e12, "memoryBytes": 1e9, "linkBandwith": 1e9}""", "unknown field 'linkBandwith'")]
    [InlineData("""{"peakFlops": "fast", "memoryBytes": 1e9, "linkBandwidth": 1e9}""", "field 'peakFlops' must be a number, got \"fast\"")]
    [InlineData("""{"peakFlops": -1e12, "memoryBytes": 1e9, "linkBandwidth": 1e9}""", "PeakFlops must be finite and > 0, got -1E+12")]
    [InlineData("""{"peakFlops": 1e12, "memoryBytes": 0, "linkBandwidth": 1e9}""", "MemoryBytes must be > 0, got 0")]
    [InlineData("""{"peakFlops": 1e12, "memoryBytes": 1e30, "linkBandwidth": 1e9}""", "'memoryBytes' is too large")]
    [InlineData("""[1, 2]""", "a profile must be a JSON object")]
    [InlineData("""{"peakFlops": 1e12,""", "not valid JSON")]
    public void ProfileCatalog_must_reject_a_bad_JSON_profile_naming_the_file(string json, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => ProfileCatalog.FromJson(json, "gpu.json"));
        Assert.StartsWith("gpu.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }
}

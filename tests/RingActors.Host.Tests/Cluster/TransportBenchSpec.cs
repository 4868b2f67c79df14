using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RingActors.Host.Tests.Cluster;

/// <summary>
/// <c>bench transport</c> as a user runs it (its own process, which starts its child node): tiny sizes, both paths, every
/// rate positive and the kernel's count of what the child received at least the payload the application says it moved.
/// </summary>
[Trait("Category", "MultiProcess")]
public partial class TransportBenchSpec(ITestOutputHelper output)
{
    [Fact]
    public async Task Bench_transport_must_print_positive_rates_backed_by_the_kernels_byte_counters()
    {
        using var bench = NodeProcess.Start("bench", "transport", "--sizes", "0.0625,1.5", "--budget", "3", "--repeats", "1");
        int exitCode;
        try
        {
            exitCode = await bench.WaitForExitAsync(TimeSpan.FromMinutes(3));
        }
        finally
        {
            output.WriteLine(bench.Output);
        }

        Assert.Equal(0, exitCode);
        var rows = Measurement().Matches(bench.Output).Select(match => (
            Path: match.Groups["path"].Value,
            Size: double.Parse(match.Groups["size"].Value, CultureInfo.InvariantCulture),
            Count: int.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture),
            Rate: double.Parse(match.Groups["rate"].Value, CultureInfo.InvariantCulture),
            Payload: long.Parse(match.Groups["payload"].Value, CultureInfo.InvariantCulture),
            Application: long.Parse(match.Groups["application"].Value, CultureInfo.InvariantCulture),
            Received: long.Parse(match.Groups["received"].Value, CultureInfo.InvariantCulture))).ToList();

        Assert.Equal(["wire 0.0625", "delivery 0.0625", "wire 1.5", "delivery 1.5"], rows.Select(r => $"{r.Path} {r.Size.ToString(CultureInfo.InvariantCulture)}"));
        foreach (var row in rows)
        {
            Assert.True(row.Rate > 0, $"{row.Path} {row.Size} MiB: rate {row.Rate}");

            // 1.5 MiB blocks travel in chunks on both paths (max-message-bytes 1 MiB); the budget of 3 MiB gives the minimum count.
            Assert.Equal(row.Size == 1.5 ? 4 : 48, row.Count);
            Assert.Equal(row.Count * (long)System.Math.Round(row.Size * 1024 * 1024), row.Payload);
            Assert.True(row.Application >= row.Payload, $"{row.Path} {row.Size} MiB: application {row.Application} < payload {row.Payload}");
            Assert.True(row.Received >= row.Payload, $"{row.Path} {row.Size} MiB: the child's TCP ends received {row.Received} < payload {row.Payload}");
        }
    }

    [GeneratedRegex(@"^(?<path>wire|delivery) (?<size>[\d.]+) MiB × (?<count>\d+): (?<rate>[\d.]+) MiB/s; payload (?<payload>\d+) bytes, application (?<application>\d+) bytes, child TCP received (?<received>\d+) bytes", RegexOptions.Multiline)]
    private static partial Regex Measurement();
}

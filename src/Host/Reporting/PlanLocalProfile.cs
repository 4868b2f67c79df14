using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>
/// The <c>local</c> profile, measured now in this process (nothing cached): the blockwise kernel's GFLOP/s on one head
/// (N = 2048, d = 64, up to 2 threads, best of 3, counted as 4·N²·d), a TCP loopback socket's rate for a few MiB of float
/// blocks (best of 3) and its one-way latency (half the median round trip of a 1-byte ping-pong), and the memory the GC
/// reports available. Akka remoting is not measured here: it is slower than the raw socket (ANCHORS.md §5).
/// </summary>
public static class PlanLocalProfile
{
    private const int KernelTokens = 2048;
    private const int KernelHeadDim = 64;
    private const int Repetitions = 3;
    private const int BlockBytes = 1 << 20;
    private const int BlocksPerRun = 8;
    private const int PingPongs = 200;

    /// <summary>The measured profile and a sentence saying what was measured.</summary>
    public static (DeviceProfile Profile, string Measured) Measure()
    {
        var threads = System.Math.Min(2, Environment.ProcessorCount);
        var gflops = KernelGflops(threads);
        var (bytesPerSecond, latency) = Loopback();
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var measured = string.Create(CultureInfo.InvariantCulture,
            $"measured now: blockwise kernel fp32, one head N={KernelTokens} d={KernelHeadDim}, {threads} thread(s), best of {Repetitions}: {gflops:F1} GFLOP/s; "
            + $"TCP loopback socket (not Akka remoting), {BlocksPerRun} × {BlockBytes >> 20} MiB float blocks, best of {Repetitions}: {bytesPerSecond / (1 << 20):F0} MiB/s; "
            + $"one-way latency {latency * 1e6:F1} µs (half the median of {PingPongs} 1-byte round trips); memory {memory / (double)(1L << 30):F1} GiB available to the GC");
        var profile = ProfileCatalog.Local(gflops, bytesPerSecond, latency, memory) with { Source = measured };
        return (profile, measured);
    }

    private static double KernelGflops(int threads)
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, KernelTokens, KernelHeadDim), seed: 2048);
        var positions = Enumerable.Range(0, KernelTokens).ToArray();
        var queries = new QueryChunk(input.Q, positions);
        var block = new KeyValueBlock(input.K, input.V, positions);
        var heads = AttentionHeads.Of(input.Shape);
        var options = new AttentionOptions(Causal: false, Threads: threads);
        var result = new PartialAttention(1, 1, KernelTokens, KernelHeadDim);
        BlockwiseAttention.Accumulate(queries, block, heads, options, result); // warm-up: JIT and pooled buffers
        var best = double.MaxValue;
        for (var r = 0; r < Repetitions; r++)
        {
            result.Reset();
            var watch = Stopwatch.StartNew();
            BlockwiseAttention.Accumulate(queries, block, heads, options, result);
            best = System.Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        return 4.0 * KernelTokens * KernelTokens * KernelHeadDim / best / 1e9;
    }

    /// <summary>Bytes per second and one-way seconds over a loopback TCP connection.</summary>
    private static (double BytesPerSecond, double Latency) Loopback()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var sender = new TcpClient { NoDelay = true };
        sender.Connect(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var receiver = listener.AcceptTcpClient();
        receiver.NoDelay = true;
        using var sendStream = sender.GetStream();
        using var receiveStream = receiver.GetStream();

        // The receiver reads whole runs and acknowledges each with one byte, so a run is timed until the last byte landed.
        var total = (long)BlockBytes * BlocksPerRun;
        var echo = Task.Run(() =>
        {
            var buffer = new byte[BlockBytes];
            for (var run = 0; run < Repetitions + 1; run++)
            {
                for (long got = 0; got < total;)
                {
                    var n = receiveStream.Read(buffer, 0, (int)System.Math.Min(buffer.Length, total - got));
                    got += n > 0 ? n : throw new IOException("loopback connection closed during the measurement");
                }

                receiveStream.WriteByte(1);
            }

            for (var i = 0; i < PingPongs; i++)
            {
                receiveStream.WriteByte((byte)receiveStream.ReadByte());
            }
        });

        var floats = new float[BlockBytes / sizeof(float)];
        for (var i = 0; i < floats.Length; i++)
        {
            floats[i] = i * 1e-6f;
        }

        var bytes = MemoryMarshal.AsBytes(floats.AsSpan()).ToArray();
        var best = double.MaxValue;
        for (var run = 0; run < Repetitions + 1; run++)
        {
            var watch = Stopwatch.StartNew();
            for (var b = 0; b < BlocksPerRun; b++)
            {
                sendStream.Write(bytes);
            }

            _ = sendStream.ReadByte();
            if (run > 0)
            {
                // Run 0 warms up the connection's buffers.
                best = System.Math.Min(best, watch.Elapsed.TotalSeconds);
            }
        }

        var roundTrips = new double[PingPongs];
        for (var i = 0; i < PingPongs; i++)
        {
            var watch = Stopwatch.StartNew();
            sendStream.WriteByte(7);
            _ = sendStream.ReadByte();
            roundTrips[i] = watch.Elapsed.TotalSeconds;
        }

        echo.GetAwaiter().GetResult();
        Array.Sort(roundTrips);
        return (total / best, roundTrips[PingPongs / 2] / 2);
    }
}

using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using RingActors.Actors;
using RingActors.Actors.Configuration;
using RingActors.Actors.Devices;
using RingActors.Math;
using RingActors.Math.Modelling;

namespace RingActors.Host.Reporting;

/// <summary>
/// The <c>local</c> profile, measured now in this process (nothing cached): a local ring is P device actors sharing this
/// host's cores through the compute dispatcher (<see cref="HostSharing"/>), so one device's FLOP/s is one kernel thread's
/// rate times its share of the cores, and a hand-off is an in-process Tell whose cost is measured on a ring with next to
/// no compute. Bandwidth is not a limit in one process: a reference moves, not the bytes.
/// </summary>
public static class PlanLocalProfile
{
    private const int KernelTokens = 2048;
    private const int KernelHeadDim = 64;
    private const int Repetitions = 5;

    /// <summary>
    /// Probe repetitions and job runs taken in turns by <see cref="MeasureInTurnsWithJobAsync"/>: 9, because on this VM the
    /// default job's 5 runs in a row spanned 0.146–0.262 s, and the median of 5 on each side still moved the ratio by ±20%.
    /// </summary>
    public const int CalibrationRuns = 9;

    /// <summary>The host as the reference configuration describes it: its dispatcher threads and threads per device.</summary>
    public static HostSharing DefaultHost(int? threadsPerDevice = null)
    {
        var settings = RingActorsSettings.Create(RingActorsConfig.Reference);
        return new HostSharing(Environment.ProcessorCount, settings.ComputeThreads, threadsPerDevice ?? settings.ThreadsPerDevice);
    }

    /// <summary>
    /// The profile for <paramref name="devices"/> devices on <paramref name="host"/>, with one kernel thread measured on one
    /// head (N = 2048, d = 64, non-causal, median of 5) and the hand-off measured in a ring of its own: for <c>plan</c> and
    /// <c>run --profile local</c>, which know the devices but not (yet) the job's blocks.
    /// </summary>
    public static (DeviceProfile Profile, string Measured) Measure(int devices, HostSharing host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, KernelTokens, KernelHeadDim), seed: 2048);
        var positions = Enumerable.Range(0, KernelTokens).ToArray();
        var threadFlops = KernelRate(input, new AttentionOptions(Causal: false, Threads: 1), [(positions, positions)], BusyThreads(host, devices));
        var system = Cli.LocalActorSystem.Create("ringactors-local-profile");
        try
        {
            var handOff = HandOffSeconds(system, devices).GetAwaiter().GetResult();
            return Build(threadFlops, host, devices, handOff, $"one kernel thread, one head N={KernelTokens} d={KernelHeadDim}, median of {Repetitions}");
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// The profile for <paramref name="job"/> measured in turns with the job itself, for <c>run --calibrate</c>: per
    /// repetition one probe and one run of the job. The probe times one kernel thread on the blocks device 0 of this job
    /// computes (its query chunk against every device's key block, with the job's mask and exact FLOPs); the hand-off is
    /// timed on a ring of the job's P devices in <paramref name="system"/>. The profile comes from the probes' median and the
    /// job's runs are returned beside it, so a prediction and the run it is compared with saw the same load: measured
    /// minutes apart, one kernel thread on this 2-vCPU VM moved between 43 and 77 GFLOP/s.
    /// </summary>
    public static async Task<(DeviceProfile Profile, IReadOnlyList<RingResult> Runs)> MeasureInTurnsWithJobAsync(
        ActorSystem system, AttentionInput input, RingJobSettings job, HostSharing host, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(host);
        var layout = new SequenceLayout(job.Layout, input.Shape.SeqLen, job.Devices);
        var blocks = Enumerable.Range(0, job.Devices).Select(origin => (layout.Positions(0), layout.Positions(origin))).ToArray();
        var busy = BusyThreads(host, job.Devices);
        var probe = new KernelProbe(input, job.OptionsFor(1), blocks, busy);
        var handOff = await HandOffSeconds(system, job.Devices).ConfigureAwait(false);
        probe.TimeOnce(); // warm-up: JIT and pooled buffers
        var probeSeconds = new List<double>();
        var runs = new List<RingResult>();
        for (var r = 0; r < CalibrationRuns; r++)
        {
            probeSeconds.Add(probe.TimeOnce());
            // Only the times and timelines are kept: nine outputs of a large job would hold gigabytes until the calibration ends.
            var run = await RingRunner.RunAsync(system, input, job, null, cancellationToken).ConfigureAwait(false);
            runs.Add(run with { Output = [], Lse = [], Gradients = null });
        }

        var threadFlops = probe.Flops / TypicalSeconds(probeSeconds);
        var (profile, _) = Build(threadFlops, host, job.Devices, handOff, $"one kernel thread on device 0's {job.Devices} blocks of this job while {busy} run at once, exact FLOPs, median of {CalibrationRuns} taken in turns with {CalibrationRuns} runs of the job");
        return (profile, runs);
    }

    private static (DeviceProfile Profile, string Measured) Build(double threadFlops, HostSharing host, int devices, double handOff, string kernel)
    {
        var share = host.DeviceShare(devices);
        var gflops = host.DeviceFlops(threadFlops, devices) / 1e9;
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var measured = string.Create(CultureInfo.InvariantCulture,
            $"measured now: {kernel}: {threadFlops / 1e9:F1} GFLOP/s; {devices} device(s) share {host.Cores} core(s) through {host.ComputeThreads} compute thread(s), "
            + $"{host.ThreadsPerDevice} kernel thread(s) each: {share:0.###} of a thread per device = {gflops:F1} GFLOP/s; "
            + $"in-process hand-off {handOff * 1e6:F1} µs (a ring with next to no compute, per hand-off); memory {memory / (double)(1L << 30):F1} GiB available to the GC");
        var profile = ProfileCatalog.Local(gflops, RunCalibration.InProcessBandwidth, handOff, memory) with { Source = measured };
        return (profile, measured);
    }

    /// <summary>
    /// Kernel threads of the ring running at once: devices the dispatcher runs together times their kernel threads, at most
    /// the cores. A kernel thread alone on an idle machine runs faster than one of two sharing the caches, the memory and the
    /// clock (measured: 70 against 43 GFLOP/s on the default job), so the rate is taken with that many running.
    /// </summary>
    private static int BusyThreads(HostSharing host, int devices) =>
        System.Math.Max(1, System.Math.Min(host.RunningDevices(devices) * host.ThreadsPerDevice, host.Cores));

    /// <summary>
    /// FLOP/s of one kernel thread over <paramref name="blocks"/> (query positions, key positions) while
    /// <paramref name="concurrent"/> threads compute the same blocks at once: exact FLOPs over a thread's mean seconds, median over the repetitions.
    /// </summary>
    private static double KernelRate(AttentionInput input, AttentionOptions options, (int[] Queries, int[] Keys)[] blocks, int concurrent)
    {
        var probe = new KernelProbe(input, options, blocks, concurrent);
        probe.TimeOnce(); // warm-up: JIT and pooled buffers
        return probe.Flops / TypicalSeconds(Enumerable.Range(0, Repetitions).Select(_ => probe.TimeOnce()));
    }

    /// <summary>
    /// The median, not the best: one kernel thread's rate moves by ±20% from run to run on a shared 2-vCPU VM, and what is
    /// predicted is a typical run (run --calibrate compares with the median run), not the luckiest.
    /// </summary>
    private static double TypicalSeconds(IEnumerable<double> seconds) => Benchmarks.TransferRate.Median(seconds);

    /// <summary>
    /// Blocks (query positions, key positions) gathered once from the input, timed on as many threads computing them at
    /// once as asked: each <see cref="TimeOnce"/> is the threads' mean seconds. The model gives every device an average
    /// thread's rate, as <c>local-run</c> takes it from a run (all FLOPs over all kernel seconds); the slowest of two threads
    /// was 10–20% under that rate at P = 2, and the prediction over-shot by as much.
    /// </summary>
    private sealed class KernelProbe
    {
        private readonly (QueryChunk Queries, KeyValueBlock Block)[] _prepared;
        private readonly AttentionHeads _heads;
        private readonly AttentionOptions _options;
        private readonly PartialAttention[] _results;

        public KernelProbe(AttentionInput input, AttentionOptions options, (int[] Queries, int[] Keys)[] blocks, int concurrent)
        {
            var shape = input.Shape;
            _heads = AttentionHeads.Of(shape);
            _options = options;
            _prepared = blocks.Select(b =>
            {
                var q = Gather(input.Q, shape.Batch * shape.Heads, shape.SeqLen, shape.HeadDim, b.Queries);
                var k = Gather(input.K, shape.Batch * shape.KvHeads, shape.SeqLen, shape.HeadDim, b.Keys);
                var v = Gather(input.V, shape.Batch * shape.KvHeads, shape.SeqLen, shape.HeadDim, b.Keys);
                return (new QueryChunk(q, b.Queries), new KeyValueBlock(k, v, b.Keys));
            }).ToArray();
            Flops = blocks.Sum(b => PairCounting.Flops(options, _heads, b.Queries, b.Keys));
            _results = Enumerable.Range(0, concurrent).Select(_ => new PartialAttention(shape.Batch, shape.Heads, blocks[0].Queries.Length, shape.HeadDim)).ToArray();
        }

        /// <summary>The exact FLOPs of one pass over the blocks, by one thread.</summary>
        public double Flops { get; }

        public double TimeOnce()
        {
            var seconds = new double[_results.Length];
            using var start = new Barrier(_results.Length);
            var threads = Enumerable.Range(0, _results.Length).Select(t => new Thread(() =>
            {
                _results[t].Reset();
                start.SignalAndWait();
                var watch = Stopwatch.StartNew();
                foreach (var (queries, block) in _prepared)
                {
                    BlockwiseAttention.Accumulate(queries, block, _heads, _options, _results[t]);
                }

                seconds[t] = watch.Elapsed.TotalSeconds;
            })).ToList();
            threads.ForEach(thread => thread.Start());
            threads.ForEach(thread => thread.Join());
            return seconds.Average();
        }
    }

    /// <summary>Rows <paramref name="positions"/> of every head of a [heads, tokens, d] array.</summary>
    private static float[] Gather(float[] source, int heads, int tokens, int d, int[] positions)
    {
        var gathered = new float[heads * positions.Length * d];
        for (var h = 0; h < heads; h++)
        {
            for (var i = 0; i < positions.Length; i++)
            {
                source.AsSpan(((h * tokens) + positions[i]) * d, d).CopyTo(gathered.AsSpan(((h * positions.Length) + i) * d));
            }
        }

        return gathered;
    }

    /// <summary>Seconds per hand-off on a ring of <paramref name="devices"/> with next to no compute (N = 16·P, d = 8, one head), best of 10.</summary>
    private static async Task<double> HandOffSeconds(ActorSystem system, int devices)
    {
        if (devices < 2)
        {
            return 0;
        }

        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 16 * devices, 8), seed: 2);
        var job = new RingJobSettings(devices, LayoutKind.Contiguous, Causal: false, ThreadsPerDevice: 1);
        await RingRunner.RunAsync(system, input, job, null).ConfigureAwait(false); // warm-up: JIT, pooled buffers
        var best = double.MaxValue;
        for (var r = 0; r < 10; r++)
        {
            var result = await RingRunner.RunAsync(system, input, job, null).ConfigureAwait(false);
            best = System.Math.Min(best, result.RingTime.TotalSeconds);
        }

        // P steps, P − 1 hand-offs on each device's path: what is left of the ring time is the protocol's per-step cost.
        return best / devices;
    }
}

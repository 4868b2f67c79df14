using Akka.Actor;
using RingActors.Actors.Configuration;
using RingActors.Actors.Protocol;
using RingActors.Math;
using RingActors.Math.Masks;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests;

public class RingSupervisorSpec(ITestOutputHelper output) : RingTestKit(output)
{
    public static TheoryData<int, int, int, bool, LayoutKind> Rings()
    {
        var data = new TheoryData<int, int, int, bool, LayoutKind>();
        foreach (var devices in new[] { 1, 2, 3, 4, 8 })
        {
            foreach (var layout in Enum.GetValues<LayoutKind>())
            {
                // batch 2, H = 4 over Hkv = 2 (GQA), N not a multiple of P nor of 2P.
                data.Add(devices, 2, 61, true, layout);
            }
        }

        data.Add(3, 1, 257, false, LayoutKind.Zigzag);
        data.Add(4, 1, 257, true, LayoutKind.Contiguous);
        data.Add(8, 2, 61, false, LayoutKind.Striped);
        data.Add(2, 3, 31, false, LayoutKind.Contiguous);
        return data;
    }

    [Theory]
    [MemberData(nameof(Rings))]
    public async Task RingSupervisor_must_equal_the_oracle_with_P_minus_1_hand_offs_per_device(int devices, int batch, int tokens, bool causal, LayoutKind layout)
    {
        var shape = new AttentionShape(batch, 4, 2, tokens, 8);
        var input = AttentionInput.Random(shape, seed: (devices * 100) + tokens);
        var settings = new RingJobSettings(devices, layout, causal);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        var (expected, expectedLse) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        var error = ErrorMetrics.Compare(result.Output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        Assert.True(ErrorMetrics.Compare(result.Lse, expectedLse).MaxAbsError < 1e-4);
        Assert.Equal(devices, result.Devices.Count);
        Assert.All(result.Devices, d =>
        {
            Assert.Equal(devices - 1, d.HandOffsSent);
            Assert.Equal(devices - 1, d.HandOffsReceived);
            Assert.Equal(devices, d.BlocksComputed + d.BlocksSkipped);
            Assert.InRange(d.PeakBlocksHeld, 1, 2);
            Assert.Equal(0, d.DuplicatesDropped + d.BlocksRefused);
        });
        Assert.Equal(devices * (devices - 1), result.HandOffs);
        Assert.Equal(Enumerable.Range(0, devices), result.Devices.Select(d => d.Device));
        Assert.Equal(tokens, result.Devices.Sum(d => d.QueryTokens));
    }

    [Fact]
    public async Task RingSupervisor_must_skip_empty_pairs_of_a_sparse_pattern_and_still_equal_the_oracle()
    {
        var shape = new AttentionShape(1, 2, 1, 257, 8);
        var input = AttentionInput.Random(shape, seed: 5);
        var settings = new RingJobSettings(4, LayoutKind.Contiguous, Causal: true, Pattern: new SlidingWindowPattern(16));

        var result = await RingRunner.RunAsync(Sys, input, settings);

        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(result.Output, expected).RelativeError < 1e-5);
        // A causal window of 8 back reaches only the device's own block and its predecessor's.
        Assert.Equal(4 + 3, result.Devices.Sum(d => d.BlocksComputed));
        Assert.Equal(16 - 7, result.Devices.Sum(d => d.BlocksSkipped));
    }

    [Fact]
    public async Task RingSupervisor_must_report_causal_imbalance_near_2_for_contiguous_and_near_1_for_zigzag()
    {
        var shape = new AttentionShape(1, 1, 1, 1024, 4);
        var input = AttentionInput.Random(shape, seed: 9);
        var contiguous = await RingRunner.RunAsync(Sys, input, new RingJobSettings(4, LayoutKind.Contiguous, Causal: true));
        var zigzag = await RingRunner.RunAsync(Sys, input, new RingJobSettings(4, LayoutKind.Zigzag, Causal: true));
        Assert.InRange(contiguous.Imbalance, 1.5, 2.0);
        Assert.InRange(zigzag.Imbalance, 1.0, 1.1);
        Assert.Equal(6, contiguous.Devices.Sum(d => d.BlocksSkipped)); // blocks wholly in the future
    }

    [Fact]
    public async Task RingSupervisor_must_fail_the_job_naming_the_device_that_threw()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 2, 40, 8), seed: 1);
        var settings = new RingJobSettings(4) { Hooks = new DeviceHooks(TimeSpan.Zero, FailingDevice: 2, FailAtStep: 1) };

        var failure = await Assert.ThrowsAsync<RingJobException>(() => RingRunner.RunAsync(Sys, input, settings));

        Assert.Contains("device 2 failed computing step 1 (the block of device 1)", failure.Message, StringComparison.Ordinal);
        Assert.Contains("injected fault", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RingSupervisor_must_fail_the_job_when_a_device_stops()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 2, 40, 8), seed: 2);
        var settings = new RingJobSettings(3) { Hooks = new DeviceHooks(TimeSpan.Zero, FailingDevice: 1, FailAtStep: 2, StopInsteadOfThrowing: true) };

        var failure = await Assert.ThrowsAsync<RingJobException>(() => RingRunner.RunAsync(Sys, input, settings));

        Assert.Contains("device 1 stopped before finishing", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RingSupervisor_must_fail_at_the_deadline_instead_of_hanging()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 16, 4), seed: 3);
        var settings = new RingJobSettings(2, Deadline: TimeSpan.FromMilliseconds(100)) { Hooks = new DeviceHooks(TimeSpan.FromSeconds(1)) };

        var failure = await Assert.ThrowsAsync<RingJobException>(() => RingRunner.RunAsync(Sys, input, settings));

        Assert.Contains("not finished after", failure.Message, StringComparison.Ordinal);
        Assert.Contains("devices still running: 0 (0/2), 1 (0/2)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RingSupervisor_must_stop_when_cancelled()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 16, 4), seed: 4);
        var settings = new RingJobSettings(2) { Hooks = new DeviceHooks(TimeSpan.FromSeconds(1)) };
        using var cancellation = new CancellationTokenSource();
        var progress = new Reports(_ => cancellation.Cancel());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RingRunner.RunAsync(Sys, input, settings, progress, cancellation.Token));
    }

    [Fact]
    public void RingSupervisor_must_answer_a_job_cancelled_before_it_ran()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 16, 4), seed: 4);
        var job = RingJob.Create(input, new RingJobSettings(2, JobId: "early-cancel"), RingActorsSettings.Create(Sys));
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var supervisor = Sys.ActorOf(RingSupervisor.Props(job, cancellation: cancellation.Token));
        Watch(supervisor);
        supervisor.Tell(RingProtocol.CancelJob.Instance);
        supervisor.Tell(RingProtocol.RunJob.Instance);
        Assert.Equal(new RingProtocol.JobFailed("early-cancel", "cancelled", Cancelled: true), ExpectMsg<RingProtocol.JobFailed>());
        ExpectTerminated(supervisor);
    }

    [Fact]
    public void RingSupervisor_must_ignore_a_cancel_its_caller_did_not_ask_for_and_device_events_from_strangers()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 31, 8), seed: 9);
        var settings = new RingJobSettings(3, JobId: "guarded") { Hooks = new DeviceHooks(TimeSpan.FromMilliseconds(100)) };
        var job = RingJob.Create(input, settings, RingActorsSettings.Create(Sys));
        var supervisor = Sys.ActorOf(RingSupervisor.Props(job));
        var stranger = CreateTestProbe("stranger");
        supervisor.Tell(RingProtocol.RunJob.Instance);

        // Each of these, if obeyed, would end the job at once: cancelled, or failed by a device's refusal or link failure.
        stranger.Send(supervisor, RingProtocol.CancelJob.Instance);
        stranger.Send(supervisor, new RingProtocol.BlockRefused("guarded", 0, 2, 1, "forged"));
        stranger.Send(supervisor, new FaultProtocol.LinkFailed("guarded", 0, 1, 2, 5, "forged"));
        stranger.Send(supervisor, RingProtocol.RunJob.Instance);

        var completed = ExpectMsg<JobCompleted>(TimeSpan.FromSeconds(30));
        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        Assert.True(ErrorMetrics.Compare(completed.Result.Output, expected).RelativeError < 1e-5);
        stranger.ExpectMsg<RingProtocol.JobFailed>(m => m.Reason == "the job is already running"); // a local stranger may ask, and is told no
    }

    [Fact]
    public async Task RingRunner_must_refuse_impossible_settings_before_starting()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 1, 1, 3, 4), seed: 5);
        var tooMany = await Assert.ThrowsAsync<ArgumentException>(() => RingRunner.RunAsync(Sys, input, new RingJobSettings(4)));
        Assert.Contains("devices (4) must not exceed the sequence length (3)", tooMany.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => RingRunner.RunAsync(Sys, input, new RingJobSettings(0)));
        var otherLength = new BigBirdPattern(2, 1, 1, seqLen: 8, seed: 1);
        var wrongPattern = await Assert.ThrowsAsync<ArgumentException>(() => RingRunner.RunAsync(Sys, input, new RingJobSettings(2, Pattern: otherLength)));
        Assert.Contains("built for 8 tokens", wrongPattern.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RingRunner_must_report_progress_up_to_every_block()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 50, 8), seed: 6);
        var seen = new List<RingProgress>();
        var result = await RingRunner.RunAsync(Sys, input, new RingJobSettings(3, JobId: "progress-job"), new Reports(seen.Add));
        lock (seen)
        {
            Assert.Equal(9, seen[^1].BlocksDone);
            Assert.Equal(3, seen[^1].DevicesDone);
            Assert.All(seen, p => Assert.Equal("progress-job", p.JobId));
        }

        Assert.Equal("progress-job", result.JobId);

        // Overlap is the hidden share of the hand-off time the devices measured: 3 devices receive 2 blocks each, every hand-off
        // takes some time, and no device can have hidden more of it than it spent.
        Assert.Equal(6, result.HandOffs);
        Assert.All(result.Devices, d => Assert.True(
            d.HandOffTime > TimeSpan.Zero && d.HiddenHandOffTime >= TimeSpan.Zero && d.HiddenHandOffTime <= d.HandOffTime,
            $"hand-off time {d.HandOffTime}, hidden {d.HiddenHandOffTime}"));
        var hidden = result.Devices.Sum(d => d.HiddenHandOffTime.Ticks);
        var total = result.Devices.Sum(d => d.HandOffTime.Ticks);
        Assert.Equal((double)hidden / total, result.Overlap);
        Assert.True(result.WallTime >= result.RingTime);
    }

    /// <summary>Reports synchronously on the supervisor's thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Reports(Action<RingProgress> onReport) : IProgress<RingProgress>
    {
        public void Report(RingProgress value) => onReport(value);
    }
}

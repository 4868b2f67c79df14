using Akka.TestKit.Xunit2;
using RingActors.Actors.Faults;
using RingActors.Actors.Protocol;
using RingActors.Math;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests.Supervision;

/// <summary>
/// The supervisor's watchdog with real devices (serialize-messages on): every device loses the first of some one-shot
/// messages, as Akka.Remote may in a quarantine or association hiccup, and the job still completes, equal to the oracle,
/// long before its deadline, with every fault counted once.
/// </summary>
public class RingSupervisorResendSpec(ITestOutputHelper output)
    : TestKit(Akka.Configuration.ConfigurationFactory.ParseString("ring-actors.resend-after = 100ms").WithFallback(RingTestKit.SpecConfig), output: output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Losses() => new()
    {
        nameof(LostMessages.Start),
        nameof(LostMessages.Result),
        nameof(LostMessages.Setup),
        nameof(LostMessages.Acknowledgement),
        "Setup, Start, Acknowledgement, Result",
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public async Task RingSupervisor_must_complete_exact_when_every_device_loses_the_first(string lost)
    {
        var loses = Enum.Parse<LostMessages>(lost);
        var shape = new AttentionShape(2, 4, 2, 61, 8);
        var input = AttentionInput.Random(shape, seed: 21);
        var settings = new RingJobSettings(4, LayoutKind.Zigzag, Causal: true, Deadline: Deadline)
        {
            Hooks = DeviceHooks.None with { Loses = loses },
        };

        var started = DateTime.UtcNow;
        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertExact(input, settings, result);
        Assert.All(result.Devices, d => Assert.Equal(3, d.HandOffsSent)); // nothing was computed or handed on twice
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), $"took {DateTime.UtcNow - started}");
    }

    [Fact]
    public async Task RingSupervisor_must_count_each_fault_once_when_results_flushes_and_their_answers_are_lost()
    {
        var shape = new AttentionShape(2, 4, 2, 61, 8);
        var input = AttentionInput.Random(shape, seed: 22);
        var plan = FaultPlan.FromSpecs(["kill-device:1@1"], seed: 3);
        var clean = new RingJobSettings(4, LayoutKind.Zigzag, Causal: true, Deadline: Deadline) { Faults = plan };
        var lossy = clean with { Hooks = DeviceHooks.None with { Loses = LostMessages.Result | LostMessages.Flush | LostMessages.FlushAnswer | LostMessages.Start } };

        var expected = await RingRunner.RunAsync(Sys, input, clean);
        var result = await RingRunner.RunAsync(Sys, input, lossy);

        AssertExact(input, lossy, result);
        var record = Assert.Single(result.Faults!.Records);
        Assert.Equal(Assert.Single(expected.Faults!.Records).Occurrences, record.Occurrences);
        Assert.Equal(1, record.Occurrences);
        Assert.Equal(1, result.Faults.Restarts);
        Assert.Equal(expected.Faults.PairsRecomputed, result.Faults.PairsRecomputed);
    }

    [Theory]
    [InlineData("BackwardStart, BackwardResult", null)]
    [InlineData("Start, Result, BackwardStart, BackwardResult, Flush, FlushAnswer", "kill-device:2@5")]
    public async Task RingSupervisor_must_complete_the_backward_exact_when_its_start_and_gradients_are_lost(string lost, string? fault)
    {
        var shape = new AttentionShape(1, 4, 2, 53, 8);
        var input = AttentionInput.Random(shape, seed: 23);
        var outputGradient = AttentionInput.Random(shape, seed: 24).Q;
        var settings = new RingJobSettings(4, LayoutKind.Zigzag, Causal: true, Deadline: Deadline)
        {
            Backward = new BackwardPass(outputGradient),
            Faults = fault is null ? null : FaultPlan.FromSpecs([fault], seed: 5),
            Hooks = DeviceHooks.None with { Loses = Enum.Parse<LostMessages>(lost) },
        };

        var result = await RingRunner.RunAsync(Sys, input, settings);

        AssertExact(input, settings, result);
        var (dQ, dK, dV) = ReferenceBackward.Compute(input, outputGradient, settings.OptionsFor(1));
        var gradients = Assert.IsType<AttentionGradients>(result.Gradients);
        foreach (var (actual, expected) in new[] { (gradients.Queries, dQ), (gradients.Keys, dK), (gradients.Values, dV) })
        {
            var error = ErrorMetrics.Compare(actual, expected);
            Assert.True(error.RelativeError < 1e-5, $"gradient relative error {error.RelativeError}");
        }

        if (fault is not null)
        {
            Assert.Equal(1, result.Faults!.Restarts);
        }
    }

    private static void AssertExact(AttentionInput input, RingJobSettings settings, RingResult result)
    {
        var (expected, _) = ReferenceAttention.Compute(input, settings.OptionsFor(1));
        var error = ErrorMetrics.Compare(result.Output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
    }
}

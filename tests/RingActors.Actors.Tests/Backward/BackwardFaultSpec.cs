using RingActors.Actors.Faults;
using RingActors.Math;
using Xunit.Abstractions;

namespace RingActors.Actors.Tests.Backward;

/// <summary>
/// Faults during the backward (a fault step S ≥ P strikes at the backward's step S − P; link faults strike both passes,
/// contributions included): dQ, dK and dV still equal the float64 oracle within <see cref="BackwardRingSpec.Tolerance"/>, and
/// every home sums exactly P contributions.
/// </summary>
public class BackwardFaultSpec(ITestOutputHelper output) : RingTestKit(output)
{
    private static readonly TimeSpan ShortTimeout = TimeSpan.FromMilliseconds(40);

    public static TheoryData<string, int, LayoutKind> BackwardFaults() => new()
    {
        { "drop:0.3", 4, LayoutKind.Zigzag },
        { "drop:0.6@2", 3, LayoutKind.Contiguous },
        { "delay:3~2", 4, LayoutKind.Striped },
        { "duplicate:0.5", 4, LayoutKind.Zigzag },
        { "duplicate:1", 3, LayoutKind.Striped },
        { "slow-device:1*3", 3, LayoutKind.Zigzag },
        { "kill-device:1@6", 4, LayoutKind.Zigzag },
        { "kill-device:0@3", 3, LayoutKind.Contiguous },
        { "kill-device:3@7", 4, LayoutKind.Striped },
        { "kill-device:0@1", 1, LayoutKind.Zigzag },
        { "kill-device:1@1,kill-device:2@5", 4, LayoutKind.Contiguous },
        { "kill-device:1@5,kill-device:2@6,drop:0.2", 4, LayoutKind.Zigzag },
        { "kill-device:?@?", 4, LayoutKind.Zigzag },
    };

    [Theory]
    [MemberData(nameof(BackwardFaults))]
    public async Task BackwardRing_must_equal_the_oracle_after_recovering_from(string fault, int devices, LayoutKind layout)
    {
        var shape = new AttentionShape(2, 4, 2, 61, 8);
        var input = AttentionInput.Random(shape, seed: devices + fault.Length);
        var plan = FaultPlan.FromSpecs(fault.Split(','), seed: 3) with { AckTimeout = ShortTimeout, Retries = 20 };
        var settings = BackwardRingSpec.Settings(new RingJobSettings(devices, layout, Causal: true) { Faults = plan }, input, seed: 5);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        BackwardRingSpec.AssertGradients(input, settings, result);
        Assert.All(result.BackwardDevices!, d => Assert.Equal(devices, d.ContributionsSummed));
        if (fault.StartsWith("kill", StringComparison.Ordinal))
        {
            Assert.Equal(plan.Faults.Count(f => f is FaultSpec.KillDevice), result.Faults!.Restarts);
        }
    }

    /// <summary>Killed at every backward step of every device, on every ring size: the hard cases of exactly-once.</summary>
    public static TheoryData<int, int, int> EveryBackwardKill()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var devices in new[] { 1, 2, 3, 5, 8 })
        {
            for (var step = 0; step < devices; step++)
            {
                data.Add(devices, (step * 3) % devices, devices + step);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryBackwardKill))]
    public async Task BackwardRing_must_sum_each_contribution_once_when_a_device_holding_its_block_sums_is_killed(int devices, int device, int step)
    {
        var shape = new AttentionShape(1, 2, 1, 31, 8);
        var input = AttentionInput.Random(shape, seed: (devices * 10) + step);
        var plan = FaultPlan.FromSpecs([$"kill-device:{device}@{step}"], seed: 1) with { AckTimeout = ShortTimeout, Retries = 20 };
        var settings = BackwardRingSpec.Settings(new RingJobSettings(devices, LayoutKind.Zigzag, Causal: devices % 2 == 1) { Faults = plan }, input, seed: 6);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        BackwardRingSpec.AssertGradients(input, settings, result);
        var killed = result.BackwardDevices![device];
        Assert.Equal(1, killed.Epoch);
        Assert.Equal(devices, killed.ContributionsSummed);
        // Every other device was asked to contribute again to the re-created home's block, once (one that had reported its
        // gradients before the request came recomputes after its statistics were taken).
        Assert.All(result.BackwardDevices.Where(d => d.Device != device), d => Assert.InRange(d.ContributionsRecomputed, 0, 1));
    }

    [Fact]
    public async Task BackwardRing_must_recover_a_device_killed_with_unacknowledged_contributions()
    {
        // Every contribution and hand-off is held 150 ms by its sender (on a timer of the sender: what is held dies with it), so
        // backward step s begins about s hops in. Device 2 of 6 dies as it starts backward step 3: its contribution of step 1
        // left a whole hop before step 3's block could arrive and was summed by its home, the one of step 2 is held or
        // unacknowledged. The re-created incarnation recomputes and sends every contribution again, and the repeat reaches that
        // home about two hops before its last contribution (of backward step 5) does: the home counts device 2 once and the
        // repeat as a duplicate. Each margin is a hop or more; a kill at step 2 of 4 raced step 1's contribution against step
        // 2's block, both held from about the same moment, and lost now and then on a loaded machine. The acknowledgement
        // timeout is far above the delay, so no retransmission makes a duplicate of its own.
        var shape = new AttentionShape(1, 2, 1, 48, 8);
        var input = AttentionInput.Random(shape, seed: 77);
        var plan = FaultPlan.FromSpecs(["delay:150", "kill-device:2@9"], seed: 1) with { AckTimeout = TimeSpan.FromSeconds(2), Retries = 20 };
        var settings = BackwardRingSpec.Settings(new RingJobSettings(6, LayoutKind.Zigzag) { Faults = plan }, input, seed: 8);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        BackwardRingSpec.AssertGradients(input, settings, result);
        Assert.Equal(1, result.Faults!.Restarts);
        Assert.All(result.BackwardDevices!, d => Assert.Equal(6, d.ContributionsSummed));
        Assert.True(result.BackwardDevices!.Sum(d => d.ContributionDuplicates) > 0, "the re-created device's resent contributions must reach homes that had them");
    }

    [Fact]
    public async Task BackwardRing_must_count_a_duplicated_contribution_once()
    {
        var shape = new AttentionShape(1, 2, 1, 31, 8);
        var input = AttentionInput.Random(shape, seed: 3);
        var plan = FaultPlan.FromSpecs(["duplicate:1"], seed: 1) with { AckTimeout = ShortTimeout, Retries = 20 };
        var settings = BackwardRingSpec.Settings(new RingJobSettings(5, LayoutKind.Striped, Causal: true) { Faults = plan }, input, seed: 9);

        var result = await RingRunner.RunAsync(Sys, input, settings);

        BackwardRingSpec.AssertGradients(input, settings, result);
        // Each of the P − 1 contributions a home receives from others arrives twice and is summed once (a second copy may
        // come after the home reported, so the count it reports is at most P − 1).
        Assert.All(result.BackwardDevices!, d => Assert.InRange(d.ContributionDuplicates, 0, 4));
        Assert.True(result.BackwardDevices!.Sum(d => d.ContributionDuplicates) > 0, "duplicate:1 must deliver second copies");
        Assert.All(result.BackwardDevices!, d => Assert.Equal(5, d.ContributionsSummed));
    }

    [Fact]
    public void A_backward_plan_must_take_steps_through_the_backward_and_refuse_beyond_it()
    {
        var shape = new AttentionShape(1, 1, 1, 16, 4);
        var backward = new BackwardPass(new float[shape.QueryLength]);
        var settings = new RingJobSettings(4) { Faults = FaultPlan.FromSpecs(["kill-device:1@7"]), Backward = backward };
        settings.Validate(shape);

        var forwardOnly = Assert.Throws<ArgumentException>(() => (settings with { Backward = null }).Validate(shape));
        Assert.Contains("names step 7, a ring of 4 has steps 0..3", forwardOnly.Message, StringComparison.Ordinal);
        var beyond = Assert.Throws<ArgumentException>(() => (settings with { Faults = FaultPlan.FromSpecs(["kill-device:1@8"]) }).Validate(shape));
        Assert.Contains("steps 0..7 (P..7: the backward's)", beyond.Message, StringComparison.Ordinal);
    }
}

using RingActors.Actors.Devices;
using RingActors.Math.Modelling;

namespace RingActors.Actors.Tests;

public class VirtualDeviceClockSpec
{
    // 4 FLOP/s and 4 B/s: a step of 4 FLOPs computes for 1 s, a hand-off of 8 bytes travels for 2 s.
    private static readonly DeviceProfile Slow = new("slow", 4, 1, 1 << 20, 4, 0, "hand-computed example");

    [Fact]
    public void VirtualDeviceClock_must_idle_while_a_block_slower_than_the_compute_travels()
    {
        var clock = new VirtualDeviceClock(0, 2, Slow, initialCredits: 1);

        Assert.Equal(0, clock.HandOff(0, 8));                      // the own block goes on at once
        Assert.Equal(2, clock.Received(1, sentAt: 0, bytes: 8));   // the predecessor's arrives after 2 s
        Assert.Equal(new StepWindow(0, 1), clock.Computed(0, 4));
        Assert.Equal(new StepWindow(2, 3), clock.Computed(1, 4)); // idle from 1 s to 2 s

        var timeline = clock.Timeline();
        Assert.Equal(
            [
                new TimelineInterval(IntervalKind.Compute, 0, 1, 0),
                new TimelineInterval(IntervalKind.Communicate, 0, 2, 1),
                new TimelineInterval(IntervalKind.Idle, 1, 2, 1),
                new TimelineInterval(IntervalKind.Compute, 2, 3, 1),
            ],
            timeline.Intervals);
        Assert.Equal((2.0, 1.0, 2.0, 1.0, 3.0), (timeline.ComputeSeconds, timeline.IdleSeconds, timeline.CommunicationSeconds, timeline.HiddenCommunicationSeconds, timeline.FinishedAt));
    }

    [Fact]
    public void VirtualDeviceClock_must_wait_for_a_credit_released_by_the_successor()
    {
        var clock = new VirtualDeviceClock(0, 3, Slow, initialCredits: 1);
        clock.HandOff(0, 8);
        clock.Received(1, sentAt: 0, bytes: 8);
        Assert.Throws<InvalidOperationException>(() => clock.HandOff(1, 8));

        // The successor released its step-0 block at 5 s: the credit is usable then (latency 0), after the link freed at 2 s.
        clock.Credited(1, releasedAt: 5);
        Assert.Equal(5, clock.HandOff(1, 8));
    }

    [Fact]
    public void VirtualDeviceClock_must_release_a_block_once_computed_and_sent()
    {
        var clock = new VirtualDeviceClock(0, 3, Slow, initialCredits: 1);
        clock.HandOff(0, 8);                          // link busy 0..2 s
        Assert.Throws<InvalidOperationException>(() => clock.TakeReleases(1));
        clock.Computed(0, 4);                         // computed at 1 s
        Assert.Equal(2, clock.TakeReleases(1));       // released when its last byte left, at 2 s
        Assert.Throws<InvalidOperationException>(() => clock.Computed(2, 4));
    }
}

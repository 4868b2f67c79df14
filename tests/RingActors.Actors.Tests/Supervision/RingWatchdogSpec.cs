namespace RingActors.Actors.Tests.Supervision;

public class RingWatchdogSpec
{
    private static readonly TimeSpan After = TimeSpan.FromSeconds(1);

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void RingWatchdog_must_resend_what_each_device_has_not_acknowledged_in_its_phase()
    {
        var watchdog = new RingWatchdog(4, After);
        for (var r = 0; r < 4; r++)
        {
            watchdog.SetupSent(r, S(0));
        }

        watchdog.Took(1, started: false, S(0.1)); // holds its chunk; StartRing lost
        watchdog.Took(2, started: true, S(0.1));  // runs
        watchdog.Took(3, started: true, S(0.1));
        watchdog.Completed(3, S(0.2));

        Assert.Empty(watchdog.Due(S(0.9)));
        Assert.Equal([(0, Resend.Setup)], watchdog.Due(S(1.0)));
        Assert.Equal([(1, Resend.Start), (2, Resend.Result)], watchdog.Due(S(1.1)));
        Assert.Equal(3, watchdog.Resends);
        Assert.Equal("Completed", watchdog.PhaseOf(3));
    }

    [Fact]
    public void RingWatchdog_must_double_the_wait_per_resend_up_to_8x_and_start_again_when_the_device_is_heard()
    {
        var watchdog = new RingWatchdog(1, After);
        watchdog.SetupSent(0, S(0));

        var at = new List<double>();
        for (var t = 0.0; t <= 40; t += 0.25)
        {
            if (watchdog.Due(S(t)).Count > 0)
            {
                at.Add(t);
            }
        }

        // 1, then 2, 4, 8, 8, 8 … seconds after the previous resend.
        Assert.Equal([1, 3, 7, 15, 23, 31, 39], at);

        watchdog.Heard(0, S(39.5));
        Assert.Empty(watchdog.Due(S(40.25)));
        Assert.Single(watchdog.Due(S(40.5)));
    }

    [Fact]
    public void RingWatchdog_must_not_resend_to_a_device_that_keeps_being_heard()
    {
        var watchdog = new RingWatchdog(1, After);
        watchdog.SetupSent(0, S(0));
        watchdog.Took(0, started: true, S(0.1));
        for (var t = 0.5; t < 20; t += 0.5)
        {
            watchdog.Heard(0, S(t)); // a block merged every half second
            Assert.Empty(watchdog.Due(S(t + 0.25)));
        }

        Assert.Equal(0, watchdog.Resends);
    }

    [Fact]
    public void RingWatchdog_must_count_each_flush_answer_once_and_finish_only_when_every_device_answered()
    {
        var watchdog = new RingWatchdog(3, After);
        for (var r = 0; r < 3; r++)
        {
            watchdog.SetupSent(r, S(0));
            watchdog.Took(r, started: true, S(0));
            watchdog.Completed(r, S(0.5));
        }

        Assert.False(watchdog.Flushed(0, S(0.6))); // not asked yet: an early or forged answer counts for nothing
        watchdog.Flushing(S(1));
        Assert.False(watchdog.AllFlushed);
        Assert.True(watchdog.Flushed(0, S(1.1)));
        Assert.False(watchdog.Flushed(0, S(1.2))); // the answer to a repeated FlushFaults
        Assert.True(watchdog.Flushed(1, S(1.2)));
        Assert.False(watchdog.AllFlushed);
        Assert.Equal([(2, Resend.Flush)], watchdog.Due(S(2.0)));
        Assert.True(watchdog.Flushed(2, S(2.1)));
        Assert.True(watchdog.AllFlushed);
        Assert.Empty(watchdog.Due(S(100)));
    }

    [Fact]
    public void RingWatchdog_must_watch_a_recreated_incarnation_from_its_setup_and_take_its_start_with_its_chunk()
    {
        var watchdog = new RingWatchdog(2, After);
        watchdog.SetupSent(0, S(0));
        watchdog.Took(0, started: true, S(0.1));
        watchdog.SetupSent(0, S(2), recovering: true);
        Assert.Equal("Setup", watchdog.PhaseOf(0));
        Assert.DoesNotContain(watchdog.Due(S(2.5)), d => d.Device == 0);
        Assert.Contains((0, Resend.Setup), watchdog.Due(S(3)));

        // A re-created device runs as soon as it holds its chunk: never asked for StartRing.
        watchdog.Took(0, started: false, S(3.1));
        Assert.Equal("Running", watchdog.PhaseOf(0));
        Assert.Equal([(0, Resend.Result)], watchdog.Due(S(4.1)).Where(d => d.Device == 0));
    }

    [Fact]
    public void RingWatchdog_must_not_wait_for_the_flush_of_a_finished_device_whose_node_was_lost()
    {
        var watchdog = new RingWatchdog(2, After);
        for (var r = 0; r < 2; r++)
        {
            watchdog.SetupSent(r, S(0));
            watchdog.Took(r, started: true, S(0));
        }

        watchdog.Completed(0, S(1));
        Assert.False(watchdog.Gone(1)); // still running: it is re-created, not forgotten
        Assert.True(watchdog.Gone(0));   // its node died after its result came in
        watchdog.Completed(1, S(2));
        watchdog.Flushing(S(2));
        Assert.False(watchdog.AllFlushed);
        Assert.Equal([(1, Resend.Flush)], watchdog.Due(S(3)));
        Assert.True(watchdog.Flushed(1, S(3.1)));
        Assert.True(watchdog.AllFlushed);
    }

    [Fact]
    public void RingWatchdog_must_refuse_a_non_positive_interval()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingWatchdog(1, TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingWatchdog(0, After));
    }
}

using RingActors.Actors.Devices;
using RingActors.Actors.Protocol;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests.Devices;

public class DeviceAnswersSpec
{
    [Fact]
    public void DeviceAnswers_must_answer_every_repeat_with_where_the_device_stands_and_its_first_result()
    {
        var gap = TimeSpan.FromSeconds(4);
        var answers = new DeviceAnswers("job", 2, gap);
        var t = TimeSpan.FromSeconds(100);
        Assert.Equal(new SetupTaken("job", 2, false), answers.Took());
        Assert.Equal([new SetupTaken("job", 2, false)], answers.Repeat(t));

        // The start's timestamp goes with every acknowledgement after it: the supervisor puts the device's clock on its own with it.
        Assert.Equal(new SetupTaken("job", 2, true, 4242), answers.Began(4242));
        Assert.True(answers.Started);
        Assert.Equal([new SetupTaken("job", 2, true, 4242)], answers.Repeat(t));

        var result = Result(2, 1f);
        Assert.Same(result, answers.Reported(result, t));
        Assert.Same(result, answers.Reported(Result(2, 9f), t)); // reported once: a second report changes nothing

        // Asked again soon after the result left: it is most likely still on its way, so only the acknowledgement goes back.
        Assert.Equal([new SetupTaken("job", 2, true, 4242)], answers.Repeat(t + (gap / 2)));
        var repeat = answers.Repeat(t + gap);
        Assert.Equal(2, repeat.Count);
        Assert.Equal(new SetupTaken("job", 2, true, 4242), repeat[0]);
        Assert.Same(result, repeat[1]);
        Assert.Single(answers.Repeat(t + gap + (gap / 2))); // the copy just sent restarts the wait
        Assert.Same(result, answers.Repeat(t + (3 * gap))[1]);
    }

    private static ChunkCompleted Result(int device, float value) =>
        new("job", device, [value], [value], new DeviceStats(device, 1, 3, 0, 3, 12, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, 0, 0, 2, 2, 0, 0, 2, 0, 0, TimeSpan.Zero, TimeSpan.Zero));
}

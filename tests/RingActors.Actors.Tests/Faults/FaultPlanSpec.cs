using RingActors.Actors.Devices;
using RingActors.Actors.Faults;

namespace RingActors.Actors.Tests.Faults;

public sealed class FaultPlanSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faultplan").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FaultPlan_must_load_HOCON_with_every_setting()
    {
        var path = Write("plan.conf", """
            faults {
              seed = 42
              retries = 3
              ack-timeout = 100ms
              max-restarts = 2
              inject = ["drop:0.05", "kill-device:1@2", "delay:5~2"]
            }
            """);

        var plan = FaultPlan.Load(path);

        Assert.Equal(42, plan.Seed);
        Assert.Equal(3, plan.Retries);
        Assert.Equal(TimeSpan.FromMilliseconds(100), plan.Timeout);
        Assert.Equal(2, plan.MaxRestarts);
        Assert.Equal(["drop:0.05", "kill-device:1@2", "delay:5~2"], plan.Faults.Select(f => f.ToString()));
    }

    [Fact]
    public void FaultPlan_must_load_JSON_with_defaults()
    {
        var plan = FaultPlan.Load(Write("plan.json", """{ "faults": { "inject": ["duplicate:0.1"] } }"""));

        Assert.Equal(0, plan.Seed);
        Assert.Equal(FaultPlan.DefaultRetries, plan.Retries);
        Assert.Equal(FaultPlan.DefaultAckTimeout, plan.Timeout);
        Assert.Equal(new FaultSpec.Duplicate(0.1), Assert.Single(plan.Faults));
    }

    [Fact]
    public void FaultPlan_must_load_every_example_under_hocon_faults()
    {
        var dir = Path.Combine(RepoRoot(), "hocon", "faults");
        var files = Directory.GetFiles(dir);
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            Assert.NotEmpty(FaultPlan.Load(file).Faults);
        }
    }

    [Theory]
    [InlineData("faults { inject = [\"drop:2\"] }", "probability P must be in [0, 1]")]
    [InlineData("faults { seed = 1 }", "has no faults.inject list")]
    [InlineData("faults { inject = [\"drop:0.1\"], retries = -1 }", "retries must be in 0..100")]
    [InlineData("faults { inject = [ ", "faults.inject holds an empty entry")]
    public void FaultPlan_must_refuse_a_bad_file_in_one_line(string text, string problem)
    {
        var error = Assert.Throws<ArgumentException>(() => FaultPlan.Load(Write("bad.conf", text)));
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FaultPlan_must_check_devices_and_steps_and_say_node_faults_need_a_cluster()
    {
        Assert.Contains("names device 4", Assert.Throws<ArgumentException>(() => FaultPlan.FromSpecs(["kill-device:4@1"]).ValidateFor(4)).Message, StringComparison.Ordinal);
        Assert.Contains("names step 5", Assert.Throws<ArgumentException>(() => FaultPlan.FromSpecs(["kill-device:1@5"]).ValidateFor(4)).Message, StringComparison.Ordinal);
        Assert.Contains("needs a cluster run", Assert.Throws<ArgumentException>(() => FaultPlan.FromSpecs(["crash-node:b@1"]).ValidateFor(4)).Message, StringComparison.Ordinal);
        Assert.Contains("needs a cluster run", Assert.Throws<ArgumentException>(() => FaultPlan.FromSpecs(["partition:b@1+2"]).ValidateFor(4)).Message, StringComparison.Ordinal);
        FaultPlan.FromSpecs(["crash-node:b@1"]).ValidateFor(4, cluster: true);
    }

    [Fact]
    public void LinkFaults_must_replay_the_same_decisions_for_the_same_seed_and_trial()
    {
        var plan = FaultPlan.FromSpecs(["drop:0.3", "duplicate:0.3", "delay:10~5"], seed: 7);
        string Draw(int trial)
        {
            var faults = new LinkFaults(plan, trial, 1, 2);
            return string.Join(",", Enumerable.Range(0, 50).Select(_ => faults.Next()).Select(f => $"{f.Dropped is not null}{f.Duplicated is not null}{f.Delay.TotalMilliseconds:F3}"));
        }

        Assert.Equal(Draw(3), Draw(3));
        Assert.NotEqual(Draw(3), Draw(4));
        var fates = Enumerable.Range(0, 50).Select(_ => new LinkFaults(plan, 0, 0, 1)).First();
        Assert.All(Enumerable.Range(0, 200).Select(_ => fates.Next()), f => Assert.InRange(f.Delay.TotalMilliseconds, 5, 15));
    }

    [Fact]
    public void FaultPlan_must_draw_random_kills_per_trial_reproducibly()
    {
        var plan = FaultPlan.FromSpecs(["kill-device:?@?", "kill-device:1@?", "drop:0.1"], seed: 3);
        var draws = Enumerable.Range(0, 40).Select(t => plan.ForTrial(t, 4).Faults.OfType<FaultSpec.KillDevice>().ToList()).ToList();

        Assert.Equal(draws[7], plan.ForTrial(7, 4).Faults.OfType<FaultSpec.KillDevice>());
        Assert.All(draws, kills =>
        {
            Assert.Equal(["kill-device:?@?", "kill-device:1@?"], kills.Select(k => k.ToString()));
            Assert.Equal(1, kills[1].Device);
            Assert.All(kills, k => Assert.InRange(k.Step, 0, 3));
        });
        Assert.True(draws.Select(k => (k[0].Device, k[0].Step)).Distinct().Count() > 8, "draws should vary over trials");
        Assert.Same(FaultPlan.None, FaultPlan.None.ForTrial(1, 4));
    }

    [Fact]
    public void LinkFaults_must_drop_into_the_named_device_only()
    {
        var plan = FaultPlan.FromSpecs(["drop:1@2"]);
        Assert.NotNull(new LinkFaults(plan, 0, 1, 2).Next().Dropped);
        Assert.Null(new LinkFaults(plan, 0, 2, 3).Next().Dropped);
    }

    [Fact]
    public void LinkInbox_must_refuse_stale_epochs_and_drop_repeats()
    {
        var inbox = new LinkInbox(epoch: 1);
        Assert.Equal(FrameVerdict.Stale, inbox.Receive(0, 0, 0));
        Assert.Equal(FrameVerdict.New, inbox.Receive(1, 0, 0));
        Assert.Equal(FrameVerdict.Duplicate, inbox.Receive(1, 0, 0));
        Assert.Equal(FrameVerdict.New, inbox.Receive(1, 0, 1));
        Assert.Equal((1, 1), (inbox.Stale, inbox.Duplicates));
    }

    [Fact]
    public void LinkInbox_must_refuse_an_older_sender_once_a_newer_one_is_heard_and_number_the_new_one_afresh()
    {
        var inbox = new LinkInbox(epoch: 0);
        Assert.Equal(FrameVerdict.New, inbox.Receive(0, 0, 0));
        Assert.True(inbox.SenderIs(1));
        Assert.False(inbox.SenderIs(1));
        Assert.Equal(FrameVerdict.Stale, inbox.Receive(0, 0, 1));
        Assert.Equal(FrameVerdict.New, inbox.Receive(0, 1, 0));
        Assert.Equal(FrameVerdict.Duplicate, inbox.Receive(0, 1, 0));

        // A frame of a still newer sender (its announcement lost) makes it the current one.
        Assert.Equal(FrameVerdict.New, inbox.Receive(0, 2, 0));
        Assert.Equal(FrameVerdict.Stale, inbox.Receive(0, 1, 1));
        Assert.Equal((2, 1, 2), (inbox.Stale, inbox.Duplicates, inbox.SenderEpoch));
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RingActors.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("RingActors.sln not found above the test binaries");
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}

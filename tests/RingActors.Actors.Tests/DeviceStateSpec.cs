using RingActors.Actors.Devices;
using RingActors.Actors.Protocol;
using RingActors.Math;
using static RingActors.Actors.Protocol.RingProtocol;

namespace RingActors.Actors.Tests;

public class DeviceStateSpec
{
    private const string Job = "job-1";

    public static TheoryData<int, int, bool, LayoutKind, int> Rings => new()
    {
        // devices, tokens, causal, layout, schedule seed
        { 1, 31, false, LayoutKind.Contiguous, 1 },
        { 2, 31, true, LayoutKind.Zigzag, 2 },
        { 3, 61, true, LayoutKind.Contiguous, 3 },
        { 4, 61, false, LayoutKind.Striped, 4 },
        { 5, 257, true, LayoutKind.Zigzag, 5 },
        { 8, 61, true, LayoutKind.Striped, 6 },
    };

    [Theory]
    [MemberData(nameof(Rings))]
    public void DeviceState_must_equal_the_oracle_and_respect_credits_under_any_interleaving(int devices, int tokens, bool causal, LayoutKind kind, int seed)
    {
        var shape = new AttentionShape(2, 4, 2, tokens, 8);
        var input = AttentionInput.Random(shape, seed);
        var options = new AttentionOptions(Causal: causal);
        var layout = new SequenceLayout(kind, tokens, devices);
        var states = Enumerable.Range(0, devices).Select(r => Load(input, layout, r, options)).ToArray();

        RunRandomSchedule(states, new Random(seed));

        var output = new float[shape.QueryLength];
        for (var r = 0; r < devices; r++)
        {
            var result = states[r].Result();
            layout.Scatter(result.Output, r, shape.Batch * shape.Heads, shape.HeadDim, output);
            var stats = result.Stats;
            Assert.Equal(devices - 1, stats.HandOffsSent);
            Assert.Equal(devices - 1, stats.HandOffsReceived);
            Assert.Equal(devices, stats.BlocksComputed + stats.BlocksSkipped);
            Assert.InRange(stats.PeakBlocksHeld, 1, 2);
            Assert.Equal(0, stats.BlocksRefused);
        }

        var (expected, _) = ReferenceAttention.Compute(input, options);
        var error = ErrorMetrics.Compare(output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
    }

    [Fact]
    public void DeviceState_must_hand_the_own_block_on_before_computing_it_and_pass_received_blocks_on_with_the_next_step()
    {
        var (state, input, layout) = Device(devices: 3, device: 1);
        state.Start(now: 10);
        Assert.True(state.TryTakeHandOff(out var own));
        Assert.Equal((1, 1, 0L), (own.Origin, own.Step, own.Sequence));
        Assert.False(state.TryTakeHandOff(out _)); // one initial credit, spent
        Assert.True(state.TryStartCompute(11, out var first));
        Assert.Equal((0, 1), (first.Step, first.Origin));

        var incoming = BlockFrom(input, layout, origin: 0, step: 1);
        Assert.Equal(BlockAdmission.Accepted, state.Admit(incoming, 12));
        Assert.Equal(2, state.BlocksHeld);
        state.AddCredits(1);
        Assert.True(state.TryTakeHandOff(out var passed));
        Assert.Equal((0, 2, 1L), (passed.Origin, passed.Step, passed.Sequence));
        Assert.Same(incoming.Keys, passed.Keys);
        Assert.False(state.IsDone(0)); // handed on while the first block is still being computed
    }

    [Fact]
    public void DeviceState_must_hold_an_early_block_until_its_turn()
    {
        var (state, input, layout) = Device(devices: 4, device: 0);
        state.Start(0);
        Assert.True(state.TryTakeHandOff(out _));
        Assert.True(state.TryStartCompute(1, out var step0));
        Complete(state, step0, 2);
        Assert.Equal(1, state.TakeCreditGrant()); // own block released: a second credit goes out

        Assert.Equal(BlockAdmission.Accepted, state.Admit(BlockFrom(input, layout, origin: 2, step: 2), 3));
        Assert.False(state.TryStartCompute(4, out _)); // step 1 has not arrived: step 2 waits
        Assert.Equal(BlockAdmission.Accepted, state.Admit(BlockFrom(input, layout, origin: 3, step: 1), 5));
        Assert.True(state.TryStartCompute(6, out var next));
        Assert.Equal(1, next.Step);
        Complete(state, next, 7);
        Assert.True(state.TryStartCompute(8, out var later));
        Assert.Equal(2, later.Step);
    }

    [Fact]
    public void DeviceState_must_drop_a_duplicate_and_refuse_foreign_or_malformed_blocks()
    {
        var (state, input, layout) = Device(devices: 3, device: 1);
        state.Start(0);
        var block = BlockFrom(input, layout, origin: 0, step: 1);
        Assert.Equal(BlockAdmission.Accepted, state.Admit(block, 1));
        Assert.Equal(AdmissionKind.Duplicate, state.Admit(block, 2).Kind);
        Assert.Equal(AdmissionKind.Duplicate, state.Admit(block with { Sequence = 7 }, 2).Kind);

        var foreign = state.Admit(block with { JobId = "other" }, 3);
        Assert.Equal(AdmissionKind.Refused, foreign.Kind);
        Assert.Contains("'other'", foreign.Reason, StringComparison.Ordinal);
        var shortKeys = state.Admit(BlockFrom(input, layout, origin: 2, step: 2) with { Keys = new float[3] }, 4);
        Assert.Equal(AdmissionKind.Refused, shortKeys.Kind);
        Assert.Contains("K holds 3", shortKeys.Reason, StringComparison.Ordinal);
        var wrongOrigin = state.Admit(BlockFrom(input, layout, origin: 0, step: 2), 5);
        Assert.Equal(AdmissionKind.Refused, wrongOrigin.Kind);
        Assert.Contains("expects the block of device 2", wrongOrigin.Reason, StringComparison.Ordinal);
        var badStep = state.Admit(BlockFrom(input, layout, origin: 1, step: 0), 6);
        Assert.Equal(AdmissionKind.Refused, badStep.Kind);

        var stats = state.Stats();
        Assert.Equal(2, stats.DuplicatesDropped);
        Assert.Equal(4, stats.BlocksRefused);
        Assert.Equal(1, stats.HandOffsReceived);
    }

    [Fact]
    public void DeviceState_must_refuse_a_block_sent_without_credit_and_never_hold_more_than_two()
    {
        var (state, input, layout) = Device(devices: 4, device: 0);
        state.Start(0);
        Assert.Equal(1, state.CreditsOutstanding);
        Assert.Equal(0, state.TakeCreditGrant()); // own block + one credit out = the limit
        Assert.Equal(BlockAdmission.Accepted, state.Admit(BlockFrom(input, layout, origin: 3, step: 1), 1));
        var overflow = state.Admit(BlockFrom(input, layout, origin: 2, step: 2), 2);
        Assert.Equal(AdmissionKind.Refused, overflow.Kind);
        Assert.Contains("no credit", overflow.Reason, StringComparison.Ordinal);
        Assert.Equal(2, state.BlocksHeld);

        // Computing the own block does not free it until it has been handed on too.
        Assert.True(state.TryStartCompute(3, out var own));
        Complete(state, own, 4);
        Assert.Equal(0, state.TakeCreditGrant());
        Assert.True(state.TryTakeHandOff(out _));
        Assert.Equal(1, state.TakeCreditGrant());
        Assert.Equal(0, state.TakeCreditGrant());
        Assert.Equal(2, state.Stats().PeakBlocksHeld);
    }

    [Fact]
    public void DeviceState_must_count_the_hand_off_time_hidden_behind_its_compute()
    {
        var (state, input, layout) = Device(devices: 2, device: 1);
        state.Start(0);
        Assert.True(state.TryTakeHandOff(out _));
        Assert.True(state.TryStartCompute(0, out var own));
        // The block was ready at the sender at 100 and accepted at 300; this device issued its own block at 120 (busy from then,
        // queued for a compute thread until 150) and finished it at 250.
        Assert.Equal(BlockAdmission.Accepted, state.Admit(BlockFrom(input, layout, origin: 0, step: 1) with { ReadySince = 100 }, 300));
        state.CompleteCompute(own.Execute() with { IssuedAt = 120, StartedAt = 150, FinishedAt = 250 }, 250);
        var stats = state.Stats();
        Assert.Equal(Ticks(200), stats.HandOffTime);
        Assert.Equal(Ticks(130), stats.HiddenHandOffTime);
        Assert.Equal(Ticks(100), stats.ComputeTime);
        Assert.Equal(Ticks(30), stats.ComputeQueueTime);
    }

    [Fact]
    public void DeviceState_recovering_must_recompute_every_block_and_hand_on_only_what_the_successor_lacks()
    {
        const int P = 4;
        var shape = new AttentionShape(1, 2, 1, 8 * P, 4);
        var input = AttentionInput.Random(shape, seed: 3);
        var layout = new SequenceLayout(LayoutKind.Contiguous, shape.SeqLen, P);
        var topology = new RingTopology(P);
        var setup = new DeviceSetup(Job, 2, P, shape.SeqLen, AttentionHeads.Of(shape), AttentionOptions.Default) { Epoch = 1 };
        var blocks = Enumerable.Range(0, P).Select(s => layout.KeyValueBlockOf(input, topology.OriginAt(2, s))).ToList();

        var state = DeviceState.Recovering(setup, layout.QueryChunkOf(input, 2), blocks, now: 5);

        Assert.True(state.IsRecovering);
        Assert.Equal(P, state.BlocksHeld);
        Assert.Equal(0, state.TakeCreditGrant()); // it needs nothing from its predecessor
        Assert.Equal(P, state.ResumeForPredecessor().Credits);
        Assert.Equal([1, 2, 3], state.ResumeForPredecessor().StepsHeld);
        Assert.False(state.TryTakeHandOff(out _)); // nothing goes before the successor says what it lacks

        for (var step = 0; step < P; step++)
        {
            Assert.True(state.TryStartCompute(10 + step, out var ticket));
            Complete(state, ticket, 11 + step);
        }

        Assert.False(state.IsComplete); // computed, but the successor has not answered yet

        // The successor holds its steps 1 and 2 (this device's blocks of steps 0 and 1): only step 2's block goes, as its step 3.
        state.Resume(credits: 1, stepsHeld: [1, 2]);
        Assert.True(state.TryTakeHandOff(out var handOff));
        Assert.Equal((3, topology.OriginAt(2, 2)), (handOff.Step, handOff.Origin));
        Assert.False(state.TryTakeHandOff(out _));
        Assert.True(state.IsComplete);
        Assert.Equal(0, state.BlocksHeld);

        var output = state.Result().Output;
        var expected = RingTestKit.OracleRows(input, AttentionOptions.Default, layout.QueryChunkOf(input, 2).Positions);
        Assert.True(ErrorMetrics.Compare(output, expected).RelativeError < 1e-5);
    }

    [Fact]
    public void DeviceState_must_drop_hand_offs_a_recreated_successor_holds_now_and_on_arrival()
    {
        var (state, input, layout) = Device(devices: 4, device: 1);
        state.Start(0);
        Assert.True(state.TryTakeHandOff(out _)); // step 0's block went on

        Assert.Equal(BlockAdmission.Accepted, state.Admit(BlockFrom(input, layout, origin: 0, step: 1), 1));
        Assert.Equal(1, state.PendingHandOffs);

        // The successor was re-created and holds everything: queued and later hand-offs are dropped, its credits replace ours.
        state.Resume(credits: 4, stepsHeld: [1, 2, 3]);
        Assert.Equal(0, state.PendingHandOffs);
        Assert.Equal(4, state.Credits);
        Assert.True(state.TryStartCompute(2, out var step0));
        Complete(state, step0, 3); // the own block, computed and handed on, frees its slot
        Assert.Equal(1, state.TakeCreditGrant());
        Assert.Equal(BlockAdmission.Accepted, state.Admit(BlockFrom(input, layout, origin: 3, step: 2), 4));
        Assert.Equal(0, state.PendingHandOffs);
        Assert.False(state.TryTakeHandOff(out _));

        // What it tells a re-created predecessor: the steps it holds, and the credits it gave out and has not seen used.
        var (credits, held) = state.ResumeForPredecessor();
        Assert.Equal([1, 2], held);
        Assert.Equal(state.CreditsOutstanding, credits);
    }

    private static TimeSpan Ticks(long stopwatchTicks) => TimeSpan.FromSeconds((double)stopwatchTicks / System.Diagnostics.Stopwatch.Frequency);

    private static void Complete(DeviceState state, ComputeTicket ticket, long now) => state.CompleteCompute(ticket.Execute(), now);

    private static (DeviceState State, AttentionInput Input, SequenceLayout Layout) Device(int devices, int device)
    {
        var shape = new AttentionShape(1, 2, 1, 8 * devices, 4);
        var input = AttentionInput.Random(shape, seed: devices);
        var layout = new SequenceLayout(LayoutKind.Contiguous, shape.SeqLen, devices);
        return (Load(input, layout, device, AttentionOptions.Default), input, layout);
    }

    private static DeviceState Load(AttentionInput input, SequenceLayout layout, int device, AttentionOptions options)
    {
        var setup = new DeviceSetup(Job, device, layout.Devices, input.Shape.SeqLen, AttentionHeads.Of(input.Shape), options);
        return new DeviceState(setup, layout.QueryChunkOf(input, device), layout.KeyValueBlockOf(input, device));
    }

    private static AcceptBlock BlockFrom(AttentionInput input, SequenceLayout layout, int origin, int step)
    {
        var block = layout.KeyValueBlockOf(input, origin);
        return new AcceptBlock(Job, origin, step, step - 1, 0, block.Keys, block.Values, block.Positions);
    }

    /// <summary>
    /// Runs a ring of states without actors: each step picks at random one of the deliverable messages (FIFO per link, as Akka
    /// guarantees per sender–receiver pair) or one of the outstanding computes, and checks the memory invariant after it.
    /// </summary>
    private static void RunRandomSchedule(DeviceState[] states, Random random)
    {
        var p = states.Length;
        var blocks = Enumerable.Range(0, p).Select(_ => new Queue<AcceptBlock>()).ToArray();
        var credits = Enumerable.Range(0, p).Select(_ => new Queue<int>()).ToArray();
        var tickets = new ComputeTicket?[p];
        long clock = 0;

        void Pump(int r)
        {
            var state = states[r];
            while (state.TryTakeHandOff(out var handOff))
            {
                blocks[r].Enqueue(handOff);
            }

            if (state.TakeCreditGrant() is var grant and > 0)
            {
                credits[r].Enqueue(grant);
            }

            if (tickets[r] is null && state.TryStartCompute(++clock, out var ticket))
            {
                tickets[r] = ticket;
            }

            Assert.True(state.BlocksHeld <= 2, $"device {r} holds {state.BlocksHeld} blocks");
            Assert.True(state.BlocksHeld + state.CreditsOutstanding <= 2, $"device {r}: {state.BlocksHeld} held + {state.CreditsOutstanding} credits out");
        }

        for (var r = 0; r < p; r++)
        {
            states[r].Start(++clock);
            Pump(r);
        }

        while (true)
        {
            var actions = new List<Action>();
            for (var r = 0; r < p; r++)
            {
                var from = r;
                var to = (r + 1) % p;
                if (blocks[from].Count > 0)
                {
                    actions.Add(() =>
                    {
                        Assert.Equal(BlockAdmission.Accepted, states[to].Admit(blocks[from].Dequeue(), ++clock));
                        Pump(to);
                    });
                }

                if (credits[from].Count > 0)
                {
                    var predecessor = (from - 1 + p) % p;
                    actions.Add(() =>
                    {
                        states[predecessor].AddCredits(credits[from].Dequeue());
                        Pump(predecessor);
                    });
                }

                if (tickets[from] is { } ticket)
                {
                    actions.Add(() =>
                    {
                        tickets[from] = null;
                        states[from].CompleteCompute(ticket.Execute(), ++clock);
                        Pump(from);
                    });
                }
            }

            if (actions.Count == 0)
            {
                break;
            }

            actions[random.Next(actions.Count)]();
        }

        Assert.All(states, s => Assert.True(s.IsComplete, $"device {s.Device} stopped in phase {s.Phase}"));
    }
}

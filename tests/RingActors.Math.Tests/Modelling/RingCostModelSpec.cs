using RingActors.Math.Modelling;

namespace RingActors.Math.Tests.Modelling;

public class RingCostModelSpec
{
    [Fact]
    public void Table2_must_agree_with_every_printed_value()
    {
        var rows = RingCostModel.Table2();
        Assert.Equal(["a100-nvlink", "a100-infiniband", "tpu-v3", "tpu-v4", "tpu-v5e"], rows.Select(r => r.Profile));
        (double F, double Hbm, double B)[] printedHardware = [(312, 80, 300), (312, 80, 12.5), (123, 16, 112), (275, 32, 268), (196, 16, 186)];
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            Assert.Equal(printedHardware[i], (row.PeakTflops, row.HbmGb, row.BandwidthGBs));

            // s = 6·F/B agrees within 2% on every row (within 0.7% in fact).
            Assert.True(System.Math.Abs(row.MinSeqK / row.PrintedMinSeqK - 1) <= 0.02, $"{row.Profile}: min s {row.MinSeqK:F3}K vs printed {row.PrintedMinSeqK}K");

            // c = F/B: the paper prints one decimal, so 1.04, 1.026 and 1.054 appear as 1.0, 1.0 and 1.1 (4.0%, 2.6% and
            // 4.2% away); every row either is within 2% or rounds to the printed value.
            var within = System.Math.Abs(row.MinBlockK / row.PrintedMinBlockK - 1) <= 0.02;
            var rounds = System.Math.Round(row.MinBlockK, 1, MidpointRounding.AwayFromZero) == row.PrintedMinBlockK;
            Assert.True(within || rounds, $"{row.Profile}: min c {row.MinBlockK:F3}K vs printed {row.PrintedMinBlockK}K");
        }

        Assert.Equal(24.96, rows[1].MinBlockK, 1e-9);
        Assert.Equal(149.76, rows[1].MinSeqK, 1e-9);
    }

    [Fact]
    public void Step_costs_must_follow_the_papers_formulas()
    {
        // 4·d·c² FLOPs and 2·c·d elements per head and step (ANCHORS.md §1).
        Assert.Equal(4.0 * 128 * 1024 * 1024, RingCostModel.StepFlops(1024, 1024, headDim: 128, heads: 1));
        Assert.Equal(4.0 * 128 * 1024 * 1024 * 32 * 2, RingCostModel.StepFlops(1024, 1024, headDim: 128, heads: 32, batch: 2));
        Assert.Equal(4L * 1024 * 128, RingCostModel.HandOffBytes(1024, headDim: 128, kvHeads: 1, ElementType.Bf16));
        Assert.Equal(8L * 1024 * 128 * 8, RingCostModel.HandOffBytes(1024, headDim: 128, kvHeads: 8, ElementType.Fp32));
    }

    [Fact]
    public void MinBlockSize_must_make_compute_equal_transfer()
    {
        var profile = ProfileCatalog.Get("h100-infiniband") with { Efficiency = 0.55, LinkLatency = 0 };
        foreach (var type in new[] { ElementType.Bf16, ElementType.Fp16, ElementType.Fp32 })
        {
            foreach (var (heads, kvHeads) in new[] { (1, 1), (32, 8), (8, 1) })
            {
                var c = RingCostModel.MinBlockSize(profile, type, heads, kvHeads);
                var compute = RingCostModel.StepFlops(1, 1, 128, heads) * c * c / profile.EffectiveFlops;
                var transfer = RingCostModel.HandOffBytes(1, 128, kvHeads, type) * c / profile.LinkBandwidth;
                Assert.Equal(1, compute / transfer, 1e-12);
                Assert.Equal(c, RingCostModel.MinBlockSizeWithLatency(profile, type, 128, heads, kvHeads), c * 1e-12);
            }
        }

        var a100 = ProfileCatalog.Get("a100-nvlink");
        Assert.Equal(1040, RingCostModel.MinBlockSize(a100), 1e-9);
        Assert.Equal(2080, RingCostModel.MinBlockSize(a100, ElementType.Fp32), 1e-9);
        Assert.Equal(260, RingCostModel.MinBlockSize(a100, ElementType.Bf16, heads: 32, kvHeads: 8), 1e-9);
        Assert.True(RingCostModel.MinBlockSizeWithLatency(a100, ElementType.Bf16, 128, 1, 1) > 1040);
        Assert.Throws<ArgumentException>(() => RingCostModel.MinBlockSize(a100, ElementType.Bf16, heads: 6, kvHeads: 4));
    }

    [Fact]
    public void Activation_memory_must_follow_the_papers_formulas()
    {
        Assert.Equal(2.0 * 3 * 4096 * 8192 * 8192, RingCostModel.VanillaActivationBytes(3, 4096, 8192));
        Assert.Equal(8.0 * 3 * 8192 * 4096, RingCostModel.MemoryEfficientActivationBytes(3, 4096, 8192));
        Assert.Equal(2.0 * 3 * 8192 * 4096, RingCostModel.BlockwiseActivationBytes(3, 4096, 8192));
        Assert.Equal(6.0 * 3 * 1024 * 4096, RingCostModel.RingActivationBytes(3, 4096, 1024));
        Assert.Equal(12.0 * 3 * 1024 * 4096, RingCostModel.RingActivationBytes(3, 4096, 1024, ElementType.Fp32));
        Assert.Equal(6 * 1040, RingCostModel.MinSeqPerDevice(1040));
    }

    [Theory]
    [InlineData(37, 1)]
    [InlineData(37, 2)]
    [InlineData(37, 4)]
    [InlineData(64, 4)]
    [InlineData(101, 7)]
    [InlineData(31, 8)]
    [InlineData(16, 16)]
    public void Layout_pair_counts_must_equal_brute_force(int seqLen, int devices)
    {
        foreach (var layout in Enum.GetValues<LayoutKind>())
        {
            var positions = Enumerable.Range(0, devices).Select(r => BruteForcePositions(layout, seqLen, devices, r)).ToArray();
            Assert.Equal(Enumerable.Range(0, seqLen), positions.SelectMany(p => p).Order());

            var runs = Enumerable.Range(0, devices).Select(r => LayoutRuns.For(layout, seqLen, devices, r)).ToArray();
            for (var q = 0; q < devices; q++)
            {
                Assert.Equal(positions[q].Length, LayoutRuns.Tokens(runs[q]));
                for (var k = 0; k < devices; k++)
                {
                    long expected = positions[q].Sum(i => positions[k].Count(j => j <= i));
                    Assert.Equal(expected, LayoutRuns.CausalPairs(runs[q], runs[k]));
                }
            }
        }
    }

    [Fact]
    public void Causal_pairs_must_be_exact_for_runs_of_different_strides()
    {
        LayoutRuns.Run[] queries = [new(5, 9, 3)];
        LayoutRuns.Run[] keys = [new(-4, 11, 2)];
        var q = Enumerable.Range(0, 9).Select(u => 5 + (3 * u));
        var k = Enumerable.Range(0, 11).Select(v => -4 + (2 * v)).ToArray();
        Assert.Equal(q.Sum(i => k.Count(j => j <= i)), LayoutRuns.CausalPairs(queries, keys));
    }

    // The layouts of ANCHORS.md §3, written token by token.
    private static int[] BruteForcePositions(LayoutKind layout, int n, int p, int device) =>
        Enumerable.Range(0, n).Where(t => layout switch
        {
            LayoutKind.Contiguous => (long)device * n / p <= t && t < (long)(device + 1) * n / p,
            LayoutKind.Striped => t % p == device,
            _ => ZigzagDevice(t, n, p) == device,
        }).ToArray();

    private static int ZigzagDevice(int t, int n, int p)
    {
        var chunk = Enumerable.Range(0, 2 * p).Last(i => (long)i * n / (2 * p) <= t);
        return chunk < p ? chunk : (2 * p) - 1 - chunk;
    }
}

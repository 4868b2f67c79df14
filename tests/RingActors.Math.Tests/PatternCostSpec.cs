using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

/// <summary>
/// <see cref="PatternCost"/> must bound what <see cref="PatternSpec.Parse"/> really allocates (measured), grow with what makes
/// a pattern expensive, and saturate instead of overflowing.
/// </summary>
public class PatternCostSpec
{
    [Theory]
    [InlineData("window:7", 1000)]
    [InlineData("dilated:5:3", 1000)]
    [InlineData("strided", 4096)]
    [InlineData("fixed:32:4", 4096)]
    [InlineData("random:3", 1000)]
    [InlineData("random:40", 4096)]
    [InlineData("bigbird:4", 1000)]
    [InlineData("bigbird:1:2:3", 700)]
    [InlineData("global:0,5,100-900", 1000)]
    [InlineData("global:0-999,0-999,0-999", 1000)]
    [InlineData("block:250:1100/1110/0111/0011", 1000)]
    [InlineData("union:window:8+global:0+random:2+bigbird:16", 4096)]
    public void PatternCost_must_bound_what_parsing_the_spec_allocates(string spec, int seqLen)
    {
        var context = new PatternContext(seqLen, Seed: 3, Causal: spec.Contains("random", StringComparison.Ordinal));
        PatternSpec.Parse(spec, context); // warm up: the first parse also JIT-compiles and fills static caches
        var estimate = PatternCost.TableBytes(spec, seqLen);
        var before = GC.GetAllocatedBytesForCurrentThread();
        PatternSpec.Parse(spec, context);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated <= estimate, $"'{spec}' over {seqLen} tokens allocated {allocated} bytes, estimated {estimate}");
    }

    [Theory]
    [InlineData("bigbird:1:0:0")]
    [InlineData("random:2147483647")]
    [InlineData("global:0-2147483646,0-2147483646,0-2147483646")]
    public void PatternCost_must_not_overflow_to_a_small_cost_for_the_largest_sequence(string spec) =>
        Assert.True(PatternCost.TableBytes(spec, int.MaxValue) > 64L << 30, $"'{spec}' over int.MaxValue tokens looks cheaper than 64 GiB");

    [Fact]
    public void PatternCost_must_grow_with_the_sequence_for_tables_and_not_for_windows()
    {
        Assert.Equal(PatternCost.TableBytes("window:64", 1000), PatternCost.TableBytes("window:64", int.MaxValue));
        Assert.True(PatternCost.TableBytes("bigbird:64", 1 << 20) > 100 * PatternCost.TableBytes("bigbird:64", 1 << 16));
        Assert.True(PatternCost.TableBytes("random:8", 1 << 20) > 10 * PatternCost.TableBytes("random:8", 1 << 16));
    }

    [Theory]
    [InlineData("block:8:layout.txt", true)]
    [InlineData("union:window:4+block:8:/dev/zero", true)]
    [InlineData("BLOCK:8:C:\\layouts\\a.txt", true)]
    [InlineData("block:8:1100/1110/0111/0011", false)]
    [InlineData("block:8:", false)]
    [InlineData("window:8", false)]
    [InlineData("global:0,1", false)]
    public void PatternCost_must_tell_a_spec_that_reads_a_file(string spec, bool readsFile) =>
        Assert.Equal(readsFile, PatternCost.ReadsFile(spec));

    [Fact]
    public void PatternSpec_must_refuse_a_layout_that_is_not_square_before_allocating_its_cells()
    {
        // 8000 empty rows: the cells were allocated (64 MB of flags) before the first row's length was checked.
        var spec = "block:1:" + new string('/', 7999);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<ArgumentException>(() => PatternSpec.Parse(spec, new PatternContext(8000)));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("layout row 1 has 0 cells, expected 8000", error.Message);
        Assert.True(allocated < 2 * 1024 * 1024, $"refusing the layout allocated {allocated} bytes");
    }
}

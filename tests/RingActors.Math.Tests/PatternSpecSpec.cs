using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

public class PatternSpecSpec
{
    private static readonly PatternContext Context = new(SeqLen: 257, Seed: 5);

    [Theory]
    [InlineData("window:256", typeof(SlidingWindowPattern), "window:256")]
    [InlineData("causal-window:256", typeof(SlidingWindowPattern), "causal-window:256")]
    [InlineData("  Window:16 ", typeof(SlidingWindowPattern), "window:16")]
    [InlineData("dilated:128:2", typeof(DilatedWindowPattern), "dilated:128:2")]
    [InlineData("global:0,1,2 ", typeof(GlobalTokensPattern), "global:0-2")]
    [InlineData("global:5,100-103,7", typeof(GlobalTokensPattern), "global:5,7,100-103")]
    [InlineData("strided:64", typeof(StridedPattern), "strided:64")]
    [InlineData("strided", typeof(StridedPattern), "strided:16")]
    [InlineData("fixed:64:8", typeof(FixedPattern), "fixed:64:8")]
    [InlineData("fixed:64", typeof(FixedPattern), "fixed:64:1")]
    [InlineData("fixed", typeof(FixedPattern), "fixed:16:1")]
    [InlineData("random:16", typeof(RandomPattern), "random:16")]
    [InlineData("bigbird:64:2:3", typeof(BigBirdPattern), "bigbird:64:2:3")]
    [InlineData("bigbird:64", typeof(BigBirdPattern), "bigbird:64:2:3")]
    [InlineData("block:128:100/110/011", typeof(BlockSparsePattern), "block:128:100/110/011")]
    [InlineData("union:window:64+global:0", typeof(UnionPattern), "union:window:64+global:0")]
    [InlineData("union:window:64", typeof(SlidingWindowPattern), "window:64")]
    public void Parse_must_build_the_named_pattern(string spec, Type type, string name)
    {
        var pattern = PatternSpec.Parse(spec, Context);
        Assert.IsType(type, pattern);
        Assert.Equal(name, pattern.Name);

        // The name parses back to the same pattern.
        var again = (IAttentionMask)PatternSpec.Parse(pattern.Name, Context);
        var mask = (IAttentionMask)pattern;
        for (var i = 0; i < 257; i += 7)
        {
            for (var j = 0; j < 257; j += 3)
            {
                Assert.Equal(mask.Allows(i, j), again.Allows(i, j));
            }
        }
    }

    [Fact]
    public void Parse_must_pass_the_arguments_through()
    {
        Assert.Equal(2, ((DilatedWindowPattern)PatternSpec.Parse("dilated:128:2", Context)).Dilation);
        Assert.Equal(8, ((FixedPattern)PatternSpec.Parse("fixed:64:8", Context)).SummaryKeys);
        var random = (RandomPattern)PatternSpec.Parse("random:16", Context with { Causal = true });
        Assert.Equal((16, 5, true), (random.KeysPerQuery, random.Seed, random.Causal));
        var bigBird = (BigBirdPattern)PatternSpec.Parse("bigbird:64:2:3", Context);
        Assert.Equal((64, 2, 3), (bigBird.BlockSize, bigBird.GlobalBlocks, bigBird.RandomBlocks));
    }

    [Fact]
    public void Parse_must_read_a_layout_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"ringactors-layout-{Guid.NewGuid():N}.txt");
        File.WriteAllLines(path, ["# three blocks of 100", "1 0 0", "1,1,0", "", "0 1 1"]);
        try
        {
            var pattern = Assert.IsType<BlockSparsePattern>(PatternSpec.Parse($"block:100:{path}", new PatternContext(257)));
            Assert.Equal($"block:100:{path}", pattern.Name);
            Assert.Equal("100/110/011", pattern.FormatLayout());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Parse_must_build_top_k_from_the_input_in_the_context()
    {
        var input = AttentionInput.Random(new AttentionShape(1, 2, 1, 31, 8), seed: 2);
        var pattern = Assert.IsType<TopKPattern>(PatternSpec.Parse("topk:4", new PatternContext(31, Causal: true, Input: input)));
        Assert.Equal((4, true), (pattern.K, pattern.IsCausal));
        Assert.IsType<HeadwiseUnionPattern>(PatternSpec.Parse("union:topk:4+window:2", new PatternContext(31, Input: input)));
    }

    [Theory]
    [InlineData("", "empty pattern")]
    [InlineData("sliding:4", "unknown pattern 'sliding'")]
    [InlineData("window", "window takes 1 argument")]
    [InlineData("window:258", "larger than allowed")]
    [InlineData("window:0", "must be ≥ 1")]
    [InlineData("window:-3", "must be ≥ 1")]
    [InlineData("window:abc", "'abc' is not a whole number")]
    [InlineData("window:1.5", "not a whole number")]
    [InlineData("window:99999999999", "not a whole number")]
    [InlineData("window:8:2", "window takes 1 argument")]
    [InlineData("causal-window:300", "larger than allowed")]
    [InlineData("dilated:128", "dilated takes 2 arguments")]
    [InlineData("dilated:128:3", "W·D = 384")]
    [InlineData("global:", "not a whole number")]
    [InlineData("global:257", "larger than allowed")]
    [InlineData("global:9-3", "runs backwards")]
    [InlineData("global:-1", "must be ≥ 0")]
    [InlineData("strided:0", "must be ≥ 1")]
    [InlineData("fixed:64:65", "summary keys C 65 is larger")]
    [InlineData("random:0", "must be ≥ 1")]
    [InlineData("bigbird:64:6:1", "global blocks G 6 is larger")]
    [InlineData("bigbird:0", "must be ≥ 1")]
    [InlineData("block:64", "block takes B:LAYOUT")]
    [InlineData("block:128:10/01", "expected 3×3")]
    [InlineData("block:128:100/110/01", "row 3 has 2 cells")]
    [InlineData("block:128:no-such-layout.txt", "neither inline rows")]
    [InlineData("topk:4", "needs the attention input")]
    [InlineData("union:", "union needs its members")]
    [InlineData("union:window:4+", "member is empty")]
    [InlineData("union:window:4+union:global:0", "cannot be nested")]
    [InlineData("union:window:4+bogus", "unknown pattern 'bogus'")]
    public void Parse_must_refuse_bad_specs_with_a_one_line_message(string spec, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => PatternSpec.Parse(spec, Context));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Equal("spec", error.ParamName);
    }

    [Fact]
    public void Parse_must_refuse_a_context_without_tokens()
    {
        var error = Assert.Throws<ArgumentException>(() => PatternSpec.Parse("window:4", new PatternContext(0)));
        Assert.Equal("context", error.ParamName);
    }

    [Fact]
    public void Help_must_list_every_pattern_with_its_arguments()
    {
        foreach (var name in PatternSpec.Names)
        {
            Assert.Contains($"  {name}", PatternSpec.Help, StringComparison.Ordinal);
        }

        Assert.Contains("bigbird:B[:G[:R]]", PatternSpec.Help, StringComparison.Ordinal);
        Assert.Contains("union:A+B", PatternSpec.Help, StringComparison.Ordinal);
    }
}

using RingActors.Math.Masks;

namespace RingActors.Math.Tests;

/// <summary>Blockwise partials of every (query chunk, key block) pair, merged in any order, equal the float64 oracle.</summary>
public class BlockwiseMergeSpec
{
    public static TheoryData<string, int, int, bool, int, int> Splits => new()
    {
        // layout, devices, seq, causal, heads, kvHeads
        { "contiguous", 3, 31, true, 2, 1 },
        { "contiguous", 4, 257, false, 4, 2 },
        { "striped", 4, 31, true, 2, 2 },
        { "striped", 3, 257, true, 4, 1 },
        { "zigzag", 2, 31, true, 3, 1 },
        { "zigzag", 4, 257, true, 4, 2 },
        { "zigzag", 3, 100, false, 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Splits))]
    public void Partials_merged_in_any_order_must_equal_the_oracle(string layout, int devices, int seq, bool causal, int heads, int kvHeads)
    {
        var shape = new AttentionShape(2, heads, kvHeads, seq, 24);
        var input = AttentionInput.Random(shape, seed: seq + devices);
        var options = new AttentionOptions(Causal: causal);
        var chunks = Enumerable.Range(0, devices).Select(r => Positions(layout, devices, seq, r)).ToArray();
        var output = new float[shape.QueryLength];
        var random = new Random(seq);
        var skippedEverything = 0;
        foreach (var queryPositions in chunks)
        {
            var queries = new QueryChunk(Gather(input.Q, shape.Batch * shape.Heads, seq, shape.HeadDim, queryPositions), queryPositions);
            var partials = new List<PartialAttention>();
            foreach (var keyPositions in chunks.OrderBy(_ => random.Next()))
            {
                var block = new KeyValueBlock(
                    Gather(input.K, shape.Batch * kvHeads, seq, shape.HeadDim, keyPositions),
                    Gather(input.V, shape.Batch * kvHeads, seq, shape.HeadDim, keyPositions),
                    keyPositions);
                var partial = new PartialAttention(shape.Batch, heads, queryPositions.Length, shape.HeadDim);
                var work = BlockwiseAttention.Accumulate(queries, block, AttentionHeads.Of(shape), options, partial);
                skippedEverything += work.TilesComputed == 0 ? 1 : 0;
                partials.Add(partial);
            }

            var merged = new PartialAttention(shape.Batch, heads, queryPositions.Length, shape.HeadDim);
            foreach (var partial in partials.OrderBy(_ => random.Next()))
            {
                SoftmaxMerge.Merge(merged, partial);
            }

            Scatter(merged.Output, output, shape.Batch * heads, seq, shape.HeadDim, queryPositions);
        }

        var (expected, _) = ReferenceAttention.Compute(input, options);
        var error = ErrorMetrics.Compare(output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        if (causal && layout == "contiguous")
        {
            Assert.True(skippedEverything > 0, "a contiguous causal split has key blocks wholly in the future: they must be skipped");
        }
    }

    [Fact]
    public void Rows_masked_in_every_block_must_output_zeros_never_NaN()
    {
        var shape = new AttentionShape(1, 2, 1, 40, 8);
        var input = AttentionInput.Random(shape, seed: 5);
        // Queries 0..9 may attend nothing at all; the others attend everything.
        var options = new AttentionOptions(Pattern: new QueriesFromPattern(10));
        var (result, _) = BlockwiseAttention.ComputeInBlocks(input, options, blockTokens: 7);
        var dense = DenseAttention.Compute(input, options);
        var (expected, _) = ReferenceAttention.Compute(input, options);
        for (var head = 0; head < 2; head++)
        {
            for (var row = 0; row < 10; row++)
            {
                var index = (head * 40) + row;
                Assert.True(float.IsNegativeInfinity(result.Lse[index]));
                Assert.All(result.Output.AsSpan(index * 8, 8).ToArray(), value => Assert.Equal(0f, value));
                Assert.All(dense.Output.AsSpan(index * 8, 8).ToArray(), value => Assert.Equal(0f, value));
            }
        }

        Assert.All(result.Output, value => Assert.True(float.IsFinite(value)));
        Assert.True(ErrorMetrics.Compare(result.Output, expected).RelativeError < 1e-5);
        Assert.True(ErrorMetrics.Compare(dense.Output, expected).RelativeError < 1e-5);
    }

    [Fact]
    public void Dense_float32_must_equal_the_oracle_with_a_causal_mask_on_odd_sizes()
    {
        var shape = new AttentionShape(2, 3, 1, 31, 9);
        var input = AttentionInput.Random(shape, seed: 31);
        var options = new AttentionOptions(Causal: true, Threads: 2);
        var dense = DenseAttention.Compute(input, options);
        var (expected, expectedLse) = ReferenceAttention.Compute(input, options);
        Assert.True(ErrorMetrics.Compare(dense.Output, expected).RelativeError < 1e-5);
        for (var i = 0; i < expectedLse.Length; i++)
        {
            Assert.Equal(expectedLse[i], dense.Lse[i], 4);
        }
    }

    [Fact]
    public void Accumulate_must_refuse_a_block_of_the_wrong_size_naming_the_sizes()
    {
        var heads = new AttentionHeads(1, 2, 1, 8);
        var queries = new QueryChunk(new float[2 * 5 * 8], [0, 1, 2, 3, 4]);
        var block = new KeyValueBlock(new float[3 * 8], new float[4 * 8], [0, 1, 2, 3]);
        var error = Assert.Throws<ArgumentException>(() => BlockwiseAttention.Accumulate(queries, block, heads, AttentionOptions.Default, new PartialAttention(1, 2, 5, 8)));
        Assert.Equal("keys", error.ParamName);
        Assert.Contains("24", error.Message);
        Assert.Contains("32", error.Message);
    }

    [Theory]
    [InlineData(0, 1, 1, 4, 8, "Batch")]
    [InlineData(1, 3, 2, 4, 8, "Heads")]
    [InlineData(1, 2, 0, 4, 8, "KvHeads")]
    [InlineData(1, 2, 1, 0, 8, "SeqLen")]
    [InlineData(1, 2, 1, 4, -1, "HeadDim")]
    public void Shapes_out_of_range_must_throw_naming_the_parameter(int batch, int heads, int kvHeads, int seq, int dim, string parameter)
    {
        var error = Assert.Throws<ArgumentException>(() => new AttentionShape(batch, heads, kvHeads, seq, dim).Validate());
        Assert.Equal(parameter, error.ParamName);
    }

    internal static int[] Positions(string layout, int devices, int seq, int device) => layout switch
    {
        "contiguous" => Enumerable.Range(0, seq).Where(t => (long)t * devices / seq == device).ToArray(),
        "striped" => Enumerable.Range(0, seq).Where(t => t % devices == device).ToArray(),
        "zigzag" => Enumerable.Range(0, seq).Where(t => ((long)t * 2 * devices / seq) is var chunk && (chunk == device || chunk == (2 * devices) - 1 - device)).ToArray(),
        _ => throw new ArgumentException(layout),
    };

    private static float[] Gather(float[] source, int heads, int seq, int dim, int[] positions)
    {
        var result = new float[heads * positions.Length * dim];
        for (var h = 0; h < heads; h++)
        {
            for (var t = 0; t < positions.Length; t++)
            {
                source.AsSpan(((h * seq) + positions[t]) * dim, dim).CopyTo(result.AsSpan(((h * positions.Length) + t) * dim));
            }
        }

        return result;
    }

    private static void Scatter(float[] chunk, float[] destination, int heads, int seq, int dim, int[] positions)
    {
        for (var h = 0; h < heads; h++)
        {
            for (var t = 0; t < positions.Length; t++)
            {
                chunk.AsSpan(((h * positions.Length) + t) * dim, dim).CopyTo(destination.AsSpan(((h * seq) + positions[t]) * dim));
            }
        }
    }

    /// <summary>Queries before <c>first</c> attend nothing; the rest attend every key.</summary>
    private sealed class QueriesFromPattern(int first) : StaticPattern
    {
        public override string Name => $"queries-from:{first}";

        public override bool Allows(int query, int key) => query >= first;
    }
}

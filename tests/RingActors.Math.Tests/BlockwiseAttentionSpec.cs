namespace RingActors.Math.Tests;

public class BlockwiseAttentionSpec
{
    public static TheoryData<int, int, int, int, int, bool, int> Shapes => new()
    {
        // batch, heads, kvHeads, seq, dim, causal, threads
        { 1, 1, 1, 31, 8, false, 1 },
        { 1, 1, 1, 31, 8, true, 1 },
        { 2, 4, 2, 257, 16, true, 2 },
        { 1, 4, 1, 200, 33, false, 2 },
        { 1, 2, 2, 130, 64, true, 1 },
        { 1, 3, 3, 65, 7, false, 1 },
        { 2, 2, 1, 300, 80, true, 2 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Accumulate_must_equal_the_float64_oracle(int batch, int heads, int kvHeads, int seq, int dim, bool causal, int threads)
    {
        var shape = new AttentionShape(batch, heads, kvHeads, seq, dim);
        var input = AttentionInput.Random(shape, seed: seq * 31 + dim);
        var options = new AttentionOptions(Causal: causal, Threads: threads);
        var (result, _) = BlockwiseAttention.Compute(input, options);
        var (expected, expectedLse) = ReferenceAttention.Compute(input, options);
        var error = ErrorMetrics.Compare(result.Output, expected);
        Assert.True(error.RelativeError < 1e-5, $"relative error {error.RelativeError}");
        for (var i = 0; i < expectedLse.Length; i++)
        {
            Assert.Equal(expectedLse[i], result.Lse[i], 1e-4);
        }
    }
}

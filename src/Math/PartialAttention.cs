namespace RingActors.Math;

/// <summary>
/// The running result of a set of query rows: each row's output (normalised by its own softmax sum) and log-sum-exp.
/// Rows are laid out [Batch, Heads, Tokens] with HeadDim values each; a fresh partial is the merge identity (0, −∞).
/// </summary>
public sealed class PartialAttention
{
    public PartialAttention(int batch, int heads, int tokens, int headDim)
    {
        Guard.Positive(batch, nameof(batch));
        Guard.Positive(heads, nameof(heads));
        if (tokens < 0)
        {
            throw new ArgumentException($"tokens must be ≥ 0, got {tokens}", nameof(tokens));
        }

        Guard.Positive(headDim, nameof(headDim));
        Batch = batch;
        Heads = heads;
        Tokens = tokens;
        HeadDim = headDim;
        Output = new float[batch * heads * tokens * headDim];
        Lse = new float[batch * heads * tokens];
        Array.Fill(Lse, float.NegativeInfinity);
    }

    public PartialAttention(int batch, int heads, int tokens, int headDim, float[] output, float[] lse)
    {
        Batch = batch;
        Heads = heads;
        Tokens = tokens;
        HeadDim = headDim;
        Guard.Length(output, (long)batch * heads * tokens * headDim, nameof(output));
        Guard.Length(lse, (long)batch * heads * tokens, nameof(lse));
        Output = output;
        Lse = lse;
    }

    public int Batch { get; }

    public int Heads { get; }

    public int Tokens { get; }

    public int HeadDim { get; }

    public int Rows => Batch * Heads * Tokens;

    public float[] Output { get; }

    public float[] Lse { get; }

    /// <summary>Bytes held by output and lse.</summary>
    public long Bytes => (Output.LongLength + Lse.LongLength) * sizeof(float);

    public void Reset()
    {
        Array.Clear(Output);
        Array.Fill(Lse, float.NegativeInfinity);
    }
}

using System.Numerics.Tensors;

namespace RingActors.Math.Masks;

/// <summary>
/// Top-k attention (data-dependent; ANCHORS.md §4 uses it to stand in for learned sparsity): for every (batch, head), each
/// query keeps the k keys with the highest scores scale·q·k — among keys j ≤ i when causal — ties going to the earlier key.
/// Built once from an <see cref="AttentionInput"/>; each head's choice is kept as sorted key lists (B·H·N·k integers).
/// </summary>
public sealed class TopKPattern : AttentionPattern
{
    private readonly KeyListMask[] _masks;
    private readonly AttentionShape _shape;

    public TopKPattern(AttentionInput input, int k, bool causal = false, float? scale = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        Guard.Positive(k, nameof(k));
        var shape = input.Shape;
        var effectiveScale = scale ?? shape.DefaultScale;
        if (!float.IsFinite(effectiveScale))
        {
            throw new ArgumentException($"scale must be finite, got {effectiveScale}", nameof(scale));
        }

        K = k;
        Causal = causal;
        _shape = shape;
        _masks = new KeyListMask[shape.Batch * shape.Heads];
        for (var b = 0; b < shape.Batch; b++)
        {
            for (var h = 0; h < shape.Heads; h++)
            {
                _masks[(b * shape.Heads) + h] = SelectHead(input, b, h, k, causal, effectiveScale);
            }
        }
    }

    /// <summary>k, the keys each query keeps (fewer only when fewer are allowed).</summary>
    public int K { get; }

    /// <summary>Only keys j ≤ i compete.</summary>
    public bool Causal { get; }

    public override string Name => $"topk:{K}";

    public override bool IsCausal => Causal;

    public override long MemoryBytes => _masks.Sum(mask => mask.MemoryBytes);

    public override IAttentionMask MaskFor(int batch, int head) => Mask(batch, head);

    /// <summary>The sorted key lists of one (batch, head).</summary>
    public KeyListMask Mask(int batch, int head)
    {
        if ((uint)batch >= (uint)_shape.Batch || (uint)head >= (uint)_shape.Heads)
        {
            throw new ArgumentException($"(batch {batch}, head {head}) is outside the {_shape.Batch}×{_shape.Heads} heads the pattern was built for", nameof(head));
        }

        return _masks[(batch * _shape.Heads) + head];
    }

    public override void Validate(AttentionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Batch != _shape.Batch || shape.Heads != _shape.Heads || shape.SeqLen != _shape.SeqLen)
        {
            throw new ArgumentException(
                $"pattern {Name} was built for batch {_shape.Batch}, heads {_shape.Heads}, {_shape.SeqLen} tokens; the problem has batch {shape.Batch}, heads {shape.Heads}, {shape.SeqLen} tokens",
                nameof(shape));
        }
    }

    private static KeyListMask SelectHead(AttentionInput input, int batch, int head, int k, bool causal, float scale)
    {
        var shape = input.Shape;
        int n = shape.SeqLen, d = shape.HeadDim;
        var queryOffset = ((batch * shape.Heads) + head) * n * d;
        var keyOffset = ((batch * shape.KvHeads) + (head / shape.GroupSize)) * n * d;
        var perRow = System.Math.Min(k, n);
        var scores = new float[n];
        var heap = new (float Score, int Key)[perRow];
        return KeyListMask.Build(n, perRow, (query, buffer) =>
        {
            var candidates = causal ? query + 1 : n;
            var q = input.Q.AsSpan(queryOffset + (query * d), d);
            for (var j = 0; j < candidates; j++)
            {
                scores[j] = scale * TensorPrimitives.Dot(q, input.K.AsSpan(keyOffset + (j * d), d));
            }

            var count = System.Math.Min(perRow, candidates);
            SelectTop(scores.AsSpan(0, candidates), heap.AsSpan(0, count), buffer[..count]);
            return count;
        });
    }

    /// <summary>The indices of the <c>chosen.Length</c> largest scores, sorted, by a min-heap of the best seen so far.</summary>
    private static void SelectTop(ReadOnlySpan<float> scores, Span<(float Score, int Key)> heap, Span<int> chosen)
    {
        var size = heap.Length;
        for (var j = 0; j < size; j++)
        {
            heap[j] = (scores[j], j);
        }

        for (var i = (size / 2) - 1; i >= 0; i--)
        {
            SiftDown(heap, i);
        }

        for (var j = size; j < scores.Length; j++)
        {
            // The root is the worst kept entry; a later key replaces it only with a strictly higher score (ties keep the earlier key).
            if (scores[j] > heap[0].Score)
            {
                heap[0] = (scores[j], j);
                SiftDown(heap, 0);
            }
        }

        for (var i = 0; i < size; i++)
        {
            chosen[i] = heap[i].Key;
        }

        chosen.Sort();
    }

    private static void SiftDown(Span<(float Score, int Key)> heap, int index)
    {
        while (true)
        {
            var worst = index;
            var left = (2 * index) + 1;
            var right = left + 1;
            if (left < heap.Length && Worse(heap[left], heap[worst]))
            {
                worst = left;
            }

            if (right < heap.Length && Worse(heap[right], heap[worst]))
            {
                worst = right;
            }

            if (worst == index)
            {
                return;
            }

            (heap[index], heap[worst]) = (heap[worst], heap[index]);
            index = worst;
        }
    }

    /// <summary>Lower score is worse; among equal scores the later key is worse.</summary>
    private static bool Worse((float Score, int Key) a, (float Score, int Key) b) => a.Score < b.Score || (a.Score == b.Score && a.Key > b.Key);
}

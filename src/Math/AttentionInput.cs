namespace RingActors.Math;

/// <summary>Q, K and V of one attention problem, laid out as <see cref="AttentionShape"/> describes.</summary>
public sealed class AttentionInput
{
    public AttentionInput(AttentionShape shape, float[] q, float[] k, float[] v)
    {
        shape.Validate();
        Guard.Length(q, shape.QueryLength, nameof(q));
        Guard.Length(k, shape.KeyValueLength, nameof(k));
        Guard.Length(v, shape.KeyValueLength, nameof(v));
        Shape = shape;
        Q = q;
        K = k;
        V = v;
    }

    private AttentionInput(AttentionShape shape)
    {
        shape.Validate();
        Shape = shape;
        Q = K = V = [];
        IsPhantom = true;
    }

    public AttentionShape Shape { get; }

    /// <summary>True for an input that carries only its shape (see <see cref="Phantom"/>): Q, K and V are empty.</summary>
    public bool IsPhantom { get; }

    public float[] Q { get; }

    public float[] K { get; }

    public float[] V { get; }

    /// <summary>
    /// A phantom input: the shape of a problem without its numbers (Q, K and V empty), for running the ring's protocol in
    /// virtual time without computing anything.
    /// </summary>
    public static AttentionInput Phantom(AttentionShape shape) => new(shape);

    /// <summary>Seeded standard-normal inputs, so every run of the same seed sees the same numbers.</summary>
    public static AttentionInput Random(AttentionShape shape, int seed)
    {
        shape.Validate();
        var random = new Random(seed);
        return new AttentionInput(shape, Gaussian(random, shape.QueryLength), Gaussian(random, shape.KeyValueLength), Gaussian(random, shape.KeyValueLength));
    }

    /// <summary>A seeded standard-normal output gradient dO [B, H, N, d] for <paramref name="shape"/>, independent of the inputs' stream.</summary>
    public static float[] RandomOutputGradient(AttentionShape shape, int seed)
    {
        ArgumentNullException.ThrowIfNull(shape);
        shape.Validate();
        return Gaussian(new Random(unchecked((seed * 31) + 0x0D0)), shape.QueryLength);
    }

    private static float[] Gaussian(Random random, int length)
    {
        var values = new float[length];
        for (var i = 0; i < length; i += 2)
        {
            // Box–Muller gives two independent normals per pair of uniforms.
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            var radius = System.Math.Sqrt(-2.0 * System.Math.Log(u1));
            values[i] = (float)(radius * System.Math.Cos(2 * System.Math.PI * u2));
            if (i + 1 < length)
            {
                values[i + 1] = (float)(radius * System.Math.Sin(2 * System.Math.PI * u2));
            }
        }

        return values;
    }
}

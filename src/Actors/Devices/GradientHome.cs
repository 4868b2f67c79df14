using RingActors.Math;

namespace RingActors.Actors.Devices;

/// <summary>What became of a contribution that reached its home.</summary>
public enum ContributionVerdict
{
    /// <summary>The first from its contributor: summed.</summary>
    Summed,

    /// <summary>Its contributor's was summed before (a duplicate, a retransmission, a recomputation): acknowledged, not summed.</summary>
    Duplicate,

    /// <summary>Not for this block or this incarnation, or of the wrong shape: refused and not summed.</summary>
    Refused,
}

/// <summary>
/// The dK/dV sums of one device's own key/value block in the backward pass, one incarnation's (plain class, no Akka). Every
/// device of the ring contributes to it exactly once: the home keeps the set of contributors already summed, so a second
/// contribution of the same device — an injected duplicate, a retransmission whose first copy arrived, the recomputation of a
/// re-created contributor, or one recomputed because this home was re-created — is acknowledged and dropped. The sums are
/// complete when all P devices have contributed.
/// </summary>
public sealed class GradientHome
{
    private readonly bool[] _summed;

    /// <param name="home">The device whose block this is.</param>
    /// <param name="epoch">The home's incarnation: contributions addressed to another are refused.</param>
    /// <param name="elements">Floats of dK (and of dV) of the block: B·Hkv·n·d.</param>
    public GradientHome(int home, int devices, int epoch, int elements)
    {
        if (devices < 1 || (uint)home >= (uint)devices)
        {
            throw new ArgumentException($"home must be in 0..{devices - 1}, got {home}", nameof(home));
        }

        Home = home;
        Epoch = epoch;
        _summed = new bool[devices];
        Gradients = new KeyValueGradients(new float[elements], new float[elements]);
    }

    public int Home { get; }

    public int Epoch { get; }

    /// <summary>dK and dV of the block so far.</summary>
    public KeyValueGradients Gradients { get; }

    /// <summary>Contributors summed so far.</summary>
    public int Summed { get; private set; }

    /// <summary>Contributions dropped as already summed.</summary>
    public int Duplicates { get; private set; }

    /// <summary>Every device of the ring has contributed once.</summary>
    public bool IsComplete => Summed == _summed.Length;

    /// <summary>Whether device <paramref name="contributor"/> has been summed.</summary>
    public bool HasFrom(int contributor) => _summed[contributor];

    /// <summary>
    /// Sums <paramref name="keys"/> and <paramref name="values"/> (empty: a zero contribution, a wholly masked pair) from
    /// <paramref name="contributor"/> if it is the first from that device, addressed to block <paramref name="home"/> of
    /// incarnation <paramref name="epoch"/>.
    /// </summary>
    public (ContributionVerdict Verdict, string Reason) Add(int contributor, int home, int epoch, ReadOnlySpan<float> keys, ReadOnlySpan<float> values)
    {
        if (home != Home || epoch != Epoch)
        {
            return (ContributionVerdict.Refused, $"contribution for block {home} (incarnation {epoch}); this is block {Home}, incarnation {Epoch}");
        }

        if ((uint)contributor >= (uint)_summed.Length)
        {
            return (ContributionVerdict.Refused, $"contributor {contributor} is outside 0..{_summed.Length - 1}");
        }

        var length = Gradients.Keys.Length;
        if (!(keys.IsEmpty && values.IsEmpty) && (keys.Length != length || values.Length != length))
        {
            return (ContributionVerdict.Refused, $"dK holds {keys.Length} and dV {values.Length} values, the block needs {length} each");
        }

        if (_summed[contributor])
        {
            Duplicates++;
            return (ContributionVerdict.Duplicate, $"device {contributor}'s contribution to block {Home} was summed before");
        }

        _summed[contributor] = true;
        Summed++;
        if (!keys.IsEmpty)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(Gradients.Keys, keys, Gradients.Keys);
            System.Numerics.Tensors.TensorPrimitives.Add(Gradients.Values, values, Gradients.Values);
        }

        return (ContributionVerdict.Summed, string.Empty);
    }
}

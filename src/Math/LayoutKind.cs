namespace RingActors.Math;

/// <summary>How the tokens of a sequence are split over the devices of a ring (ANCHORS.md §3).</summary>
public enum LayoutKind
{
    /// <summary>Device r holds one contiguous run of about N/P tokens: under a causal mask the last device does about twice the mean work.</summary>
    Contiguous,

    /// <summary>Token t goes to device t mod P (Striped Attention): causal work is balanced.</summary>
    Striped,

    /// <summary>The sequence is cut into 2P chunks and device r holds chunks r and 2P − 1 − r (ring-flash-attention's zigzag): causal work is balanced.</summary>
    Zigzag,
}

namespace RingActors.Host.Cli;

/// <summary>
/// The one mask vocabulary of every verb: <c>--causal</c> (the default) or <c>--no-causal</c>, and the words each report
/// prints in its first line and JSON.
/// </summary>
public static class MaskWords
{
    /// <summary>Why .npy inputs need an explicit mask: the tensors' model decides it, and PyTorch's default is the opposite of ours.</summary>
    public const string NpyNeedsMask =
        "with --q/--k/--v give the mask: --causal or --no-causal (the tensors' model decides it; PyTorch's scaled_dot_product_attention defaults to is_causal=False, RingActors to causal)";

    /// <summary>The mask as the first line of a report and the JSON's <c>mask</c> field say it.</summary>
    public static string Name(bool causal) => causal ? "causal" : "no-causal";

    /// <summary>The error when both spellings are given, or null.</summary>
    public static string? Conflict(bool causal, bool noCausal) =>
        causal && noCausal ? "--causal and --no-causal contradict each other: give one" : null;
}

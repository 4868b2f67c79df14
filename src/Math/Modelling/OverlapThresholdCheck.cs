namespace RingActors.Math.Modelling;

/// <summary>The model's overlap threshold next to one a benchmark measured, and whether they agree within the stated factor.</summary>
/// <param name="PredictedBlockSize">The model's minimal block size c = (e/2)·(H_kv/H)·F_eff/B, in tokens.</param>
/// <param name="MeasuredBlockSize">The smallest block size (tokens) at which the benchmark saw the hand-off hidden behind the compute.</param>
/// <param name="Ratio">Measured over predicted.</param>
/// <param name="Factor">The agreement asked for: the ratio must lie in [1/Factor, Factor].</param>
public sealed record OverlapThresholdComparison(double PredictedBlockSize, double MeasuredBlockSize, double Ratio, double Factor)
{
    /// <summary>Whether the measured threshold is within <see cref="Factor"/> of the predicted one, either way.</summary>
    public bool Agrees => Ratio >= 1 / Factor && Ratio <= Factor;
}

/// <summary>
/// Checks the model's overlap threshold c = F/B (ANCHORS.md §1) against the one the cluster benchmark measures: the smallest
/// block size at which a ring of nodes hides its hand-offs behind its compute. The cluster benchmark does not exist yet
/// (issue 4); when it does, it passes its measured threshold and the profile it measured (kernel FLOP/s, link bytes/s) here.
/// </summary>
public static class OverlapThresholdCheck
{
    /// <summary>
    /// Default agreement factor: 2. The model ignores per-message overheads, serialization and contention, each of which moves
    /// the measured threshold; a factor of 2 either way still tells a link-bound ring from a compute-bound one.
    /// </summary>
    public const double DefaultFactor = 2;

    /// <summary>Compares <paramref name="measuredBlockSize"/> (tokens) with the model's threshold for <paramref name="profile"/>.</summary>
    public static OverlapThresholdComparison CompareWithClusterBenchmark(
        DeviceProfile profile,
        double measuredBlockSize,
        ElementType type = ElementType.Fp32,
        int heads = 1,
        int kvHeads = 1,
        double factor = DefaultFactor)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (!double.IsFinite(measuredBlockSize) || measuredBlockSize <= 0)
        {
            throw new ArgumentException($"the measured threshold must be a finite block size > 0 tokens, got {measuredBlockSize}", nameof(measuredBlockSize));
        }

        if (!double.IsFinite(factor) || factor < 1)
        {
            throw new ArgumentException($"the agreement factor must be finite and ≥ 1, got {factor}", nameof(factor));
        }

        var predicted = RingCostModel.MinBlockSize(profile, type, heads, kvHeads);
        return new OverlapThresholdComparison(predicted, measuredBlockSize, measuredBlockSize / predicted, factor);
    }
}

using RingActors.Math.Modelling;

namespace RingActors.Math.Tests.Modelling;

public class OverlapThresholdCheckSpec
{
    [Fact]
    public void OverlapThresholdCheck_must_agree_within_the_factor_either_way_and_not_beyond()
    {
        // 1 GFLOP/s over 1 MB/s: c = F/B = 1,000 tokens in bf16 multi-head, 2,000 in fp32.
        var profile = new DeviceProfile("bench", 1e9, 1, 1L << 30, 1e6, 0, "test");

        var close = OverlapThresholdCheck.CompareWithClusterBenchmark(profile, 3_000, ElementType.Fp32);
        Assert.Equal(2_000, close.PredictedBlockSize, 1e-9);
        Assert.Equal(1.5, close.Ratio, 1e-12);
        Assert.True(close.Agrees);
        Assert.True(OverlapThresholdCheck.CompareWithClusterBenchmark(profile, 1_000, ElementType.Fp32).Agrees);
        Assert.False(OverlapThresholdCheck.CompareWithClusterBenchmark(profile, 999, ElementType.Fp32).Agrees);
        Assert.False(OverlapThresholdCheck.CompareWithClusterBenchmark(profile, 4_001, ElementType.Fp32).Agrees);
        Assert.True(OverlapThresholdCheck.CompareWithClusterBenchmark(profile, 4_001, ElementType.Fp32, factor: 3).Agrees);
    }

    [Theory]
    [InlineData(0.0, 2.0, "measuredBlockSize")]
    [InlineData(double.NaN, 2.0, "measuredBlockSize")]
    [InlineData(100.0, 0.5, "factor")]
    public void OverlapThresholdCheck_must_refuse_bad_measurements(double measured, double factor, string parameter)
    {
        var profile = ProfileCatalog.Get("a100-nvlink");
        var error = Assert.Throws<ArgumentException>(() => OverlapThresholdCheck.CompareWithClusterBenchmark(profile, measured, factor: factor));
        Assert.Equal(parameter, error.ParamName);
    }
}

using RingActors.Math.Modelling;

namespace RingActors.Math.Tests.Modelling;

public class ModelPlanSpec
{
    [Fact]
    public void Llama3_shapes_must_have_their_published_parameter_counts()
    {
        // 8.03 B, 70.6 B, 405.9 B (Meta's model cards round them to 8, 70 and 405).
        Assert.Equal(8.03e9, ModelShape.Llama3_8B.Parameters, 0.01e9);
        Assert.Equal(70.55e9, ModelShape.Llama3_70B.Parameters, 0.01e9);
        Assert.Equal(405.8e9, ModelShape.Llama3_405B.Parameters, 0.1e9);
    }

    [Fact]
    public void Backward_attention_must_cost_two_and_a_half_forwards()
    {
        var device = ClusterProfile.Flat(ProfileCatalog.Get("h100-nvlink"), 1);
        var forward = ContextParallelPlanner.Plan(new CpRequest(device, 8192, 32, 8, 128, Causal: false), CpStrategy.RingPassKv);
        var training = ContextParallelPlanner.Plan(new CpRequest(device, 8192, 32, 8, 128, Causal: false, Mode: PlanMode.Training), CpStrategy.RingPassKv);
        // 4·N²·d per head forward, 10·N²·d backward (ANCHORS.md §7), on one device at 989 TFLOP/s.
        Assert.Equal(4.0 * 8192 * 8192 * 128 * 32 / 989e12, forward.PredictedSeconds, 1e-12);
        Assert.Equal(14.0 * 8192 * 8192 * 128 * 32 / 989e12, training.PredictedSeconds, 1e-12);
    }

    [Fact]
    public void Tensor_parallel_all_reduces_must_send_their_ring_volume_per_layer()
    {
        // One DGX H100, TP 8, CP 1: no attention traffic; two all-reduces per layer of B·N·hidden·s bytes, each 2·(t − 1)/t of it per device.
        const int n = 16384;
        var request = new CpRequest(ClusterCatalog.Get("dgx-h100", 1), n, 32, 8, 128, TensorParallel: 8, Model: ModelShape.Llama3_8B);
        var plan = ContextParallelPlanner.Plan(request, CpStrategy.RingPassKv);
        Assert.Equal(0, plan.BytesSentPerDevice);
        Assert.Equal(2 * 2 * 7 * (n * 4096L * 2 / 8), plan.LayerBytesSentPerDevice);

        var training = ContextParallelPlanner.Plan(request with { Mode = PlanMode.Training }, CpStrategy.RingPassKv);
        Assert.Equal(2 * plan.LayerBytesSentPerDevice, training.LayerBytesSentPerDevice);
        Assert.True(training.PredictedSeconds > 2.5 * plan.PredictedSeconds);
    }

    [Fact]
    public void Memory_must_count_weights_kv_cache_and_in_flight_blocks()
    {
        const int n = 65536, p = 8;
        var cluster = ClusterCatalog.Get("dgx-h100", 1);
        var request = new CpRequest(cluster, n, 32, 8, 128, Model: ModelShape.Llama3_8B);
        var plan = ContextParallelPlanner.Plan(request, CpStrategy.RingPassKv);
        const double c = n / p, layers = 32, hidden = 4096;
        var weights = 2 * ((layers * ((2 * hidden * 4096) + (2 * hidden * 1024) + (3 * hidden * 14336))) + (2 * 128256 * hidden));
        Assert.Equal(weights, plan.Memory.WeightBytes, 1);
        Assert.Equal((layers * c * 2 * 8 * 128 * 2) + (4 * c * hidden * 2), plan.Memory.ActivationBytes, 1);
        // Own Q, K, V, O and four K/V blocks of 8 heads.
        Assert.Equal((c * ((2 * 32) + (2 * 8)) * 128 * 2) + (4 * c * 2 * 8 * 128 * 2), plan.Memory.InFlightBytes, 1);
        Assert.True(plan.Fits);

        var seventy = ContextParallelPlanner.Plan(new CpRequest(cluster, n, 64, 8, 128, Model: ModelShape.Llama3_70B), CpStrategy.RingPassKv);
        Assert.False(seventy.Fits); // 141 GB of bf16 weights on an 80 GB device
        var split = ContextParallelPlanner.Plan(new CpRequest(cluster, n, 64, 8, 128, TensorParallel: 8, Model: ModelShape.Llama3_70B), CpStrategy.RingPassKv);
        Assert.True(split.Fits);
        Assert.Equal(seventy.Memory.WeightBytes / 8, split.Memory.WeightBytes, 1);
    }
}

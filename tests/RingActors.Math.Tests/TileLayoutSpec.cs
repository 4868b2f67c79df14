using System.Runtime.InteropServices;
using RingActors.Math.Kernels;

namespace RingActors.Math.Tests;

public class TileLayoutSpec
{
    [Theory]
    [InlineData(128, 144)]
    [InlineData(256, 272)]
    [InlineData(64, 64)]
    [InlineData(80, 80)]
    [InlineData(144, 144)]
    [InlineData(16, 16)]
    public void Strides_of_a_multiple_of_512_bytes_must_get_one_more_cache_line(int floats, int expected) =>
        Assert.Equal(expected, TilePacking.ConflictFreeStride(floats));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(8192)]
    public void A_rental_must_start_on_a_64_byte_boundary_and_hold_its_length(int length)
    {
        // Many rentals, so that arrays the pool hands out at every misalignment are seen.
        var rentals = Enumerable.Range(0, 64).Select(_ => new AlignedRental(length)).ToList();
        try
        {
            // A compacting collection moves unpinned small arrays; a rented one must stay where its offset was taken.
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            foreach (var rental in rentals)
            {
                Assert.InRange(rental.Offset, 0, 15);
                Assert.True(rental.Array.Length >= rental.Offset + length);
                Assert.Equal(0, Marshal.UnsafeAddrOfPinnedArrayElement(rental.Array, rental.Offset) % 64);
                Assert.Equal(length, rental.Slice(0, length).Length);
                if (length > 0)
                {
                    rental.At(length - 1) = 7f;
                    Assert.Equal(7f, rental.Array[rental.Offset + length - 1]);
                }
            }
        }
        finally
        {
            rentals.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public void A_rental_disposed_twice_must_return_its_array_once()
    {
        var rental = new AlignedRental(100);
        rental.Dispose();
        rental.Dispose();
        var first = new AlignedRental(100);
        var second = new AlignedRental(100);
        Assert.NotSame(first.Array, second.Array);
        first.Dispose();
        second.Dispose();
    }

    [Theory]
    [InlineData(4096, 64)]
    [InlineData(4096, 128)]
    [InlineData(517, 72)]
    public void Packed_floats_must_count_the_padded_key_and_value_strides(int keyTokens, int headDim)
    {
        var keyTiles = (keyTokens + BlockwiseAttention.KeyTile - 1) / BlockwiseAttention.KeyTile;
        var paddedDim = (headDim + 15) / 16 * 16;
        var valueStride = paddedDim % 128 == 0 ? paddedDim + 16 : paddedDim;
        long expected = ((long)keyTiles * headDim * 144) + ((long)((keyTokens + 15) / 16 * 16) * valueStride);
        Assert.Equal(expected, BlockwiseAttention.PackedFloats(keyTokens, headDim));
    }
}

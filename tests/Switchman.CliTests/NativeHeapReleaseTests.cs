using System.Runtime.InteropServices;
using Switchman.Runtime;

namespace Switchman.CliTests;

/// <summary>
/// What `switchman` does to glibc's malloc first thing (Runtime/NativeHeapRelease.cs): native blocks the size of the JIT's
/// slabs go back to the system when freed, instead of staying resident in a thread's heap for good.
/// </summary>
public sealed partial class NativeHeapReleaseTests
{
    private const int Blocks = 160; // 10 MiB: the step the soak saw
    private static readonly int PageSize = Environment.SystemPageSize;

    [Fact]
    public unsafe void Freed_slab_sized_blocks_leave_memory_at_once_even_between_live_ones()
    {
        Assert.True(NativeHeapRelease.ApplyUnlessTuned(), "mallopt(M_MMAP_THRESHOLD) was not applied: not glibc, or malloc tuned in this environment");

        // Freed and kept blocks alternate, as the JIT's freed slabs and what was allocated in between do: in a thread's
        // heap no freed block can join the free space at the heap's end, so glibc keeps them all resident for reuse.
        var freed = new nint[Blocks];
        var kept = new nint[Blocks];
        for (var i = 0; i < Blocks; i++)
        {
            freed[i] = Allocate();
            kept[i] = Allocate();
        }
        try
        {
            Assert.True(ResidentPages(freed) >= Blocks * 14, "the blocks were never resident");
            foreach (var block in freed)
            {
                NativeMemory.Free((void*)block);
            }

            // Without the setting all ~2,500 pages stay resident; a few may be mapped again by another thread in between.
            var stillResident = ResidentPages(freed);
            Assert.True(stillResident < Blocks, $"{stillResident} pages of the {Blocks} freed 64 KiB blocks are still resident");
        }
        finally
        {
            foreach (var block in kept)
            {
                NativeMemory.Free((void*)block);
            }
        }
    }

    private static unsafe nint Allocate()
    {
        var block = NativeMemory.Alloc(NativeHeapRelease.MapBlocksFrom);
        new Span<byte>(block, NativeHeapRelease.MapBlocksFrom).Fill(1); // resident
        return (nint)block;
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("glibc.rtld.optional_static_tls=2048", false)]
    [InlineData("glibc.malloc.arena_max=2", true)]
    public void The_operators_malloc_tuning_wins(string? tunables, bool tuned)
    {
        Assert.Equal(tuned, NativeHeapRelease.OperatorTunedMalloc(name => name == "GLIBC_TUNABLES" ? tunables : null));
        Assert.True(NativeHeapRelease.OperatorTunedMalloc(name => name == "MALLOC_ARENA_MAX" ? "4" : null));
    }

    /// <summary>Pages wholly inside the blocks that are mapped and resident now (mincore; an unmapped page counts as not resident).</summary>
    private static unsafe int ResidentPages(nint[] blocks)
    {
        var resident = 0;
        var vector = stackalloc byte[1];
        foreach (var block in blocks)
        {
            var first = (block + PageSize - 1) & ~(nint)(PageSize - 1);
            for (var page = first; page + PageSize <= block + NativeHeapRelease.MapBlocksFrom; page += PageSize)
            {
                if (Mincore(page, (nuint)PageSize, vector) == 0 && (vector[0] & 1) == 1)
                {
                    resident++;
                }
            }
        }
        return resident;
    }

    [LibraryImport("libc", EntryPoint = "mincore")]
    private static unsafe partial int Mincore(nint address, nuint length, byte* vector);
}

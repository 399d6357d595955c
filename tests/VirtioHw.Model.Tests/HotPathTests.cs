using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

public sealed class HotPathTests
{
    // Register block reads and external-register writes are left out: the shared register runtime
    // allocates an enumerator for those, outside the decode and glue logic measured here.
    [Test]
    public async Task DecodeWindowsAndStoredRegisterWrites_AllocateNothing()
    {
        await using Rig rig = Rig.Create();
        ulong[] bars = rig.Setup(Rig.IsmAddress);
        rig.Csr(Rig.IsmAddress).CommitChunk(0, 0, ChunkAccess.ReadWrite);
        ModelPlatform p = rig.Platform;
        ulong common = bars[0];
        ulong window = bars[2];

        void Accesses()
        {
            for (int i = 0; i < 100; i++)
            {
                p.Write16(common + VirtioCommonCfg.QueueSelect.Offset, (ushort)(i & 1));
                p.Write64(window + 8, (ulong)i);
                _ = p.Read32(window + 8);
                _ = p.Read32(window + (128 * 1024));
                p.WriteConfig16(Rig.IsmAddress, (int)PciHeader.Command.Offset, (ushort)(PciHeader.Command.MemorySpace.Mask | PciHeader.Command.BusMaster.Mask));
            }
        }

        Accesses();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Accesses();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
    }
}

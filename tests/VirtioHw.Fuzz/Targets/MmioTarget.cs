using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Fuzz.Targets;

/// <summary>
/// Random accesses of every width and alignment to every BAR, the config space and the
/// virtio-mmio windows of every personality on the model (virtio-ism, ivshmem, virtio-dmabuf,
/// virtio-mmio virtio-ism), with each firmware handling what the accesses raised after each one.
/// Aligned accesses never throw, misaligned ones are refused with the platform's argument error,
/// firmware never fails, and reads of unclaimed addresses return all-ones.
/// </summary>
public sealed class MmioTarget : FuzzTarget
{
    private static readonly int[] Widths = [1, 2, 4, 8];
    private static readonly PciAddress Absent = new(0, 9, 0);

    public override string Name => "mmio";

    public override string Description => "random MMIO and config accesses to every personality on the model: no exception, no firmware failure";

    public override byte[] Generate(Random random) => Mutator.RandomBytes(random, 1024);

    public override void Execute(byte[] input)
    {
        var choices = new FuzzInput(input);
        var platform = new ModelPlatform(ModelPlatformSettings.Default with { RunFirmware = false });
        try
        {
            IReadOnlyList<PciFunction> functions = PciBus.Scan(platform);
            var targets = new List<(ulong Base, ulong Size)>();
            foreach (PciFunction function in functions)
            {
                targets.AddRange(function.Bars.Where(b => b.IsMemory && b.IsAssigned).Select(b => (b.Address, b.Size)));
            }

            targets.AddRange(platform.VirtioMmioDevices.Select(w => (w.BaseAddress, w.Length)));
            PciAddress[] addresses = [.. functions.Select(f => f.Address), Absent];
            int operations = 1 + choices.Choose(64);
            for (int i = 0; i < operations && !choices.IsEmpty; i++)
            {
                if (choices.Choose(4) == 0)
                {
                    Config(platform, choices.Choose(addresses), choices);
                }
                else
                {
                    (ulong start, ulong size) = choices.Choose(targets);
                    Memory(platform, start + (choices.Choose(8) == 0 ? choices.UInt64() % (size + 64) : choices.UInt32() % Math.Min(size, 0x2000)), choices);
                }

                RunFirmware(platform);
            }
        }
        finally
        {
            platform.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void Config(ModelPlatform platform, PciAddress function, FuzzInput choices)
    {
        int width = choices.Choose(Widths[..3]);
        int offset = choices.UInt16() % Platform.ConfigSpaceSize;
        bool aligned = offset % width == 0 && offset + width <= Platform.ConfigSpaceSize;
        bool write = choices.Choose(2) == 0;
        uint value = choices.UInt32();
        try
        {
            if (write)
            {
                platform.WriteConfig(function, offset, width, value);
            }
            else
            {
                uint read = platform.ReadConfig(function, offset, width);
                FuzzFailure.Check(function != Absent || read == uint.MaxValue >> (32 - (8 * width)), $"an absent function's config read 0x{read:x}");
            }

            FuzzFailure.Check(aligned, $"a misaligned {width}-byte config access at 0x{offset:x} was taken");
        }
        catch (ArgumentOutOfRangeException) when (!aligned)
        {
            // The platform refuses what no root complex can issue.
        }
    }

    private static void Memory(ModelPlatform platform, ulong address, FuzzInput choices)
    {
        int width = choices.Choose(Widths);
        bool aligned = address % (ulong)width == 0;
        bool write = choices.Choose(2) == 0;
        ulong value = choices.UInt64();
        try
        {
            if (write)
            {
                platform.WriteMemory(address, width, value);
            }
            else
            {
                platform.ReadMemory(address, width);
            }

            FuzzFailure.Check(aligned, $"a misaligned {width}-byte access at 0x{address:x} was taken");
        }
        catch (ArgumentOutOfRangeException) when (!aligned)
        {
            // As for config space: a misaligned access is a caller error, refused before any device sees it.
        }
    }

    private static void RunFirmware(ModelPlatform platform)
    {
        foreach (ModelEndpoint endpoint in platform.Endpoints)
        {
            endpoint.Firmware?.ProcessPendingEvents();
        }
    }
}

using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Sysfs;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Sysfs.Tests;

/// <summary>
/// The sysfs platform on config dumps captured from a real Firecracker machine, checked against
/// what pciutils' lspci reported on that machine.
/// </summary>
public sealed class CapturedMachineTests : CapturedMachineSuite
{
    private static readonly PciAddress Rng = new(0, 5, 0);

    [Test]
    public void Functions_AreTheCapturedOnes_WithLspcisIdentity()
    {
        Assert.That(Platform.Functions.Keys, Is.EquivalentTo(Machine.Lspci.Keys));
        using (Assert.EnterMultipleScope())
        {
            foreach (LspciFunction lspci in Machine.Lspci.Values)
            {
                PciAddress at = lspci.Address;
                Assert.That(Platform.ReadConfig16(at, 0), Is.EqualTo(lspci.Vendor), $"{at} vendor");
                Assert.That(Platform.ReadConfig16(at, 2), Is.EqualTo(lspci.Device), $"{at} device");
                Assert.That(Platform.ReadConfig32(at, 8) >> 8, Is.EqualTo(lspci.ClassCode), $"{at} class");
                Assert.That(Platform.ReadConfig8(at, 8), Is.EqualTo(lspci.Revision), $"{at} revision");
            }
        }

        Assert.That(Machine.Lspci.Values.Count(f => f.Vendor == 0x1af4), Is.EqualTo(5), "five virtio functions");
    }

    [Test]
    public void ConfigReadsOfEveryWidth_MatchLspcisHexDump()
    {
        using (Assert.EnterMultipleScope())
        {
            foreach (LspciFunction lspci in Machine.Lspci.Values)
            {
                byte[] dump = lspci.ConfigDump;
                for (int offset = 0; offset < dump.Length; offset += 4)
                {
                    uint expected = BitConverter.ToUInt32(dump, offset);
                    Assert.That(Platform.ReadConfig32(lspci.Address, offset), Is.EqualTo(expected), $"{lspci.Address} +0x{offset:x}");
                    Assert.That(Platform.ReadConfig16(lspci.Address, offset + 2), Is.EqualTo((ushort)(expected >> 16)));
                    Assert.That(Platform.ReadConfig8(lspci.Address, offset + 1), Is.EqualTo((byte)(expected >> 8)));
                }
            }
        }
    }

    [Test]
    public void HostStackEnumeration_FindsLspcisBarsAndVirtioCapabilities_WithoutWritingAnything()
    {
        IReadOnlyList<PciFunction> functions = PciBus.Scan(Platform);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(functions.Select(f => f.Address), Is.EquivalentTo(Machine.Lspci.Keys));
            foreach (PciFunction function in functions)
            {
                LspciFunction lspci = Machine.Lspci[function.Address];
                Assert.That(
                    function.Bars.Select(b => new LspciRegion(b.Index, b.Address, b.Is64Bit, b.Prefetchable, b.Size)),
                    Is.EqualTo(lspci.Regions), $"{function.Address} BARs");
                Assert.That(
                    function.VirtioCapabilities.Select(c => ((int)c.Position, (int)c.Bar, c.Offset, c.Length)),
                    Is.EqualTo(lspci.Virtio.Select(c => (c.Position, c.Bar, c.Offset, c.Length))), $"{function.Address} virtio capabilities");
                Assert.That(
                    function.VirtioCapabilities.Where(c => (int)c.CfgType is >= 1 and <= 4).Select(c => (int)c.CfgType),
                    Is.EqualTo(lspci.Virtio.Where(c => c.Kind != "<unknown>").Select(c => KindToType(c.Kind))), $"{function.Address} structure types");
                if (lspci.Msix is { } msix)
                {
                    MsixCapabilityInfo found = function.MsixCapability!;
                    Assert.That(((int)found.Position, found.TableSize, found.TableBar, (ulong)found.TableOffset, found.PbaBar, (ulong)found.PbaOffset),
                        Is.EqualTo((msix.Position, msix.Count, msix.TableBar, msix.TableOffset, msix.PbaBar, msix.PbaOffset)), $"{function.Address} MSI-X");
                }

                Assert.That(File.ReadAllBytes(Path.Combine(Machine.FunctionDirectory(function.Address), "config")),
                    Is.EqualTo(Machine.CapturedConfig(function.Address)), $"{function.Address} config file untouched");
            }

            Assert.That(functions.Single(f => f.Address == Rng).VirtioCapabilities.Single(c => c.CfgType == VirtioPciCfgType.NotifyCfg).NotifyOffMultiplier,
                Is.EqualTo(Machine.Lspci[Rng].Virtio.Single(c => c.Kind == "Notify").Multiplier));
        }
    }

    [Test]
    public void BarSizing_OnAReadOnlyFunction_IsAnsweredFromTheResourceFile()
    {
        uint low = Platform.ReadConfig32(Rng, 0x10);
        uint high = Platform.ReadConfig32(Rng, 0x14);

        Platform.WriteConfig32(Rng, 0x10, uint.MaxValue);
        Platform.WriteConfig32(Rng, 0x14, uint.MaxValue);
        uint sizedLow = Platform.ReadConfig32(Rng, 0x10);
        uint sizedHigh = Platform.ReadConfig32(Rng, 0x14);
        Platform.WriteConfig32(Rng, 0x10, low);
        Platform.WriteConfig32(Rng, 0x14, high);

        Assert.Multiple(() =>
        {
            Assert.That(sizedLow, Is.EqualTo(0xfff8_0004u), "512 KiB, 64-bit memory");
            Assert.That(sizedHigh, Is.EqualTo(0xffff_ffffu));
            Assert.That(Platform.ReadConfig32(Rng, 0x10), Is.EqualTo(low), "restored");
            Assert.That(File.ReadAllBytes(Path.Combine(Machine.FunctionDirectory(Rng), "config")), Is.EqualTo(Machine.CapturedConfig(Rng)));
        });
    }

    [Test]
    public void DecodeBits_OnAReadOnlyFunction_ChangeOnlyInAShadow()
    {
        ushort command = Platform.ReadConfig16(Rng, 4);

        Platform.WriteConfig16(Rng, 4, (ushort)(command & ~0x7));
        ushort off = Platform.ReadConfig16(Rng, 4);
        Platform.WriteConfig16(Rng, 4, command);

        Assert.Multiple(() =>
        {
            Assert.That(off, Is.EqualTo(command & ~0x7));
            Assert.That(Platform.ReadConfig16(Rng, 4), Is.EqualTo(command));
            Assert.That(File.ReadAllBytes(Path.Combine(Machine.FunctionDirectory(Rng), "config")), Is.EqualTo(Machine.CapturedConfig(Rng)));
        });
    }

    [TestCase(0x3c, 1, 0x5au)]
    [TestCase(0x10, 4, 0xc000_0000u)]
    [TestCase(0x04, 2, 0x0006u)]
    public void Write_ThatWouldChangeAReadOnlyFunction_IsRefusedInOneLine(int offset, int width, uint value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => Platform.WriteConfig(Rng, offset, width, value));

        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Is.EqualTo(
                $"sysfs: 0000:00:05.0 is read-only; writing 0x{value:x} at config offset 0x{offset:x} would change it (opt in with allow-write=0000:00:05.0)"));
            Assert.That(File.ReadAllBytes(Path.Combine(Machine.FunctionDirectory(Rng), "config")), Is.EqualTo(Machine.CapturedConfig(Rng)));
        });
    }

    [Test]
    public async Task Write_ToAnOptedInFunction_ReachesItsConfigFile()
    {
        await using var platform = new SysfsPlatform(SysfsPlatformSettings.FromOptions(
            PlatformOptions.Parse(["root=" + Machine.Root, "allow-write=0000:00:05.0"])));

        platform.WriteConfig8(Rng, 0x3c, 0x5a);

        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllBytes(Path.Combine(Machine.FunctionDirectory(Rng), "config"))[0x3c], Is.EqualTo(0x5a));
            Assert.That(() => platform.WriteConfig8(new PciAddress(0, 4, 0), 0x3c, 0x5a), Throws.InvalidOperationException, "only the opted-in function");
        });
    }

    [Test]
    public void ExtendedConfigSpace_PastAConventionalFunctionsFile_ReadsAllOnes()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Platform.ReadConfig32(Rng, 0x100), Is.EqualTo(0xffff_ffffu), "256-byte config file");
            Assert.That(Platform.ReadConfig32(new PciAddress(0, 0, 0), 0x100), Is.Zero, "the host bridge's file is 4096 bytes");
            Assert.That(Platform.ReadConfig16(new PciAddress(0, 9, 0), 0), Is.EqualTo(0xffff), "absent function");
        });
    }

    [Test]
    public void Bar_WithoutAResourceFile_CannotBeMapped_InOneLine()
    {
        var error = Assert.Throws<IOException>(() => Platform.Read32(0x40_0020_0000));

        Assert.That(error!.Message, Is.EqualTo(
            $"sysfs: 0000:00:05.0 BAR 0 cannot be mapped: the kernel offers no {Machine.FunctionDirectory(Rng)}/resource0"));
    }

    [Test]
    public void Address_InNoBar_FailsInOneLine()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Platform.Read32(0xfee0_0000));

        Assert.That(error!.Message, Is.EqualTo($"sysfs: address 0xfee00000 is in no memory BAR of a function under {Machine.Root} (domain 0000)"));
    }

    [Test]
    public async Task Bar_ThroughAResourceFile_IsReadByExactWidth_AndWrittenOnlyWhenOptedIn()
    {
        // A regular file stands in for resource0: mmap treats both alike.
        string resource0 = Path.Combine(Machine.FunctionDirectory(Rng), "resource0");
        byte[] contents = new byte[512 * 1024];
        new Random(3).NextBytes(contents);
        await File.WriteAllBytesAsync(resource0, contents);
        const ulong Bar0 = 0x40_0020_0000;

        ulong quad = Platform.Read64(Bar0 + 0x2000);
        byte last = Platform.Read8(Bar0 + 0x7ffff);
        var refused = Assert.Throws<InvalidOperationException>(() => Platform.Write32(Bar0 + 0x10, 1));

        await using (var writable = new SysfsPlatform(new SysfsPlatformSettings { DevicesDirectory = Machine.Root, AllowWrite = new HashSet<PciAddress> { Rng } }))
        {
            writable.Write32(Bar0 + 0x10, 0xdead_beef);
            writable.Write8(Bar0 + 0x7ffff, 0x42);
        }

        byte[] after = await File.ReadAllBytesAsync(resource0);
        Assert.Multiple(() =>
        {
            Assert.That(quad, Is.EqualTo(BitConverter.ToUInt64(contents, 0x2000)));
            Assert.That(last, Is.EqualTo(contents[0x7ffff]), "the last byte of the BAR");
            Assert.That(refused!.Message, Is.EqualTo("sysfs: 0000:00:05.0 is read-only; writing its BAR 0 at 0x4000200010 needs allow-write=0000:00:05.0"));
            Assert.That(BitConverter.ToUInt32(after, 0x10), Is.EqualTo(0xdead_beefu));
            Assert.That(after[0x7ffff], Is.EqualTo(0x42));
            Assert.That(Platform.Read8(Bar0 + 0x7ffff), Is.EqualTo(0x42), "both mappings share the file");
        });
    }

    [Test]
    public void MsiAndDma_NeedADriver_AndSaySo()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => Platform.AllocateMsiVector(), Throws.TypeOf<NotSupportedException>().With.Message.StartsWith("sysfs: MSI vectors need a kernel driver"));
            Assert.That(() => Platform.AllocateDma(4096), Throws.TypeOf<NotSupportedException>().With.Message.StartsWith("sysfs: DMA memory needs an IOMMU mapping"));
            Assert.That(Platform.MemoryWindows, Is.Empty, "BARs stay where the kernel put them");
        });
    }

    private static int KindToType(string lspciName) => lspciName switch
    {
        "CommonCfg" => 1,
        "Notify" => 2,
        "ISR" => 3,
        "DeviceCfg" => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(lspciName), lspciName, "not a structure lspci names"),
    };
}

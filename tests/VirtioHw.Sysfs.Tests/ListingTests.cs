using System.Text.RegularExpressions;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Sysfs;

namespace VirtioHw.Sysfs.Tests;

/// <summary>
/// <c>virtiohw lspci</c>'s listing on the captured Firecracker machine, against what pciutils'
/// lspci printed there: it lists every function from config space alone, with no BAR mapping.
/// </summary>
public sealed partial class ListingTests : CapturedMachineSuite
{
    private static string IdsPath => Path.Combine(TestContext.CurrentContext.TestDirectory, "Data", "firecracker", "pci.ids");

    private string List(PciListingOptions options)
    {
        // As the command lists sysfs: the kernel placed the BARs, nothing is assigned.
        IReadOnlyList<PciFunction> functions = PciBus.Scan(Platform, new PciScanOptions { AssignResources = false });
        using var text = new StringWriter { NewLine = "\n" };
        PciListing.Write(text, Platform, functions, options);
        return text.ToString();
    }

    [Test]
    public void NumericNamesAndHexDump_AreLspciNnXxxs_LineForLine()
    {
        string captured = File.ReadAllText(Path.Combine(TestContext.CurrentContext.TestDirectory, "Data", "firecracker", "lspci.txt"));
        // lspci -nn -xxx is lspci -vvv -nn -xxx without the indented verbose lines.
        string expected = string.Join('\n', captured.Split('\n').Where(l => !l.StartsWith('\t')));

        string listed = List(new PciListingOptions { Numbers = PciNumbers.Both, Names = new PciNames(PciIds.Load(IdsPath)), HexDumpBytes = 256 });

        Assert.That(listed.TrimEnd(), Is.EqualTo(expected.TrimEnd()));
    }

    [Test]
    public void VerboseListing_ListsEveryFunction_AndMarksTheVirtioRegistersBehindUnmappableBarsAsNotRead()
    {
        string listed = List(new PciListingOptions { Verbose = true });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Header().Matches(listed).Select(m => m.Groups[1].Value), Is.EquivalentTo(Machine.Lspci.Keys.Select(a => a.ToString())));
            Assert.That(Regex.Matches(listed, @"\tVirtio: registers not read: sysfs: 0000:00:0\d\.0 BAR 0 cannot be mapped: the kernel offers no .*/resource0\n"), Has.Count.EqualTo(5));
            Assert.That(listed, Does.Contain("\tRegion 0: Memory at 4000080000 (64-bit, non-prefetchable) [size=512K]"));
            Assert.That(listed, Does.Contain("\tControl: I/O- Mem- BusMaster- DisINTx-"), "the host bridge's command register as the device holds it");
        }
    }

    [Test]
    public void ConfigSpaceTheKernelHides_IsMarked_AndNotDumped()
    {
        // What a user other than root reads: the kernel yields only the first 64 bytes.
        string config = Path.Combine(Machine.FunctionDirectory(new PciAddress(0, 3, 0)), "config");
        File.WriteAllBytes(config, File.ReadAllBytes(config)[..64]);

        string listed = List(new PciListingOptions { HexDumpBytes = 256 });
        string network = listed[listed.IndexOf("00:03.0", StringComparison.Ordinal)..listed.IndexOf("00:04.0", StringComparison.Ordinal)];

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Platform.ReadableConfigBytes(new PciAddress(0, 3, 0)), Is.EqualTo(64));
            Assert.That(Platform.ReadableConfigBytes(new PciAddress(0, 0, 0)), Is.EqualTo(4096), "a PCIe function's whole file");
            Assert.That(Regex.Matches(network, @"(?m)^[0-9a-f]0: "), Has.Count.EqualTo(4));
            Assert.That(network, Does.Contain("\tWarning: config space past byte 64 could not be read"));
            Assert.That(Regex.Matches(listed, @"(?m)^[0-9a-f]0: "), Has.Count.EqualTo(4 + (5 * 16)));
        }
    }

    [Test]
    public async Task Domains_AreEveryDomainInTheTree_EachAPlatformOfItsOwn()
    {
        string other = Path.Combine(Machine.Root, "0001:02:00.0");
        Directory.CreateDirectory(other);
        foreach (string file in Directory.EnumerateFiles(Machine.FunctionDirectory(new PciAddress(0, 3, 0))))
        {
            File.Copy(file, Path.Combine(other, Path.GetFileName(file)));
        }

        await using var second = new SysfsPlatform(new SysfsPlatformSettings { DevicesDirectory = Machine.Root, Domain = 1 });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(SysfsPlatform.Domains(Machine.Root), Is.EqualTo(new[] { 0, 1 }));
            Assert.That(second.Functions.Keys, Is.EqualTo(new[] { new PciAddress(2, 0, 0) }));
            Assert.That(PciBus.Scan(second, new PciScanOptions { LastBus = 255, AssignResources = false }).Single().DeviceId, Is.EqualTo(0x1041));
            Assert.That(SysfsPlatform.Domains(Path.Combine(Machine.Root, "absent")), Is.Empty);
        }
    }

    [Test]
    public void PciIds_NamesVendorsDevicesAndClasses_AndTheBuiltInNamesFillTheGaps()
    {
        PciIds ids = PciIds.Load(IdsPath);
        var names = new PciNames(ids);
        var ism = new PciIdentity(0x1af4, 0x106c, 1, 0x07, 0x80, 0, 0, false, 0x1af4, 0x106c);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(ids.Vendor(0x1af4), Is.EqualTo("Red Hat, Inc."));
            Assert.That(ids.Device(0x1af4, 0x1045), Is.EqualTo("Virtio 1.0 memory balloon"));
            Assert.That(ids.SubClass(0x02, 0x00), Is.EqualTo("Ethernet controller"));
            Assert.That(ids.Class(0xff), Is.EqualTo("Unassigned class"));
            Assert.That(ids.Device(0x1af4, 0x106c), Is.Null, "pci.ids does not know virtio-ism");
            Assert.That(names.DeviceText(ism, PciNumbers.Both), Is.EqualTo("Red Hat, Inc. Virtio ISM device [1af4:106c]"));
            Assert.That(names.ClassText(0xff, 0xff, PciNumbers.Names), Is.EqualTo("Unassigned class [ffff]"), "a known base class with an unknown sub-class");
            Assert.That(names.ClassText(0x42, 0x01, PciNumbers.Names), Is.EqualTo("Class 4201"));
            Assert.That(names.DeviceText(ism with { VendorId = 0x1234 }, PciNumbers.Names), Is.EqualTo("Device 1234:106c"));
            Assert.That(names.DeviceText(ism with { DeviceId = 0x0001 }, PciNumbers.Names), Is.EqualTo("Red Hat, Inc. Device 0001"));
        }
    }

    [GeneratedRegex(@"(?m)^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ")]
    private static partial Regex Header();
}

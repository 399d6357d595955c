using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

/// <summary><c>lspci -s</c> and <c>-d</c> in every form pciutils reads.</summary>
public class PciFilterTests
{
    private static readonly PciIdentity Network = new(0x1af4, 0x1041, 1, 0x02, 0x00, 0, 0, false, 0x1af4, 0x1041);

    [TestCase("01:", null, 1, null, null)]
    [TestCase(":00.1", null, null, 0, 1)]
    [TestCase("0000:00:01.0", 0, 0, 1, 0)]
    [TestCase("2:00:", 2, 0, null, null)]
    [TestCase("1f", null, null, 0x1f, null)]
    [TestCase(".3", null, null, null, 3)]
    [TestCase("0:1", null, 0, 1, null)]
    [TestCase("*:*.*", null, null, null, null)]
    [TestCase("ffff:ff:1f.7", 0xffff, 0xff, 0x1f, 7)]
    public void Slot_ReadsEveryPartPciutilsReads(string text, int? domain, int? bus, int? device, int? function)
    {
        PciFilter filter = PciFilter.All.WithSlot(text);
        Assert.That((filter.Domain, filter.Bus, filter.Device, filter.Function), Is.EqualTo((domain, bus, device, function)));
    }

    [TestCase("zz", "device")]
    [TestCase("00:20", "device")]
    [TestCase("00:1f.8", "function")]
    [TestCase("100:00.0", "bus")]
    [TestCase("10000:00:00.0", "domain")]
    [TestCase("0:0:0:0.0", "bus")]
    public void Slot_Malformed_NamesThePartAtFault(string text, string part)
    {
        var error = Assert.Throws<FormatException>(() => PciFilter.All.WithSlot(text));
        Assert.That(error!.Message, Does.StartWith($"-s '{text}'").And.Contain($"not a {part}"));
    }

    [Test]
    public void Slot_MatchesDomainBusDeviceAndFunction()
    {
        PciFilter filter = PciFilter.All.WithSlot("1:00:03");
        using (Assert.EnterMultipleScope())
        {
            Assert.That(filter.Matches(1, new PciAddress(0, 3, 0), Network), Is.True);
            Assert.That(filter.Matches(0, new PciAddress(0, 3, 0), Network), Is.False, "another domain");
            Assert.That(filter.Matches(1, new PciAddress(0, 4, 0), Network), Is.False, "another device");
            Assert.That(PciFilter.All.Matches(7, new PciAddress(9, 9, 1), Network), Is.True);
            Assert.That(PciFilter.All.IsAll && !filter.IsAll, Is.True);
        }
    }

    [TestCase("1af4:", true)]
    [TestCase("1af4:1041", true)]
    [TestCase(":1041", true)]
    [TestCase("1af4:1042", false)]
    [TestCase("8086:", false)]
    [TestCase("::0200", true)]
    [TestCase("::0280", false)]
    [TestCase("1af4::0200:00", true)]
    [TestCase("1af4::0200:01", false)]
    [TestCase("*:*", true)]
    public void Id_MatchesVendorDeviceClassAndProgIf(string text, bool matches)
    {
        Assert.That(PciFilter.All.WithId(text).Matches(0, new PciAddress(0, 3, 0), Network), Is.EqualTo(matches));
    }

    [TestCase("1af4")]
    [TestCase("1af4:10410")]
    [TestCase("xyz:")]
    [TestCase("::10000")]
    [TestCase("1:2:3:4:5")]
    public void Id_Malformed_IsAFormatExceptionNamingTheText(string text)
    {
        var error = Assert.Throws<FormatException>(() => PciFilter.All.WithId(text));
        Assert.That(error!.Message, Does.StartWith($"-d '{text}'"));
    }
}

using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

public class PciAddressTests
{
    [Test]
    public void ToString_WritesBusDeviceFunctionInHex()
    {
        Assert.That(new PciAddress(0, 0x1f, 3).ToString(), Is.EqualTo("00:1f.3"));
        Assert.That(new PciAddress(0xab, 2, 7).ToString(), Is.EqualTo("ab:02.7"));
    }

    [TestCase("00:1f.3", 0, 0x1f, 3)]
    [TestCase("ff:00.0", 0xff, 0, 0)]
    [TestCase("0000:03:1e.7", 3, 0x1e, 7)]
    [TestCase("0A:1F.1", 0x0a, 0x1f, 1)]
    public void Parse_AcceptsLspciAndSysfsForms(string text, int bus, int device, int function)
    {
        Assert.That(PciAddress.Parse(text), Is.EqualTo(new PciAddress(bus, device, function)));
    }

    [TestCase("")]
    [TestCase("00:20.0")]
    [TestCase("00:1f.8")]
    [TestCase("0:1f.3")]
    [TestCase("00-1f.3")]
    [TestCase("0001:00:1f.3")]
    [TestCase("zz:00.0")]
    public void Parse_Malformed_ThrowsFormatExceptionNamingTheText(string text)
    {
        var error = Assert.Throws<FormatException>(() => PciAddress.Parse(text));
        Assert.That(error!.Message, Does.Contain($"'{text}'"));
    }

    [TestCase(256, 0, 0)]
    [TestCase(-1, 0, 0)]
    [TestCase(0, 32, 0)]
    [TestCase(0, 0, 8)]
    public void Constructor_ComponentOutOfRange_Throws(int bus, int device, int function)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new PciAddress(bus, device, function));
    }

    [Test]
    public void Parse_OfToString_RoundTrips()
    {
        var address = new PciAddress(0x12, 0x0c, 5);
        Assert.That(PciAddress.Parse(address.ToString()), Is.EqualTo(address));
    }
}

using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Sysfs;

namespace VirtioHw.Sysfs.Tests;

public sealed class SysfsOptionsTests
{
    [Test]
    public void Options_NameTheRootTheDomainAndTheWritableFunctions()
    {
        SysfsPlatformSettings settings = SysfsPlatformSettings.FromOptions(
            PlatformOptions.Parse(["root=/tmp/pci", "domain=1", "allow-write=0001:00:05.0, 02:00.1"]));

        Assert.Multiple(() =>
        {
            Assert.That(settings.DevicesDirectory, Is.EqualTo("/tmp/pci"));
            Assert.That(settings.Domain, Is.EqualTo(1));
            Assert.That(settings.AllowWrite, Is.EquivalentTo(new[] { new PciAddress(0, 5, 0), new PciAddress(2, 0, 1) }));
        });
    }

    [Test]
    public void Defaults_AreDomainZeroOfThisMachine_NothingWritable()
    {
        SysfsPlatformSettings settings = SysfsPlatformSettings.FromOptions(PlatformOptions.Default);

        Assert.Multiple(() =>
        {
            Assert.That(settings.DevicesDirectory, Is.EqualTo("/sys/bus/pci/devices"));
            Assert.That(settings.Domain, Is.Zero);
            Assert.That(settings.AllowWrite, Is.Empty);
        });
    }

    [TestCase("colour=blue", "unknown sysfs platform option 'colour'; known: root, domain, allow-write")]
    [TestCase("domain=xyz", "domain=xyz: expected a PCI domain in hexadecimal, 0 to ffff")]
    [TestCase("allow-write=0001:00:05.0", "allow-write=0001:00:05.0: expected a function of domain 0000 as DDDD:BB:DD.F or BB:DD.F, for example 0000:00:05.0")]
    [TestCase("allow-write=all", "allow-write=all: expected a function of domain 0000 as DDDD:BB:DD.F or BB:DD.F, for example 0000:00:05.0")]
    public void Options_Unusable_AreRejectedInOneLine(string option, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => SysfsPlatformSettings.FromOptions(PlatformOptions.Parse([option])));

        Assert.That(error!.Message, Is.EqualTo(message));
    }

    [Test]
    public void MissingDevicesDirectory_FailsInOneLine()
    {
        var error = Assert.Throws<IOException>(() => new SysfsPlatform(new SysfsPlatformSettings { DevicesDirectory = "/nonexistent/pci" }));

        Assert.That(error!.Message, Is.EqualTo("sysfs: /nonexistent/pci does not exist; this machine has no PCI bus the kernel exposes"));
    }

    [Test]
    public void Registry_CreatesTheSysfsPlatformByName()
    {
        SysfsPlatform.Register();
        SysfsPlatform.Register();

        Assert.Multiple(() =>
        {
            Assert.That(PlatformFactory.Available, Does.Contain("sysfs"));
            Assert.That(() => PlatformFactory.Create("sysfs", PlatformOptions.Parse(["root=/nonexistent/pci"])),
                Throws.ArgumentException.With.Message.EqualTo("sysfs: /nonexistent/pci does not exist; this machine has no PCI bus the kernel exposes"));
        });
    }
}

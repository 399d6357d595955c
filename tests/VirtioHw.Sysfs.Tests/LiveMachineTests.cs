using System.Globalization;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Sysfs;

namespace VirtioHw.Sysfs.Tests;

/// <summary>
/// The sysfs platform on the machine running the tests, read-only: nothing is written to any of
/// its devices (their config files are opened read-only, and no function is opted in).
/// </summary>
public sealed class LiveMachineTests
{
    private SysfsPlatform _platform = null!;

    [SetUp]
    public void Open()
    {
        if (!Directory.Exists(SysfsPlatformSettings.DefaultDevicesDirectory)
            || !Directory.EnumerateDirectories(SysfsPlatformSettings.DefaultDevicesDirectory).Any())
        {
            Assert.Ignore($"{SysfsPlatformSettings.DefaultDevicesDirectory} is absent or empty here (a container without sysfs, or a machine without PCI); these tests read a live PCI bus");
        }

        _platform = new SysfsPlatform();
    }

    [TearDown]
    public async Task Close()
    {
        if (_platform is not null)
        {
            await _platform.DisposeAsync();
        }
    }

    [Test]
    public void ConfigReads_AgreeWithTheKernelsAttributeFiles()
    {
        Assert.That(_platform.Functions, Is.Not.Empty);
        using (Assert.EnterMultipleScope())
        {
            foreach ((PciAddress address, string directory) in _platform.Functions)
            {
                Assert.That(_platform.ReadConfig16(address, 0), Is.EqualTo(Attribute(directory, "vendor")), $"{address} vendor");
                Assert.That(_platform.ReadConfig16(address, 2), Is.EqualTo(Attribute(directory, "device")), $"{address} device");
                Assert.That(_platform.ReadConfig32(address, 8) >> 8, Is.EqualTo(Attribute(directory, "class")), $"{address} class");
                Assert.That(_platform.ReadConfig8(address, 8), Is.EqualTo(Attribute(directory, "revision")), $"{address} revision");
            }
        }
    }

    [Test]
    public void HostStackEnumeration_FindsEveryFunction_WithBarsWhereTheKernelPutThem()
    {
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(_platform, new PciScanOptions { LastBus = 255 });

        using (Assert.EnterMultipleScope())
        {
            Assert.That(functions.Select(f => f.Address), Is.EquivalentTo(_platform.Functions.Keys));
            foreach (PciFunction function in functions)
            {
                string[] resource = File.ReadAllLines(Path.Combine(_platform.Functions[function.Address], "resource"));
                foreach (PciBar bar in function.Bars.Where(b => b.IsMemory))
                {
                    string[] fields = resource[bar.Index].Split(' ');
                    ulong start = ulong.Parse(fields[0].AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                    ulong end = ulong.Parse(fields[1].AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
                    Assert.That((bar.Address, bar.Size), Is.EqualTo((start, end - start + 1)), $"{function.Address} BAR {bar.Index}");
                }
            }
        }
    }

    [Test]
    public void Write_ToALiveDeviceWithoutOptIn_IsRefused()
    {
        (PciAddress address, _) = _platform.Functions.First();
        byte line = _platform.ReadConfig8(address, 0x3c);

        var error = Assert.Throws<InvalidOperationException>(() => _platform.WriteConfig8(address, 0x3c, (byte)~line));

        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Does.StartWith($"sysfs: 0000:{address} is read-only; "));
            Assert.That(_platform.ReadConfig8(address, 0x3c), Is.EqualTo(line));
        });
    }

    private static uint Attribute(string directory, string name) =>
        uint.Parse(File.ReadAllText(Path.Combine(directory, name)).Trim().AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}

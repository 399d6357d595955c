using VirtioHw.Platforms.Sysfs;

namespace VirtioHw.Sysfs.Tests;

/// <summary>A suite on the captured Firecracker machine: each test gets its own copy of the tree and a sysfs platform on it.</summary>
public abstract class CapturedMachineSuite
{
    private protected CapturedMachine Machine { get; private set; } = null!;

    private protected SysfsPlatform Platform { get; private set; } = null!;

    [SetUp]
    public void Capture()
    {
        Machine = new CapturedMachine("firecracker");
        Platform = new SysfsPlatform(new SysfsPlatformSettings { DevicesDirectory = Machine.Root });
    }

    [TearDown]
    public async Task Release()
    {
        await Platform.DisposeAsync();
        Machine.Dispose();
    }
}

using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Tests;

public class PlatformFactoryTests
{
    [Test]
    public async Task Create_RegisteredName_PassesTheOptionsToTheFactory()
    {
        string name = UniqueName();
        PlatformOptions? seen = null;
        PlatformFactory.Register(name, options =>
        {
            seen = options;
            return new FakePlatform();
        });
        var options = PlatformOptions.Parse(["socket=/tmp/q.sock"]);

        await using Platform platform = PlatformFactory.Create(name.ToUpperInvariant(), options);

        Assert.Multiple(() =>
        {
            Assert.That(platform, Is.InstanceOf<FakePlatform>());
            Assert.That(seen, Is.SameAs(options));
            Assert.That(PlatformFactory.Available, Does.Contain(name));
        });
    }

    [Test]
    public void Create_UnknownName_SaysSoInOneLineListingAvailable()
    {
        string name = UniqueName();
        PlatformFactory.Register(name, _ => new FakePlatform());

        var error = Assert.Throws<ArgumentException>(() => PlatformFactory.Create("nosuch"));

        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Does.StartWith("unknown platform 'nosuch'; available: "));
            Assert.That(error.Message, Does.Contain(name));
            Assert.That(error.Message, Does.Not.Contain('\n'));
        });
    }

    [Test]
    public void Create_WellKnownButUnregistered_SaysNotAvailableInThisBuild()
    {
        var error = Assert.Throws<ArgumentException>(() => PlatformFactory.Create("sysfs"));

        Assert.That(error!.Message, Does.StartWith("platform 'sysfs' is not available in this build; available: "));
    }

    [Test]
    public void Register_SameNameTwice_Throws()
    {
        string name = UniqueName();
        PlatformFactory.Register(name, _ => new FakePlatform());

        Assert.Throws<InvalidOperationException>(() => PlatformFactory.Register(name, _ => new FakePlatform()));
    }

    [Test]
    public void Options_Parse_KeepsNameValuePairsCaseInsensitively()
    {
        var options = PlatformOptions.Parse(["Socket=/tmp/a=b", "device=00:04.0"]);

        Assert.Multiple(() =>
        {
            Assert.That(options.GetParameter("socket"), Is.EqualTo("/tmp/a=b"));
            Assert.That(options.GetParameter("DEVICE"), Is.EqualTo("00:04.0"));
            Assert.That(options.GetParameter("absent"), Is.Null);
        });
    }

    [TestCase("novalue")]
    [TestCase("=value")]
    public void Options_Parse_ItemWithoutName_ThrowsNamingIt(string item)
    {
        var error = Assert.Throws<FormatException>(() => PlatformOptions.Parse([item]));

        Assert.That(error!.Message, Does.Contain($"'{item}'"));
    }

    [Test]
    public void Options_SameNameTwice_Throws()
    {
        Assert.Throws<ArgumentException>(() => PlatformOptions.Parse(["a=1", "A=2"]));
    }

    private static string UniqueName() => "test-" + Guid.NewGuid().ToString("N")[..8];
}

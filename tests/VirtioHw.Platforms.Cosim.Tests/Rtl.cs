using VirtioHw.Cosim;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;

namespace VirtioHw.Platforms.Cosim.Tests;

/// <summary>Platforms for tests: when an endpoint's library is not built, the test says so and is skipped.</summary>
internal static class Rtl
{
    public static readonly PciAddress Ism = new(0, 1, 0);

    public static EndpointDescription IsmDescription { get; } = EndpointDescriptions.LoadBuiltin("virtio-ism");

    /// <summary>One virtio-ism endpoint at 00:01.0 with no firmware, unless <paramref name="settings"/> says otherwise.</summary>
    public static CosimPlatform Create(CosimPlatformSettings? settings = null) => Build(() => new CosimPlatform(settings ?? new CosimPlatformSettings
    {
        PciEndpoints = [new CosimEndpointPlacement(Ism, IsmDescription)],
        Firmware = _ => null,
    }));

    public static async Task<T> BuildAsync<T>(Func<Task<T>> run)
    {
        try
        {
            return await run();
        }
        catch (CosimLibraryException e)
        {
            Assert.Ignore($"co-simulation: {e.Message}");
            throw;
        }
    }

    public static T Build<T>(Func<T> create)
    {
        try
        {
            return create();
        }
        catch (CosimLibraryException e)
        {
            Assert.Ignore($"co-simulation: {e.Message}");
            throw;
        }
    }
}

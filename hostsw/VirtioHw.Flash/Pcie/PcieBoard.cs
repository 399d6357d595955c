using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Flash;

/// <summary>Opens the SPI flash controller of a <c>pcie</c> board profile: platform, function, BAR.</summary>
internal static class PcieBoard
{
    /// <exception cref="FlashException">The platform, the function or its BAR cannot be had; one line.</exception>
    public static SpiControllerBus OpenBus(BoardProfile profile, int? clockHz)
    {
        PcieSettings pcie = profile.Pcie!;
        if (!PciAddress.TryParse(pcie.Device, out PciAddress address))
        {
            throw new FlashException($"{profile.Source}: pcie device '{pcie.Device}' is not a PCI address (domain:bus:device.function)");
        }

        Platform platform;
        try
        {
            platform = PlatformFactory.Create(pcie.Platform, PlatformOptions.Parse(pcie.PlatformOptions));
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new FlashException($"{profile.Source}: {e.Message}", e);
        }

        try
        {
            PciFunction function = PciEnumerator.Probe(platform, address)
                ?? throw new FlashException($"{profile.Source}: no PCI function at {address} on the {pcie.Platform} platform");
            ulong barAddress;
            try
            {
                barAddress = function.GetBarAddress(pcie.Bar, (ulong)pcie.Offset);
            }
            catch (InvalidOperationException e)
            {
                throw new FlashException(e.Message, e);
            }

            // The bus owns the port, and the port the platform, once the bus is made.
            var port = new PlatformBarPort(platform, barAddress, pcie.ControllerClockHz,
                $"{address} BAR {pcie.Bar} + 0x{pcie.Offset:x}", ownsPlatform: true);
            return new SpiControllerBus(port, profile.BusSettings(clockHz: clockHz));
        }
        catch (Exception e) when (e is FlashException or InvalidOperationException or IOException)
        {
            // No bus was made: the platform is still ours to close.
            platform.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw e as FlashException ?? new FlashException(e.Message, e);
        }
    }
}

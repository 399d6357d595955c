using VirtioHw.Host.Platforms;

namespace VirtioHw.Host.Pci;

/// <summary>The usual sequence in one call: enumerate, size, place the BARs, turn decoding on.</summary>
public static class PciBus
{
    /// <summary>
    /// Enumerates the platform's functions and, unless <see cref="PciScanOptions.AssignResources"/>
    /// is off, assigns their BARs from <see cref="Platform.MemoryWindows"/> and enables decoding.
    /// </summary>
    public static IReadOnlyList<PciFunction> Scan(Platform platform, PciScanOptions? options = null)
    {
        options ??= PciScanOptions.Default;
        IReadOnlyList<PciFunction> functions = PciEnumerator.Enumerate(platform, options);
        if (options.AssignResources)
        {
            PciResourceAssigner.Assign(platform, functions, enableBusMaster: options.EnableBusMaster);
        }

        return functions;
    }

    /// <summary>The function at <paramref name="address"/> among <paramref name="functions"/>.</summary>
    /// <exception cref="InvalidOperationException">No such function; the message names the address.</exception>
    public static PciFunction Find(this IReadOnlyList<PciFunction> functions, PciAddress address)
    {
        ArgumentNullException.ThrowIfNull(functions);
        foreach (PciFunction function in functions)
        {
            if (function.Address == address)
            {
                return function;
            }
        }

        throw new InvalidOperationException($"no PCI function at {address}");
    }
}

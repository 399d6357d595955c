using System.Globalization;
using System.Text.Json;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw lspci --json</c>: one document, <c>{"functions": [...], "mmio": [...]}</c>, the
/// shape the README lists. Ids, classes and addresses are lower-case hexadecimal strings as lspci
/// writes them; sizes and counts are numbers. What config space says is always there; the
/// <c>virtio</c> registers (read through a BAR) only with <c>-v</c>, the <c>config</c> bytes only
/// with <c>-x</c>.
/// </summary>
internal static class LspciJson
{
    public static void Write(IReadOnlyList<(Platform Platform, int Domain, IReadOnlyList<PciFunction> Functions)> listed, PciListingOptions options) =>
        CliJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("functions");
            foreach ((_, int domain, IReadOnlyList<PciFunction> functions) in listed)
            {
                foreach (PciFunction function in functions)
                {
                    WriteFunction(w, function, options with { Domain = domain });
                }
            }

            w.WriteEndArray();
            w.WriteStartArray("mmio");
            foreach ((Platform platform, _, _) in options.IncludeMmio ? listed : [])
            {
                foreach (MmioDeviceWindow window in platform.VirtioMmioDevices)
                {
                    WriteMmio(w, platform, window, options);
                }
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });

    private static void WriteFunction(Utf8JsonWriter w, PciFunction function, PciListingOptions options)
    {
        PciIdentity id = function.Identity;
        PciNames names = options.Names;
        w.WriteStartObject();
        w.WriteString("slot", PciListing.Slot(function.Address, options));
        w.WriteNumber("domain", options.Domain);
        w.WriteNumber("bus", function.Address.Bus);
        w.WriteNumber("device", function.Address.Device);
        w.WriteNumber("function", function.Address.Function);

        w.WriteStartObject("ids");
        w.WriteString("vendor", Hex(id.VendorId, 4));
        w.WriteString("device", Hex(id.DeviceId, 4));
        w.WriteString("class", Hex(id.ClassCode >> 8, 4));
        w.WriteString("progIf", Hex(id.ProgIf, 2));
        w.WriteString("revision", Hex(id.RevisionId, 2));
        w.WriteString("subsystemVendor", Hex(id.SubsystemVendorId, 4));
        w.WriteString("subsystem", Hex(id.SubsystemId, 4));
        w.WriteEndObject();

        // Null where neither the ID database nor the built-in names know the id.
        w.WriteStartObject("names");
        w.WriteString("vendor", names.Vendor(id.VendorId));
        w.WriteString("device", names.Device(id));
        w.WriteString("class", names.SubClass(id.BaseClass, id.SubClass) ?? names.Class(id.BaseClass));
        w.WriteString("subsystemVendor", names.Vendor(id.SubsystemVendorId));
        w.WriteEndObject();

        w.WriteNumber("headerType", id.HeaderLayout);
        w.WriteBoolean("multiFunction", id.IsMultiFunction);
        w.WriteNumber("command", function.Command);
        w.WriteNumber("status", function.Status);
        w.WriteNumber("configReadable", function.Platform.ReadableConfigBytes(function.Address));

        w.WriteStartArray("bars");
        foreach (PciBar bar in function.Bars)
        {
            w.WriteStartObject();
            w.WriteNumber("index", bar.Index);
            w.WriteString("kind", bar.Kind switch { PciBarKind.Io => "io", PciBarKind.Memory64 => "memory64", _ => "memory32" });
            w.WriteBoolean("prefetchable", bar.Prefetchable);
            w.WriteString("address", bar.IsAssigned ? Hex(bar.Address, 1) : null);
            w.WriteNumber("size", bar.Size);
            w.WriteEndObject();
        }

        w.WriteEndArray();

        w.WriteStartArray("capabilities");
        foreach (PciCapability capability in function.Capabilities)
        {
            w.WriteStartObject();
            w.WriteString("position", Hex(capability.Position, 2));
            w.WriteString("id", Hex(capability.CapabilityId, 2));
            w.WriteString("name", capability.Name);
            if (capability is VirtioPciCapabilityInfo virtio)
            {
                w.WriteNumber("bar", virtio.Bar);
                w.WriteString("offset", Hex(virtio.Offset, 1));
                w.WriteString("length", Hex(virtio.Length, 1));
            }
            else if (capability is MsixCapabilityInfo msix)
            {
                w.WriteNumber("tableSize", msix.TableSize);
                w.WriteNumber("tableBar", msix.TableBar);
                w.WriteString("tableOffset", Hex(msix.TableOffset, 1));
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();

        if (options.Verbose && function.IsVirtio)
        {
            if (PciListing.InspectVirtio(function, out string? problem) is { } info)
            {
                WriteVirtio(w, info);
            }
            else
            {
                // The registers sit behind a BAR the platform cannot reach: say so, list the rest.
                w.WriteStartObject("virtio");
                w.WriteString("notRead", problem);
                w.WriteEndObject();
            }
        }

        if (options.HexDumpBytes > 0)
        {
            w.WriteString("config", Convert.ToHexStringLower(PciListing.ReadConfigSpace(function, options.HexDumpBytes)));
        }

        w.WriteStartArray("diagnostics");
        foreach (string diagnostic in function.Diagnostics.Distinct())
        {
            w.WriteStringValue(diagnostic);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteMmio(Utf8JsonWriter w, Platform platform, MmioDeviceWindow window, PciListingOptions options)
    {
        VirtioMmioProbe probe = VirtioMmioTransport.Identify(platform, window.BaseAddress);
        w.WriteStartObject();
        w.WriteString("base", Hex(window.BaseAddress, 1));
        w.WriteNumber("size", window.Length);
        if (probe.Problem is { } problem)
        {
            w.WriteString("problem", problem);
        }
        else
        {
            w.WriteNumber("type", probe.DeviceId);
            w.WriteString("vendor", Hex(probe.VendorId, 8));
            w.WriteNumber("version", probe.Version);
            if (options.Verbose)
            {
                bool sharedMemory = options.AllSharedMemory || VirtioDeviceTypes.UsesSharedMemory((int)probe.DeviceId);
                WriteVirtio(w, VirtioMmioTransport.Inspect(platform, window, sharedMemory));
            }
        }

        w.WriteEndObject();
    }

    private static void WriteVirtio(Utf8JsonWriter w, VirtioDeviceInfo info)
    {
        w.WriteStartObject("virtio");
        w.WriteNumber("type", info.DeviceType);
        w.WriteString("name", VirtioDeviceTypes.Name(info.DeviceType));
        w.WriteNumber("status", (byte)info.Status);
        w.WriteString("deviceFeatures", Hex(info.DeviceFeatures, 16));
        w.WriteNumber("configGeneration", info.ConfigGeneration);
        w.WriteStartArray("queueMaxSizes");
        foreach (int size in info.QueueMaxSizes)
        {
            w.WriteNumberValue(size);
        }

        w.WriteEndArray();
        w.WriteStartArray("sharedMemory");
        foreach (VirtioSharedMemoryRegion region in info.SharedMemory)
        {
            w.WriteStartObject();
            w.WriteNumber("shmid", region.Id);
            w.WriteString("address", Hex(region.PhysicalAddress, 1));
            w.WriteNumber("length", region.Length);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("diagnostics");
        foreach (string diagnostic in info.Diagnostics.Distinct())
        {
            w.WriteStringValue(diagnostic);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static string Hex(ulong value, int digits) => value.ToString("x" + digits.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}

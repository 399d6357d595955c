using System.CommandLine;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Qemu;
using VirtioHw.Platforms.Sysfs;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw lspci</c>: enumerate a platform's PCI functions the way the host stack does (size,
/// assign, walk capabilities) and list them with their virtio-mmio devices, taking the options
/// people type to pciutils' lspci (<c>-v</c>, <c>-n</c>/<c>-nn</c>, <c>-x</c>/<c>-xxx</c>/<c>-xxxx</c>,
/// <c>-s</c>, <c>-d</c>, <c>-D</c>, <c>-i</c>). The text is <see cref="PciListing"/>'s, the JSON
/// <see cref="LspciJson"/>'s; this file maps the command line onto them.
/// </summary>
internal static class LspciCommand
{
    private const string SysfsDomainOption = "domain";

    public static Command Create()
    {
        // The catalog builds every command at start-up; the platforms this build has register here.
        ModelPlatform.Register();
        QemuPlatform.Register();
        SysfsPlatform.Register();
        CosimPlatform.Register();

        var verbose = new Option<bool>("--verbose", "-v", "-vv", "-vvv")
        {
            Description = "Show BARs, decoded capabilities, virtio status, features, queues and shared memory regions.",
        };
        var platform = new Option<string>("--platform", "-p")
        {
            Description = "Platform to enumerate: " + string.Join(", ", PlatformFactory.WellKnownNames) + ".",
            DefaultValueFactory = _ => "model",
        };
        var options = new Option<string[]>("--option", "-o")
        {
            Description = "A platform parameter, name=value; repeatable.",
            AllowMultipleArgumentsPerToken = false,
        };
        var slot = new Option<string?>("--slot", "-s")
        {
            Description = "Show only functions in this slot, as lspci -s: [[[[domain]:]bus]:][device][.[function]] in hex (01:, :00.1, 0000:00:01.0, 2:00:).",
        };
        var id = new Option<string?>("--id", "-d")
        {
            Description = "Show only functions with these ids, as lspci -d: [vendor]:[device][:class[:prog-if]] in hex (1af4:, 1af4:1041, ::0200).",
        };
        var numeric = new Option<bool>("--numeric", "-n") { Description = "Show ids as numbers instead of names." };
        var both = new Option<bool>("-nn", "-nnn") { Description = "Show ids as names and numbers (-nnn too, as lspci)." };
        var hex = new Option<bool>("-x", "-xx") { Description = "Hex dump of the standard header (the first 64 bytes of config space)." };
        var hexAll = new Option<bool>("-xxx") { Description = "Hex dump of the whole PCI config space (256 bytes), as far as it is readable." };
        var hexExtended = new Option<bool>("-xxxx") { Description = "Hex dump of the extended PCIe config space (4096 bytes), as far as it is readable." };
        var domains = new Option<bool>("-D") { Description = "Always show the PCI domain in front of the address." };
        var ids = new Option<FileInfo?>("--pci-ids", "-i")
        {
            Description = "The PCI ID database to name ids from (default: the system's pci.ids, " + string.Join(" or ", PciIds.SystemPaths) + ", else the built-in names).",
        };
        var json = new Option<bool>("--json") { Description = "Write JSON instead of text (the shape is in the README)." };
        var lastBus = new Option<int?>("--last-bus")
        {
            Description = "Last bus number to probe (default 0; 255 on the sysfs platform).",
        };
        var shmRegisters = new Option<bool>("--shm-registers")
        {
            Description = "With -v, read the virtio-mmio shared memory registers (SHMSel 0-255) of every device, not only of device types that have shared memory.",
        };

        var command = new Command("lspci", "List the PCI functions and virtio-mmio devices of a platform, with their virtio capabilities.")
        {
            verbose, platform, options, slot, id, numeric, both, hex, hexAll, hexExtended, domains, ids, json, lastBus, shmRegisters,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            PciFilter filter = Filter(parse.GetValue(slot), parse.GetValue(id));
            int? bus = parse.GetValue(lastBus);
            if (bus is < 0 or > 255)
            {
                throw UserErrorException.Usage($"--last-bus {bus} is not a bus number (0-255)");
            }

            var listing = new PciListingOptions
            {
                Verbose = parse.GetValue(verbose),
                Numbers = parse.GetValue(both) ? PciNumbers.Both : parse.GetValue(numeric) ? PciNumbers.Numbers : PciNumbers.Names,
                Names = new PciNames(LoadIds(parse.GetValue(ids))),
                HexDumpBytes = parse.GetValue(hexExtended) ? 4096 : parse.GetValue(hexAll) ? 256 : parse.GetValue(hex) ? 64 : 0,
                IncludeMmio = filter.IsAll,
                AllSharedMemory = parse.GetValue(shmRegisters),
            };

            string name = parse.GetValue(platform)!;
            string[] parameters = parse.GetValue(options) ?? [];
            var listed = new List<(Platform Platform, int Domain, IReadOnlyList<PciFunction> Functions)>();
            try
            {
                foreach ((string[] domainParameters, int domain) in Domains(name, parameters, filter))
                {
                    Platform target = Open(name, domainParameters);
                    listed.Add((target, domain, []));
                    int last = bus ?? (target is SysfsPlatform ? 255 : 0);
                    // A platform without memory windows (sysfs) has its BARs placed already: listing
                    // it changes nothing, so the command register reads as the device holds it.
                    var scan = new PciScanOptions { LastBus = Math.Max(last, filter.Bus ?? 0), AssignResources = target.MemoryWindows.Count > 0 };
                    IReadOnlyList<PciFunction> functions = PciBus.Scan(target, scan);
                    listed[^1] = (target, domain, [.. functions.Where(f => filter.Matches(domain, f.Address, f.Identity))]);
                    cancellationToken.ThrowIfCancellationRequested();
                }

                bool showDomain = parse.GetValue(domains) || listed.Any(l => l.Domain != 0);
                if (parse.GetValue(json))
                {
                    LspciJson.Write(listed, listing with { ShowDomain = true });
                    return ExitCodes.Success;
                }

                foreach ((Platform target, int domain, IReadOnlyList<PciFunction> functions) in listed)
                {
                    PciListing.Write(Console.Out, target, functions, listing with { Domain = domain, ShowDomain = showDomain });
                }
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                // A platform that cannot be read (no permission, a vanished device) says so in one line.
                throw new UserErrorException($"platform '{name}': {e.Message}", e);
            }
            finally
            {
                foreach ((Platform target, _, _) in listed)
                {
                    await target.DisposeAsync().ConfigureAwait(false);
                }
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static PciFilter Filter(string? slot, string? id)
    {
        try
        {
            PciFilter filter = PciFilter.All;
            filter = slot is null ? filter : filter.WithSlot(slot);
            return id is null ? filter : filter.WithId(id);
        }
        catch (FormatException e)
        {
            throw UserErrorException.Usage(e.Message);
        }
    }

    private static PciIds? LoadIds(FileInfo? file)
    {
        try
        {
            return file is null ? PciIds.LoadSystem() : PciIds.Load(file.FullName);
        }
        catch (IOException e)
        {
            throw new UserErrorException(e.Message, e);
        }
    }

    /// <summary>
    /// The platform parameters for each PCI domain to list, with its number. The sysfs platform
    /// sees one domain at a time: unless <c>-o domain=</c> names one, every domain the machine has
    /// (or the one <c>-s</c> names) is opened. Other platforms are one domain, 0.
    /// </summary>
    private static IEnumerable<(string[] Parameters, int Domain)> Domains(string name, string[] parameters, PciFilter filter)
    {
        bool sysfs = string.Equals(name, SysfsPlatform.PlatformName, StringComparison.OrdinalIgnoreCase);
        PlatformOptions parsed = ParseOptions(parameters);
        if (!sysfs)
        {
            yield return (parameters, 0);
            yield break;
        }

        if (parsed.GetParameter(SysfsDomainOption) is not null)
        {
            yield return (parameters, ChosenDomain(parsed));
            yield break;
        }

        IReadOnlyList<int> found = SysfsPlatform.Domains(parsed.GetParameter("root") ?? SysfsPlatformSettings.DefaultDevicesDirectory);
        if (found.Count == 0)
        {
            // Opening domain 0 reports why there is nothing to list.
            yield return (parameters, 0);
            yield break;
        }

        foreach (int domain in found.Where(d => filter.Domain is null || filter.Domain == d))
        {
            yield return ([.. parameters, FormattableString.Invariant($"{SysfsDomainOption}={domain:x}")], domain);
        }
    }

    private static int ChosenDomain(PlatformOptions options)
    {
        try
        {
            return SysfsPlatformSettings.FromOptions(options).Domain;
        }
        catch (ArgumentException e)
        {
            throw new UserErrorException(e.Message);
        }
    }

    private static PlatformOptions ParseOptions(string[] parameters)
    {
        try
        {
            return PlatformOptions.Parse(parameters);
        }
        catch (FormatException e)
        {
            throw UserErrorException.Usage(e.Message);
        }
    }

    private static Platform Open(string name, string[] parameters)
    {
        PlatformOptions options = ParseOptions(parameters);
        try
        {
            return PlatformFactory.Create(name, options);
        }
        catch (ArgumentException e)
        {
            throw new UserErrorException(e.Message);
        }
        catch (EndpointDescriptionException e)
        {
            throw new UserErrorException(e.Message);
        }
    }
}

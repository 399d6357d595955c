using System.CommandLine;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Platforms.Cosim;
using VirtioHw.Platforms.Qemu;
using VirtioHw.Platforms.Sysfs;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw lspci [-v] [--platform NAME]</c>: enumerate a platform's PCI functions the way the
/// host stack does (size, assign, walk capabilities) and list them with their virtio-mmio devices.
/// The text is <see cref="PciListing"/>'s; this file maps the command line onto it.
/// </summary>
internal static class LspciCommand
{
    public static Command Create()
    {
        // The catalog builds every command at start-up; the platforms this build has register here.
        ModelPlatform.Register();
        QemuPlatform.Register();
        SysfsPlatform.Register();
        CosimPlatform.Register();

        var verbose = new Option<bool>("--verbose", "-v")
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
            Description = "Show only the function at this address (bb:dd.f).",
        };
        var lastBus = new Option<int>("--last-bus")
        {
            Description = "Last bus number to probe (default 0).",
        };
        var shmRegisters = new Option<bool>("--shm-registers")
        {
            Description = "With -v, read the virtio-mmio shared memory registers (SHMSel 0-255) of every device, not only of device types that have shared memory.",
        };

        var command = new Command("lspci", "List the PCI functions and virtio-mmio devices of a platform, with their virtio capabilities.")
        {
            verbose, platform, options, slot, lastBus, shmRegisters,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            PciAddress? only = null;
            if (parse.GetValue(slot) is { } text)
            {
                only = PciAddress.TryParse(text, out PciAddress address)
                    ? address
                    : throw new UserErrorException($"--slot '{text}' is not a PCI address of the form bb:dd.f");
            }

            int bus = parse.GetValue(lastBus);
            if (bus is < 0 or > 255)
            {
                throw new UserErrorException($"--last-bus {bus} is not a bus number (0-255)");
            }

            await using Platform target = Open(parse.GetValue(platform)!, parse.GetValue(options) ?? []);
            IReadOnlyList<PciFunction> functions = PciBus.Scan(target, new PciScanOptions { LastBus = bus });
            if (only is { } wanted)
            {
                functions = [.. functions.Where(f => f.Address == wanted)];
                if (functions.Count == 0)
                {
                    throw new UserErrorException($"platform '{target.Name}' has no PCI function at {wanted}");
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                PciListing.Write(Console.Out, target, functions, parse.GetValue(verbose), includeMmio: only is null, allSharedMemory: parse.GetValue(shmRegisters));
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
            {
                // A platform that cannot reach a BAR (no resourceN files, no permission) says so in one line.
                throw new UserErrorException($"platform '{target.Name}': {e.Message}", e);
            }
            return 0;
        });
        return command;
    }

    private static Platform Open(string name, string[] parameters)
    {
        PlatformOptions options;
        try
        {
            options = PlatformOptions.Parse(parameters);
        }
        catch (FormatException e)
        {
            throw new UserErrorException(e.Message);
        }

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

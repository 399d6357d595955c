using System.Globalization;
using System.Net.Sockets;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// A <see cref="Platform"/> that is a QEMU q35 machine, driven over QEMU's qtest socket: the
/// guest CPU halts at its first instruction, and this process plays firmware and driver. Config space goes through
/// ports 0xcf8/0xcfc (and the MMCONFIG window for the extended config space), memory through
/// qtest's sized reads and writes, DMA memory is carved out of guest RAM, and MSI-X messages land
/// in a mailbox page of guest RAM (see <see cref="MsiMailbox"/>).
/// </summary>
/// <remarks>
/// <para>Guest-physical memory map (q35, RAM at most 2 GiB):</para>
/// <list type="table">
/// <item><term>0x100000-0x100fff</term><description>MSI mailbox: one 32-bit slot per vector</description></item>
/// <item><term>0x1000000-end of RAM</term><description>DMA regions</description></item>
/// <item><term>0xb0000000-0xbfffffff</term><description>MMCONFIG (ECAM) for buses 0-255, enabled at start as firmware would</description></item>
/// <item><term>0xc0000000-0xfebfffff</term><description>32-bit window for BARs (below the I/O APIC at 0xfec00000)</description></item>
/// <item><term>0x100000000-0x8ffffffff</term><description>64-bit window for BARs (32 GiB)</description></item>
/// </list>
/// <para>
/// The QEMU process belongs to the platform: started by <see cref="StartAsync"/>, killed by
/// <see cref="Platform.DisposeAsync"/>, and killed by the kernel should this process die first.
/// </para>
/// </remarks>
public sealed class QemuPlatform : Platform
{
    /// <summary>The name the platform registers under.</summary>
    public const string PlatformName = "qemu";

    /// <summary>Where q35's MMCONFIG window is placed: QEMU's own default PCIEXBAR address.</summary>
    public const ulong EcamBase = 0xb000_0000;

    /// <summary>The guest RAM page that receives MSI-X messages.</summary>
    public const ulong MsiMailboxBase = 0x10_0000;

    /// <summary>The first guest-physical address DMA regions may use.</summary>
    public const ulong DmaWindowBase = 0x100_0000;

    // Q35 host bridge (00:00.0) register that places and enables MMCONFIG: bit 0 enable, bits 2:1
    // size (0 = 256 buses), address in bits 35:28.
    private const int PciExBarOffset = 0x60;
    private const uint PciExBarEnable = 0x1;

    private const int LegacyConfigSpace = 256;
    private const int BlockChunk = 64 * 1024;

    private static readonly IReadOnlyList<PciMemoryWindow> Windows =
    [
        new PciMemoryWindow(0xc000_0000, 0xfec0_0000 - 0xc000_0000),
        new PciMemoryWindow(0x1_0000_0000, 0x8_0000_0000),
    ];

    private static int s_registered;

    private readonly QemuPlatformSettings _settings;
    private readonly QemuProcess _process;
    private readonly QtestConnection _qtest;
    private readonly string _directory;
    private readonly MsiMailbox _mailbox;
    private readonly GuestRangeAllocator _dma;
    private readonly Lock _regionSync = new();
    private readonly HashSet<GuestDmaRegion> _regions = [];

    private QemuPlatform(QemuPlatformSettings settings, QemuProcess process, QtestConnection qtest, string directory)
    {
        _settings = settings;
        _process = process;
        _qtest = qtest;
        _directory = directory;
        _mailbox = new MsiMailbox(this, MsiMailboxBase, settings.MsiPollInterval);
        ulong ramEnd = (ulong)settings.MemoryMiB << 20;
        _dma = new GuestRangeAllocator(DmaWindowBase, ramEnd - DmaWindowBase);
    }

    public override string Name => PlatformName;

    public QemuPlatformSettings Settings => _settings;

    /// <summary>The QEMU process id, for diagnostics.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The 32-bit window below the I/O APIC, then 32 GiB above 4 GiB.</summary>
    public override IReadOnlyList<PciMemoryWindow> MemoryWindows => Windows;

    /// <summary>Whether the QEMU binary <paramref name="executable"/> can be found.</summary>
    public static bool IsInstalled(string executable = QemuPlatformSettings.DefaultExecutable) =>
        ExecutableSearch.Locate(executable) is not null;

    /// <summary>
    /// Makes <c>qemu</c> available to <see cref="PlatformFactory"/>, built from <c>--platform qemu</c>
    /// options (<see cref="QemuPlatformSettings.FromOptions"/>); calling it again does nothing.
    /// </summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref s_registered, 1) == 0)
        {
            PlatformFactory.Register(PlatformName, options =>
            {
                // The registry reports what keeps a platform from being created as one-line ArgumentExceptions.
                try
                {
                    return StartAsync(QemuPlatformSettings.FromOptions(options)).GetAwaiter().GetResult();
                }
                catch (QemuException e)
                {
                    throw new ArgumentException(e.Message, e);
                }
            });
        }
    }

    /// <summary>
    /// Starts QEMU with a firmware that only halts the CPU, and connects to its qtest socket. The
    /// caller disposes the platform, which kills QEMU.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    /// <exception cref="QemuException">QEMU is missing, died, or did not connect in time; one line.</exception>
    public static async Task<QemuPlatform> StartAsync(QemuPlatformSettings? settings = null, CancellationToken cancellationToken = default)
    {
        settings ??= QemuPlatformSettings.Default;
        settings.Validate();
        string name = Path.GetFileName(settings.Executable);
        if (ExecutableSearch.Locate(settings.Executable) is null)
        {
            throw new QemuException($"{settings.Executable} not found; apt-get install qemu-system-x86");
        }

        string directory = Directory.CreateTempSubdirectory("virtiohw-qemu-").FullName;
        QemuProcess? process = null;
        QemuPlatform? platform = null;
        try
        {
            string socketPath = Path.Combine(directory, "qtest.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(1);

            process = QemuProcess.Start(settings.Executable, [.. Arguments(settings, socketPath, WriteHaltFirmware(directory))]);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(settings.StartTimeout);
            Task<Socket> accept = listener.AcceptAsync(deadline.Token).AsTask();
            if (await Task.WhenAny(accept, process.Exited).ConfigureAwait(false) != accept)
            {
                await deadline.CancelAsync().ConfigureAwait(false);
                throw new QemuException(process.DescribeExit());
            }

            Socket connected;
            try
            {
                connected = await accept.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new QemuException($"{name} did not connect its qtest socket within {settings.StartTimeout.TotalSeconds:0} s");
            }

            QemuProcess owned = process;
            var qtest = new QtestConnection(connected, settings.CommandTimeout, command => Lost(owned, name, command));
            platform = new QemuPlatform(settings, process, qtest, directory);
            platform.EnableEcam();
            return platform;
        }
        catch
        {
            if (platform is not null)
            {
                await platform.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                if (process is not null)
                {
                    await process.DisposeAsync().ConfigureAwait(false);
                }

                Directory.Delete(directory, recursive: true);
            }

            throw;
        }
    }

    public override uint ReadConfig(PciAddress function, int offset, int width)
    {
        ValidateConfigAccess(offset, width);
        if (offset >= LegacyConfigSpace)
        {
            return (uint)ReadMemory(EcamAddress(function, offset), width);
        }

        string read = Command(width switch { 1 => "inb", 2 => "inw", _ => "inl" }, 0xcfcUL + (uint)(offset & 3));
        lock (_qtest.Sync)
        {
            SelectConfig(function, offset);
            return (uint)_qtest.ExecuteValue(read) & (uint.MaxValue >> (32 - (8 * width)));
        }
    }

    public override void WriteConfig(PciAddress function, int offset, int width, uint value)
    {
        ValidateConfigAccess(offset, width);
        if (offset >= LegacyConfigSpace)
        {
            WriteMemory(EcamAddress(function, offset), width, value);
            return;
        }

        string write = Command(width switch { 1 => "outb", 2 => "outw", _ => "outl" }, 0xcfcUL + (uint)(offset & 3), value);
        lock (_qtest.Sync)
        {
            SelectConfig(function, offset);
            _qtest.Execute(write);
        }
    }

    public override ulong ReadMemory(ulong address, int width)
    {
        ValidateMemoryAccess(address, width);
        ulong value = _qtest.ExecuteValue(Command(ReadCommand(width), address));
        return width == 8 ? value : value & ((1UL << (8 * width)) - 1);
    }

    public override void WriteMemory(ulong address, int width, ulong value)
    {
        ValidateMemoryAccess(address, width);
        _qtest.Execute(Command(WriteCommand(width), address, width == 8 ? value : value & ((1UL << (8 * width)) - 1)));
    }

    /// <summary>
    /// Reads a block with qtest's bulk read, in 64 KiB commands. QEMU splits it into whatever
    /// accesses the memory regions take, so use it for memory, not for registers.
    /// </summary>
    public override void ReadMemory(ulong address, Span<byte> destination)
    {
        ValidateBlock(address, destination.Length);
        ReadGuest(address, destination);
    }

    /// <summary>Writes a block with qtest's bulk write; see <see cref="ReadMemory(ulong, Span{byte})"/>.</summary>
    public override void WriteMemory(ulong address, ReadOnlySpan<byte> source)
    {
        ValidateBlock(address, source.Length);
        WriteGuest(address, source);
    }

    /// <summary>A vector whose message is a write to its own slot of the mailbox page in guest RAM.</summary>
    public override MsiVector AllocateMsiVector() => _mailbox.Allocate();

    /// <summary>Zeroed guest RAM at a guest-physical (bus) address; read and written through qtest.</summary>
    public override DmaRegion AllocateDma(int length, int alignment = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (alignment <= 0 || !int.IsPow2(alignment))
        {
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two");
        }

        ulong address = _dma.Allocate((ulong)length, (ulong)alignment);
        FillGuest(address, length, 0);
        var region = new GuestDmaRegion(this, address, length, Release);
        lock (_regionSync)
        {
            _regions.Add(region);
        }

        return region;
    }

    internal void ReadGuest(ulong address, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int chunk = Math.Min(destination.Length, BlockChunk);
            _qtest.ReadBlock(address, destination[..chunk]);
            destination = destination[chunk..];
            address += (ulong)chunk;
        }
    }

    internal void WriteGuest(ulong address, ReadOnlySpan<byte> source)
    {
        while (!source.IsEmpty)
        {
            int chunk = Math.Min(source.Length, BlockChunk);
            _qtest.WriteBlock(address, source[..chunk]);
            source = source[chunk..];
            address += (ulong)chunk;
        }
    }

    internal void FillGuest(ulong address, int length, byte value) =>
        _qtest.Execute(string.Create(CultureInfo.InvariantCulture, $"memset 0x{address:x} 0x{length:x} 0x{value:x}"));

    protected override async ValueTask DisposeAsyncCore()
    {
        await _mailbox.DisposeAsync().ConfigureAwait(false);
        GuestDmaRegion[] regions;
        lock (_regionSync)
        {
            regions = [.. _regions];
        }

        foreach (GuestDmaRegion region in regions)
        {
            region.Dispose();
        }

        _qtest.Dispose();
        await _process.DisposeAsync().ConfigureAwait(false);
        Directory.Delete(_directory, recursive: true);
    }

    private static IEnumerable<string> Arguments(QemuPlatformSettings settings, string socketPath, string firmwarePath)
    {
        string[] fixedPart =
        [
            "-machine", "q35", "-accel", "tcg", "-display", "none", "-nodefaults",
            "-bios", firmwarePath,
            "-qtest", "unix:" + socketPath, "-qtest-log", "/dev/null",
            "-m", string.Create(CultureInfo.InvariantCulture, $"{settings.MemoryMiB}M"),
        ];
        return fixedPart.Concat(settings.DeviceArguments);
    }

    /// <summary>
    /// The guest's firmware: 64 KiB (QEMU's smallest BIOS size) of which only the reset vector,
    /// the last 16 bytes at 0xfffffff0, means anything: <c>cli; hlt; jmp back to hlt</c>. The
    /// machine runs, so devices that work only in a running machine (virtio-rng) do, while the CPU
    /// sleeps with interrupts off and touches nothing; this process is the firmware.
    /// </summary>
    private static string WriteHaltFirmware(string directory)
    {
        byte[] image = new byte[64 * 1024];
        Array.Fill(image, (byte)0xff);
        ReadOnlySpan<byte> resetVector = [0xfa, 0xf4, 0xeb, 0xfd];
        resetVector.CopyTo(image.AsSpan(image.Length - 16));
        string path = Path.Combine(directory, "halt.bin");
        File.WriteAllBytes(path, image);
        return path;
    }

    private static QemuException Lost(QemuProcess process, string name, string command)
    {
        // QEMU closes the socket as it dies; give it a moment to be reaped so its exit code is known.
        if (process.Exited.Wait(TimeSpan.FromSeconds(2)))
        {
            return new QemuException(process.DescribeExit());
        }

        return new QemuException($"the qtest connection to {name} broke during '{command}'");
    }

    private static string Command(string verb, ulong address) =>
        string.Create(CultureInfo.InvariantCulture, $"{verb} 0x{address:x}");

    private static string Command(string verb, ulong address, ulong value) =>
        string.Create(CultureInfo.InvariantCulture, $"{verb} 0x{address:x} 0x{value:x}");

    private static string ReadCommand(int width) => width switch { 1 => "readb", 2 => "readw", 4 => "readl", _ => "readq" };

    private static string WriteCommand(int width) => width switch { 1 => "writeb", 2 => "writew", 4 => "writel", _ => "writeq" };

    private static ulong EcamAddress(PciAddress function, int offset) =>
        EcamBase + ((ulong)function.Bus << 20) + ((ulong)function.Device << 15) + ((ulong)function.Function << 12) + (ulong)offset;

    // Configuration mechanism #1: enable bit, bus, device, function and dword register in 0xcf8.
    private void SelectConfig(PciAddress function, int offset)
    {
        uint address = 0x8000_0000u | ((uint)function.Bus << 16) | ((uint)function.Device << 11)
            | ((uint)function.Function << 8) | (uint)(offset & 0xfc);
        _qtest.Execute(Command("outl", 0xcf8, address));
    }

    private void EnableEcam()
    {
        var hostBridge = new PciAddress(0, 0, 0);
        WriteConfig32(hostBridge, PciExBarOffset + 4, (uint)(EcamBase >> 32));
        WriteConfig32(hostBridge, PciExBarOffset, (uint)EcamBase | PciExBarEnable);
    }

    private void Release(GuestDmaRegion region)
    {
        _dma.Release(region.BusAddress);
        lock (_regionSync)
        {
            _regions.Remove(region);
        }
    }
}

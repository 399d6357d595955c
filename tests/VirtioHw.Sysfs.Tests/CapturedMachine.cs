using System.Globalization;
using System.Text.RegularExpressions;
using VirtioHw.Host.Platforms;

namespace VirtioHw.Sysfs.Tests;

/// <summary>
/// A captured machine (Data/NAME) laid out as a scratch /sys/bus/pci/devices tree, so the sysfs
/// platform reads it exactly as it reads the real one; removed on dispose.
/// </summary>
internal sealed class CapturedMachine : IDisposable
{
    private readonly string _data;

    public CapturedMachine(string name)
    {
        _data = Path.Combine(TestContext.CurrentContext.TestDirectory, "Data", name);
        Root = Directory.CreateTempSubdirectory("vhw-sysfs-").FullName;
        foreach (string config in Directory.EnumerateFiles(_data, "*.config"))
        {
            string function = Path.GetFileNameWithoutExtension(config).Replace('_', ':');
            string directory = Directory.CreateDirectory(Path.Combine(Root, function)).FullName;
            File.Copy(config, Path.Combine(directory, "config"));
            File.Copy(Path.ChangeExtension(config, ".resource"), Path.Combine(directory, "resource"));
        }

        Lspci = LspciFacts.Parse(File.ReadAllText(Path.Combine(_data, "lspci.txt")));
    }

    /// <summary>The scratch devices directory.</summary>
    public string Root { get; }

    /// <summary>What pciutils reported on the captured machine, by address.</summary>
    public IReadOnlyDictionary<PciAddress, LspciFunction> Lspci { get; }

    /// <summary>The scratch directory of function <paramref name="address"/> (domain 0).</summary>
    public string FunctionDirectory(PciAddress address) => Path.Combine(Root, "0000:" + address);

    /// <summary>The captured config bytes of <paramref name="address"/>, as they were on the machine.</summary>
    public byte[] CapturedConfig(PciAddress address) =>
        File.ReadAllBytes(Path.Combine(_data, "0000_" + address.ToString().Replace(':', '_') + ".config"));

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

/// <summary>A BAR as lspci prints it: <c>Region 0: Memory at 4000000000 (64-bit, non-prefetchable) [size=512K]</c>.</summary>
internal sealed record LspciRegion(int Index, ulong Address, bool Is64Bit, bool Prefetchable, ulong Size);

/// <summary>A virtio vendor capability as lspci prints it (its name, "&lt;unknown&gt;" for types it does not know).</summary>
internal sealed record LspciVirtioCapability(int Position, string Kind, int Bar, ulong Offset, ulong Length, uint? Multiplier);

/// <summary>An MSI-X capability as lspci prints it.</summary>
internal sealed record LspciMsix(int Position, int Count, int TableBar, ulong TableOffset, int PbaBar, ulong PbaOffset);

/// <summary>One function of <c>lspci -vvv -nn -xxx</c>.</summary>
internal sealed record LspciFunction(
    PciAddress Address, uint ClassCode, ushort Vendor, ushort Device, byte Revision,
    IReadOnlyList<LspciRegion> Regions, IReadOnlyList<LspciVirtioCapability> Virtio, LspciMsix? Msix, byte[] ConfigDump);

/// <summary>Reads the parts of lspci's verbose output the tests compare against.</summary>
internal static partial class LspciFacts
{
    public static IReadOnlyDictionary<PciAddress, LspciFunction> Parse(string text)
    {
        var functions = new Dictionary<PciAddress, LspciFunction>();
        foreach (string block in text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string[] lines = block.Split('\n');
            Match head = Header().Match(lines[0]);
            var address = PciAddress.Parse(head.Groups["bdf"].Value);
            var regions = new List<LspciRegion>();
            var virtio = new List<LspciVirtioCapability>();
            LspciMsix? msix = null;
            var dump = new List<byte>();
            for (int i = 1; i < lines.Length; i++)
            {
                string line = lines[i].Trim();
                if (Region().Match(line) is { Success: true } region)
                {
                    regions.Add(new LspciRegion(Int(region, "index"), Hex(region, "address"), region.Groups["bits"].Value == "64",
                        region.Groups["pf"].Value == "prefetchable", Size(region.Groups["size"].Value)));
                }
                else if (VirtioCap().Match(line) is { Success: true } cap)
                {
                    Match location = VirtioLocation().Match(lines[++i].Trim());
                    virtio.Add(new LspciVirtioCapability(HexInt(cap, "pos"), cap.Groups["kind"].Value, Int(location, "bar"),
                        Hex(location, "offset"), Hex(location, "size"),
                        location.Groups["mult"].Success ? (uint)Hex(location, "mult") : null));
                }
                else if (MsixCap().Match(line) is { Success: true } msixHead)
                {
                    Match table = MsixTable().Match(lines[++i].Trim());
                    Match pba = MsixPba().Match(lines[++i].Trim());
                    msix = new LspciMsix(HexInt(msixHead, "pos"), Int(msixHead, "count"),
                        Int(table, "bar"), Hex(table, "offset"), Int(pba, "bar"), Hex(pba, "offset"));
                }
                else if (DumpLine().Match(line) is { Success: true } bytes)
                {
                    dump.AddRange(bytes.Groups["bytes"].Value.Split(' ').Select(b => byte.Parse(b, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)));
                }
            }

            functions.Add(address, new LspciFunction(address,
                (uint)Hex(head, "class") << 8,
                (ushort)Hex(head, "vendor"), (ushort)Hex(head, "device"),
                head.Groups["rev"].Success ? (byte)Hex(head, "rev") : (byte)0,
                regions, virtio, msix, [.. dump]));
        }

        return functions;
    }

    private static ulong Size(string text)
    {
        ulong unit = text[^1] switch { 'K' => 1UL << 10, 'M' => 1UL << 20, 'G' => 1UL << 30, _ => 1 };
        return ulong.Parse(unit == 1 ? text : text[..^1], CultureInfo.InvariantCulture) * unit;
    }

    private static int Int(Match match, string group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    private static int HexInt(Match match, string group) => (int)Hex(match, group);

    private static ulong Hex(Match match, string group) =>
        ulong.Parse(match.Groups[group].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    // 00:01.0 Unassigned class [ffff]: Red Hat, Inc. Virtio 1.0 memory balloon [1af4:1045] (rev 01)
    [GeneratedRegex(@"^(?<bdf>[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) .*\[(?<class>[0-9a-f]{4})\]: .*\[(?<vendor>[0-9a-f]{4}):(?<device>[0-9a-f]{4})\](?: \(rev (?<rev>[0-9a-f]{2})\))?")]
    private static partial Regex Header();

    [GeneratedRegex(@"^Region (?<index>\d): Memory at (?<address>[0-9a-f]+) \((?<bits>32|64)-bit, (?<pf>prefetchable|non-prefetchable)\) \[size=(?<size>\d+[KMG]?)\]")]
    private static partial Regex Region();

    [GeneratedRegex(@"^Capabilities: \[(?<pos>[0-9a-f]+)\] Vendor Specific Information: VirtIO: (?<kind>\S+)")]
    private static partial Regex VirtioCap();

    [GeneratedRegex(@"^BAR=(?<bar>\d) offset=(?<offset>[0-9a-f]+) size=(?<size>[0-9a-f]+)(?: multiplier=(?<mult>[0-9a-f]+))?")]
    private static partial Regex VirtioLocation();

    [GeneratedRegex(@"^Capabilities: \[(?<pos>[0-9a-f]+)\] MSI-X: Enable[+-] Count=(?<count>\d+)")]
    private static partial Regex MsixCap();

    [GeneratedRegex(@"^Vector table: BAR=(?<bar>\d) offset=(?<offset>[0-9a-f]+)")]
    private static partial Regex MsixTable();

    [GeneratedRegex(@"^PBA: BAR=(?<bar>\d) offset=(?<offset>[0-9a-f]+)")]
    private static partial Regex MsixPba();

    [GeneratedRegex(@"^[0-9a-f]{2,3}0: (?<bytes>(?:[0-9a-f]{2} ){15}[0-9a-f]{2})$")]
    private static partial Regex DumpLine();
}

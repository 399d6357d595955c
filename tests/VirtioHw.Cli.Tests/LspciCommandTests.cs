using System.Text.Json;

namespace VirtioHw.Cli.Tests;

/// <summary>
/// <c>virtiohw lspci</c> as people use lspci, on a scratch sysfs tree laid out from the captured
/// Firecracker machine (its kernel offers no resourceN files, so no BAR can be mapped): piped
/// output, <c>-s</c>/<c>-d</c> filters, <c>-n</c>/<c>-nn</c>, hex dumps, domains, <c>--json</c>
/// and exit codes.
/// </summary>
public sealed class LspciCommandTests
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "Data", "firecracker");
    private static readonly string Ids = Path.Combine(Data, "pci.ids");

    private string _root = null!;

    [SetUp]
    public void LayOutTheMachine()
    {
        _root = Directory.CreateTempSubdirectory("vhwc-sysfs-").FullName;
        foreach (string config in Directory.EnumerateFiles(Data, "*.config"))
        {
            string directory = Directory.CreateDirectory(Path.Combine(_root, Path.GetFileNameWithoutExtension(config).Replace('_', ':'))).FullName;
            File.Copy(config, Path.Combine(directory, "config"));
            File.Copy(Path.ChangeExtension(config, ".resource"), Path.Combine(directory, "resource"));
        }
    }

    [TearDown]
    public void Remove() => Directory.Delete(_root, recursive: true);

    private Virtiohw.Result Lspci(params string[] args) =>
        Virtiohw.Run(["lspci", "--platform", "sysfs", "-o", "root=" + _root, "-i", Ids, .. args]);

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [TestCase("-nn")]
    [TestCase("-nnn")]
    public void Piped_ListsEveryFunction_AsLspciNnDid_OneLineEach(string numbers)
    {
        string[] expected = [.. File.ReadAllLines(Path.Combine(Data, "lspci.txt")).Where(l => l.Length > 7 && l[2] == ':' && l[5] == '.')];

        Virtiohw.Result r = Lspci(numbers);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.ExitCode, Is.Zero, r.Stderr);
            Assert.That(Lines(r.Stdout), Is.EqualTo(expected));
            Assert.That(r.Stdout, Does.Not.Contain("\u001b"));
        }
    }

    [Test]
    public void Verbose_ListsEveryFunction_WithoutABarMapping()
    {
        Virtiohw.Result r = Lspci("-v");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.ExitCode, Is.Zero, r.Stderr);
            Assert.That(Lines(r.Stdout).Count(l => !l.StartsWith('\t')), Is.EqualTo(6));
            Assert.That(Lines(r.Stdout).Count(l => l.StartsWith("\tVirtio: registers not read: ", StringComparison.Ordinal)), Is.EqualTo(5));
            Assert.That(r.Stdout, Does.Contain("00:05.0 Unassigned class [ffff]: Red Hat, Inc. Virtio 1.0 RNG (rev 01)\n\tSubsystem: Red Hat, Inc. Virtio 1.0 RNG"));
        }
    }

    [TestCase("01:", new string[0])]
    [TestCase(":03", new[] { "00:03.0" })]
    [TestCase("0000:00:05.0", new[] { "00:05.0" })]
    [TestCase(".0", new[] { "00:00.0", "00:01.0", "00:02.0", "00:03.0", "00:04.0", "00:05.0" })]
    [TestCase("1:", new string[0])]
    [TestCase("0001::", new string[0])]
    public void Slot_SelectsAsLspciS(string slot, string[] addresses)
    {
        Virtiohw.Result r = Lspci("-s", slot);
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        Assert.That(Lines(r.Stdout).Select(l => l[..7]), Is.EqualTo(addresses));
    }

    [TestCase("1af4:", 5)]
    [TestCase("8086:0d57", 1)]
    [TestCase("::0200", 1)]
    [TestCase(":1041", 1)]
    [TestCase("1af4::ffff", 3)]
    [TestCase("15b3:", 0)]
    public void Id_SelectsAsLspciD(string id, int count)
    {
        Virtiohw.Result r = Lspci("-d", id);
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        Assert.That(Lines(r.Stdout), Has.Length.EqualTo(count));
    }

    [Test]
    public void Numeric_AndHexDumps_AreLspcis()
    {
        Virtiohw.Result numeric = Lspci("-n", "-s", "00:00.0");
        Virtiohw.Result x = Lspci("-x", "-s", "02");
        Virtiohw.Result xxx = Lspci("-xxx", "-s", "02");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(numeric.Stdout, Is.EqualTo("00:00.0 0600: 8086:0d57\n"));
            Assert.That(Lines(x.Stdout), Has.Length.EqualTo(1 + 4));
            Assert.That(Lines(x.Stdout)[1], Is.EqualTo("00: f4 1a 42 10 06 04 10 00 01 00 80 01 00 00 00 00"));
            Assert.That(Lines(xxx.Stdout), Has.Length.EqualTo(1 + 16));
            Assert.That(Lines(xxx.Stdout)[^1], Does.StartWith("f0: "));
        }
    }

    [Test]
    public void OtherDomains_AreListed_WithTheDomainInFront()
    {
        string other = Directory.CreateDirectory(Path.Combine(_root, "0001:02:00.0")).FullName;
        File.Copy(Path.Combine(Data, "0000_00_03.0.config"), Path.Combine(other, "config"));
        File.Copy(Path.Combine(Data, "0000_00_03.0.resource"), Path.Combine(other, "resource"));

        Virtiohw.Result all = Lspci();
        Virtiohw.Result one = Lspci("-s", "1:02:");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Lines(all.Stdout), Has.Length.EqualTo(7), all.Stderr);
            Assert.That(Lines(all.Stdout), Has.All.Match("^000[01]:"));
            Assert.That(one.Stdout, Is.EqualTo("0001:02:00.0 Ethernet controller: Red Hat, Inc. Virtio 1.0 network device (rev 01)\n"));
        }
    }

    [Test]
    public void Json_HasTheDocumentedShape()
    {
        Virtiohw.Result r = Lspci("--json", "-v", "-x");
        Assert.That(r.ExitCode, Is.Zero, r.Stderr);
        using JsonDocument document = JsonDocument.Parse(r.Stdout);
        JsonElement[] functions = [.. document.RootElement.GetProperty("functions").EnumerateArray()];
        JsonElement block = functions.Single(f => f.GetProperty("slot").GetString() == "0000:00:02.0");

        using (Assert.EnterMultipleScope())
        {
            Assert.That(functions, Has.Length.EqualTo(6));
            Assert.That(block.GetProperty("device").GetInt32(), Is.EqualTo(2));
            Assert.That(block.GetProperty("ids").GetProperty("vendor").GetString(), Is.EqualTo("1af4"));
            Assert.That(block.GetProperty("ids").GetProperty("class").GetString(), Is.EqualTo("0180"));
            Assert.That(block.GetProperty("names").GetProperty("device").GetString(), Is.EqualTo("Virtio 1.0 block device"));
            Assert.That(block.GetProperty("bars")[0].GetProperty("size").GetUInt64(), Is.EqualTo(512UL * 1024));
            Assert.That(block.GetProperty("bars")[0].GetProperty("address").GetString(), Is.EqualTo("4000080000"));
            Assert.That(block.GetProperty("capabilities").EnumerateArray().Select(c => c.GetProperty("position").GetString()),
                Is.EqualTo(new[] { "40", "50", "60", "70", "84", "98" }));
            Assert.That(block.GetProperty("virtio").GetProperty("notRead").GetString(), Does.Contain("resource0"));
            Assert.That(block.GetProperty("config").GetString(), Does.StartWith("f41a4210").And.Length.EqualTo(128));
            Assert.That(document.RootElement.GetProperty("mmio").GetArrayLength(), Is.Zero);
        }
    }

    [TestCase("-s", "zz")]
    [TestCase("-s", "00:1f.8")]
    [TestCase("-d", "1af4")]
    [TestCase("-d", "1af4:10420")]
    [TestCase("-d", "1:2:3:4:5")]
    [TestCase("--last-bus", "300")]
    public void UsageErrors_ExitTwo_InOneLine(string option, string value)
    {
        Virtiohw.Result r = Lspci(option, value);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(r.ExitCode, Is.EqualTo(2), r.Stdout + r.Stderr);
            Assert.That(Lines(r.Stderr), Has.Length.LessThanOrEqualTo(2), r.Stderr);
            Assert.That(r.Stdout, Is.Empty);
        }
    }

    [Test]
    public void AbsentIdsFile_IsOneLine_ExitOne()
    {
        Virtiohw.Result r = Virtiohw.Run("lspci", "--platform", "sysfs", "-o", "root=" + _root, "-i", Path.Combine(_root, "absent.ids"));
        Assert.That(r.ExitCode, Is.EqualTo(1), r.Stderr);
        Assert.That(Lines(r.Stderr), Has.Length.EqualTo(1));
    }

    [Test]
    public void ShmRegisters_AreReadOnlyOnRequest_ForADeviceTypeWithoutSharedMemory()
    {
        // The virtio-dmabuf description placed behind virtio-mmio: "drivers not expecting shared memory MUST NOT use these registers".
        string description = Path.Combine(_root, "virtio-dmabuf-mmio.yaml");
        File.WriteAllText(description, File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "virtio-dmabuf.yaml")) + "mmio:\n  base: 0xfe000000\n");
        string[] model = ["lspci", "-v", "-o", "endpoints=none", "-o", "mmio=" + description];
        Virtiohw.Result plain = Virtiohw.Run(model);
        Virtiohw.Result asked = Virtiohw.Run([.. model, "--shm-registers"]);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(plain.ExitCode, Is.Zero, plain.Stderr);
            Assert.That(asked.ExitCode, Is.Zero, asked.Stderr);
            Assert.That(plain.Stdout, Does.Contain("virtio-mmio@").And.Contain("Shared memory: not read"));
            Assert.That(asked.Stdout, Does.Contain("virtio-mmio@").And.Not.Contain("Shared memory: not read"));
        }
    }
}

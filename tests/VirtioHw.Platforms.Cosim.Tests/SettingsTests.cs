using VirtioHw.Cosim;
using VirtioHw.Host.Platforms;
using VirtioHw.Platforms.Cosim.Waveforms;

namespace VirtioHw.Platforms.Cosim.Tests;

/// <summary>Platform options, waveforms of every instance, and the registry name.</summary>
public sealed class SettingsTests
{
    [Test]
    public void Options_NameTheEndpointsTraceAndTimeout()
    {
        CosimPlatformSettings settings = CosimPlatformSettings.FromOptions(PlatformOptions.Parse(
            ["endpoints=virtio-ism@00:04.0,ivshmem@00:05.0", "mmio=none", "firmware=manual", "trace=/tmp/x.fst", "timeout=500", "stall=12000"]));
        Assert.Multiple(() =>
        {
            Assert.That(settings.PciEndpoints.Select(p => $"{p.Description.Name}@{p.Address}"), Is.EqualTo(new[] { "virtio-ism@00:04.0", "ivshmem@00:05.0" }));
            Assert.That(settings.MmioDevices, Is.Empty);
            Assert.That(settings.RunFirmware, Is.False);
            Assert.That(settings.Trace, Is.EqualTo("/tmp/x.fst"));
            Assert.That(settings.TimeoutCycles, Is.EqualTo(500));
            Assert.That(settings.StallAtCycle, Is.EqualTo(12000));
        });
    }

    [TestCase("trace=/tmp/x.ghw", "FST and VCD waveforms are written")]
    [TestCase("timeout=0", "timeout=0")]
    [TestCase("stall=soon", "stall=soon")]
    [TestCase("colour=red", "unknown rtl platform option 'colour'")]
    [TestCase("endpoints=virtio-ism", "is not NAME@bb:dd.f")]
    public void Options_Malformed_AreOneLineNamingTheOption(string option, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => CosimPlatformSettings.FromOptions(PlatformOptions.Parse([option])))!;
        Assert.That(e.Message, Does.Contain(message).And.Not.Contain("\n"));
    }

    [Test]
    public void Default_IsLaidOutLikeTheModel()
    {
        Assert.That(CosimPlatformSettings.Default.PciEndpoints.Select(p => $"{p.Description.Name}@{p.Address}"),
            Is.EqualTo(Model.ModelPlatformSettings.Default.PciEndpoints.Select(p => $"{p.Description.Name}@{p.Address}")));
    }

    [Test]
    public void Registry_CreatesTheRtlPlatform()
    {
        CosimPlatform.Register();
        Assert.That(PlatformFactory.Available, Does.Contain("rtl"));
    }

    [Test]
    public async Task Trace_WritesOneFstWaveformPerInstance_AndAGtkwaveSaveFileNamingItsSignals()
    {
        string folder = Directory.CreateTempSubdirectory("virtiohw-trace").FullName;
        try
        {
            await using (CosimPlatform platform = Rtl.Create(new CosimPlatformSettings
            {
                PciEndpoints = [new(Rtl.Ism, Rtl.IsmDescription), new(new(0, 2, 0), Rtl.IsmDescription)],
                Firmware = _ => null,
                Trace = Path.Combine(folder, "run.fst"),
            }))
            {
                platform.ReadConfig32(Rtl.Ism, 0);
            }

            string[] files = [.. Directory.GetFiles(folder).Select(Path.GetFileName).Order()!];
            string waveform = Path.Combine(folder, "run-virtio-ism-00.01.0.fst");
            string[] save = File.ReadAllLines(Path.ChangeExtension(waveform, ".gtkw"));
            string[] named = [.. save.Where(l => l.Length > 0 && l[0] is not ('@' or '[' or '-'))];
            HashSet<string> inTrace = [.. FstHierarchy.Read(waveform).Select(s => s.FullName)];
            Assert.Multiple(() =>
            {
                Assert.That(files, Is.EqualTo(new[] { "run-virtio-ism-00.01.0.fst", "run-virtio-ism-00.01.0.gtkw", "run-virtio-ism-00.02.0.fst", "run-virtio-ism-00.02.0.gtkw" }));
                Assert.That(files.Select(f => new FileInfo(Path.Combine(folder, f)).Length), Is.All.GreaterThan(0));
                Assert.That(save, Does.Contain($"[dumpfile] \"{waveform}\""));
                Assert.That(named, Is.SubsetOf(inTrace), "every signal the save file names is in the waveform");
                Assert.That(named.Select(n => n[(n.LastIndexOf('.') + 1)..]),
                    Does.Contain("clk_i").And.Contain("fw_awaddr_i[11:0]").And.Contain("cfg_rdata_o[31:0]").And.Contain("bar2_arvalid_i").And.Contain("fw_irq_o"),
                    "the top's ports, vectors with their ranges");
                Assert.That(save, Does.Contain("-fw: firmware port").And.Contain("-cfg: config space bus").And.Contain("-bar0: BAR 0 bus"));
                Assert.That(save.Count(l => l == "@800200"), Is.EqualTo(save.Count(l => l == "@1000200")), "every group is closed");
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Trace_Vcd_IsConvertedFromTheFst_WithTheSameSignals_AndTheSaveFileOpensIt()
    {
        if (VcdConversion.FindConverter() is null)
        {
            Assert.Ignore($"{VcdConversion.Converter} is not installed (Debian package gtkwave; make deps installs it)");
        }

        string folder = Directory.CreateTempSubdirectory("virtiohw-vcd").FullName;
        try
        {
            await using (CosimPlatform platform = Rtl.Create(new CosimPlatformSettings
            {
                PciEndpoints = [new(Rtl.Ism, Rtl.IsmDescription)],
                Firmware = _ => null,
                Trace = CosimPlatformSettings.CheckTrace(Path.Combine(folder, "run.vcd")),
            }))
            {
                platform.ReadConfig32(Rtl.Ism, 0);
            }

            string vcd = Path.Combine(folder, "run-virtio-ism-00.01.0.vcd");
            string[] lines = File.ReadAllLines(vcd);
            string[] save = File.ReadAllLines(Path.ChangeExtension(vcd, ".gtkw"));
            // $var wire 32 ! cfg_rdata_o [31:0] $end: the name is the fifth field.
            HashSet<string> declared = [.. lines.Where(l => l.TrimStart().StartsWith("$var ", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[4])];
            string[] named = [.. save.Where(l => l.Length > 0 && l[0] is not ('@' or '[' or '-')).Select(n => n[(n.LastIndexOf('.') + 1)..].Split('[')[0])];
            Assert.Multiple(() =>
            {
                Assert.That(Directory.GetFiles(folder).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "run-virtio-ism-00.01.0.gtkw", "run-virtio-ism-00.01.0.vcd" }), "the FST it came from is gone");
                Assert.That(lines, Does.Contain("$enddefinitions $end"));
                Assert.That(lines.Count(l => l.StartsWith('#')), Is.GreaterThan(10), "value changes at many times");
                Assert.That(save, Does.Contain($"[dumpfile] \"{vcd}\""));
                Assert.That(named, Is.Not.Empty.And.SubsetOf(declared), "every signal the save file names is in the VCD");
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void Demo_WithoutTheLibraries_IsOneLineSayingToRunMakeCosim()
    {
        string empty = Directory.CreateTempSubdirectory("virtiohw-nocosim").FullName;
        try
        {
            Virtiohw.Result r = Virtiohw.Run(new Dictionary<string, string> { [CosimLibrary.DirectoryVariable] = empty }, "demo", "--platform", "rtl");
            Assert.Multiple(() =>
            {
                Assert.That(r.ExitCode, Is.Not.Zero);
                Assert.That(r.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
                Assert.That(r.Stderr, Does.StartWith("virtiohw: ").And.Contain("make cosim"));
            });
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [TestCase("--trace", "/tmp/x.ghw", "--platform", "rtl", "FST and VCD waveforms are written")]
    [TestCase("--trace", "/tmp/x.fst", "--platform", "model", "--trace needs --platform rtl")]
    [TestCase("--trace", "/nonexistent-folder/x.fst", "--platform", "rtl", "does not exist")]
    [TestCase("--stall-at", "100", "--platform", "model", "--stall-at needs --platform rtl")]
    public void Demo_WithABadWaveformOrStall_IsOneLine(string a, string b, string c, string d, string message)
    {
        Virtiohw.Result r = Virtiohw.Run(new Dictionary<string, string>(), "demo", a, b, c, d);
        Assert.Multiple(() =>
        {
            Assert.That(r.ExitCode, Is.Not.Zero);
            Assert.That(r.Stderr, Does.StartWith("virtiohw: ").And.Contain(message));
            Assert.That(r.Stdout, Is.Empty);
        });
    }
}

using System.Buffers.Binary;
using VirtioHw.Drivers.Ism;
using VirtioHw.Firmware;
using VirtioHw.Flash;
using VirtioHw.Fuzz.Targets;
using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;
using VirtioHw.Model;

namespace VirtioHw.Fuzz.Tests;

/// <summary>The bugs fuzzing found, each written down as the behaviour now required.</summary>
public sealed class FoundBugTests
{
    [Test]
    public void IntelHex_HexDigitFollowedByNul_IsRejected()
    {
        // ":0100000004FB" with the data byte "04" written as "4" and a NUL: byte.TryParse took it as 0x04.
        string text = IntelHexTarget.Record(0, 0, [0x04]).Replace("0004FB", "004\0FB", StringComparison.Ordinal) + "\n" + IntelHexTarget.Record(1, 0, []) + "\n";

        var e = Assert.Throws<FlashException>(() => IntelHexFile.Parse("t.hex", text));

        Assert.That(e!.Message, Does.StartWith("t.hex line 1:").And.Contain("is not a hex byte"));
    }

    [Test]
    public async Task DeviceVirtqueue_AvailIndexFarAhead_TakesNothingAndSetsNeedsReset()
    {
        var address = new PciAddress(0, 1, 0);
        await using var platform = new ModelPlatform(new ModelPlatformSettings
        {
            PciEndpoints = [new PciEndpointPlacement(address, EndpointDescriptions.LoadBuiltin("virtio-ism"))],
            RunFirmware = false,
        });
        await using VirtioPciTransport transport = VirtioPciTransport.Open(PciBus.Scan(platform).Find(address));
        using DmaRegion rings = platform.AllocateDma(4096);
        rings.Write(0, new byte[4096]);
        Span<byte> index = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(index, ushort.MaxValue);
        rings.Write(0x800 + 2, index);
        var queue = new DeviceVirtqueue(platform.FindEndpoint(address)!.Hardware.Hal,
            new QueueSetup(4, VirtioFirmware.NoVector, rings.BusAddress, rings.BusAddress + 0x800, rings.BusAddress + 0xc00));

        bool took = queue.TryTake(out _, []);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(took, Is.False, "65535 chains announced on a 4-entry queue");
            Assert.That(queue.Broken, Is.True);
            Assert.That(transport.NeedsReset, Is.True);
        }
    }

    [Test]
    public async Task DeviceVirtqueue_SizeZeroWithAvailableEntries_IsBrokenNotADivisionByZero()
    {
        var address = new PciAddress(0, 1, 0);
        await using var platform = new ModelPlatform(new ModelPlatformSettings
        {
            PciEndpoints = [new PciEndpointPlacement(address, EndpointDescriptions.LoadBuiltin("virtio-ism"))],
            RunFirmware = false,
        });
        PciBus.Scan(platform);
        using DmaRegion rings = platform.AllocateDma(4096);
        rings.Write(0, new byte[4096]);
        Span<byte> index = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(index, 1);
        rings.Write(0x800 + 2, index);
        var queue = new DeviceVirtqueue(platform.FindEndpoint(address)!.Hardware.Hal,
            new QueueSetup(0, VirtioFirmware.NoVector, rings.BusAddress, rings.BusAddress + 0x800, rings.BusAddress + 0xc00));

        Assert.That(queue.TryTake(out _, []), Is.False);
        Assert.That(queue.Broken, Is.True);
    }

    [Test]
    public void BoardProfile_UnknownSimChip_IsRefusedNamingTheFile()
    {
        // The board target found it: the chip model's own error reached the user without the profile's name.
        var e = Assert.Throws<FlashException>(() => BoardProfiles.Parse("b.yaml", "adapter: sim\nsim:\n  chip: W25Q999\n"));

        Assert.That(e!.Message, Does.StartWith("b.yaml: sim chip: there is no chip model of 'W25Q999'").And.Not.Contain('\n'));
    }

    [TestCase("bars")]
    [TestCase("shared_memory")]
    [TestCase("queues")]
    public void EndpointDescription_EmptyListEntry_IsRefusedByItsKey(string key)
    {
        // The endpoint target found it: a bare '-' in bars made a null entry and a NullReferenceException.
        string yaml = "name: e\npersonality: ivshmem\nidentity:\n  vendor_id: 0x1af4\n  device_id: 0x1110\n  class: 5\n  subclass: 0\n" + key + ":\n  -\n";

        var e = Assert.Throws<EndpointDescriptionException>(() => EndpointDescriptions.Parse("e.yaml", yaml));

        Assert.That(e!.Message, Is.EqualTo($"e.yaml: {key}[0] is empty"));
    }

    [Test]
    public void Rdl_EscapedLineBreakInAString_KeepsTheLinesOfLaterErrors()
    {
        // AFL++ found it: a backslash before a line break inside a string hid that line, so later errors named a line too early and a column past its end.
        var e = Assert.Throws<VirtioHw.Regc.RdlException>(() => VirtioHw.Regc.Syntax.Parser.Parse("t.rdl", "addrmap a { desc = \"x\\\ny\";\n  ) };"));

        Assert.That(e!.Message, Is.EqualTo("t.rdl:3:3: error: unexpected character ')'"));
    }

    [Test]
    public void Rdl_ApostropheFollowedByALineBreak_IsOneLineNamingTheCharacter()
    {
        // AFL++ found it: the line break after "2'" was quoted into the message, which took two lines.
        var e = Assert.Throws<VirtioHw.Regc.RdlException>(() => VirtioHw.Regc.Syntax.Parser.Parse("t.rdl", "addrmap a { regwidth = 2'\n; };"));

        Assert.That(e!.Message, Is.EqualTo("t.rdl:1:24: error: malformed number '2'': U+000A after the apostrophe, expected h, d, b or o"));
    }

    [Test]
    public async Task IsmDriver_DeviceThatNeverAnswersACommand_FailsItAfterTheCommandTimeout()
    {
        // cosim-stall found it: a device whose firmware stopped mid-command held AllocateAsync for ever.
        // Here the firmware is booted but never driven, so no command is ever answered.
        var address = new PciAddress(0, 1, 0);
        await using var platform = new ModelPlatform(new ModelPlatformSettings
        {
            PciEndpoints = [new PciEndpointPlacement(address, EndpointDescriptions.LoadBuiltin("virtio-ism"))],
            RunFirmware = false,
        });
        await using IsmDevice device = await IsmDevice.OpenAsync(VirtioPciTransport.Open(PciBus.Scan(platform).Find(address)),
            new IsmDeviceSettings { CommandTimeout = TimeSpan.FromMilliseconds(300) });

        var e = Assert.ThrowsAsync<IsmException>(async () => await device.AllocateAsync(65536));

        Assert.That(e!.Message, Does.Contain("did not answer the command within 0.3 s").And.Not.Contain('\n'));
    }

    [Test]
    public void Rdl_StringWithALineBreakQuotedInAnError_IsOneLine()
    {
        // AFL++ found it: a reset given as a string spanning lines was quoted as it was, making a multi-line error.
        const string text = "addrmap a { reg { field {} f[7:0] = \"x\ny\"; } r @ 0; };";

        var e = Assert.Throws<VirtioHw.Regc.RdlException>(() => VirtioHw.Regc.Elaboration.Elaborator.Elaborate(VirtioHw.Regc.Syntax.Parser.Parse("t.rdl", text)));

        Assert.That(e!.Message, Does.StartWith("t.rdl:1:").And.EndWith("reset takes a number, not \"x\\ny\""));
    }
}

using VirtioHw.Firmware;
using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Platforms.Cosim;

namespace VirtioHw.Fuzz.Lockstep;

/// <summary>An endpoint placed on both sides of a <see cref="LockstepPlatform"/>: its model and its RTL instance.</summary>
internal sealed record LockstepEndpoint(string Name, PciAddress? Address, EndpointDescription Description, ModelEndpoint Model, CosimEndpoint Rtl);

/// <summary>
/// The C# model (<see cref="ModelPlatform"/>) and the RTL (<see cref="CosimPlatform"/>) with the
/// same endpoints at the same places, as one <see cref="Platform"/>: every access goes to both,
/// and after each the read data (or the exception), the MSI messages delivered and the device
/// memory must agree, else a <see cref="FuzzFailure"/> names the access, both results and the
/// accesses before it. Neither side runs firmware; <see cref="ReadCsr"/> and
/// <see cref="WriteCsr"/> reach each endpoint's firmware port on both sides instead.
/// </summary>
/// <remarks>
/// MSI: <see cref="Vectors"/> vectors are allocated on each side before anything else, so both
/// hand out the same data values at <see cref="ModelPlatform.MsiAddress"/>; a message at any other
/// address is a memory write, and <see cref="Sink"/> is system memory at the same address on both
/// sides for such messages to land in.
/// </remarks>
internal sealed class LockstepPlatform : Platform
{
    /// <summary>MSI vectors allocated on each side (data 0 to <see cref="Vectors"/> - 1).</summary>
    public const int Vectors = 12;

    /// <summary>Bytes of <see cref="Sink"/>.</summary>
    public const int SinkBytes = 4096;

    private const int History = 12;
    private const int CompareBlock = 1 << 20;

    private readonly ModelPlatform _model;
    private readonly CosimPlatform _rtl;
    private readonly MsiVector[] _modelVectors;
    private readonly MsiVector[] _rtlVectors;
    private readonly DmaRegion _modelSink;
    private readonly DmaRegion _rtlSink;
    private readonly Queue<string> _recent = new();
    private readonly byte[] _modelBytes = new byte[CompareBlock];
    private readonly byte[] _rtlBytes = new byte[CompareBlock];
    private int _number;

    /// <param name="pci">PCI endpoints and where they sit.</param>
    /// <param name="mmio">Devices behind virtio-mmio.</param>
    /// <exception cref="VirtioHw.Cosim.CosimLibraryException">An RTL top's library is not built.</exception>
    public LockstepPlatform(IReadOnlyList<(PciAddress Address, EndpointDescription Description)> pci, IReadOnlyList<EndpointDescription> mmio)
    {
        ArgumentNullException.ThrowIfNull(pci);
        ArgumentNullException.ThrowIfNull(mmio);
        _model = new ModelPlatform(new ModelPlatformSettings
        {
            PciEndpoints = [.. pci.Select(p => new PciEndpointPlacement(p.Address, p.Description))],
            MmioDevices = mmio,
            Firmware = _ => null,
            RunFirmware = false,
        });
        try
        {
            _rtl = new CosimPlatform(new CosimPlatformSettings
            {
                PciEndpoints = [.. pci.Select(p => new CosimEndpointPlacement(p.Address, p.Description))],
                MmioDevices = mmio,
                Firmware = _ => null,
                RunFirmware = false,
            });
        }
        catch
        {
            _model.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }

        _modelVectors = [.. Enumerable.Range(0, Vectors).Select(_ => _model.AllocateMsiVector())];
        _rtlVectors = [.. Enumerable.Range(0, Vectors).Select(_ => _rtl.AllocateMsiVector())];
        _modelSink = _model.AllocateDma(SinkBytes);
        _rtlSink = _rtl.AllocateDma(SinkBytes);
        FuzzFailure.Check(_modelSink.BusAddress == _rtlSink.BusAddress && _modelVectors.Zip(_rtlVectors).All(v => v.First.Data == v.Second.Data),
            "the two platforms hand out different system memory or MSI data");
        Endpoints = [.. _model.Endpoints.Zip(_rtl.Endpoints, (m, r) => new LockstepEndpoint(r.Name, r.Address, r.Description, m, r))];
    }

    public override string Name => "model+rtl";

    public override IReadOnlyList<PciMemoryWindow> MemoryWindows => _model.MemoryWindows;

    public override IReadOnlyList<MmioDeviceWindow> VirtioMmioDevices => _model.VirtioMmioDevices;

    /// <summary>Every endpoint: the PCI ones in the order given, then those behind virtio-mmio.</summary>
    public IReadOnlyList<LockstepEndpoint> Endpoints { get; }

    /// <summary>The MSI vectors (of the model; the RTL's have the same address and data).</summary>
    public IReadOnlyList<MsiVector> MsiVectors => _modelVectors;

    /// <summary>System memory at the same bus address on both sides, for messages aimed elsewhere than the MSI address.</summary>
    public ulong Sink => _modelSink.BusAddress;

    /// <summary>
    /// Ranges of device memory compared after every host write (offset, length); the rest is
    /// compared by <see cref="CompareAllMemory"/>. Empty: none.
    /// </summary>
    public IReadOnlyList<(ulong Offset, ulong Length)> WatchedMemory { get; set; } = [];

    /// <summary>Accesses made so far.</summary>
    public int Accesses => _number;

    /// <summary>MSI messages delivered to the vectors so far (the same on both sides, or a divergence was reported).</summary>
    public long MessagesDelivered => _modelVectors.Sum(v => v.DeliveredCount);

    public override uint ReadConfig(PciAddress function, int offset, int width) =>
        Both($"read {width}B config {function} +0x{offset:x}", p => p.ReadConfig(function, offset, width), memoryMayChange: false);

    public override void WriteConfig(PciAddress function, int offset, int width, uint value) =>
        Both($"write {width}B config {function} +0x{offset:x} = 0x{value:x}", p =>
        {
            p.WriteConfig(function, offset, width, value);
            return 0u;
        }, memoryMayChange: false);

    public override ulong ReadMemory(ulong address, int width) =>
        Both($"read {width}B 0x{address:x}", p => p.ReadMemory(address, width), memoryMayChange: false);

    public override void WriteMemory(ulong address, int width, ulong value) =>
        Both($"write {width}B 0x{address:x} = 0x{value:x}", p =>
        {
            p.WriteMemory(address, width, value);
            return 0UL;
        }, memoryMayChange: true);

    /// <summary>A firmware CSR read of endpoint <paramref name="endpoint"/> on both sides.</summary>
    public uint ReadCsr(int endpoint, uint offset) =>
        Both($"read fw CSR of {Endpoints[endpoint].Name} +0x{offset:x}", Hal(endpoint, hal => hal.ReadCsr(offset)), memoryMayChange: false);

    /// <summary>A firmware CSR write of endpoint <paramref name="endpoint"/> on both sides.</summary>
    public void WriteCsr(int endpoint, uint offset, uint value, uint strobe) =>
        Both($"write fw CSR of {Endpoints[endpoint].Name} +0x{offset:x} = 0x{value:x} strobe 0x{strobe:x}", Hal(endpoint, hal =>
        {
            hal.WriteCsr(offset, value, strobe);
            return 0u;
        }), memoryMayChange: false);

    /// <summary>Compares every byte of every endpoint's device memory.</summary>
    public void CompareAllMemory()
    {
        foreach (LockstepEndpoint endpoint in Endpoints)
        {
            if (endpoint.Model.Hardware.Backing is { } backing)
            {
                CompareMemory(endpoint, 0, backing.Length);
            }
        }
    }

    /// <summary>The last accesses, oldest first, for a failure message.</summary>
    public string Recent => string.Join("\n  ", _recent);

    public override MsiVector AllocateMsiVector() =>
        throw new NotSupportedException("the lockstep platform allocates its vectors itself (MsiVectors)");

    public override DmaRegion AllocateDma(int length, int alignment = 4096) =>
        throw new NotSupportedException("the lockstep platform has no DMA memory of its own (Sink)");

    protected override async ValueTask DisposeAsyncCore()
    {
        await _model.DisposeAsync().ConfigureAwait(false);
        await _rtl.DisposeAsync().ConfigureAwait(false);
    }

    private Func<Platform, T> Hal<T>(int endpoint, Func<IDeviceHal, T> access) =>
        p => access(p == _model ? Endpoints[endpoint].Model.Hardware.Hal : Endpoints[endpoint].Rtl.Hal);

    /// <summary>
    /// Runs <paramref name="access"/> on the model, then on the RTL, and compares: the results, or
    /// the exceptions' types (both then rethrow the model's); then the MSI messages and memory.
    /// </summary>
    private T Both<T>(string what, Func<Platform, T> access, bool memoryMayChange)
        where T : struct, IEquatable<T>
    {
        _number++;
        (T value, Exception? error) model = Run(_model, access);
        (T value, Exception? error) rtl = Run(_rtl, access);
        string result = model.error is null ? $" -> 0x{model.value:x}" : $" -> {model.error.GetType().Name}";
        if (model.error?.GetType() != rtl.error?.GetType())
        {
            Diverged(what, $"outcome differs: model {Outcome(model)}, RTL {Outcome(rtl)}");
        }

        if (model.error is null && !model.value.Equals(rtl.value))
        {
            Diverged(what, $"read data differs: model 0x{model.value:x}, RTL 0x{rtl.value:x}");
        }

        CompareMessages(what);
        if (memoryMayChange)
        {
            foreach (LockstepEndpoint endpoint in Endpoints)
            {
                foreach ((ulong offset, ulong length) in WatchedMemory)
                {
                    CompareMemory(endpoint, offset, length, what);
                }
            }
        }

        _recent.Enqueue($"{_number}: {what}{result}");
        if (_recent.Count > History)
        {
            _recent.Dequeue();
        }

        if (model.error is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(model.error);
        }

        return model.value;
    }

    private static (T, Exception?) Run<T>(Platform side, Func<Platform, T> access)
        where T : struct
    {
        try
        {
            return (access(side), null);
        }
        catch (Exception e) when (e is not FuzzFailure)
        {
            return (default, e);
        }
    }

    private static string Outcome<T>((T Value, Exception? Error) side)
        where T : struct =>
        side.Error is null ? $"0x{side.Value:x}" : $"{side.Error.GetType().Name} ({side.Error.Message})";

    private void CompareMessages(string what)
    {
        for (int v = 0; v < Vectors; v++)
        {
            long model = _modelVectors[v].DeliveredCount;
            long rtl = _rtlVectors[v].DeliveredCount;
            if (model != rtl)
            {
                Diverged(what, $"MSI messages differ: vector data {_modelVectors[v].Data}: model {model} so far, RTL {rtl}");
            }
        }

        _modelSink.Read(0, _modelBytes.AsSpan(0, SinkBytes));
        _rtlSink.Read(0, _rtlBytes.AsSpan(0, SinkBytes));
        int at = _modelBytes.AsSpan(0, SinkBytes).CommonPrefixLength(_rtlBytes.AsSpan(0, SinkBytes));
        if (at < SinkBytes)
        {
            Diverged(what, $"MSI messages differ: system memory at 0x{Sink + (ulong)at:x}: model 0x{_modelBytes[at]:x2}, RTL 0x{_rtlBytes[at]:x2}");
        }
    }

    private void CompareMemory(LockstepEndpoint endpoint, ulong offset, ulong length, string? what = null)
    {
        if (endpoint.Model.Hardware.Backing is not { } model || endpoint.Rtl.Memory is not { } rtl)
        {
            FuzzFailure.Check((endpoint.Model.Hardware.Backing is null) == (endpoint.Rtl.Memory is null), $"{endpoint.Name}: device memory on one side only");
            return;
        }

        ulong end = Math.Min(offset + length, model.Length);
        for (ulong at = offset; at < end; at += CompareBlock)
        {
            int count = (int)Math.Min(CompareBlock, end - at);
            model.Read(at, _modelBytes.AsSpan(0, count));
            rtl.Read(at, _rtlBytes.AsSpan(0, count));
            int same = _modelBytes.AsSpan(0, count).CommonPrefixLength(_rtlBytes.AsSpan(0, count));
            if (same < count)
            {
                Diverged(what ?? "the end of the run", $"device memory differs: {endpoint.Name} at 0x{at + (ulong)same:x}: model 0x{_modelBytes[same]:x2}, RTL 0x{_rtlBytes[same]:x2}");
            }
        }
    }

    private void Diverged(string what, string difference) =>
        throw new FuzzFailure($"{difference}\n  access {_number}: {what}\n  before it:\n  {Recent}");
}

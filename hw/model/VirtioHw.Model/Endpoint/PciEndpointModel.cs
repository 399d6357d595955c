using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// An endpoint that is a PCI function: config space, BAR decode (gated by command.memory_space)
/// to the ranges its subclass maps, MSI-X table and PBA, and bus mastering (command.bus_master)
/// gating DMA and MSI-X. Every public access takes the endpoint's lock.
/// </summary>
public abstract class PciEndpointModel : EndpointModel, IBarAccess
{
    private readonly BarMap _bars = new(PciHeader.Bar.Count);

    /// <inheritdoc cref="EndpointModel(EndpointDescription, IRootPort, SharedMemoryBacking?)"/>
    private protected PciEndpointModel(EndpointDescription description, IRootPort upstream, SharedMemoryBacking? backing)
        : base(description, upstream, backing)
    {
        Function = new PciFunctionModel(description, description.Virtio?.PciCfgAccess == true ? this : null);
        if (description.Msix is { } msix)
        {
            Msix = new MsixController(msix, Function.MsixCapability!, Function.Header, upstream);
            MapBar(msix.TableBar, msix.TableOffset, (ulong)msix.Vectors * MsixTable.EntryMsgAddrLo.Stride, new RegisterBlockTarget(Msix.Table));
            MapBar(msix.PbaBar, msix.PbaOffset, MsixPba.Size, new RegisterBlockTarget(Msix.Pba));
        }

        Csr.MsixTriggerModified += (_, e) => OnMsixTrigger((int)e.Value);
    }

    /// <summary>Config space and BARs.</summary>
    public PciFunctionModel Function { get; }

    internal MsixController? Msix { get; }

    internal override bool BusMasterEnabled => Function.BusMasterEnabled;

    /// <summary>One config read; see <see cref="PciFunctionModel.ReadConfig"/>.</summary>
    public uint ReadConfig(int offset, int width)
    {
        lock (Sync)
        {
            // A read can have side effects through the PCI cfg access window (reading the ISR, say).
            uint value = Function.ReadConfig(offset, width);
            AfterAccess();
            return value;
        }
    }

    /// <summary>One config write; see <see cref="PciFunctionModel.WriteConfig"/>.</summary>
    public void WriteConfig(int offset, int width, uint value)
    {
        lock (Sync)
        {
            Function.WriteConfig(offset, width, value);
            Msix?.OnConfigWritten();
            AfterAccess();
        }
    }

    public override bool TryRead(ulong address, int width, out ulong value)
    {
        lock (Sync)
        {
            if (!Function.TryDecode(address, out int bar, out ulong offset))
            {
                value = 0;
                return false;
            }

            value = ReadBar(bar, offset, width);
            AfterAccess();
            return true;
        }
    }

    public override bool TryWrite(ulong address, int width, ulong value)
    {
        lock (Sync)
        {
            if (!Function.TryDecode(address, out int bar, out ulong offset))
            {
                return false;
            }

            WriteBar(bar, offset, width, value);
            AfterAccess();
            return true;
        }
    }

    internal override int ReadRun(ulong address, Span<byte> destination)
    {
        lock (Sync)
        {
            if (!Function.TryDecode(address, out int bar, out ulong offset)
                || _bars.Find(bar, offset, out ulong local, out ulong remaining) is not IRunMemoryTarget target)
            {
                return 0;
            }

            int read = target.ReadRun(local, destination[..(int)Math.Min((ulong)destination.Length, remaining)]);
            AfterAccess();
            return read;
        }
    }

    internal override int WriteRun(ulong address, ReadOnlySpan<byte> source)
    {
        lock (Sync)
        {
            if (!Function.TryDecode(address, out int bar, out ulong offset)
                || _bars.Find(bar, offset, out ulong local, out ulong remaining) is not IRunMemoryTarget target)
            {
                return 0;
            }

            int written = target.WriteRun(local, source[..(int)Math.Min((ulong)source.Length, remaining)]);
            AfterAccess();
            return written;
        }
    }

    /// <summary>A read inside BAR <paramref name="bar"/>; holes read 0.</summary>
    ulong IBarAccess.ReadBar(int bar, ulong offset, int width) => ReadBar(bar, offset, width);

    /// <summary>A write inside BAR <paramref name="bar"/>; writes to holes are dropped.</summary>
    void IBarAccess.WriteBar(int bar, ulong offset, int width, ulong value) => WriteBar(bar, offset, width, value);

    internal override void AfterAccess() =>
        Function.Header.SetStatusInterruptStatus(IntxLevel && Msix?.Enabled != true);

    /// <summary>Whether the legacy interrupt has a cause (while MSI-X is off it would be asserted).</summary>
    private protected abstract bool IntxLevel { get; }

    /// <summary>Firmware wrote msix_trigger.</summary>
    private protected virtual void OnMsixTrigger(int vector) => Msix?.Trigger(vector);

    /// <summary>Makes <paramref name="target"/> answer <paramref name="length"/> bytes at <paramref name="offset"/> of BAR <paramref name="bar"/>.</summary>
    private protected void MapBar(int bar, ulong offset, ulong length, IMemoryTarget target) => _bars.Add(bar, offset, length, target);

    private ulong ReadBar(int bar, ulong offset, int width) =>
        _bars.Find(bar, offset, out ulong local)?.Read(local, width) ?? 0;

    private void WriteBar(int bar, ulong offset, int width, ulong value) =>
        _bars.Find(bar, offset, out ulong local)?.Write(local, width, value);
}

using VirtioHw.Host.Platforms;
using VirtioHw.Registers;
using static VirtioHw.Registers.VirtioPciCap;

namespace VirtioHw.Host.Pci;

/// <summary>The capabilities found on one function and what was wrong with the list, if anything.</summary>
/// <param name="Capabilities">In list order.</param>
/// <param name="Diagnostics">One sentence per problem; a problem with the list itself ends the walk.</param>
public sealed record PciCapabilityWalk(IReadOnlyList<PciCapability> Capabilities, IReadOnlyList<string> Diagnostics);

/// <summary>
/// Walks the standard capability list of a function (config space 0x40-0xff) defensively: a
/// pointer below the header, past 0xfc or not dword aligned, a list that loops, or one longer than
/// the space can hold ends the walk with a diagnostic; nothing a device answers can make it throw
/// or run forever.
/// </summary>
public static class PciCapabilityWalker
{
    /// <summary>Bytes of the standard (conventional PCI) config space that holds the list.</summary>
    public const int StandardConfigSpaceSize = 256;

    /// <summary>The most capabilities that fit: one per dword after the header.</summary>
    public const int MaxCapabilities = (StandardConfigSpaceSize - (int)PciHeader.Size) / sizeof(uint);

    // The last dword-aligned position a capability header (id, next) can start at.
    private const int LastPosition = StandardConfigSpaceSize - sizeof(uint);

    /// <summary>Walks the list of <paramref name="function"/>.</summary>
    /// <param name="platform">The platform the function is on.</param>
    /// <param name="function">The function.</param>
    /// <param name="decodeVirtio">Decode vendor capabilities as virtio structures (a virtio device).</param>
    public static PciCapabilityWalk Walk(Platform platform, PciAddress function, bool decodeVirtio)
    {
        ArgumentNullException.ThrowIfNull(platform);
        var capabilities = new List<PciCapability>();
        var diagnostics = new List<string>();

        ushort status = platform.ReadConfig16(function, (int)PciHeader.Status.Offset);
        if ((status & PciHeader.Status.CapabilitiesList.Mask) == 0)
        {
            return new(capabilities, diagnostics);
        }

        Span<bool> visited = stackalloc bool[StandardConfigSpaceSize];
        int from = (int)PciHeader.CapabilitiesPtr.Offset;
        int pointer = platform.ReadConfig8(function, from);
        while (pointer != 0)
        {
            if (pointer < PciHeader.Size || pointer > LastPosition || pointer % sizeof(uint) != 0)
            {
                diagnostics.Add($"the capability pointer at 0x{from:x2} is 0x{pointer:x2}, outside 0x{PciHeader.Size:x2}-0x{LastPosition:x2} or not dword aligned; the capability list ends there");
                break;
            }

            if (visited[pointer])
            {
                diagnostics.Add($"the capability at 0x{from:x2} points back to 0x{pointer:x2}, so the list loops; it ends there");
                break;
            }

            if (capabilities.Count == MaxCapabilities)
            {
                diagnostics.Add($"the capability list is longer than the {MaxCapabilities} entries config space can hold; it ends at 0x{from:x2}");
                break;
            }

            visited[pointer] = true;
            byte id = platform.ReadConfig8(function, pointer);
            byte next = platform.ReadConfig8(function, pointer + (int)VirtioPciCap.CapNext.Offset);
            capabilities.Add(Decode(platform, function, (byte)pointer, id, next, decodeVirtio, diagnostics));
            from = pointer + (int)VirtioPciCap.CapNext.Offset;
            pointer = next;
        }

        return new(capabilities, diagnostics);
    }

    private static PciCapability Decode(
        Platform platform, PciAddress function, byte position, byte id, byte next, bool decodeVirtio, List<string> diagnostics)
    {
        switch ((PciCapId)id)
        {
            case PciCapId.Msix when Fits(position, MsixCap.Size, "MSI-X", diagnostics):
                return DecodeMsix(platform, function, position, next);
            case PciCapId.Vendor when decodeVirtio && Fits(position, VirtioPciCap.Size, "virtio", diagnostics):
                return DecodeVirtio(platform, function, position, next, diagnostics) ?? new PciCapability(position, id, next);
            default:
                return new PciCapability(position, id, next);
        }
    }

    private static MsixCapabilityInfo DecodeMsix(Platform platform, PciAddress function, byte position, byte next)
    {
        ushort control = platform.ReadConfig16(function, position + (int)MsixCap.MessageControl.Offset);
        uint table = platform.ReadConfig32(function, position + (int)MsixCap.VectorTable.Offset);
        uint pba = platform.ReadConfig32(function, position + (int)MsixCap.PendingArray.Offset);
        return new MsixCapabilityInfo(
            position, next,
            TableSize: (int)((control & MsixCap.MessageControl.TableSize.Mask) >> MsixCap.MessageControl.TableSize.Shift) + 1,
            TableBar: (int)(table & MsixCap.VectorTable.Bir.Mask),
            TableOffset: (uint)(table & MsixCap.VectorTable.OffsetField.Mask),
            PbaBar: (int)(pba & MsixCap.PendingArray.Bir.Mask),
            PbaOffset: (uint)(pba & MsixCap.PendingArray.OffsetField.Mask),
            Enabled: (control & MsixCap.MessageControl.Enable.Mask) != 0,
            FunctionMasked: (control & MsixCap.MessageControl.FunctionMask.Mask) != 0);
    }

    private static VirtioPciCapabilityInfo? DecodeVirtio(
        Platform platform, PciAddress function, byte position, byte next, List<string> diagnostics)
    {
        byte capLength = platform.ReadConfig8(function, position + (int)VirtioPciCap.CapLen.Offset);
        var type = (VirtioPciCfgType)platform.ReadConfig8(function, position + (int)VirtioPciCap.CfgType.Offset);
        byte bar = platform.ReadConfig8(function, position + (int)VirtioPciCap.Bar.Offset);
        byte structureId = platform.ReadConfig8(function, position + (int)VirtioPciCap.Id.Offset);

        // The structure the type needs, and the bytes of it the device claims to have.
        uint needed = type switch
        {
            VirtioPciCfgType.NotifyCfg => VirtioPciNotifyCap.Size,
            VirtioPciCfgType.PciCfg => VirtioPciCfgCap.Size,
            VirtioPciCfgType.SharedMemoryCfg => VirtioPciCap64.Size,
            _ => VirtioPciCap.Size,
        };
        string name = VirtioPciCapabilityInfo.TypeName(type);
        if (capLength < needed)
        {
            diagnostics.Add($"the virtio {name} capability at 0x{position:x2} has cap_len {capLength}, shorter than the {needed} bytes of its structure; it is ignored");
            return null;
        }

        if (!Fits(position, needed, $"virtio {name}", diagnostics))
        {
            return null;
        }

        ulong offset = platform.ReadConfig32(function, position + (int)VirtioPciCap.OffsetRegister.Offset);
        ulong length = platform.ReadConfig32(function, position + (int)VirtioPciCap.Length.Offset);
        uint? multiplier = null;
        if (type == VirtioPciCfgType.SharedMemoryCfg)
        {
            offset |= (ulong)platform.ReadConfig32(function, position + (int)VirtioPciCap64.OffsetHi.Offset) << 32;
            length |= (ulong)platform.ReadConfig32(function, position + (int)VirtioPciCap64.LengthHi.Offset) << 32;
        }
        else if (type == VirtioPciCfgType.NotifyCfg)
        {
            multiplier = platform.ReadConfig32(function, position + (int)VirtioPciNotifyCap.NotifyOffMultiplier.Offset);
        }

        return new VirtioPciCapabilityInfo(position, next, capLength, type, bar, structureId, offset, length, multiplier);
    }

    private static bool Fits(byte position, uint size, string what, List<string> diagnostics)
    {
        if (position + size <= StandardConfigSpaceSize)
        {
            return true;
        }

        diagnostics.Add($"the {what} capability at 0x{position:x2} needs {size} bytes and runs past the end of config space at 0x{StandardConfigSpaceSize - 1:x2}; it is not decoded");
        return false;
    }
}

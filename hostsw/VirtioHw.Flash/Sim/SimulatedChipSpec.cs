namespace VirtioHw.Flash;

/// <summary>
/// The part a <see cref="SimulatedFlash"/> behaves as: a Winbond W25Q..JV-class part from the
/// table (geometry, protection bits and typical times), plus what only the model needs.
/// </summary>
public sealed class SimulatedChipSpec
{
    public required FlashPart Part { get; init; }

    /// <summary>Device ID returned by 0xab after its three dummy bytes.</summary>
    public required byte DeviceId { get; init; }

    /// <summary>Time from 0xb9 until the part is in power-down (tDP).</summary>
    public TimeSpan PowerDownTime { get; init; } = TimeSpan.FromMicroseconds(3);

    /// <summary>Time from 0xab until the part takes commands again (tRES1).</summary>
    public TimeSpan ReleasePowerDownTime { get; init; } = TimeSpan.FromMicroseconds(3);

    /// <summary>Time from 0x99 until the part takes commands again (tRST).</summary>
    public TimeSpan ResetTime { get; init; } = TimeSpan.FromMicroseconds(30);

    /// <summary>Whether the part has 0xb7/0xe9 and the 4-byte opcodes (parts above 16 MiB).</summary>
    public bool HasFourByteAddressing => Part.Size > 16 * PartTable.MiB;

    public static SimulatedChipSpec W25Q32JV { get; } = FromTable("W25Q32JV", 0x15);

    public static SimulatedChipSpec W25Q64JV { get; } = FromTable("W25Q64JV", 0x16);

    public static SimulatedChipSpec W25Q128JV { get; } = FromTable("W25Q128JV", 0x17);

    public static SimulatedChipSpec W25Q256JV { get; } = FromTable("W25Q256JV", 0x18);

    public static IReadOnlyList<SimulatedChipSpec> All { get; } = [W25Q32JV, W25Q64JV, W25Q128JV, W25Q256JV];

    /// <summary>The model of the named part; only W25Q..JV parts have one.</summary>
    public static SimulatedChipSpec ForName(string name)
    {
        foreach (SimulatedChipSpec spec in All)
        {
            if (string.Equals(spec.Part.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return spec;
            }
        }

        throw new FlashException(
            $"there is no chip model of '{name}': use one of {string.Join(", ", All.Select(s => s.Part.Name))}");
    }

    private static SimulatedChipSpec FromTable(string name, byte deviceId) => new()
    {
        Part = PartTable.FindByName(name) ?? throw new InvalidOperationException($"{name} is missing from the part table"),
        DeviceId = deviceId,
    };
}

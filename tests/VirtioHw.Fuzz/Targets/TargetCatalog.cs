namespace VirtioHw.Fuzz.Targets;

/// <summary>Every fuzz target by name, in the order a full run takes them.</summary>
public static class TargetCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["rdl", "bit", "ihex", "sfdp", "board", "endpoint", "virtqueue", "mmio", "mmio-rtl", "cosim-stall", "ism", "ivshmem", "domain"];

    /// <summary>A new instance of target <paramref name="name"/>; null when there is none by that name.</summary>
    public static FuzzTarget? Create(string name) => name switch
    {
        "rdl" => new RdlTarget(),
        "bit" => new BitFileTarget(),
        "ihex" => new IntelHexTarget(),
        "sfdp" => new SfdpTarget(),
        "board" => new BoardProfileTarget(),
        "endpoint" => new EndpointDescriptionTarget(),
        "virtqueue" => new VirtqueueTarget(),
        "mmio" => new MmioTarget(),
        "mmio-rtl" => new RtlLockstepTarget(),
        "cosim-stall" => new CosimStallTarget(),
        "ism" => new IsmControlQueueTarget(),
        "ivshmem" => new IvshmemServerTarget(),
        "domain" => new DomainServerTarget(),
        _ => null,
    };
}

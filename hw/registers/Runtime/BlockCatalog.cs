using System.Reflection;

namespace VirtioHw.Registers;

/// <summary>Every generated register block of this assembly, found through its <c>Info</c> property.</summary>
public static class BlockCatalog
{
    private static readonly Lazy<IReadOnlyList<BlockInfo>> Blocks = new(() =>
        typeof(BlockCatalog).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: true, IsSealed: true, IsNested: false })
            .Select(t => t.GetProperty("Info", BindingFlags.Public | BindingFlags.Static))
            .Where(p => p?.PropertyType == typeof(BlockInfo))
            .Select(p => (BlockInfo)p!.GetValue(null)!)
            .OrderBy(b => b.Name, StringComparer.Ordinal)
            .ToList());

    public static IReadOnlyList<BlockInfo> All => Blocks.Value;

    public static BlockInfo? Find(string name) => All.FirstOrDefault(b => b.Name == name);
}

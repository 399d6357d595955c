using VirtioHw.Cosim;

namespace VirtioHw.Cosim.Tests;

/// <summary>Instances for tests: a top whose library is not built makes the test say so and skip.</summary>
internal static class Cosim
{
    public static CosimTop Create(string top)
    {
        if (!CosimLibrary.IsBuilt(top, out string reason)) Assert.Ignore(reason);
        return CosimTops.Create(top);
    }

    public static T Create<T>(string top) where T : CosimTop => (T)Create(top);
}

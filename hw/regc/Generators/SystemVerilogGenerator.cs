using VirtioHw.Regc.Elaboration;

namespace VirtioHw.Regc.Generators;

/// <summary>SystemVerilog register blocks: a package with the reg2hw/hw2reg structs and an AXI4-Lite slave.</summary>
public sealed class SystemVerilogGenerator : IGenerator
{
    public string Option => "--sv";

    public IEnumerable<GeneratedFile> Generate(RegBlock block) => [];
}

using System.CommandLine;
using System.Globalization;
using Spectre.Console;
using VirtioHw.Registers;

namespace VirtioHw.Cli.Commands;

/// <summary><c>virtiohw regs</c>: the register maps generated from hw/regs, and a field decoder.</summary>
internal static class RegsCommand
{
    public static Command Create()
    {
        var regs = new Command("regs", "Register maps generated from hw/regs/*.rdl.");

        var list = new Command("list", "List the register blocks.");
        list.SetAction(_ =>
        {
            var table = new Table().AddColumns("block", "size", "registers", "description");
            foreach (BlockInfo b in BlockCatalog.All)
                table.AddRow(b.Name, $"0x{b.Size:x}", b.Registers.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(b.DisplayName));
            AnsiConsole.Write(table);
        });

        var blockArg = new Argument<string>("block") { Description = "Block name, as in 'virtiohw regs list'." };
        var show = new Command("show", "Show one block's registers and fields.") { blockArg };
        show.SetAction(parse =>
        {
            BlockInfo block = FindBlock(parse.GetValue(blockArg)!);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(block.Name)}[/]: {Markup.Escape(block.DisplayName)} (0x{block.Size:x} bytes, from {Markup.Escape(block.Source)})");
            var table = new Table().AddColumns("offset", "register", "bits", "field", "access", "reset");
            foreach (RegisterInfo r in block.Registers)
            {
                string offset = r.IsArray ? $"0x{r.Offset:x} +{r.Count}x0x{r.Stride:x}" : $"0x{r.Offset:x}";
                string name = r.External ? r.Name + " (ext)" : r.Name;
                foreach (FieldInfo f in r.Fields.OrderByDescending(f => f.Lsb))
                {
                    string bits = f.Width == 1 ? $"{f.Lsb}" : $"{f.Msb}:{f.Lsb}";
                    table.AddRow(offset, name, bits, f.Name, f.AccessText, $"0x{f.Reset:x}");
                    offset = "";
                    name = "";
                }
            }
            AnsiConsole.Write(table);
        });

        var registerArg = new Argument<string>("register") { Description = "Register name." };
        var valueArg = new Argument<string>("value") { Description = "Register value (decimal or 0x hex)." };
        var decode = new Command("decode", "Split a register value into its fields.") { blockArg, registerArg, valueArg };
        decode.SetAction(parse =>
        {
            BlockInfo block = FindBlock(parse.GetValue(blockArg)!);
            string regName = parse.GetValue(registerArg)!;
            RegisterInfo reg = block.Find(regName)
                ?? throw new UserErrorException($"block '{block.Name}' has no register '{regName}'");
            ulong value = ParseNumber(parse.GetValue(valueArg)!);
            foreach (FieldInfo f in reg.Fields)
                Console.WriteLine($"{f.Name,-24} [{f.Msb,2}:{f.Lsb,2}] = 0x{(value & f.Mask) >> f.Lsb:x}");
        });

        regs.Subcommands.Add(list);
        regs.Subcommands.Add(show);
        regs.Subcommands.Add(decode);
        return regs;
    }

    private static BlockInfo FindBlock(string name) =>
        BlockCatalog.Find(name)
        ?? throw new UserErrorException($"no register block '{name}'; known: {string.Join(", ", BlockCatalog.All.Select(b => b.Name))}");

    private static ulong ParseNumber(string text)
    {
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out ulong v))
            return v;
        throw new UserErrorException($"'{text}' is not a number (decimal or 0x hex)");
    }
}

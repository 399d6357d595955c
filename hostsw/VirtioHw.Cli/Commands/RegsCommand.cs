using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using VirtioHw.Registers;

namespace VirtioHw.Cli.Commands;

/// <summary>
/// <c>virtiohw regs</c>: the register maps generated from hw/regs, and a field decoder; a table for
/// people, or <c>--json</c> for scripts (the shapes are in the README).
/// </summary>
internal static class RegsCommand
{
    public static Command Create()
    {
        var regs = new Command("regs", "Register maps generated from hw/regs/*.rdl.");

        var list = new Command("list", "List the register blocks.");
        Option<bool> listJson = JsonOption(list);
        list.SetAction(parse =>
        {
            if (parse.GetValue(listJson))
            {
                CliJson.Write(w =>
                {
                    w.WriteStartArray();
                    foreach (BlockInfo b in BlockCatalog.All)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", b.Name);
                        w.WriteNumber("size", b.Size);
                        w.WriteNumber("registers", b.Registers.Count);
                        w.WriteString("description", b.DisplayName);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                return;
            }

            Table table = CliConsole.Table("block", "size", "registers", "description");
            foreach (BlockInfo b in BlockCatalog.All)
                table.AddRow(Markup.Escape(b.Name), $"0x{b.Size:x}", b.Registers.Count.ToString(CultureInfo.InvariantCulture), Markup.Escape(b.DisplayName));
            AnsiConsole.Write(table);
        });

        var blockArg = new Argument<string>("block") { Description = "Block name, as in 'virtiohw regs list'." };
        var show = new Command("show", "Show one block's registers and fields.") { blockArg };
        Option<bool> showJson = JsonOption(show);
        show.SetAction(parse =>
        {
            BlockInfo block = FindBlock(parse.GetValue(blockArg)!);
            if (parse.GetValue(showJson))
            {
                CliJson.Write(w => WriteBlock(w, block));
                return;
            }

            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(block.Name)}[/]: {Markup.Escape(block.DisplayName)} (0x{block.Size:x} bytes, from {Markup.Escape(block.Source)})");
            Table table = CliConsole.Table("offset", "register", "bits", "field", "access", "reset");
            foreach (RegisterInfo r in block.Registers)
            {
                string offset = r.IsArray ? $"0x{r.Offset:x} +{r.Count}x0x{r.Stride:x}" : $"0x{r.Offset:x}";
                string name = r.External ? r.Name + " (ext)" : r.Name;
                foreach (FieldInfo f in r.Fields.OrderByDescending(f => f.Lsb))
                {
                    string bits = f.Width == 1 ? $"{f.Lsb}" : $"{f.Msb}:{f.Lsb}";
                    table.AddRow(offset, Markup.Escape(name), bits, Markup.Escape(f.Name), f.AccessText, $"0x{f.Reset:x}");
                    offset = "";
                    name = "";
                }
            }

            AnsiConsole.Write(table);
        });

        var registerArg = new Argument<string>("register") { Description = "Register name." };
        var valueArg = new Argument<string>("value") { Description = "Register value (decimal or 0x hex)." };
        var decode = new Command("decode", "Split a register value into its fields.") { blockArg, registerArg, valueArg };
        Option<bool> decodeJson = JsonOption(decode);
        decode.SetAction(parse =>
        {
            BlockInfo block = FindBlock(parse.GetValue(blockArg)!);
            string regName = parse.GetValue(registerArg)!;
            RegisterInfo reg = block.Find(regName)
                ?? throw UserErrorException.Usage($"block '{block.Name}' has no register '{regName}'");
            ulong value = ParseNumber(parse.GetValue(valueArg)!);
            if (parse.GetValue(decodeJson))
            {
                CliJson.Write(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("block", block.Name);
                    w.WriteString("register", reg.Name);
                    w.WriteNumber("value", value);
                    w.WriteStartArray("fields");
                    foreach (FieldInfo f in reg.Fields)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", f.Name);
                        w.WriteNumber("msb", f.Msb);
                        w.WriteNumber("lsb", f.Lsb);
                        w.WriteNumber("value", (value & f.Mask) >> f.Lsb);
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
                return;
            }

            foreach (FieldInfo f in reg.Fields)
                Console.WriteLine($"{f.Name,-24} [{f.Msb,2}:{f.Lsb,2}] = 0x{(value & f.Mask) >> f.Lsb:x}");
        });

        regs.Subcommands.Add(list);
        regs.Subcommands.Add(show);
        regs.Subcommands.Add(decode);
        return regs;
    }

    private static Option<bool> JsonOption(Command command)
    {
        var json = new Option<bool>("--json") { Description = "Write JSON instead of a table (the shape is in the README)." };
        command.Options.Add(json);
        return json;
    }

    private static void WriteBlock(Utf8JsonWriter w, BlockInfo block)
    {
        w.WriteStartObject();
        w.WriteString("name", block.Name);
        w.WriteString("description", block.DisplayName);
        w.WriteNumber("size", block.Size);
        w.WriteString("source", block.Source);
        w.WriteStartArray("registers");
        foreach (RegisterInfo r in block.Registers)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteNumber("offset", r.Offset);
            w.WriteNumber("width", r.Width);
            w.WriteNumber("count", r.Count);
            w.WriteNumber("stride", r.Stride);
            w.WriteBoolean("external", r.External);
            w.WriteStartArray("fields");
            foreach (FieldInfo f in r.Fields)
            {
                w.WriteStartObject();
                w.WriteString("name", f.Name);
                w.WriteNumber("msb", f.Msb);
                w.WriteNumber("lsb", f.Lsb);
                w.WriteString("access", f.AccessText);
                w.WriteNumber("reset", f.Reset);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static BlockInfo FindBlock(string name) =>
        BlockCatalog.Find(name)
        ?? throw UserErrorException.Usage($"no register block '{name}'; known: {string.Join(", ", BlockCatalog.All.Select(b => b.Name))}");

    private static ulong ParseNumber(string text)
    {
        bool hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
        if (ulong.TryParse(hex ? text[2..] : text, hex ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out ulong v))
            return v;
        throw UserErrorException.Usage($"'{text}' is not a number (decimal or 0x hex)");
    }
}

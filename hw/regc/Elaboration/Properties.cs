using VirtioHw.Regc.Syntax;

namespace VirtioHw.Regc.Elaboration;

internal enum PropertyType
{
    String,
    Boolean,
    Number,
    SwAccess,
    HwAccess,
    ReadEffect,
    WriteEffect,
    EnumReference,
}

/// <summary>The properties of the subset: their types and the components they apply to.</summary>
internal static class Properties
{
    private static readonly ComponentKind[] All = [ComponentKind.Addrmap, ComponentKind.Regfile, ComponentKind.Reg, ComponentKind.Field];
    private static readonly ComponentKind[] FieldOnly = [ComponentKind.Field];

    private static readonly Dictionary<string, (PropertyType Type, ComponentKind[] AppliesTo)> Known = new(StringComparer.Ordinal)
    {
        ["name"] = (PropertyType.String, All),
        ["desc"] = (PropertyType.String, All),
        ["regwidth"] = (PropertyType.Number, [ComponentKind.Reg]),
        ["sw"] = (PropertyType.SwAccess, FieldOnly),
        ["hw"] = (PropertyType.HwAccess, FieldOnly),
        ["reset"] = (PropertyType.Number, FieldOnly),
        ["fieldwidth"] = (PropertyType.Number, FieldOnly),
        ["onread"] = (PropertyType.ReadEffect, FieldOnly),
        ["onwrite"] = (PropertyType.WriteEffect, FieldOnly),
        ["singlepulse"] = (PropertyType.Boolean, FieldOnly),
        ["swmod"] = (PropertyType.Boolean, FieldOnly),
        ["swacc"] = (PropertyType.Boolean, FieldOnly),
        ["hwset"] = (PropertyType.Boolean, FieldOnly),
        ["hwclr"] = (PropertyType.Boolean, FieldOnly),
        ["encode"] = (PropertyType.EnumReference, FieldOnly),
        ["ram"] = (PropertyType.Boolean, [ComponentKind.Reg]),
    };

    /// <summary>SystemRDL properties that exist in the standard but not in this subset.</summary>
    private static readonly HashSet<string> Standard = new(StringComparer.Ordinal)
    {
        "counter", "intr", "we", "wel", "rset", "rclr", "woclr", "woset", "precedence", "paritycheck",
        "accesswidth", "shared", "errextbus", "bridge", "addressing", "rsvdset", "rsvdsetX",
        "littleendian", "bigendian", "lsb0", "msb0", "hdl_path", "hdl_path_slice", "hdl_path_gate",
        "ispresent", "donttest", "dontcompare", "sticky", "stickybit", "swwe", "swwel", "anded", "ored",
        "xored", "incrvalue", "decrvalue", "incrsaturate", "decrsaturate", "incrthreshold",
        "decrthreshold", "threshold", "saturate", "overflow", "underflow", "mask", "enable", "haltmask",
        "haltenable", "level", "posedge", "negedge", "bothedge", "nonsticky", "next", "resetsignal",
        "field_reset", "cpuif_reset", "sync", "async", "alignment", "sharedextbus", "incr", "decr",
        "incrwidth", "decrwidth", "singlepulse_value", "rsvd", "ispresent", "memwidth", "mementries",
    };

    public static (PropertyType Type, ComponentKind[] AppliesTo) Lookup(string name, SourceLocation at)
    {
        if (Known.TryGetValue(name, out var entry)) return entry;
        if (Standard.Contains(name))
            throw new RdlException(at, $"property '{name}' is not in the supported SystemRDL subset");
        throw new RdlException(at, $"unknown property '{name}'");
    }

    /// <summary>Checks that the value has the property's type; returns the canonical value.</summary>
    public static void CheckValue(string name, Value value)
    {
        (PropertyType type, _) = Lookup(name, value.Location);
        bool ok = type switch
        {
            PropertyType.String => value.Kind == ValueKind.String,
            PropertyType.Boolean => value.Kind == ValueKind.Boolean,
            PropertyType.Number => value.Kind == ValueKind.Number,
            PropertyType.SwAccess => value.Kind == ValueKind.Identifier && value.Text is "r" or "w" or "rw" or "wr" or "na",
            PropertyType.HwAccess => value.Kind == ValueKind.Identifier && value.Text is "r" or "w" or "rw" or "wr" or "na",
            PropertyType.ReadEffect => value.Kind == ValueKind.Identifier && value.Text is "rclr" or "rset" or "ruser",
            PropertyType.WriteEffect => value.Kind == ValueKind.Identifier
                && value.Text is "woclr" or "woset" or "wot" or "wzs" or "wzc" or "wzt" or "wclr" or "wset" or "wuser",
            PropertyType.EnumReference => value.Kind == ValueKind.Identifier,
            _ => false,
        };
        if (!ok)
        {
            string expected = type switch
            {
                PropertyType.String => "a string",
                PropertyType.Boolean => "true or false",
                PropertyType.Number => "a number",
                PropertyType.SwAccess => "r, w or rw",
                PropertyType.HwAccess => "r, w, rw or na",
                PropertyType.ReadEffect => "rclr",
                PropertyType.WriteEffect => "woclr or woset",
                _ => "an enum name",
            };
            throw new RdlException(value.Location, $"property '{name}' takes {expected}, not {value}");
        }
        if (type == PropertyType.ReadEffect && value.Text != "rclr")
            throw new RdlException(value.Location, $"onread = {value.Text} is not in the supported SystemRDL subset");
        if (type == PropertyType.WriteEffect && value.Text is not ("woclr" or "woset"))
            throw new RdlException(value.Location, $"onwrite = {value.Text} is not in the supported SystemRDL subset");
        if (type == PropertyType.SwAccess && value.Text == "na")
            throw new RdlException(value.Location, "sw = na is not in the supported SystemRDL subset (a field software cannot access belongs in hand-written logic)");
    }
}

using System.Globalization;
using System.Xml.Linq;

namespace VirtioHw.Cosim.Gen;

/// <summary>
/// Reads the top module's ports from <c>verilator --xml-only</c>: names, directions, widths and,
/// for packed struct ports, the position of every member (the first member is the most
/// significant, as in SystemVerilog).
/// </summary>
public static class VerilatorXml
{
    public static TopModule Load(string path)
    {
        XDocument doc;
        try
        {
            doc = XDocument.Load(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Xml.XmlException)
        {
            throw new GenException($"cannot read {path}: {e.Message}");
        }
        return Parse(doc);
    }

    public static TopModule Parse(XDocument doc)
    {
        XElement root = doc.Root ?? throw new GenException("empty XML");
        XElement module = root.Descendants("module").FirstOrDefault(m => (string?)m.Attribute("topModule") == "1")
            ?? throw new GenException("no top module in the XML");
        var types = new TypeTable(root.Descendants("typetable").FirstOrDefault()
            ?? throw new GenException("no type table in the XML"));

        string name = Attr(module, "name");
        string fileId = Attr(module, "loc").Split(',')[0];
        string source = root.Element("files")?.Elements("file").FirstOrDefault(f => (string?)f.Attribute("id") == fileId)
            ?.Attribute("filename")?.Value ?? name;

        var ports = new List<Port>();
        foreach (XElement v in module.Elements("var").Where(v => v.Attribute("dir") is not null)
                     .OrderBy(v => int.Parse(Attr(v, "pinIndex"), CultureInfo.InvariantCulture)))
        {
            string portName = Attr(v, "name");
            PortDirection dir = Attr(v, "dir") switch
            {
                "input" => PortDirection.Input,
                "output" => PortDirection.Output,
                var d => throw new GenException($"port {portName} is {d}; only input and output ports can be driven from C"),
            };
            string typeId = Attr(v, "dtype_id");
            int width = types.Width(typeId, portName);
            IReadOnlyList<LayoutField>? fields = types.HasMembers(typeId) ? types.Flatten(typeId, portName) : null;
            ports.Add(new Port(portName, dir, width, fields));
        }
        return new TopModule(name, source, ports);
    }

    private static string Attr(XElement e, string name) =>
        e.Attribute(name)?.Value ?? throw new GenException($"<{e.Name}> without '{name}' in the XML");

    /// <summary>The typetable, by id, with widths computed on demand.</summary>
    private sealed class TypeTable
    {
        private readonly Dictionary<string, XElement> _byId;

        public TypeTable(XElement table)
        {
            _byId = new Dictionary<string, XElement>(StringComparer.Ordinal);
            foreach (XElement e in table.Descendants().Where(e => e.Attribute("id") is not null))
            {
                _byId[e.Attribute("id")!.Value] = e;
            }
        }

        private XElement Get(string id, string where) =>
            _byId.TryGetValue(id, out XElement? e) ? e : throw new GenException($"{where}: type {id} missing from the XML");

        /// <summary>Follows typedef references and enums to the type that decides the layout.</summary>
        private XElement Resolve(string id, string where)
        {
            XElement e = Get(id, where);
            while (e.Name.LocalName is "refdtype" or "enumdtype")
            {
                e = Get(Attr(e, "sub_dtype_id"), where);
            }
            return e;
        }

        /// <summary>A packed struct, or a packed array of them: a type with named members.</summary>
        public bool HasMembers(string id)
        {
            XElement e = Resolve(id, "");
            return e.Name.LocalName == "structdtype" || (e.Name.LocalName == "packarraydtype" && HasMembers(Attr(e, "sub_dtype_id")));
        }

        public int Width(string id, string where)
        {
            XElement e = Resolve(id, where);
            return e.Name.LocalName switch
            {
                "basicdtype" => e.Attribute("left") is { } l ? Math.Abs(Int(l.Value) - Int(Attr(e, "right"))) + 1 : 1,
                "structdtype" => e.Elements("memberdtype").Sum(m => Width(Attr(m, "sub_dtype_id"), $"{where}.{Attr(m, "name")}")),
                "packarraydtype" => Range(e, where).Count * Width(Attr(e, "sub_dtype_id"), where),
                var kind => throw new GenException($"{where}: {kind} is not supported on a top-level port (packed vectors and structs only)"),
            };
        }

        /// <summary>The leaves of a packed struct, each with its bit position in the port.</summary>
        public List<LayoutField> Flatten(string id, string portName)
        {
            var fields = new List<LayoutField>();
            Walk(id, "", 0, portName, fields);
            return fields;
        }

        private void Walk(string id, string path, int lsb, string where, List<LayoutField> into)
        {
            XElement e = Resolve(id, where);
            switch (e.Name.LocalName)
            {
                case "structdtype":
                {
                    int top = lsb + Width(id, where);
                    foreach (XElement m in e.Elements("memberdtype"))
                    {
                        string member = Attr(m, "name");
                        string sub = Attr(m, "sub_dtype_id");
                        top -= Width(sub, where);
                        Walk(sub, path.Length == 0 ? member : $"{path}.{member}", top, $"{where}.{member}", into);
                    }
                    break;
                }
                case "packarraydtype" when Resolve(Attr(e, "sub_dtype_id"), where).Name.LocalName == "structdtype":
                {
                    string sub = Attr(e, "sub_dtype_id");
                    int ew = Width(sub, where);
                    (int count, int low) = Range(e, where);
                    for (int i = 0; i < count; i++)
                    {
                        Walk(sub, $"{path}[{low + i}]", lsb + i * ew, where, into);
                    }
                    break;
                }
                case "packarraydtype":
                    into.Add(new LayoutField(path, lsb, Width(Attr(e, "sub_dtype_id"), where), Range(e, where).Count));
                    break;
                default:
                    into.Add(new LayoutField(path, lsb, Width(id, where), 1));
                    break;
            }
        }

        /// <summary>Element count and lowest index of a packed range; only [high:low] ranges are accepted.</summary>
        private static (int Count, int Low) Range(XElement array, string where)
        {
            var bounds = array.Element("range")?.Elements("const").Select(c => ConstValue(Attr(c, "name"))).ToList();
            if (bounds is not { Count: 2 }) throw new GenException($"{where}: packed array without a constant range");
            if (bounds[0] < bounds[1]) throw new GenException($"{where}: packed array range [{bounds[0]}:{bounds[1]}] is ascending; declare it [high:low]");
            return (bounds[0] - bounds[1] + 1, bounds[1]);
        }

        private static int Int(string s) => int.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

        /// <summary>A Verilator constant such as <c>32'sh1f</c> or <c>4'b0101</c>.</summary>
        private static int ConstValue(string text)
        {
            int tick = text.IndexOf('\'', StringComparison.Ordinal);
            if (tick < 0) return Int(text);
            string rest = text[(tick + 1)..].TrimStart('s');
            int radix = rest[0] switch { 'h' => 16, 'd' => 10, 'b' => 2, 'o' => 8, _ => throw new GenException($"constant '{text}' not understood") };
            return Convert.ToInt32(rest[1..].Replace("_", "", StringComparison.Ordinal), radix);
        }
    }
}

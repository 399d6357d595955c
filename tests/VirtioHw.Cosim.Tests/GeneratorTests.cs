using System.Xml.Linq;
using VirtioHw.Cosim.Gen;

namespace VirtioHw.Cosim.Tests;

/// <summary>
/// cosim-gen on port lists the register blocks do not have (the endpoint RTL will): packed arrays of
/// structs, enums, and the port lists it must refuse. The XML is shaped as Verilator writes it.
/// </summary>
public sealed class GeneratorTests
{
    /// <summary>A top with clk_i, rst_ni and one output port of the given type; extra types go in the table.</summary>
    private static XDocument Top(string portType, string types, string extraPorts = "") => XDocument.Parse($"""
        <verilator_xml>
          <files><file id="a" filename="hw/rtl/x/demo_top.sv" language="1800-2017"/></files>
          <netlist>
            <module loc="a,1,8,1,16" name="demo_top" origName="demo_top" topModule="1">
              <var loc="a,2,1,2,2" name="clk_i" dtype_id="1" dir="input" pinIndex="1" vartype="logic" origName="clk_i"/>
              <var loc="a,3,1,3,2" name="rst_ni" dtype_id="1" dir="input" pinIndex="2" vartype="logic" origName="rst_ni"/>
              <var loc="a,4,1,4,2" name="data_o" dtype_id="{portType}" dir="output" pinIndex="3" vartype="logic" origName="data_o"/>
              {extraPorts}
            </module>
            <typetable loc="a,0,0,0,0">
              <basicdtype loc="a,1,1,1,1" id="1" name="logic"/>
              <basicdtype loc="a,1,1,1,1" id="2" name="logic" left="3" right="0"/>
              {types}
            </typetable>
          </netlist>
        </verilator_xml>
        """);

    [Test]
    public void PackedArrayOfStructs_FlattensToOneMemberPerElement()
    {
        // struct packed { logic v; logic [3:0] n; } [1:0] — element 1 is the upper half.
        TopModule top = VerilatorXml.Parse(Top("12", """
            <structdtype loc="a,1,1,1,1" id="10">
              <memberdtype loc="a,1,1,1,1" id="11" name="v" sub_dtype_id="1"/>
              <memberdtype loc="a,1,1,1,1" id="13" name="n" sub_dtype_id="2"/>
            </structdtype>
            <packarraydtype loc="a,1,1,1,1" id="12" sub_dtype_id="10">
              <range loc="a,1,1,1,1"><const loc="a,1,1,1,1" name="32'sh1" dtype_id="2"/><const loc="a,1,1,1,1" name="32'sh0" dtype_id="2"/></range>
            </packarraydtype>
            """));
        Port data = top.Find("data_o")!;
        Assert.Multiple(() =>
        {
            Assert.That(data.Width, Is.EqualTo(10));
            Assert.That(data.Fields, Is.EqualTo(new[]
            {
                new LayoutField("[0].v", 4, 1, 1),
                new LayoutField("[0].n", 0, 4, 1),
                new LayoutField("[1].v", 9, 1, 1),
                new LayoutField("[1].n", 5, 4, 1),
            }));
        });
    }

    [Test]
    public void EnumAndTypedefMembers_TakeTheWidthOfTheirBase()
    {
        TopModule top = VerilatorXml.Parse(Top("20", """
            <enumdtype loc="a,1,1,1,1" id="21" name="mode_e" sub_dtype_id="2"/>
            <refdtype loc="a,1,1,1,1" id="22" name="mode_t" sub_dtype_id="21"/>
            <structdtype loc="a,1,1,1,1" id="20">
              <memberdtype loc="a,1,1,1,1" id="23" name="mode" sub_dtype_id="22"/>
              <memberdtype loc="a,1,1,1,1" id="24" name="on" sub_dtype_id="1"/>
            </structdtype>
            """));
        Assert.That(top.Find("data_o")!.Fields, Is.EqualTo(new[] { new LayoutField("mode", 1, 4, 1), new LayoutField("on", 0, 1, 1) }));
    }

    [Test]
    public void AscendingPackedRange_IsRefusedWithTheMember()
    {
        var e = Assert.Throws<GenException>(() => VerilatorXml.Parse(Top("30", """
            <packarraydtype loc="a,1,1,1,1" id="30" sub_dtype_id="2">
              <range loc="a,1,1,1,1"><const loc="a,1,1,1,1" name="32'sh0" dtype_id="2"/><const loc="a,1,1,1,1" name="32'sh3" dtype_id="2"/></range>
            </packarraydtype>
            """)));
        Assert.That(e!.Message, Is.EqualTo("data_o: packed array range [0:3] is ascending; declare it [high:low]"));
    }

    [Test]
    public void TopWithoutClock_IsRefusedWhenGenerating()
    {
        XDocument doc = Top("2", "");
        doc.Descendants("var").First(v => (string?)v.Attribute("name") == "clk_i").Attribute("name")!.Value = "clock";
        TopModule top = VerilatorXml.Parse(doc);
        var e = Assert.Throws<GenException>(() => ShimWriter.Write(top, "make cosim"));
        Assert.That(e!.Message, Does.StartWith("demo_top has no 1-bit input clk_i"));
    }

    [Test]
    public void IncompleteAxiLitePortGroup_IsRefusedNamingTheMissingSignal()
    {
        TopModule top = VerilatorXml.Parse(Top("2", "", """
            <var loc="a,5,1,5,2" name="m_awaddr_i" dtype_id="2" dir="input" pinIndex="4" vartype="logic" origName="m_awaddr_i"/>
            """));
        var e = Assert.Throws<GenException>(() => BindingWriter.Write(top, "make cosim"));
        Assert.That(e!.Message, Is.EqualTo("demo_top: AXI4-Lite port group 'm_' needs input m_awvalid_i of 1 bit(s)"));
    }

    [Test]
    public void PortDigest_ChangesWithTheStructLayout()
    {
        TopModule a = VerilatorXml.Parse(Top("2", ""));
        TopModule b = a with { Ports = [.. a.Ports.Select(p => p.Name == "data_o" ? p with { Fields = [new LayoutField("x", 0, 4, 1)] } : p)] };
        Assert.That(b.Digest(), Is.Not.EqualTo(a.Digest()));
    }

    /// <summary>Port declarations of the memory master and the MSI output; 40 is a 32-bit type, 41 a 64-bit one.</summary>
    private static string MasterPorts(bool withAck = true)
    {
        var ports = new List<(string Name, string Type, string Dir)>
        {
            ("mem_req_o", "1", "output"), ("mem_we_o", "1", "output"), ("mem_addr_o", "41", "output"), ("mem_be_o", "2", "output"),
            ("mem_wdata_o", "40", "output"), ("mem_rdata_i", "40", "input"),
            ("msi_valid_o", "1", "output"), ("msi_ready_i", "1", "input"), ("msi_addr_o", "41", "output"), ("msi_data_o", "40", "output"),
        };
        if (withAck) ports.Add(("mem_ack_i", "1", "input"));
        return string.Concat(ports.Select((p, i) =>
            $"<var loc=\"a,9,1,9,2\" name=\"{p.Name}\" dtype_id=\"{p.Type}\" dir=\"{p.Dir}\" pinIndex=\"{10 + i}\" vartype=\"logic\" origName=\"{p.Name}\"/>\n"));
    }

    private const string WordTypes = """
        <basicdtype loc="a,1,1,1,1" id="40" name="logic" left="31" right="0"/>
        <basicdtype loc="a,1,1,1,1" id="41" name="logic" left="63" right="0"/>
        """;

    [Test]
    public void MemoryMasterAndMsiOutput_AreServedByTheShim_AndBoundInCSharp()
    {
        TopModule top = VerilatorXml.Parse(Top("2", WordTypes, MasterPorts()));
        string shim = ShimWriter.Write(top, "make cosim");
        string binding = BindingWriter.Write(top, "make cosim");
        Assert.Multiple(() =>
        {
            Assert.That(shim, Does.Contain("vhw::MemoryPort mem;").And.Contain("vhw::MsiQueue msi;"));
            Assert.That(shim, Does.Contain("vhw_demo_top_mem_attach(Handle* h, uint8_t* base, uint64_t length)"));
            Assert.That(shim, Does.Contain("int32_t vhw_demo_top_msi_pop(Handle* h, uint64_t* addr, uint32_t* data)"));
            Assert.That(binding, Does.Contain("public sealed class DemoTop : CosimTop, IMemoryMaster, IMsiSource"));
            Assert.That(binding, Does.Contain("public bool TryPopMsi(out ulong address, out uint data)"));
        });
    }

    [Test]
    public void TopWithoutMasterPorts_GetsNoServices()
    {
        TopModule top = VerilatorXml.Parse(Top("2", ""));
        Assert.Multiple(() =>
        {
            Assert.That(ShimWriter.Write(top, "make cosim"), Does.Contain("static bool serve(Model&, Services&) { return false; }"));
            Assert.That(BindingWriter.Write(top, "make cosim"), Does.Not.Contain("IMemoryMaster"));
        });
    }

    [Test]
    public void IncompleteMemoryMaster_IsRefusedNamingTheMissingSignal()
    {
        TopModule top = VerilatorXml.Parse(Top("2", WordTypes, MasterPorts(withAck: false)));
        var e = Assert.Throws<GenException>(() => ShimWriter.Write(top, "make cosim"));
        Assert.That(e!.Message, Is.EqualTo("demo_top: the memory master needs input mem_ack_i of 1 bit(s)"));
    }
}

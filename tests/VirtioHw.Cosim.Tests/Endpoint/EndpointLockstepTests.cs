using VirtioHw.Cosim.Tests.Lockstep;
using VirtioHw.Model;

namespace VirtioHw.Cosim.Tests.Endpoint;

/// <summary>
/// The endpoint lockstep: the C# model endpoint (VirtioPciEndpointModel, IvshmemEndpointModel,
/// VirtioMmioEndpointModel) and the Verilated endpoint top take the same seeded stream of config, BAR, firmware CSR and shared
/// memory accesses, and after every one must agree on the read data, the MSI messages sent and the
/// backing memory. The first divergence names the transaction, the register and both values, and
/// the seed reproduces it (VHW_LOCKSTEP_SEED, VHW_LOCKSTEP_TRANSACTIONS and VHW_LOCKSTEP_TRACE, as in
/// cosim/README.md).
/// </summary>
public sealed class EndpointLockstepTests
{
    private const int Transactions = 3000;
    private const int History = 12;

    /// <summary>virtio-ism behind virtio-mmio (ism_mmio_endpoint_top, VirtioMmioEndpointModel).</summary>
    private const string IsmMmio = "virtio-ism-mmio";

    /// <summary>Where the virtio-mmio endpoint's interrupt messages go, on both sides.</summary>
    private static readonly (ulong Address, uint Data) InterruptRoute = (0xfee0_1000, 0x4321);

    [TestCase("virtio-ism", 1)]
    [TestCase("virtio-ism", 2)]
    [TestCase("virtio-ism", 3)]
    [TestCase("virtio-dmabuf", 1)]
    [TestCase("virtio-dmabuf", 2)]
    [TestCase("ivshmem", 1)]
    [TestCase("ivshmem", 2)]
    [TestCase("ivshmem", 3)]
    [TestCase(IsmMmio, 1)]
    [TestCase(IsmMmio, 2)]
    [TestCase(IsmMmio, 3)]
    public void Lockstep_ModelAndRtlEndpointAgree(string personality, int seed)
    {
        (int s, int n) = LockstepRun.Settings(seed, Transactions);
        bool mmio = personality == IsmMmio;
        EndpointDescription description = EndpointDescriptions.LoadBuiltin(mmio ? "virtio-ism" : personality);
        // An ivshmem peer id other than the description's, as a server would assign it.
        uint ivPosition = (uint)s * 3;
        EndpointMap map;
        IEndpointSide modelSide;
        if (mmio)
        {
            modelSide = new ModelMmioEndpointSide(description, InterruptRoute);
            map = EndpointMap.ForMmio(description);
        }
        else
        {
            var pci = new ModelEndpointSide(description, ivPosition);
            modelSide = pci;
            map = new EndpointMap(description, pci.Capabilities);
        }
        using IEndpointSide model = modelSide;
        using RtlEndpointSide rtl = personality switch
        {
            "virtio-dmabuf" => RtlEndpointSide.Dmabuf(),
            "ivshmem" => RtlEndpointSide.Ivshmem(description.BackingMemory, ivPosition),
            IsmMmio => RtlEndpointSide.IsmMmio(description.BackingMemory, InterruptRoute),
            _ => RtlEndpointSide.Ism(description.BackingMemory),
        };
        if (Environment.GetEnvironmentVariable(LockstepRun.TraceVariable) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
            rtl.Top.OpenTrace(Path.GetFullPath(Path.Combine(dir, $"{personality}-{s}.fst")));
        }
        var stream = new EndpointStream(s, map, description, mmio);
        var recent = new Queue<string>();
        int reads = 0, messages = 0, windowWrites = 0, cfgWindow = 0, cfgWindowData = 0;

        void Fail(int number, EndpointAccess a, string what) =>
            Assert.Fail($"{personality}, seed {s}: transaction {number}: {Describe(map, a)}: {what}\n" +
                        $"reproduce: {LockstepRun.SeedVariable}={s} {LockstepRun.TransactionsVariable}={number} " +
                        $"dotnet test tests/VirtioHw.Cosim.Tests --filter \"Name~Lockstep_ModelAndRtlEndpointAgree\"\n" +
                        $"before it:\n  {string.Join("\n  ", recent)}");

        int number = 0;
        foreach (EndpointAccess a in stream.Setup().Concat(Enumerable.Range(0, n).Select(_ => stream.Next())))
        {
            number++;
            if (stream.InCfgData(a)) cfgWindow++;
            uint expected = model.Access(a);
            uint actual = rtl.Access(a);
            if (!a.Write)
            {
                reads++;
                if (expected != actual) Fail(number, a, $"model reads 0x{expected:x}, RTL 0x{actual:x}");
                if (expected != 0 && stream.InCfgData(a)) cfgWindowData++;
            }
            List<(ulong Address, uint Data)> want = model.TakeMessages(), got = rtl.TakeMessages();
            messages += want.Count;
            if (!want.SequenceEqual(got))
            {
                Fail(number, a, $"MSI messages: model [{string.Join(", ", want.Select(Msi))}], RTL [{string.Join(", ", got.Select(Msi))}]");
            }
            if (a.Write && model.Memory.Length > 0 && (a.Port is EndpointPort.Bar2 or EndpointPort.Shm || stream.InCfgData(a)))
            {
                windowWrites++;
                int at = FirstDifference(model.Memory, rtl.Memory, EndpointStream.MappedBytes);
                if (at >= 0) Fail(number, a, $"backing memory at 0x{at:x}: model 0x{model.Memory[at]:x2}, RTL 0x{rtl.Memory[at]:x2}");
            }
            recent.Enqueue($"{number}: {Describe(map, a)}{(a.Write ? "" : $" -> 0x{expected:x}")}");
            if (recent.Count > History) recent.Dequeue();
        }
        TestContext.Out.WriteLine($"{personality}, seed {s}: {number} transactions agree ({reads} reads, {messages} MSI messages, {windowWrites} window writes, {cfgWindow} PCI cfg window accesses, {cfgWindowData} of them reading data; {rtl.Top.Cycle} cycles)");
        Assert.Multiple(() =>
        {
            Assert.That(reads, Is.GreaterThan(n / 4), "the stream reads back");
            Assert.That(messages, Is.GreaterThan(0), "the stream makes the endpoint send MSI-X (or interrupt) messages");
            Assert.That(rtl.OutsideAccesses, Is.Zero, "every chunk lies in the attached memory");
            if (description.Virtio?.PciCfgAccess == true && !mmio)
            {
                Assert.That(cfgWindowData, Is.GreaterThan(0), "pci_cfg_data reads something of a BAR through the window");
            }
        });
    }

    private static string Msi((ulong Address, uint Data) m) => $"0x{m.Address:x}=0x{m.Data:x}";

    private static string Describe(EndpointMap map, EndpointAccess a) =>
        $"{(a.Write ? "write" : "read")} {a.Width}B {map.Describe(a.Port, a.Offset)}{(a.Write ? $" = 0x{a.Value & a.Mask:x}" : "")}";

    /// <summary>The first byte that differs where chunks are mapped: the low part, and the end (which must stay untouched).</summary>
    private static int FirstDifference(byte[] a, byte[] b, int low)
    {
        int at = a.AsSpan(0, low).CommonPrefixLength(b.AsSpan(0, low));
        if (at < low) return at;
        int tail = a.Length - low;
        at = a.AsSpan(tail).CommonPrefixLength(b.AsSpan(tail));
        return at == low ? -1 : tail + at;
    }
}

using VirtioHw.Drivers.Ism;
using VirtioHw.Wire;

namespace VirtioHw.Fuzz.Tests;

/// <summary>
/// The whole virtio-ism permission matrix (every default set, every dedicated set or none, every
/// access an attach asks for) run on the model and on the RTL endpoints, and the outcomes compared
/// case by case: the attach's ack code, and what the attached device's window then does (whether a
/// read sees the owner's data, whether a write reaches the owner). Each outcome must also follow
/// the rule: a read through the window sees the region only when read access was asked for, a
/// write lands only when write access was.
/// </summary>
[CancelAfter(900_000)]
[NonParallelizable]
public sealed class PermissionMatrixTests
{
    private const IsmPermissions R = IsmPermissions.Read;
    private const IsmPermissions W = IsmPermissions.Write;
    private const IsmPermissions A = IsmPermissions.Attach;
    private const ulong OwnerMarker = 0x0123_4567_89ab_cdef;
    private const ulong PeerMarker = 0xfedc_ba98_7654_3210;

    /// <summary>Every case: default permissions, dedicated ones (null for none), the access asked for.</summary>
    public static IReadOnlyList<(IsmPermissions Defaults, IsmPermissions? Dedicated, IsmPermissions Request)> Cases { get; } = BuildCases();

    [Test]
    public async Task PermissionMatrix_IsTheSameOnTheRtlAsOnTheModel(CancellationToken ct)
    {
        List<string> model = await RunAsync(IsmSide.Model, ct);
        List<string> rtl = await RunAsync(IsmSide.Rtl, ct);
        TestContext.Out.WriteLine($"{Cases.Count} cases; model: {string.Join(", ", model.CountBy(o => o).Select(g => $"{g.Value}x {g.Key}"))}");

        var differences = Cases.Select((c, i) => (c, i)).Where(x => model[x.i] != rtl[x.i])
            .Select(x => $"{Name(x.c)}: model {model[x.i]}, RTL {rtl[x.i]}").ToList();
        using (Assert.EnterMultipleScope())
        {
            Assert.That(differences, Is.Empty, "cases whose outcome differs");
            Assert.That(model.Distinct().Count(), Is.GreaterThanOrEqualTo(5), "the matrix reaches every ack and window outcome");
        }
    }

    [Test]
    public async Task PermissionMatrix_OnTheModel_FollowsTheRules(CancellationToken ct)
    {
        List<string> model = await RunAsync(IsmSide.Model, ct);
        Assert.That(Cases.Select((c, i) => (c, i)).Where(x => model[x.i] != Expected(x.c)).Select(x => $"{Name(x.c)}: {model[x.i]}, expected {Expected(x.c)}"), Is.Empty);
    }

    /// <summary>The outcome the virtio-ism rules give: attach needs ATTACH, then READ and WRITE for what it asks; the window honours what was asked.</summary>
    private static string Expected((IsmPermissions Defaults, IsmPermissions? Dedicated, IsmPermissions Request) c)
    {
        IsmPermissions effective = c.Dedicated ?? c.Defaults;
        IsmAck ack = (effective & A) == 0 ? IsmAck.AttachDenied
            : (c.Request & R) != 0 && (effective & R) == 0 ? IsmAck.ReadDenied
            : (c.Request & W) != 0 && (effective & W) == 0 ? IsmAck.WriteDenied
            : IsmAck.Ok;
        return ack != IsmAck.Ok ? ack.ToString() : Outcome(ack, (c.Request & R) != 0 ? "reads the region" : "reads all-ones", (c.Request & W) != 0 ? "write lands" : "write dropped");
    }

    private static async Task<List<string>> RunAsync(IsmSide side, CancellationToken ct)
    {
        await using IsmSetup bench = await IsmSetup.StartAsync(side, 2, ct);
        IsmDevice owner = bench.Devices[0];
        IsmDevice peer = bench.Devices[1];
        var outcomes = new List<string>(Cases.Count);
        byte[] word = new byte[8];
        foreach ((IsmPermissions defaults, IsmPermissions? dedicated, IsmPermissions request) in Cases)
        {
            IsmRegion region = await owner.AllocateAsync(64, ct);
            BitConverter.TryWriteBytes(word, OwnerMarker);
            region.Write(0, word);
            await owner.GrantDefaultAsync(region.Token, defaults, ct);
            if (dedicated is { } own)
            {
                await owner.GrantAsync(region.Token, peer.DevId, own, ct);
            }

            IsmRegion? attached = null;
            try
            {
                attached = await peer.AttachAsync(region.Token, request, ct);
            }
            catch (IsmException e)
            {
                outcomes.Add(e.Ack.ToString());
            }

            if (attached is not null)
            {
                attached.Read(0, word);
                ulong seen = BitConverter.ToUInt64(word);
                BitConverter.TryWriteBytes(word, PeerMarker);
                attached.Write(8, word);
                region.Read(8, word);
                ulong landed = BitConverter.ToUInt64(word);
                outcomes.Add(Outcome(IsmAck.Ok,
                    seen == OwnerMarker ? "reads the region" : seen == ulong.MaxValue ? "reads all-ones" : $"reads 0x{seen:x}",
                    landed == PeerMarker ? "write lands" : landed == 0 ? "write dropped" : $"write makes 0x{landed:x}"));
                await attached.DetachAsync(ct);
            }

            await region.DetachAsync(ct);
        }

        return outcomes;
    }

    private static string Outcome(IsmAck ack, string read, string write) => $"{ack}, {read}, {write}";

    private static string Name((IsmPermissions Defaults, IsmPermissions? Dedicated, IsmPermissions Request) c) =>
        $"default [{c.Defaults}] dedicated [{c.Dedicated?.ToString() ?? "none"}] asking [{c.Request}]";

    private static List<(IsmPermissions, IsmPermissions?, IsmPermissions)> BuildCases()
    {
        IsmPermissions[] sets = [0, R, W, A, R | W, R | A, W | A, R | W | A];
        IsmPermissions?[] dedicated = [null, .. sets.Select(s => (IsmPermissions?)s)];
        IsmPermissions[] requests = [0, R, W, R | W];
        return [.. sets.SelectMany(d => dedicated.SelectMany(o => requests.Select(r => (d, o, r))))];
    }
}

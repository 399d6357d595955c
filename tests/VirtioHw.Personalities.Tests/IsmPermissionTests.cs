using VirtioHw.Drivers.Ism;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Personalities.Tests;

/// <summary>
/// The permission model: every default permission set, with and without dedicated permissions for
/// the attaching device, against every access an attach can ask for. Dedicated permissions replace
/// the defaults; attach needs ATTACH, then READ and WRITE for what it asks.
/// </summary>
[CancelAfter(60_000)]
[NonParallelizable]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class IsmPermissionTests(PlatformKind kind)
{
    private const IsmPermissions R = IsmPermissions.Read;
    private const IsmPermissions W = IsmPermissions.Write;
    private const IsmPermissions A = IsmPermissions.Attach;

    private ModeBench _bench = null!;

    public static IEnumerable<TestCaseData> Matrix()
    {
        IsmPermissions[] sets = [0, R, W, A, R | W, R | A, W | A, R | W | A];
        IsmPermissions?[] dedicated = [null, .. sets.Select(s => (IsmPermissions?)s)];
        IsmPermissions[] requests = [0, R, W, R | W];
        foreach (IsmPermissions defaults in sets)
        {
            foreach (IsmPermissions? own in dedicated)
            {
                foreach (IsmPermissions request in requests)
                {
                    IsmPermissions effective = own ?? defaults;
                    IsmAck expected = (effective & A) == 0 ? IsmAck.AttachDenied
                        : (request & R) != 0 && (effective & R) == 0 ? IsmAck.ReadDenied
                        : (request & W) != 0 && (effective & W) == 0 ? IsmAck.WriteDenied
                        : IsmAck.Ok;
                    yield return new TestCaseData(defaults, own, request, expected)
                        .SetName($"Attach_Default[{defaults}]_Dedicated[{own?.ToString() ?? "none"}]_Asking[{request}]_Acks{expected}");
                }
            }
        }
    }

    [OneTimeSetUp]
    public async Task StartAsync() => _bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 2, CancellationToken.None);

    [OneTimeTearDown]
    public async Task StopAsync() => await _bench.DisposeAsync();

    [TestCaseSource(nameof(Matrix))]
    public async Task Attach_FollowsDedicatedElseDefaultPermissions(IsmPermissions defaults, IsmPermissions? dedicated, IsmPermissions request, IsmAck expected, CancellationToken cancellationToken)
    {
        IsmDevice owner = _bench.Devices[0];
        IsmDevice peer = _bench.Devices[1];
        IsmRegion region = await owner.AllocateAsync(64, cancellationToken);
        await owner.GrantDefaultAsync(region.Token, defaults, cancellationToken);
        if (dedicated is { } own)
        {
            await owner.GrantAsync(region.Token, peer.DevId, own, cancellationToken);
        }

        IsmAck ack = IsmAck.Ok;
        try
        {
            IsmRegion attached = await peer.AttachAsync(region.Token, request, cancellationToken);
            await attached.DetachAsync(cancellationToken);
        }
        catch (IsmException e)
        {
            ack = e.Ack;
        }
        finally
        {
            await region.DetachAsync(cancellationToken);
        }

        Assert.That(ack, Is.EqualTo(expected));
    }
}

/// <summary>The permissions a region starts with and what a grant changes.</summary>
[CancelAfter(30_000)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class IsmGrantTests(PlatformKind kind)
{
    [Test]
    public async Task Grant_NewRegionDefaultIsReadWriteAttach_AndTheAllocatorAlsoHasManage(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 2, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        (_, IsmPermissions allocator) = await bench.Devices[0].QueryAsync(region.Token, cancellationToken);
        (_, IsmPermissions other) = await bench.Devices[1].QueryAsync(region.Token, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(other, Is.EqualTo(IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach));
            Assert.That(allocator, Is.EqualTo(IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach | IsmPermissions.Manage));
        }
    }

    [Test]
    public async Task Grant_DedicatedPermissionsMakeTheDefaultsIllegalForThatDevice(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 3, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);
        await a.GrantDefaultAsync(region.Token, IsmPermissions.Read | IsmPermissions.Attach, cancellationToken);
        await a.GrantAsync(region.Token, bench.Devices[1].DevId, IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach, cancellationToken);

        IsmRegion writer = await bench.Devices[1].AttachAsync(region.Token, IsmPermissions.Read | IsmPermissions.Write, cancellationToken);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(writer.Token, Is.EqualTo(region.Token));
            Assert.That(async () => await bench.Devices[2].AttachAsync(region.Token, IsmPermissions.Write, cancellationToken), Throws.InstanceOf<IsmWriteDeniedException>());
            Assert.That(async () => await bench.Devices[2].AttachAsync(region.Token, IsmPermissions.Read, cancellationToken), Throws.Nothing);
        }
    }

    [Test]
    public async Task Grant_CleanDefaultWithAPerDeviceGrant_LeavesOnlyTheDedicatedDevices(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 3, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);

        await a.GrantAsync(region.Token, bench.Devices[1].DevId, IsmPermissions.Read | IsmPermissions.Attach | IsmPermissions.CleanDefault, cancellationToken);

        (_, IsmPermissions dedicated) = await bench.Devices[1].QueryAsync(region.Token, cancellationToken);
        (_, IsmPermissions others) = await bench.Devices[2].QueryAsync(region.Token, cancellationToken);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(dedicated, Is.EqualTo(IsmPermissions.Read | IsmPermissions.Attach));
            Assert.That(others, Is.EqualTo(IsmPermissions.None));
            Assert.That(async () => await bench.Devices[2].AttachAsync(region.Token, IsmPermissions.Read, cancellationToken), Throws.InstanceOf<IsmAttachDeniedException>());
        }
    }

    [Test]
    public async Task Grant_CleanDefaultWithTheDefaultGrant_AcksErr(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken);
        IsmRegion region = await bench.Devices[0].AllocateAsync(1, cancellationToken);

        Assert.That(async () => await bench.Devices[0].GrantDefaultAsync(region.Token, IsmPermissions.CleanDefault, cancellationToken), Throws.InstanceOf<IsmCommandFailedException>());
    }

    [Test]
    public async Task Grant_DenyingTheAllocatorItself_RemovesItsManagePermission(CancellationToken cancellationToken)
    {
        await using ModeBench bench = await ModeBench.StartAsync(kind, DomainMode.InProcess, 1, cancellationToken);
        IsmDevice a = bench.Devices[0];
        IsmRegion region = await a.AllocateAsync(1, cancellationToken);

        await a.GrantAsync(region.Token, a.DevId, IsmPermissions.Read, cancellationToken);

        Assert.That(async () => await a.GrantDefaultAsync(region.Token, IsmPermissions.None, cancellationToken), Throws.InstanceOf<IsmCommandFailedException>());
    }
}

using VirtioHw.Host.Pci;
using VirtioHw.Host.Platforms;
using VirtioHw.Host.Virtio;

namespace VirtioHw.Conformance.Tests.Conformance;

/// <summary>
/// MSI-X tables: entries come out of reset masked, programming reads back, and a message a masked
/// entry holds shows in the pending-bit array until the entry is unmasked. Messages are caused by
/// a queue round trip, so the devices run the echo firmware.
/// </summary>
[TestFixture(PlatformKind.Fake)]
[TestFixture(PlatformKind.Model)]
[TestFixture(PlatformKind.Cosim)]
public sealed class MsixConformance(PlatformKind kind) : ConformanceFixture(kind)
{
    protected override bool EchoQueues => true;

    [Test]
    public void EveryEntry_IsMaskedOutOfReset_AndNothingIsPending()
    {
        IReadOnlyList<PciFunction> functions = Scan();

        using (Assert.EnterMultipleScope())
        {
            foreach (PciFunction function in functions.Where(f => f.MsixCapability is not null))
            {
                PciMsix msix = function.OpenMsix();
                for (int entry = 0; entry < msix.TableSize; entry++)
                {
                    Assert.That(msix.IsMasked(entry), Is.True, $"{function.Address} entry {entry}");
                    Assert.That(msix.IsPending(entry), Is.False, $"{function.Address} entry {entry}");
                }
            }
        }
    }

    [Test]
    public void ProgrammedEntries_ReadBack()
    {
        IReadOnlyList<PciFunction> functions = Scan();

        using (Assert.EnterMultipleScope())
        {
            foreach (PciFunction function in functions.Where(f => f.MsixCapability is not null))
            {
                PciMsix msix = function.OpenMsix();
                for (int entry = 0; entry < msix.TableSize; entry++)
                {
                    ulong address = 0xfee0_0000UL + ((ulong)entry << 12);
                    msix.Program(entry, address, 0x4000u + (uint)entry);
                    Assert.That(msix.ReadEntry(entry), Is.EqualTo((address, 0x4000u + (uint)entry)), $"{function.Address} entry {entry}");
                }
            }
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task MaskedQueueEntry_HoldsItsMessageInThePba_UntilUnmasked(CancellationToken cancellationToken)
    {
        foreach (ExpectedEndpoint e in VirtioPciEndpoints)
        {
            var transport = (VirtioPciTransport)Open(e);
            await transport.InitializeAsync(0);
            VirtioQueue queue = transport.SetupQueue(0);
            transport.DriverOk();
            PciMsix msix = transport.Msix!;
            msix.Mask(queue.MsixEntry);

            UsedBuffer? early = null;
            ValueTask<UsedBuffer> pending = queue.SubmitAsync([new byte[] { 1, 2, 3 }], [new byte[3]]);
            await WaitUntil(() => msix.IsPending(queue.MsixEntry), cancellationToken);

            Assert.That(queue.Vector!.DeliveredCount, Is.Zero, $"{e}: a masked entry sends nothing");
            if (pending.IsCompleted)
            {
                early = await pending;
            }

            Assert.That(early, Is.Null, $"{e}: nothing completes the submission while the message is held");

            msix.Unmask(queue.MsixEntry);
            long sequence = await queue.Vector.WaitAsync(cancellationToken);
            queue.Virtqueue.ProcessUsed();

            Assert.That(sequence, Is.EqualTo(1), e.ToString());
            Assert.That(msix.IsPending(queue.MsixEntry), Is.False, e.ToString());
            Assert.That((await pending).Length, Is.EqualTo(3), e.ToString());
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task FunctionMask_HoldsTheMessage_AndClearingItSendsIt(CancellationToken cancellationToken)
    {
        foreach (ExpectedEndpoint e in VirtioPciEndpoints)
        {
            var transport = (VirtioPciTransport)Open(e);
            await transport.InitializeAsync(0);
            VirtioQueue queue = transport.SetupQueue(0);
            transport.DriverOk();
            PciMsix msix = transport.Msix!;
            msix.FunctionMasked = true;

            ValueTask<UsedBuffer> pending = queue.SubmitAsync([new byte[] { 9 }], [new byte[1]]);
            await WaitUntil(() => msix.IsPending(queue.MsixEntry), cancellationToken);

            Assert.That(msix.IsMasked(queue.MsixEntry), Is.False, $"{e}: the entry itself is unmasked");
            Assert.That(queue.Vector!.DeliveredCount, Is.Zero, e.ToString());

            msix.FunctionMasked = false;
            await queue.Vector.WaitAsync(cancellationToken);
            queue.Virtqueue.ProcessUsed();

            Assert.That(msix.IsPending(queue.MsixEntry), Is.False, e.ToString());
            Assert.That((await pending).Length, Is.EqualTo(1), e.ToString());
        }
    }

    // The device answers on its own thread; the wait for what it does is bounded by the test's
    // cancellation, not timed here.
    internal static async Task WaitUntil(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(1, cancellationToken);
        }
    }
}

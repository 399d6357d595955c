using VirtioHw.Host.Virtio;

namespace VirtioHw.Host.Tests;

/// <summary>
/// The driver side of the split virtqueue against the reference device, with and without
/// VIRTIO_F_EVENT_IDX.
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
public class SplitVirtqueueTests(bool eventIndex)
{
    private SplitVirtqueueOptions Options(int size, bool indirect = false, int threshold = 4, int staging = 64 * 1024) =>
        new(size)
        {
            EventIndex = eventIndex,
            IndirectDescriptors = indirect,
            IndirectThreshold = threshold,
            StagingBytes = staging,
        };

    [Test]
    public async Task Submit_OneOutOneIn_DeviceReadsRequestAndReplyIsCopiedBack()
    {
        await using var rig = new QueueRig(Options(8));
        byte[] request = [1, 2, 3, 4, 5];
        byte[] reply = new byte[16];

        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([request], [reply]);
        List<DeviceChain> chains = rig.Device.TakeAvailable();
        byte[] seen = rig.Device.ReadOut(chains[0]);
        rig.Device.Complete(chains[0], (uint)rig.Device.WriteIn(chains[0], QueueRig.Invert(seen)));
        rig.Queue.ProcessUsed();
        UsedBuffer used = await pending;

        Assert.Multiple(() =>
        {
            Assert.That(chains, Has.Count.EqualTo(1));
            Assert.That(chains[0].Segments.Select(s => (s.Length, s.Writable)), Is.EqualTo(new[] { (5u, false), (16u, true) }));
            Assert.That(seen, Is.EqualTo(request));
            Assert.That(used.Length, Is.EqualTo(5));
            Assert.That(reply[..5], Is.EqualTo(QueueRig.Invert(request)));
            Assert.That(reply[5..], Is.All.Zero, "bytes past the used length are left alone");
            Assert.That(rig.Queue.FreeDescriptors, Is.EqualTo(8));
        });
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task InlineCompletions_RunTheCallerOnTheProcessingThread(bool inline)
    {
        await using var rig = new QueueRig(Options(8));
        rig.Queue.InlineCompletions = inline;
        byte[] reply = new byte[4];
        int processingThread = 0, callerThread = 0;
        Task caller = Continue(rig.Queue.SubmitAsync([], [reply]));
        rig.Device.Complete(rig.Device.TakeAvailable().Single(), 4);
        var processor = new Thread(() =>
        {
            processingThread = Environment.CurrentManagedThreadId;
            rig.Queue.ProcessUsed();
        });
        processor.Start();
        processor.Join();
        await caller;
        Assert.That(callerThread == processingThread, Is.EqualTo(inline), inline ? "the caller went on on the processing thread" : "the caller went on on the thread pool");

        async Task Continue(ValueTask<UsedBuffer> pending)
        {
            await pending.ConfigureAwait(false);
            callerThread = Environment.CurrentManagedThreadId;
        }
    }

    [Test]
    public async Task Submit_SeveralOutAndInBuffers_FormOneChainReadableFirst()
    {
        await using var rig = new QueueRig(Options(8));
        byte[] header = [0xa0, 0xa1];
        byte[] body = [0xb0, 0xb1, 0xb2];
        byte[] trailer = [0xc0];
        byte[] status = new byte[2];
        byte[] data = new byte[4];

        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([header, body, trailer], [status, data]);
        DeviceChain chain = rig.Device.TakeAvailable().Single();
        byte[] seen = rig.Device.ReadOut(chain);
        rig.Device.Complete(chain, (uint)rig.Device.WriteIn(chain, [1, 2, 3, 4, 5]));
        rig.Queue.ProcessUsed();
        UsedBuffer used = await pending;

        Assert.Multiple(() =>
        {
            Assert.That(chain.Indirect, Is.False);
            Assert.That(chain.Segments.Select(s => s.Writable), Is.EqualTo(new[] { false, false, false, true, true }));
            Assert.That(seen, Is.EqualTo(new byte[] { 0xa0, 0xa1, 0xb0, 0xb1, 0xb2, 0xc0 }));
            Assert.That(used.Length, Is.EqualTo(5));
            Assert.That(status, Is.EqualTo(new byte[] { 1, 2 }));
            Assert.That(data, Is.EqualTo(new byte[] { 3, 4, 5, 0 }));
        });
    }

    [Test]
    public async Task Submit_OnlyOutBuffers_CompletesWithLengthZero()
    {
        await using var rig = new QueueRig(Options(4));

        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([new byte[] { 9 }], []);
        DeviceChain chain = rig.Device.TakeAvailable().Single();
        rig.Device.Complete(chain, 0);
        rig.Queue.ProcessUsed();

        Assert.That((await pending).Length, Is.Zero);
    }

    [Test]
    public async Task Submit_ChainLongerThanThreshold_UsesIndirectTable()
    {
        await using var rig = new QueueRig(Options(8, indirect: true, threshold: 2));
        byte[] reply = new byte[3];

        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([new byte[] { 1 }, new byte[] { 2 }], [reply]);
        int freeWhileOutstanding = rig.Queue.FreeDescriptors;
        DeviceChain chain = rig.Device.TakeAvailable().Single();
        byte[] seen = rig.Device.ReadOut(chain);
        rig.Device.Complete(chain, (uint)rig.Device.WriteIn(chain, [7, 8, 9]));
        rig.Queue.ProcessUsed();
        UsedBuffer used = await pending;

        Assert.Multiple(() =>
        {
            Assert.That(chain.Indirect, Is.True);
            Assert.That(chain.Segments, Has.Count.EqualTo(3));
            Assert.That(freeWhileOutstanding, Is.EqualTo(7), "an indirect chain holds one ring descriptor");
            Assert.That(seen, Is.EqualTo(new byte[] { 1, 2 }));
            Assert.That((used.Length, reply), Is.EqualTo((3, new byte[] { 7, 8, 9 })));
        });
    }

    [Test]
    public async Task Submit_ChainAtOrBelowThreshold_UsesRingDescriptors()
    {
        await using var rig = new QueueRig(Options(8, indirect: true, threshold: 3));

        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([new byte[] { 1 }, new byte[] { 2 }], [new byte[1]]);
        DeviceChain chain = rig.Device.TakeAvailable().Single();
        rig.Device.Complete(chain, 0);
        rig.Queue.ProcessUsed();
        await pending;

        Assert.That((chain.Indirect, chain.Segments.Count), Is.EqualTo((false, 3)));
    }

    [Test]
    public async Task Submit_ChainLongerThanFreeDescriptors_UsesIndirectTable()
    {
        await using var rig = new QueueRig(Options(4, indirect: true, threshold: 16));
        ValueTask<UsedBuffer> first = rig.Queue.SubmitAsync([new byte[] { 1 }], []);

        // Three descriptors are free; a chain of four fits only as an indirect table.
        ValueTask<UsedBuffer> second = rig.Queue.SubmitAsync([new byte[] { 2 }, new byte[] { 3 }], [new byte[1], new byte[1]]);
        List<DeviceChain> chains = rig.Device.TakeAvailable();
        foreach (DeviceChain chain in chains)
        {
            rig.Device.Complete(chain, (uint)chain.WritableBytes);
        }

        rig.Queue.ProcessUsed();
        await first;
        await second;

        Assert.Multiple(() =>
        {
            Assert.That(chains.Select(c => c.Indirect), Is.EqualTo(new[] { false, true }));
            Assert.That(chains[1].Segments, Has.Count.EqualTo(4));
            Assert.That(rig.Queue.FreeDescriptors, Is.EqualTo(4));
        });
    }

    [Test]
    public async Task Submit_IndirectNotNegotiated_LongChainWaitsForRingDescriptors()
    {
        await using var rig = new QueueRig(Options(4));
        ValueTask<UsedBuffer> first = rig.Queue.SubmitAsync([new byte[] { 1 }], []);
        ValueTask<UsedBuffer> second = rig.Queue.SubmitAsync([new byte[] { 2 }, new byte[] { 3 }, new byte[] { 4 }, new byte[] { 5 }], []);
        List<DeviceChain> before = rig.Device.TakeAvailable();
        bool secondWaited = !second.IsCompleted && rig.Queue.Waiting == 1;

        rig.Device.Complete(before[0], 0);
        rig.Queue.ProcessUsed();
        await first;
        List<DeviceChain> after = rig.Device.TakeAvailable();
        rig.Device.Complete(after[0], 0);
        rig.Queue.ProcessUsed();
        await second;

        Assert.Multiple(() =>
        {
            Assert.That(secondWaited, Is.True);
            Assert.That(before, Has.Count.EqualTo(1));
            Assert.That((after.Single().Indirect, after.Single().Segments.Count), Is.EqualTo((false, 4)));
        });
    }

    [Test]
    public async Task Complete_OutOfOrder_EachSubmissionGetsItsOwnReply()
    {
        await using var rig = new QueueRig(Options(8));
        byte[][] replies = [new byte[1], new byte[1], new byte[1]];
        ValueTask<UsedBuffer>[] pending = [.. Enumerable.Range(0, 3).Select(i => rig.Queue.SubmitAsync([new[] { (byte)(10 + i) }], [replies[i]]))];
        List<DeviceChain> chains = rig.Device.TakeAvailable();

        CompleteWithEcho(rig, chains[2]);
        rig.Queue.ProcessUsed();
        bool[] afterThird = [.. pending.Select(p => p.IsCompleted)];
        CompleteWithEcho(rig, chains[0]);
        CompleteWithEcho(rig, chains[1]);
        rig.Queue.ProcessUsed();
        foreach (ValueTask<UsedBuffer> p in pending)
        {
            await p;
        }

        Assert.Multiple(() =>
        {
            Assert.That(afterThird, Is.EqualTo(new[] { false, false, true }));
            Assert.That(replies.Select(r => r[0]), Is.EqualTo(new byte[] { 10, 11, 12 }));
        });

        static void CompleteWithEcho(QueueRig rig, DeviceChain chain) =>
            rig.Device.Complete(chain, (uint)rig.Device.WriteIn(chain, rig.Device.ReadOut(chain)));
    }

    [Test]
    public async Task Submit_QueueFull_WaitsAndIsStagedWhenADescriptorFrees()
    {
        await using var rig = new QueueRig(Options(8));
        ValueTask<UsedBuffer>[] pending = [.. Enumerable.Range(0, 10).Select(i => rig.Queue.SubmitAsync([new[] { (byte)i }], []))];
        List<DeviceChain> firstRound = rig.Device.TakeAvailable();
        (int inFlight, int waiting) whileFull = (rig.Queue.InFlight, rig.Queue.Waiting);

        rig.Device.Complete(firstRound[0], 0);
        rig.Queue.ProcessUsed();
        List<DeviceChain> secondRound = rig.Device.TakeAvailable();

        Assert.Multiple(() =>
        {
            Assert.That(firstRound, Has.Count.EqualTo(8));
            Assert.That(whileFull, Is.EqualTo((8, 2)));
            Assert.That(pending[8].IsCompleted || pending[9].IsCompleted, Is.False, "waiting submissions neither fail nor complete");
            Assert.That(secondRound.Select(c => rig.Device.ReadOut(c)[0]), Is.EqualTo(new byte[] { 8 }).AsCollection, "waiters go in order");
        });

        foreach (DeviceChain chain in firstRound.Skip(1).Concat(secondRound))
        {
            rig.Device.Complete(chain, 0);
        }

        rig.Queue.ProcessUsed();
        rig.Device.Complete(rig.Device.TakeAvailable().Single(), 0);
        rig.Queue.ProcessUsed();
        foreach (ValueTask<UsedBuffer> p in pending)
        {
            await p;
        }

        Assert.That((rig.Queue.InFlight, rig.Queue.Waiting, rig.Queue.FreeDescriptors), Is.EqualTo((0, 0, 8)));
    }

    [Test]
    public async Task Submit_StagingMemoryFull_WaitsUntilEarlierBuffersReturn()
    {
        await using var rig = new QueueRig(Options(8, staging: 256));
        byte[] block = new byte[100];
        ValueTask<UsedBuffer>[] pending = [.. Enumerable.Range(0, 3).Select(_ => rig.Queue.SubmitAsync([block], []))];
        List<DeviceChain> firstRound = rig.Device.TakeAvailable();
        bool thirdWaits = !pending[2].IsCompleted && rig.Queue.Waiting == 1;

        rig.Device.Complete(firstRound[0], 0);
        rig.Queue.ProcessUsed();
        int secondRound = rig.Device.TakeAvailable().Count;

        Assert.That((firstRound.Count, thirdWaits, secondRound), Is.EqualTo((2, true, 1)));
    }

    [Test]
    public async Task Submit_CancelledWhileWaiting_ThrowsAndLeavesTheQueueUsable()
    {
        await using var rig = new QueueRig(Options(1));
        using var cancellation = new CancellationTokenSource();
        ValueTask<UsedBuffer> first = rig.Queue.SubmitAsync([new byte[] { 1 }], []);
        ValueTask<UsedBuffer> second = rig.Queue.SubmitAsync([new byte[] { 2 }], [], cancellation.Token);
        ValueTask<UsedBuffer> third = rig.Queue.SubmitAsync([new byte[] { 3 }], []);

        cancellation.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await second);
        rig.Device.Complete(rig.Device.TakeAvailable().Single(), 0);
        rig.Queue.ProcessUsed();
        await first;
        DeviceChain next = rig.Device.TakeAvailable().Single();
        rig.Device.Complete(next, 0);
        rig.Queue.ProcessUsed();
        await third;

        Assert.That(rig.Device.ReadOut(next), Is.EqualTo(new byte[] { 3 }), "the cancelled submission never reached the device");
    }

    [Test]
    public async Task Submit_CancelledAfterDeviceTookIt_NeverWritesIntoTheCallersBuffer()
    {
        await using var rig = new QueueRig(Options(4));
        using var cancellation = new CancellationTokenSource();
        byte[] reply = [0xee, 0xee];
        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([new byte[] { 1 }], [reply], cancellation.Token);
        DeviceChain chain = rig.Device.TakeAvailable().Single();

        cancellation.Cancel();
        Assert.CatchAsync<OperationCanceledException>(async () => await pending);
        int freeBeforeReturn = rig.Queue.FreeDescriptors;
        rig.Device.Complete(chain, (uint)rig.Device.WriteIn(chain, [1, 2]));
        int processed = rig.Queue.ProcessUsed();

        Assert.Multiple(() =>
        {
            Assert.That(reply, Is.EqualTo(new byte[] { 0xee, 0xee }));
            Assert.That(freeBeforeReturn, Is.EqualTo(2), "the device still held the chain");
            Assert.That((processed, rig.Queue.FreeDescriptors, rig.Queue.InFlight), Is.EqualTo((1, 4, 0)));
        });
    }

    [Test]
    public async Task Submit_TokenAlreadyCancelled_CompletesCancelledWithoutReachingTheDevice()
    {
        await using var rig = new QueueRig(Options(4));

        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([new byte[] { 1 }], [], new CancellationToken(canceled: true));

        Assert.Multiple(() =>
        {
            Assert.That(pending.IsCanceled, Is.True);
            Assert.That(rig.Device.TakeAvailable(), Is.Empty);
        });
    }

    [Test]
    public async Task Reset_FailsInFlightAndWaitingSubmissions_WithVirtqueueResetException()
    {
        await using var rig = new QueueRig(Options(2));
        ValueTask<UsedBuffer>[] pending = [.. Enumerable.Range(0, 3).Select(i => rig.Queue.SubmitAsync([new[] { (byte)i }], [new byte[1]]))];

        rig.Queue.Reset();

        foreach (ValueTask<UsedBuffer> p in pending)
        {
            var error = Assert.ThrowsAsync<VirtqueueResetException>(async () => await p);
            Assert.That(error!.Message, Does.Contain("reset"));
        }

        Assert.That((rig.Queue.InFlight, rig.Queue.Waiting, rig.Queue.FreeDescriptors, rig.Queue.AvailableIndex), Is.EqualTo((0, 0, 2, (ushort)0)));
    }

    [Test]
    public async Task Reset_ThenNewDeviceOnTheSameRings_QueueWorksAgain()
    {
        await using var rig = new QueueRig(Options(4));
        ValueTask<UsedBuffer> lost = rig.Queue.SubmitAsync([new byte[] { 1 }], [new byte[1]]);
        rig.Device.TakeAvailable();
        rig.Queue.Reset();
        Assert.ThrowsAsync<VirtqueueResetException>(async () => await lost);

        ReferenceSplitRingDevice device = rig.NewDevice();
        byte[] reply = new byte[1];
        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([new byte[] { 0x0f }], [reply]);
        int served = device.Serve(QueueRig.Invert);
        rig.Queue.ProcessUsed();
        await pending;

        Assert.That((served, reply[0]), Is.EqualTo((1, (byte)0xf0)));
    }

    [Test]
    public async Task Dispose_FailsOutstandingSubmissions_AndRefusesNewOnes()
    {
        var rig = new QueueRig(Options(4));
        ValueTask<UsedBuffer> pending = rig.Queue.SubmitAsync([new byte[] { 1 }], []);

        rig.Queue.Dispose();

        Assert.Multiple(() =>
        {
            Assert.ThrowsAsync<ObjectDisposedException>(async () => await pending);
            Assert.Throws<ObjectDisposedException>(() => rig.Queue.SubmitAsync([new byte[] { 1 }], []));
            Assert.Throws<ObjectDisposedException>(() => rig.Queue.ProcessUsed());
        });
        await rig.DisposeAsync();
    }

    [TestCase(8)]
    [TestCase(256)]
    public async Task WrapAround_100000SubmissionsThroughSmallQueue_AllRepliesCorrect(int size)
    {
        const int Total = 100_000;
        await using var rig = new QueueRig(Options(size));
        var pending = new ValueTask<UsedBuffer>[size];
        var replies = new byte[size][];
        int mismatches = 0;

        for (int done = 0; done < Total;)
        {
            int batch = Math.Min(size, Total - done);
            for (int i = 0; i < batch; i++)
            {
                // Chains of one to three buffers, so the free list is reshuffled as it goes.
                byte[] number = BitConverter.GetBytes(done + i);
                replies[i] = new byte[4];
                pending[i] = (i % 3) switch
                {
                    0 => rig.Queue.SubmitAsync([number], [replies[i]]),
                    1 => rig.Queue.SubmitAsync([number[..2], number[2..]], [replies[i]]),
                    _ => rig.Queue.SubmitAsync([number], [replies[i].AsMemory(0, 1), replies[i].AsMemory(1)]),
                };
            }

            // Longer chains do not all fit at once: the rest wait and go in as earlier ones return.
            while (rig.Queue.InFlight + rig.Queue.Waiting > 0)
            {
                rig.Device.Serve(QueueRig.Invert);
                rig.Queue.ProcessUsed();
            }

            for (int i = 0; i < batch; i++)
            {
                await pending[i];
                if (BitConverter.ToInt32(replies[i]) != ~(done + i))
                {
                    mismatches++;
                }
            }

            done += batch;
        }

        Assert.Multiple(() =>
        {
            Assert.That(mismatches, Is.Zero);
            Assert.That(rig.Queue.AvailableIndex, Is.EqualTo(unchecked((ushort)Total)));
            Assert.That(rig.Device.UsedIndex, Is.EqualTo(unchecked((ushort)Total)));
            Assert.That(rig.Queue.FreeDescriptors, Is.EqualTo(size));
        });
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ConcurrentDeviceThread_WithInterruptLoop_CompletesEverySubmission(CancellationToken cancellationToken)
    {
        const int Submitters = 4;
        const int PerSubmitter = 5_000;
        await using var rig = new QueueRig(Options(16, indirect: true, threshold: 2));
        using var vector = rig.Platform.AllocateMsiVector();
        using var kick = new SemaphoreSlim(0);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        rig.Notifier.OnNotify = () => kick.Release();
        rig.Device.OnInterrupt = () => rig.Platform.Write32(vector.Address, vector.Data);

        Task device = Task.Run(() =>
        {
            try
            {
                while (true)
                {
                    // Sleep only once the driver has been asked for a notification and nothing came in meanwhile.
                    if (rig.Device.Serve(QueueRig.Invert) == 0 && !rig.Device.ArmNotificationAndCheck())
                    {
                        kick.Wait(stop.Token);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);
        Task interrupts = Task.Run(async () =>
        {
            await foreach (long _ in vector.ReadAllAsync(cancellationToken))
            {
                rig.Queue.ProcessUsed();
            }
        }, CancellationToken.None);

        int[] mismatches = await Task.WhenAll(Enumerable.Range(0, Submitters).Select(s => Task.Run(async () =>
        {
            int wrong = 0;
            byte[] reply = new byte[4];
            for (int i = 0; i < PerSubmitter; i++)
            {
                int value = (s * PerSubmitter) + i;
                byte[] number = BitConverter.GetBytes(value);
                UsedBuffer used = await (i % 2 == 0
                    ? rig.Queue.SubmitAsync([number], [reply], cancellationToken)
                    : rig.Queue.SubmitAsync([number[..1], number[1..]], [reply.AsMemory(0, 3), reply.AsMemory(3)], cancellationToken));
                if (used.Length != 4 || BitConverter.ToInt32(reply) != ~value)
                {
                    wrong++;
                }
            }

            return wrong;
        }, cancellationToken)));

        await stop.CancelAsync();
        await device;
        vector.Dispose();
        await interrupts;

        Assert.Multiple(() =>
        {
            Assert.That(mismatches.Sum(), Is.Zero);
            Assert.That(rig.Device.UsedIndex, Is.EqualTo((ushort)(Submitters * PerSubmitter)));
            Assert.That(rig.Queue.InFlight, Is.Zero);
        });
    }

    [Test]
    public async Task Queue_RingAddressesMeetTheSpecificationsAlignmentAndDoNotOverlap()
    {
        await using var platform = new FakePlatform();
        using var queue = new SplitVirtqueue(platform, Options(256), new RecordingNotifier());

        Assert.Multiple(() =>
        {
            Assert.That(queue.DescriptorTableAddress % 16, Is.Zero);
            Assert.That(queue.DriverAreaAddress % 2, Is.Zero);
            Assert.That(queue.DeviceAreaAddress % 4, Is.Zero);
            Assert.That(queue.DriverAreaAddress, Is.GreaterThanOrEqualTo(queue.DescriptorTableAddress + (16 * 256)));
            Assert.That(queue.DeviceAreaAddress, Is.GreaterThanOrEqualTo(queue.DriverAreaAddress + 6 + (2 * 256)));
        });
    }
}

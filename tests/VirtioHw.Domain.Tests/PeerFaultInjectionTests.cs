using System.Globalization;
using VirtioHw.Drivers.Ism;
using VirtioHw.Personalities.Model;
using VirtioHw.Wire;

namespace VirtioHw.Domain.Tests;

/// <summary>
/// A peer process (<c>virtiohw domain peer</c>) driven step by step through join, alloc, fill,
/// grant, attach, kick and the two detaches, and killed with SIGKILL after one of the steps or
/// inside it (the server has carried the step out, the reply has not reached the peer; a kick
/// rings the other referrers' doorbells without the server, so it has no inside there). Two
/// survivor devices in this process share a region with it and own one of their own. After the
/// kill: the survivors get exactly the DETACH events the model expects, with the right peers;
/// every chunk nobody refers to is back in the pool and cleared; the survivors' regions, tokens,
/// permissions and bytes are unchanged; the server admits a new peer. One test case per fault.
/// </summary>
[CancelAfter(180_000)]
[NonParallelizable]
public sealed class PeerFaultInjectionTests
{
    private const ulong SharedSize = 200_000;
    private const ulong SurvivorSize = 100_000;
    private const ulong VictimSize = 0x30000;
    private const byte SharedFill = 0x5a;
    private const byte SurvivorFill = 0x3c;
    private const byte VictimFill = 0xa5;
    private const IsmPermissions Granted = IsmPermissions.Read | IsmPermissions.Write | IsmPermissions.Attach;
    private const IsmPermissions Owner = Granted | IsmPermissions.Manage;

    private static int s_faults;

    /// <summary>Where the SIGKILL lands: after the step's reply, or inside the step (after the server carried it out, before the reply).</summary>
    public enum Kill
    {
        After,
        Inside,
    }

    /// <summary>The victim's steps in order; a server-side step (not fill, not kick) has a kill point inside it too.</summary>
    public enum Step
    {
        Join,
        Alloc,
        Fill,
        Grant,
        Attach,
        Kick,
        DetachShared,
        DetachOwn,
    }

    public static IEnumerable<TestCaseData> Faults()
    {
        foreach (Step step in Enum.GetValues<Step>())
        {
            yield return new TestCaseData(step, Kill.After).SetName($"PeerKilled_After{step}");
            if (step is not (Step.Fill or Step.Kick))
            {
                yield return new TestCaseData(step, Kill.Inside).SetName($"PeerKilled_Inside{step}");
            }
        }
    }

    [OneTimeTearDown]
    public void Summary() =>
        TestContext.Progress.WriteLine($"domain fault injection: {s_faults} peer processes killed with SIGKILL ({Faults().Count()} kill points)");

    [TestCaseSource(nameof(Faults))]
    public async Task PeerKilled_SurvivorsSeeDetach_ChunksReturnCleared_NothingElseChanges(Step killStep, Kill when, CancellationToken cancellationToken)
    {
        var fault = new FaultPoint();
        using var domain = new TestDomain(fault.OnStepTaken);
        await using IsmBench bench = await IsmBench.StartAsync(IsmModelDomain.Join(domain.SocketPath, devices: 2), cancellationToken);
        IsmDevice s1 = bench.Devices[0];
        IsmDevice s2 = bench.Devices[1];

        // The survivors: a region both refer to (s2 with dedicated permissions) and one s2 alone owns.
        IsmRegion shared1 = await s1.AllocateAsync(SharedSize, cancellationToken);
        await s1.GrantAsync(shared1.Token, s2.DevId, Granted, cancellationToken);
        IsmRegion shared2 = await s2.AttachAsync(shared1.Token, cancellationToken: cancellationToken);
        IsmRegion own2 = await s2.AllocateAsync(SurvivorSize, cancellationToken);
        Fill(shared1, SharedFill);
        Fill(own2, SurvivorFill);
        var survivors = new Survivors(s1, s2, shared1, shared2);
        (IsmEvent[] S1, IsmEvent[] S2) setup = await survivors.EventsAsync(cancellationToken);
        Assert.That(setup.S1, Is.EqualTo(new[] { new IsmEvent(IsmEventType.Attach, shared1.Offset, s2.DevId, 1) }));
        Assert.That(setup.S2, Is.Empty);

        var model = new Model();
        fault.Arm(killStep == Step.Join && when == Kill.Inside, DomainWire.Request, DomainOperation.Join);
        using var victim = PeerProcess.StartInteractive("domain", "peer", "-o", "domain=" + domain.SocketPath);
        fault.Victim = victim;
        IsmRegion? own1 = null;
        var stepEvents = new List<(IsmDevice To, IsmEvent Event)>();
        foreach (Step step in Enum.GetValues<Step>())
        {
            bool inside = step == killStep && when == Kill.Inside;
            stepEvents.Clear();
            string? command = null;
            switch (step)
            {
                case Step.Join:
                    // Armed before the victim started.
                    break;
                case Step.Alloc:
                    fault.Arm(inside, DomainWire.Request, DomainOperation.Allocate);
                    command = $"alloc 0x{VictimSize:x}";
                    break;
                case Step.Fill:
                    command = $"fill 0x{model.VictimToken:x} 0x{VictimFill:x}";
                    break;
                case Step.Grant:
                    fault.Arm(inside, DomainWire.Request, DomainOperation.Grant);
                    command = $"grant 0x{model.VictimToken:x} 0x{(ulong)Granted:x} {s1.DevId}";
                    break;
                case Step.Attach:
                    // First the survivor s1 takes a reference to the victim's region, so that it outlives the victim.
                    own1 = await s1.AttachAsync(model.VictimToken, cancellationToken: cancellationToken);
                    model.SurvivorRefersToVictims = true;
                    fault.Arm(inside, DomainWire.Request, DomainOperation.Attach);
                    command = $"attach 0x{shared1.Token:x} rw";
                    stepEvents.Add((s1, new IsmEvent(IsmEventType.Attach, shared1.Offset, model.VictimDevId, 2)));
                    stepEvents.Add((s2, new IsmEvent(IsmEventType.Attach, shared2.Offset, model.VictimDevId, 2)));
                    break;
                case Step.Kick:
                    command = $"kick 0x{shared1.Token:x}";
                    stepEvents.Add((s1, new IsmEvent(IsmEventType.Update, shared1.Offset, model.VictimDevId, 0)));
                    stepEvents.Add((s2, new IsmEvent(IsmEventType.Update, shared2.Offset, model.VictimDevId, 0)));
                    break;
                case Step.DetachShared:
                    fault.Arm(inside, DomainWire.Request, DomainOperation.Detach);
                    command = $"detach 0x{shared1.Token:x}";
                    stepEvents.Add((s1, new IsmEvent(IsmEventType.Detach, shared1.Offset, model.VictimDevId, 1)));
                    stepEvents.Add((s2, new IsmEvent(IsmEventType.Detach, shared2.Offset, model.VictimDevId, 1)));
                    break;
                case Step.DetachOwn:
                    fault.Arm(inside, DomainWire.Request, DomainOperation.Detach);
                    command = $"detach 0x{model.VictimToken:x}";
                    stepEvents.Add((s1, new IsmEvent(IsmEventType.Detach, own1!.Offset, model.VictimDevId, 0)));
                    break;
            }

            if (inside)
            {
                // The server carries the step out, then the hook kills the victim before the reply is queued.
                if (command is not null)
                {
                    victim.Tell(command);
                }

                await fault.Killed.WaitAsync(cancellationToken);
                model.Apply(step, token: null);
                break;
            }

            string answer = command is null
                ? await victim.WaitForLineAsync("ready devid", cancellationToken)
                : await victim.AskAsync(command, cancellationToken);
            Assert.That(answer, Does.StartWith(command is null ? "ready" : "ok"), $"{step}: {victim.Transcript}");
            if (step == Step.Kick)
            {
                // A kick is a posted write: the device's next command goes after it, so its answer means the doorbells have rung.
                Assert.That(await victim.AskAsync($"query 0x{shared1.Token:x}", cancellationToken), Does.StartWith("ok"), victim.Transcript);
            }

            model.Apply(step, answer);
            (IsmEvent[] S1, IsmEvent[] S2) ofStep = await survivors.EventsAsync(cancellationToken);
            Assert.That(ofStep.S1, Is.EqualTo(Of(stepEvents, s1)), $"s1's events of {step}");
            Assert.That(ofStep.S2, Is.EqualTo(Of(stepEvents, s2)), $"s2's events of {step}");
            if (step == killStep)
            {
                victim.KillAndWait();
                Interlocked.Increment(ref s_faults);
                stepEvents.Clear();
                break;
            }
        }

        // The kill: the server notices the dead connection and the victim's device leaves the domain.
        await domain.WaitForPeersAsync(1, cancellationToken);
        var afterKill = new List<(IsmDevice To, IsmEvent Event)>(stepEvents);
        if (model.VictimRefersToShared)
        {
            afterKill.Add((s1, new IsmEvent(IsmEventType.Detach, shared1.Offset, model.VictimDevId, 1)));
            afterKill.Add((s2, new IsmEvent(IsmEventType.Detach, shared2.Offset, model.VictimDevId, 1)));
        }

        if (model.VictimRefersToOwn && model.SurvivorRefersToVictims)
        {
            afterKill.Add((s1, new IsmEvent(IsmEventType.Detach, own1!.Offset, model.VictimDevId, 0)));
        }

        (IsmEvent[] S1, IsmEvent[] S2) seen = await survivors.EventsAsync(cancellationToken);
        bool victimsLive = model.SurvivorRefersToVictims && own1 is not null;
        (int Shared, int Survivor, int Victim, int Other) bytes = CountBytes(bench.Domain.Server!.Memory.Span);
        int chunkCount = domain.Server.Domain.ChunkCount;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(seen.S1, Is.EquivalentTo(Of(afterKill, s1)), "s1's events after the kill");
            Assert.That(seen.S2, Is.EquivalentTo(Of(afterKill, s2)), "s2's events after the kill");
            Assert.That(domain.Server.Domain.MemberCount, Is.EqualTo(2), "only the survivors are members");
            Assert.That(domain.Server.Domain.RegionCount, Is.EqualTo(victimsLive ? 3 : 2));
            Assert.That(domain.Server.Domain.FreeChunks, Is.EqualTo(chunkCount - 3 - (victimsLive ? 2 : 0)), "chunks nobody refers to are back in the pool");

            // Freed chunks are cleared: the only bytes left in the whole domain memory are the live regions'.
            Assert.That(bytes.Shared, Is.EqualTo((int)SharedSize));
            Assert.That(bytes.Survivor, Is.EqualTo((int)SurvivorSize));
            Assert.That(bytes.Victim, Is.EqualTo(victimsLive ? (int)VictimSize : 0), "the victim's bytes live on only in a region a survivor refers to");
            Assert.That(bytes.Other, Is.Zero, "no other non-zero byte in the domain memory");

            // The survivors' regions read the same through their own windows, with the same tokens and permissions.
            Assert.That(Reads(shared1, SharedSize), Is.All.EqualTo(SharedFill));
            Assert.That(Reads(shared2, SharedSize), Is.All.EqualTo(SharedFill));
            Assert.That(Reads(own2, SurvivorSize), Is.All.EqualTo(SurvivorFill));
            Assert.That(await s1.QueryAsync(shared1.Token, cancellationToken), Is.EqualTo((SharedSize, Owner)));
            Assert.That(await s2.QueryAsync(shared1.Token, cancellationToken), Is.EqualTo((SharedSize, Granted)));
            Assert.That(await s2.QueryAsync(own2.Token, cancellationToken), Is.EqualTo((SurvivorSize, Owner)));
            if (victimsLive)
            {
                Assert.That(Reads(own1!, VictimSize), Is.All.EqualTo(VictimFill), "the victim's region, kept by s1");
                Assert.That(await s1.QueryAsync(own1!.Token, cancellationToken), Is.EqualTo((VictimSize, Granted)), "what the victim granted s1");
            }
            else if (model.VictimToken != 0)
            {
                Assert.That(async () => await s1.QueryAsync(model.VictimToken, cancellationToken), Throws.InstanceOf<IsmNoEntryException>(), "the victim's region is gone");
            }
        }

        // The server keeps serving: a new peer joins, allocates and frees.
        using (var newcomer = RemoteIsmDomain.Connect(domain.SocketPath))
        {
            ulong devid = newcomer.Join(new IgnoredEvents());
            Firmware.Ism.IsmMapResult result = newcomer.Allocate(devid, 4096, new Firmware.Ism.IsmChunkLimits(16, 16));
            Assert.That(result.Ack, Is.EqualTo(IsmAck.Ok));
            Assert.That(newcomer.Detach(devid, result.Token), Is.EqualTo(IsmAck.Ok));
        }

        TestContext.Out.WriteLine($"fault: SIGKILL {when.ToString().ToLowerInvariant()} {killStep}; events, pool, cleared memory, survivors' regions, tokens, permissions and bytes checked; a new peer served");
    }

    /// <summary>How many bytes of the domain memory hold each fill pattern, and how many are neither a pattern nor zero.</summary>
    private static (int Shared, int Survivor, int Victim, int Other) CountBytes(ReadOnlySpan<byte> memory)
    {
        int shared = memory.Count(SharedFill);
        int survivor = memory.Count(SurvivorFill);
        int victim = memory.Count(VictimFill);
        return (shared, survivor, victim, memory.Length - memory.Count((byte)0) - shared - survivor - victim);
    }

    private static IsmEvent[] Of(List<(IsmDevice To, IsmEvent Event)> events, IsmDevice device) =>
        [.. events.Where(e => e.To == device).Select(e => e.Event)];

    private static void Fill(IsmRegion region, byte value)
    {
        var bytes = new byte[region.Size];
        Array.Fill(bytes, value);
        region.Write(0, bytes);
    }

    private static byte[] Reads(IsmRegion region, ulong length)
    {
        var bytes = new byte[length];
        region.Read(0, bytes);
        return bytes;
    }

    /// <summary>What the victim refers to, as its steps so far leave it.</summary>
    private sealed class Model
    {
        public ulong VictimDevId { get; private set; }

        public ulong VictimToken { get; private set; }

        public bool VictimRefersToOwn { get; private set; }

        public bool VictimRefersToShared { get; private set; }

        public bool SurvivorRefersToVictims { get; set; }

        /// <summary>The effect of <paramref name="step"/>; <paramref name="token"/> is the victim's answer (null when killed before it).</summary>
        public void Apply(Step step, string? token)
        {
            switch (step)
            {
                case Step.Join when token is not null:
                    VictimDevId = Word(token, "devid");
                    break;
                case Step.Alloc:
                    VictimRefersToOwn = true;
                    VictimToken = token is null ? 0 : Word(token, "token");
                    break;
                case Step.Attach:
                    VictimRefersToShared = true;
                    break;
                case Step.DetachShared:
                    VictimRefersToShared = false;
                    break;
                case Step.DetachOwn:
                    VictimRefersToOwn = false;
                    break;
            }
        }

        /// <summary>The number after <paramref name="name"/> in an answer line (hex with 0x, else decimal).</summary>
        private static ulong Word(string line, string name)
        {
            string[] words = line.Split(' ');
            string text = words[Array.IndexOf(words, name) + 1];
            return text.StartsWith("0x", StringComparison.Ordinal)
                ? ulong.Parse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)
                : ulong.Parse(text, CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The two survivor devices and the region they share, which carries the barrier kicks.</summary>
    private sealed class Survivors(IsmDevice s1, IsmDevice s2, IsmRegion shared1, IsmRegion shared2)
    {
        /// <summary>
        /// Every event each survivor got since the last call: s1 kicks, and what s2 receives before
        /// that UPDATE is what the domain sent it before; then the same the other way round.
        /// </summary>
        public async Task<(IsmEvent[] S1, IsmEvent[] S2)> EventsAsync(CancellationToken cancellationToken)
        {
            shared1.Kick();
            IsmEvent[] toS2 = await UntilAsync(s2, new IsmEvent(IsmEventType.Update, shared2.Offset, s1.DevId, 0), cancellationToken);
            shared2.Kick();
            IsmEvent[] toS1 = await UntilAsync(s1, new IsmEvent(IsmEventType.Update, shared1.Offset, s2.DevId, 0), cancellationToken);
            return (toS1, toS2);
        }

        private static async Task<IsmEvent[]> UntilAsync(IsmDevice device, IsmEvent barrier, CancellationToken cancellationToken)
        {
            var events = new List<IsmEvent>();
            await foreach (IsmEvent ev in device.ReadEventsAsync(cancellationToken))
            {
                if (ev == barrier)
                {
                    return [.. events];
                }

                events.Add(ev);
            }

            throw new AssertionException($"devid {device.DevId}'s events ended before the barrier");
        }
    }

    /// <summary>Kills the victim on the server's thread when the armed step has taken effect there.</summary>
    private sealed class FaultPoint
    {
        private readonly TaskCompletionSource _killed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private (ushort Frame, DomainOperation Operation)? _armed;

        public PeerProcess? Victim { get; set; }

        public Task Killed => _killed.Task;

        public void Arm(bool armed, ushort frame, DomainOperation operation)
        {
            lock (_killed)
            {
                _armed = armed ? (frame, operation) : null;
            }
        }

        public void OnStepTaken(ushort frame, DomainOperation operation)
        {
            lock (_killed)
            {
                if (_armed != (frame, operation))
                {
                    return;
                }

                _armed = null;
            }

            try
            {
                Victim!.KillAndWait();
                Interlocked.Increment(ref s_faults);
                _killed.TrySetResult();
            }
            catch (Exception e)
            {
                _killed.TrySetException(e);
            }
        }
    }
}

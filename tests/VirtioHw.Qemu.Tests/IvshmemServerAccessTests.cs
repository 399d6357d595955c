using System.Diagnostics;
using VirtioHw.Domain;
using VirtioHw.Platforms.Qemu.Ivshmem;
using VirtioHw.Platforms.Qemu.Native;

namespace VirtioHw.Qemu.Tests;

/// <summary>
/// The ivshmem server against a hostile local peer: its anonymous memory is sealed, so a peer
/// that takes the descriptor from the handshake cannot shrink or grow it under the others; the
/// socket gets the mode and group asked for (0600 by default) before anyone can connect; a
/// connection whose credentials the same rule does not allow is refused with one line naming the
/// peer (these tests run as root, whom the kernel lets through any file mode, so the refusal is
/// the server's own check of SO_PEERCRED).
/// </summary>
[CancelAfter(TestSupport.TimeoutMilliseconds)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class IvshmemServerAccessTests
{
    private const uint OtherGroup = 54_321;
    private const long Size = 64 * 1024;

    private TempDirectory _temp = null!;

    [SetUp]
    public void CreateDirectory() => _temp = new TempDirectory();

    [TearDown]
    public void RemoveDirectory() => _temp.Dispose();

    [Test]
    public async Task SharedMemory_IsSealed_APeerCannotResizeIt_AndTheOthersGoOn(CancellationToken ct)
    {
        using IvshmemServer server = Start(SocketAccess.OwnerOnly);
        using IvshmemClient good = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 1, ct);
        good.SharedMemory[..4096].Fill(0x6b);

        using FileDescriptor memory = TakeSharedMemory(server.Settings.SocketPath);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(SealedMemory.SealsOf(memory), Is.EqualTo(SealedMemory.Seals), "shrink, grow and seal are sealed");
            Assert.That(Libc.FTruncate(memory, 0), Is.EqualTo(-1), "truncating to nothing fails");
            Assert.That(Libc.FTruncate(memory, Size * 2), Is.EqualTo(-1), "growing fails");
            Assert.That(SharedMemoryFile.SizeOf(memory), Is.EqualTo(Size));
        }

        // The good peer still reads its bytes, and a newcomer joins and sees them.
        using IvshmemClient newcomer = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 1, ct);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(good.SharedMemory[..4096].ToArray(), Is.All.EqualTo(0x6b));
            Assert.That(newcomer.SharedMemory[..4096].ToArray(), Is.All.EqualTo(0x6b));
            Assert.That(newcomer.SharedMemoryLength, Is.EqualTo(Size));
        }
    }

    [Test]
    public void SocketFile_ByDefault_IsReadWriteForItsOwnerOnly()
    {
        using IvshmemServer server = Start(SocketAccess.OwnerOnly);
        Assert.That(File.GetUnixFileMode(server.Settings.SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void SocketFile_HasTheModeAndGroupAsked()
    {
        using IvshmemServer server = Start(new SocketAccess { Mode = 0b110_110_000, Group = OtherGroup });
        using (Assert.EnterMultipleScope())
        {
            Assert.That(File.GetUnixFileMode(server.Settings.SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite));
            Assert.That(GroupOf(server.Settings.SocketPath), Is.EqualTo(OtherGroup));
        }
    }

    [Test]
    public async Task Connection_TheRuleDoesNotAllow_IsRefusedWithOneLineNamingThePeer(CancellationToken ct)
    {
        // Group members only, and this process (uid 0, gid 0) is not in that group.
        using IvshmemServer server = Start(new SocketAccess { Mode = 0b000_110_000, Group = OtherGroup });
        using (TestSupport.ConnectRaw(server.Settings.SocketPath))
        {
            IvshmemServerEvent refused = await server.NextEventAsync(e => e.Kind is IvshmemServerEventKind.Refused or IvshmemServerEventKind.Accepted, ct);
            using (Assert.EnterMultipleScope())
            {
                Assert.That(refused.Kind, Is.EqualTo(IvshmemServerEventKind.Refused));
                Assert.That(refused.ToString(), Does.StartWith($"connection refused: uid 0 gid 0 pid {Environment.ProcessId}: ").And.Contain("mode 0060").And.Not.Contain("\n"));
                Assert.That(server.PeerIds, Is.Empty);
            }
        }
    }

    [Test]
    public async Task Connection_TheRuleAllows_IsLoggedWithThePeersCredentials(CancellationToken ct)
    {
        using IvshmemServer server = Start(SocketAccess.OwnerOnly);
        using IvshmemClient client = await IvshmemClient.ConnectAsync(server.Settings.SocketPath, 1, ct);
        IvshmemServerEvent accepted = await server.NextEventAsync(e => e.Kind == IvshmemServerEventKind.Accepted, ct);
        Assert.That(accepted.ToString(), Is.EqualTo($"connection from uid 0 gid 0 pid {Environment.ProcessId}"));
    }

    private IvshmemServer Start(SocketAccess access) => IvshmemServer.Start(new IvshmemServerSettings
    {
        SocketPath = _temp.File("ivshmem.sock"),
        Size = Size,
        Access = access,
    });

    /// <summary>Connects as a raw peer and keeps the descriptor of the handshake's shared-memory message.</summary>
    private static FileDescriptor TakeSharedMemory(string socketPath)
    {
        using FileDescriptor socket = UnixSocket.TryConnect(socketPath) ?? throw new AssertionException("nobody listens");
        using var reader = new MessageReader();
        var wait = Stopwatch.StartNew();
        while (wait.Elapsed < TimeSpan.FromSeconds(10))
        {
            ReceiveStatus status = reader.TryReceive(socket, out long value, out FileDescriptor? descriptor);
            if (status == ReceiveStatus.Closed)
            {
                break;
            }

            if (status == ReceiveStatus.WouldBlock)
            {
                Thread.Sleep(5);
                continue;
            }

            if (value == -1 && descriptor is not null)
            {
                return descriptor;
            }

            descriptor?.Dispose();
        }

        throw new AssertionException("the handshake brought no shared memory");
    }

    private static uint GroupOf(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%g", path]) { RedirectStandardOutput = true })!;
        string output = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return uint.Parse(output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

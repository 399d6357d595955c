using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace VirtioHw.Platforms.Qemu;

/// <summary>
/// QEMU's qtest protocol on a connected socket: one text command per line, answered by a line
/// starting <c>OK</c> (with a value for reads) or <c>FAIL</c>; lines starting <c>IRQ</c> are
/// asynchronous notices and are skipped. Commands are serialized; <see cref="Sync"/> may be held
/// across several to make them one step (a config address write and its data read, say).
/// </summary>
/// <remarks>
/// QEMU asserts on a command it cannot parse and aborts, so commands are only ever built here, from
/// validated numbers.
/// </remarks>
internal sealed class QtestConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly Func<string, Exception> _lost;
    private byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;

    /// <param name="socket">The connected socket; owned from here on.</param>
    /// <param name="timeout">How long one answer may take.</param>
    /// <param name="lost">Builds the exception for a connection that broke while sending the given command.</param>
    public QtestConnection(Socket socket, TimeSpan timeout, Func<string, Exception> lost)
    {
        _socket = socket;
        _lost = lost;
        _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        _socket.SendTimeout = (int)timeout.TotalMilliseconds;
    }

    /// <summary>Held by every command; reentrant, so a caller may hold it across several.</summary>
    public Lock Sync { get; } = new();

    /// <summary>Sends a command that answers a plain <c>OK</c>.</summary>
    public void Execute(string command)
    {
        lock (Sync)
        {
            Send(command);
            ReadAnswer(command);
        }
    }

    /// <summary>Sends a command that answers <c>OK 0xVALUE</c> and returns the value.</summary>
    public ulong ExecuteValue(string command)
    {
        lock (Sync)
        {
            Send(command);
            ReadOnlySpan<byte> value = ReadAnswer(command);
            if (value.Length < 3 || value[0] != '0' || (value[1] | 0x20) != 'x'
                || !ulong.TryParse(value[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong parsed))
            {
                throw new QemuException($"qtest answered '{Encoding.ASCII.GetString(value)}' to '{command}', not a hexadecimal value");
            }

            return parsed;
        }
    }

    /// <summary>Reads <c>destination.Length</c> bytes of guest memory in one <c>read</c> command.</summary>
    public void ReadBlock(ulong address, Span<byte> destination)
    {
        string command = string.Create(CultureInfo.InvariantCulture, $"read 0x{address:x} 0x{destination.Length:x}");
        lock (Sync)
        {
            Send(command);
            ReadOnlySpan<byte> value = ReadAnswer(command);
            if (value.Length != 2 + (2 * destination.Length) || value[0] != '0' || value[1] != 'x'
                || Convert.FromHexString(Encoding.ASCII.GetString(value[2..]), destination, out _, out int written) != OperationStatus.Done
                || written != destination.Length)
            {
                throw new QemuException($"qtest answered {value.Length} characters to '{command}', not {destination.Length} bytes in hexadecimal");
            }
        }
    }

    /// <summary>Writes <paramref name="source"/> to guest memory in one <c>write</c> command.</summary>
    public void WriteBlock(ulong address, ReadOnlySpan<byte> source)
    {
        var command = new StringBuilder(48 + (2 * source.Length));
        command.Append(CultureInfo.InvariantCulture, $"write 0x{address:x} 0x{source.Length:x} 0x");
        command.Append(Convert.ToHexStringLower(source));
        Execute(command.ToString());
    }

    public void Dispose() => _socket.Dispose();

    private void Send(string command)
    {
        byte[] line = ArrayPool<byte>.Shared.Rent(command.Length + 1);
        try
        {
            int length = Encoding.ASCII.GetBytes(command, line);
            line[length++] = (byte)'\n';
            int sent = 0;
            while (sent < length)
            {
                sent += _socket.Send(line, sent, length - sent, SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            throw _lost(command);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(line);
        }
    }

    // The text after "OK " of the next answer line (empty for a bare OK); valid until the next read.
    private ReadOnlySpan<byte> ReadAnswer(string command)
    {
        while (true)
        {
            ReadOnlySpan<byte> line = ReadLine(command);
            if (line.StartsWith("IRQ "u8))
            {
                continue;
            }

            if (line.SequenceEqual("OK"u8))
            {
                return [];
            }

            if (line.StartsWith("OK "u8))
            {
                return line[3..];
            }

            throw new QemuException($"qtest answered '{Encoding.ASCII.GetString(line)}' to '{Shorten(command)}'");
        }
    }

    private ReadOnlySpan<byte> ReadLine(string command)
    {
        int scanned = _start;
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', scanned, _end - scanned);
            if (newline >= 0)
            {
                var line = new ReadOnlySpan<byte>(_buffer, _start, newline - _start);
                _start = newline + 1;
                return line;
            }

            scanned = _end;
            if (_start > 0)
            {
                // Keep the partial line at the front; the answer being assembled is all that is left.
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                scanned -= _start;
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            int received;
            try
            {
                received = _socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
            {
                throw new QemuException($"QEMU did not answer '{Shorten(command)}' within {_socket.ReceiveTimeout} ms", e);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                throw _lost(command);
            }

            if (received == 0)
            {
                throw _lost(command);
            }

            _end += received;
        }
    }

    private static string Shorten(string command) => command.Length <= 64 ? command : command[..64] + "...";
}

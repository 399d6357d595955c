using System.Buffers.Binary;
using VirtioHw.Drivers.Ism;

namespace VirtioHw.Personalities.Tests;

/// <summary>Raw commands for tests that look at ack bytes and reply layouts themselves.</summary>
internal static class IsmRaw
{
    public static byte[] Command(byte cls, byte command, params ulong[] fields)
    {
        var request = new byte[2 + (8 * fields.Length)];
        request[0] = cls;
        request[1] = command;
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(2 + (8 * i)), fields[i]);
        }

        return request;
    }

    public static ulong Field(byte[] reply, int index) => BinaryPrimitives.ReadUInt64LittleEndian(reply.AsSpan(1 + (8 * index)));

    /// <summary>The next event of <paramref name="type"/> the device received.</summary>
    public static Task<IsmEvent> Next(this IsmDevice device, IsmEventType type, CancellationToken cancellationToken) =>
        device.WaitForEventAsync(e => e.Type == type, cancellationToken);

    /// <summary>Every event already delivered to the device's driver, without waiting for more.</summary>
    public static List<IsmEvent> Drain(this IsmDevice device)
    {
        var events = new List<IsmEvent>();
        while (device.TryReadEvent(out IsmEvent ev))
        {
            events.Add(ev);
        }

        return events;
    }
}

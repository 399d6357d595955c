using VirtioHw.Flash;

namespace VirtioHw.Flash.Tests;

/// <summary>A chip model on a sim bus, with raw command helpers for datasheet-level tests.</summary>
internal sealed class ModelHarness : IDisposable
{
    public ModelHarness(SimulatedChipSpec spec, double timeScale = 1.0)
    {
        Model = new SimulatedFlash(spec) { TimeScale = timeScale };
        Bus = new SimulatedSpiBus(new SpiBusSettings(SpiBusSettings.SimBackend) { ClockHz = 10_000_000, Simulation = Model });
    }

    public SimulatedFlash Model { get; }

    public SimulatedSpiBus Bus { get; }

    public void Command(params byte[] bytes) => Bus.Command(bytes);

    public byte[] CommandRead(byte[] header, int count)
    {
        byte[] response = new byte[count];
        Bus.CommandRead(header, response);
        return response;
    }

    public byte Status1() => CommandRead([0x05], 1)[0];

    public void WriteEnable() => Command(0x06);

    /// <summary>Advances model time past any operation (longest datasheet time of the part).</summary>
    public void WaitIdle() => Bus.Wait(TimeSpan.FromSeconds(400));

    public byte[] Read(long address, int count, bool fourByte = false)
    {
        byte[] header = fourByte
            ? [0x03, (byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address]
            : [0x03, (byte)(address >> 16), (byte)(address >> 8), (byte)address];
        return CommandRead(header, count);
    }

    public void Program(long address, byte[] data)
    {
        WriteEnable();
        Bus.CommandWrite([0x02, (byte)(address >> 16), (byte)(address >> 8), (byte)address], data);
    }

    public void Erase(byte opcode, long address)
    {
        WriteEnable();
        Command(opcode, (byte)(address >> 16), (byte)(address >> 8), (byte)address);
    }

    public void Dispose() => Bus.Dispose();
}

internal static class TestData
{
    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Random(int length, int seed)
    {
        var random = new Random(seed);
        byte[] data = new byte[length];
        random.NextBytes(data);
        return data;
    }

    public static byte[] Filled(int length, byte value)
    {
        byte[] data = new byte[length];
        data.AsSpan().Fill(value);
        return data;
    }

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "virtiohw-flash-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}

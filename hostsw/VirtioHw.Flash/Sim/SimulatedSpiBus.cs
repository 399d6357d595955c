namespace VirtioHw.Flash;

/// <summary>
/// The <c>sim</c> backend: every byte goes to a <see cref="SimulatedFlash"/>, and waits advance the
/// model's clock instead of sleeping, so a whole programming run takes no wall time. The bus does
/// not own the model.
/// </summary>
public sealed class SimulatedSpiBus : SpiBus
{
    private readonly SimulatedFlash _flash;

    public SimulatedSpiBus(SpiBusSettings settings) : base(settings)
    {
        _flash = settings.Simulation
            ?? throw new FlashException("the sim adapter needs a chip model (SpiBusSettings.Simulation)");
        _flash.BusClockHz = settings.ClockHz;
    }

    public override TimeProvider Time => _flash.Clock;

    public override void TransferFullDuplex(ReadOnlySpan<byte> write, Span<byte> read)
    {
        RequireSelected();
        if (read.Length != write.Length)
        {
            throw new ArgumentException("full-duplex buffers must be the same length", nameof(read));
        }

        for (int i = 0; i < write.Length; i++)
        {
            read[i] = _flash.Exchange(write[i]);
        }
    }

    public override void Write(ReadOnlySpan<byte> data)
    {
        RequireSelected();
        foreach (byte b in data)
        {
            _flash.Exchange(b);
        }
    }

    public override void Read(Span<byte> data)
    {
        RequireSelected();
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = _flash.Exchange(0);
        }
    }

    public override void Wait(TimeSpan duration) => _flash.Clock.Advance(duration);

    protected override void AssertChipSelect() => _flash.Select();

    protected override void ReleaseChipSelect() => _flash.Deselect();
}

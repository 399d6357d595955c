using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>The device configuration block of a personality: read-only to the driver, written by firmware a word at a time.</summary>
internal interface IDeviceConfig
{
    RegisterBlockModel Block { get; }

    /// <summary>Firmware's devcfg_write of <paramref name="data"/> at byte <paramref name="offset"/>.</summary>
    void FirmwareWrite(uint offset, uint data);
}

/// <summary>
/// struct virtio_ism_config behind <see cref="IsmConfigModel"/>. Its registers are 64-bit and
/// hardware-written, so this logic keeps the value it drives into each and replaces the written
/// half; a word outside every register is dropped.
/// </summary>
internal sealed class IsmDeviceConfig : IDeviceConfig
{
    private readonly IsmConfigModel _block = new();
    private readonly (uint Offset, Action<ulong> Drive)[] _registers;
    private readonly ulong[] _driven;

    public IsmDeviceConfig()
    {
        _registers =
        [
            (IsmConfig.CdidLo.Offset, _block.SetCdidLo),
            (IsmConfig.CdidHi.Offset, _block.SetCdidHi),
            (IsmConfig.Devid.Offset, _block.SetDevid),
            (IsmConfig.ChunkSize.Offset, _block.SetChunkSize),
            (IsmConfig.NotifySize.Offset, _block.SetNotifySize),
        ];
        _driven = new ulong[_registers.Length];
    }

    public RegisterBlockModel Block => _block;

    public void FirmwareWrite(uint offset, uint data)
    {
        uint register = offset & ~(uint)(sizeof(ulong) - 1);
        int shift = (int)(offset & sizeof(uint)) * 8;
        for (int i = 0; i < _registers.Length; i++)
        {
            if (_registers[i].Offset == register)
            {
                _driven[i] = (_driven[i] & ~((ulong)uint.MaxValue << shift)) | ((ulong)data << shift);
                _registers[i].Drive(_driven[i]);
                return;
            }
        }
    }
}

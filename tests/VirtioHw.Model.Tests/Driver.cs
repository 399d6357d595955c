using VirtioHw.Host.Platforms;
using VirtioHw.Model;
using VirtioHw.Registers;

namespace VirtioHw.Model.Tests;

/// <summary>What a virtio-pci driver does to the model's common cfg, ISR and device cfg, access by access.</summary>
internal sealed class Driver
{
    private readonly Platform _platform;
    private readonly ulong _common;
    private readonly ulong _isr;

    public Driver(Rig rig, PciAddress address)
    {
        _platform = rig.Platform;
        ulong[] bars = rig.Setup(address);
        VirtioDescription virtio = rig.Endpoint(address).Hardware.Description.Virtio!;
        _common = bars[virtio.Common.Bar] + virtio.Common.Offset;
        _isr = bars[virtio.Isr.Bar] + virtio.Isr.Offset;
        DeviceConfig = virtio.Device is { } device ? bars[device.Bar] + device.Offset : 0;
    }

    /// <summary>Bus address of the device configuration.</summary>
    public ulong DeviceConfig { get; }

    public byte Status
    {
        get => _platform.Read8(_common + VirtioCommonCfg.DeviceStatus.Offset);
        set => _platform.Write8(_common + VirtioCommonCfg.DeviceStatus.Offset, value);
    }

    public byte ConfigGeneration => _platform.Read8(_common + VirtioCommonCfg.ConfigGeneration.Offset);

    public ushort ConfigMsixVector
    {
        get => _platform.Read16(_common + VirtioCommonCfg.ConfigMsixVector.Offset);
        set => _platform.Write16(_common + VirtioCommonCfg.ConfigMsixVector.Offset, value);
    }

    public ushort QueueSize
    {
        get => _platform.Read16(_common + VirtioCommonCfg.QueueSize.Offset);
        set => _platform.Write16(_common + VirtioCommonCfg.QueueSize.Offset, value);
    }

    public ushort QueueMsixVector
    {
        get => _platform.Read16(_common + VirtioCommonCfg.QueueMsixVector.Offset);
        set => _platform.Write16(_common + VirtioCommonCfg.QueueMsixVector.Offset, value);
    }

    public ushort QueueEnable
    {
        get => _platform.Read16(_common + VirtioCommonCfg.QueueEnable.Offset);
        set => _platform.Write16(_common + VirtioCommonCfg.QueueEnable.Offset, value);
    }

    public ushort QueueReset
    {
        get => _platform.Read16(_common + VirtioCommonCfg.QueueReset.Offset);
        set => _platform.Write16(_common + VirtioCommonCfg.QueueReset.Offset, value);
    }

    public ushort QueueNotifyOff => _platform.Read16(_common + VirtioCommonCfg.QueueNotifyOff.Offset);

    /// <summary>Written and read as two 32-bit halves, as the 64-bit registers of common cfg are.</summary>
    public ulong QueueDescriptorArea
    {
        get => Read64(VirtioCommonCfg.QueueDesc.Offset);
        set => Write64(VirtioCommonCfg.QueueDesc.Offset, value);
    }

    public ulong QueueDriverArea
    {
        get => Read64(VirtioCommonCfg.QueueDriver.Offset);
        set => Write64(VirtioCommonCfg.QueueDriver.Offset, value);
    }

    public ulong QueueDeviceArea
    {
        get => Read64(VirtioCommonCfg.QueueDevice.Offset);
        set => Write64(VirtioCommonCfg.QueueDevice.Offset, value);
    }

    /// <summary>Reading clears it.</summary>
    public byte Isr => _platform.Read8(_isr + VirtioIsr.Isr.Offset);

    public void SelectQueue(ushort queue) => _platform.Write16(_common + VirtioCommonCfg.QueueSelect.Offset, queue);

    public ulong DeviceFeatures()
    {
        _platform.Write32(_common + VirtioCommonCfg.DeviceFeatureSelect.Offset, 0);
        uint low = _platform.Read32(_common + VirtioCommonCfg.DeviceFeature.Offset);
        _platform.Write32(_common + VirtioCommonCfg.DeviceFeatureSelect.Offset, 1);
        return low | ((ulong)_platform.Read32(_common + VirtioCommonCfg.DeviceFeature.Offset) << 32);
    }

    public void WriteDriverFeatures(ulong features)
    {
        for (uint word = 0; word < 2; word++)
        {
            _platform.Write32(_common + VirtioCommonCfg.DriverFeatureSelect.Offset, word);
            _platform.Write32(_common + VirtioCommonCfg.DriverFeature.Offset, (uint)(features >> (int)(32 * word)));
        }
    }

    /// <summary>Acknowledge, driver, the features, FEATURES_OK; returns the status the device kept.</summary>
    public byte Negotiate(ulong features)
    {
        Status = (byte)(VirtioCommonCfg.VirtioDeviceStatus.Acknowledge | VirtioCommonCfg.VirtioDeviceStatus.Driver);
        WriteDriverFeatures(features);
        Status |= (byte)VirtioCommonCfg.VirtioDeviceStatus.FeaturesOk;
        return Status;
    }

    private ulong Read64(uint offset) =>
        _platform.Read32(_common + offset) | ((ulong)_platform.Read32(_common + offset + 4) << 32);

    private void Write64(uint offset, ulong value)
    {
        _platform.Write32(_common + offset, (uint)value);
        _platform.Write32(_common + offset + 4, (uint)(value >> 32));
    }
}

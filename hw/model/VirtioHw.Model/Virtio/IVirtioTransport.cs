namespace VirtioHw.Model;

/// <summary>
/// What the transport-independent virtio logic (<see cref="VirtioCore"/>) needs from the
/// transport in front of it: virtio-pci (common cfg, ISR, MSI-X) or virtio-mmio.
/// </summary>
internal interface IVirtioTransport
{
    /// <summary>The device status register the driver reads.</summary>
    byte Status { get; set; }

    /// <summary>Firmware set the queue interrupt cause.</summary>
    void RaiseQueueInterrupt();

    /// <summary>The configuration changed: set the config cause and interrupt the driver.</summary>
    void RaiseConfigInterrupt();

    void SetConfigGeneration(byte generation);

    /// <summary>Device reset: interrupt causes, the config vector and pending messages are cleared.</summary>
    void ResetInterrupts();
}

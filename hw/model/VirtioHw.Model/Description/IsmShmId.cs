namespace VirtioHw.Model;

/// <summary>The shmids the virtio-ism specification gives its shared memory regions (enum virtio_ism_shm_id).</summary>
public static class IsmShmId
{
    /// <summary>VIRTIO_ISM_SHM_ID_REGIONS: the device memory ISM regions are made of.</summary>
    public const byte Regions = 1;

    /// <summary>VIRTIO_ISM_SHM_ID_NOTIFY: one notify-address per region.</summary>
    public const byte Notify = 2;
}

using VirtioHw.Firmware;
using VirtioHw.Registers;

namespace VirtioHw.Model;

/// <summary>
/// The hand-written logic behind virtio_common_cfg: the external registers read and write the
/// queue that queue_select picks and the feature word the select registers pick; device_status
/// and config_msix_vector writes go through the checks of <see cref="VirtioCore"/>.
/// </summary>
internal static class CommonCfgLogic
{
    public static void Connect(VirtioCommonCfgModel common, VirtioCore core)
    {
        bool Exists() => core.Queues.Exists(common.QueueSelect);
        ref QueueRegisters Selected() => ref core.Queues[common.QueueSelect];

        common.SetNumQueues((ushort)core.Queues.Count);
        common.DeviceFeatureHandler = new ExternalRegister((_, _) => core.DeviceFeatureWord(common.DeviceFeatureSelect), Drop);
        common.DriverFeatureHandler = new ExternalRegister(
            (_, _) => core.DriverFeatureWord(common.DriverFeatureSelect),
            (_, value, bytes) => core.WriteDriverFeatureWord(common.DriverFeatureSelect, value, bytes));
        common.QueueSizeHandler = new ExternalRegister(
            (_, _) => Exists() ? Selected().Size : 0UL,
            (_, value, bytes) =>
            {
                if (Exists() && !Selected().Enabled)
                {
                    Selected().Size = (ushort)ByteLanes.Merge(Selected().Size, value, bytes);
                }
            });
        common.QueueMsixVectorHandler = new ExternalRegister(
            (_, _) => Exists() ? Selected().MsixVector : VirtioFirmware.NoVector,
            (_, value, bytes) =>
            {
                if (Exists())
                {
                    Selected().MsixVector = core.AcceptVector(ByteLanes.Merge(Selected().MsixVector, value, bytes));
                }
            });
        common.QueueEnableHandler = new ExternalRegister(
            (_, _) => Exists() && Selected().Enabled ? 1UL : 0UL,
            (_, value, _) =>
            {
                // The driver never writes 0 (virtio 1.x); a queue is disabled by a queue or device reset.
                if (value == 1)
                {
                    core.EnableQueue(common.QueueSelect);
                }
            });
        common.QueueNotifyOffHandler = new ExternalRegister((_, _) => Exists() ? common.QueueSelect : 0UL, Drop);
        common.QueueDescHandler = new ExternalRegister(
            (_, _) => Exists() ? Selected().DescriptorArea : 0UL,
            (_, value, bytes) =>
            {
                if (Exists())
                {
                    Selected().DescriptorArea = ByteLanes.Merge(Selected().DescriptorArea, value, bytes);
                }
            });
        common.QueueDriverHandler = new ExternalRegister(
            (_, _) => Exists() ? Selected().DriverArea : 0UL,
            (_, value, bytes) =>
            {
                if (Exists())
                {
                    Selected().DriverArea = ByteLanes.Merge(Selected().DriverArea, value, bytes);
                }
            });
        common.QueueDeviceHandler = new ExternalRegister(
            (_, _) => Exists() ? Selected().DeviceArea : 0UL,
            (_, value, bytes) =>
            {
                if (Exists())
                {
                    Selected().DeviceArea = ByteLanes.Merge(Selected().DeviceArea, value, bytes);
                }
            });

        // Without VIRTIO_F_NOTIF_CONFIG_DATA the notification data is the queue index.
        common.QueueNotifyDataHandler = new ExternalRegister((_, _) => Exists() ? common.QueueSelect : 0UL, Drop);
        common.QueueResetHandler = new ExternalRegister(
            (_, _) => Exists() && Selected().ResetPending ? 1UL : 0UL,
            (_, value, _) =>
            {
                if (value == 1)
                {
                    core.RequestQueueReset(common.QueueSelect);
                }
            });
        common.DeviceStatusModified += (_, e) =>
        {
            byte kept = core.WriteStatus((byte)e.Value);
            if (kept != e.Value)
            {
                common.DeviceStatus = kept;
            }
        };
        common.ConfigMsixVectorModified += (_, e) => common.ConfigMsixVector = core.AcceptVector(e.Value);
    }

    private static void Drop(int element, ulong value, uint byteMask)
    {
        // Read-only to the driver.
    }
}

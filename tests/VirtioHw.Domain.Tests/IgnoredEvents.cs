using VirtioHw.Firmware.Ism;

namespace VirtioHw.Domain.Tests;

/// <summary>A member that needs no events: a client in these tests that only allocates, attaches and reads.</summary>
internal sealed class IgnoredEvents : IIsmDomainMember
{
    public void OnDomainEvent(IsmDomainEvent domainEvent)
    {
    }
}

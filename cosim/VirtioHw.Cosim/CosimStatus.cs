namespace VirtioHw.Cosim;

/// <summary>What a native call reports; the values are those of <c>vhw::Status</c> in cosim/shim/vhw_instance.h.</summary>
public enum CosimStatus
{
    Ok = 0,

    /// <summary>A bus handshake did not complete within the cycle budget.</summary>
    Timeout = -1,

    /// <summary>The model stopped (assertion, <c>$fatal</c>, <c>$stop</c>); the instance is unusable from then on.</summary>
    SimulationError = -2,

    /// <summary>The cycle hook threw; the exception is rethrown to the caller.</summary>
    HookStopped = -3,

    /// <summary>An argument the top cannot take: an address wider than its bus, a wrong word count.</summary>
    BadArgument = -4,

    /// <summary>The waveform file could not be opened.</summary>
    TraceError = -5,
}

public enum PortDirection
{
    Input,
    Output,
}

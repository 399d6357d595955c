using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace VirtioHw.Cosim;

/// <summary>
/// One instance of a Verilated top in its own simulation context; the generated subclass of each
/// top adds a property per port. Time advances only in <see cref="Tick"/>, <see cref="Reset"/> and
/// the bus calls; port setters take effect at the next evaluation, and getters evaluate first, so a
/// getter after a setter sees the combinational result. Not thread-safe: one caller at a time.
/// Disposing frees the native instance and closes its waveform.
/// </summary>
public abstract class CosimTop : IDisposable
{
    private readonly SafeHandle _handle;
    private GCHandle _self;
    private Action? _hook;
    private ExceptionDispatchInfo? _hookFailure;

    /// <param name="name">The top module's name.</param>
    /// <param name="handle">The native instance; this object owns and disposes it.</param>
    protected CosimTop(string name, SafeHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        if (handle.IsInvalid) throw new CosimException($"{name}: the native instance could not be created");
        Name = name;
        _handle = handle;
    }

    public string Name { get; }

    /// <summary>Cycles a bus access may take before it fails with <see cref="CosimTimeoutException"/>.</summary>
    public uint TimeoutCycles { get; set; } = 1000;

    /// <summary>Rising clock edges since the instance was created, reset cycles included.</summary>
    public abstract ulong Cycle { get; }

    public abstract IReadOnlyList<CosimPort> Ports { get; }

    /// <summary>Index of the port called <paramref name="name"/> in <see cref="Ports"/>.</summary>
    public int PortIndex(string name)
    {
        for (int i = 0; i < Ports.Count; i++)
        {
            if (Ports[i].Name == name) return i;
        }
        throw new KeyNotFoundException($"{Name} has no port '{name}'");
    }

    /// <summary>Reads port <paramref name="index"/> into <paramref name="words"/> (exactly <see cref="CosimPort.Words"/> long).</summary>
    public abstract void GetPort(int index, Span<uint> words);

    /// <summary>Drives input port <paramref name="index"/> from <paramref name="words"/>; bits above the port width are dropped.</summary>
    public abstract void SetPort(int index, ReadOnlySpan<uint> words);

    /// <summary>Settles combinational logic after inputs changed, without a clock edge.</summary>
    public abstract void Eval();

    /// <summary>Runs <paramref name="cycles"/> clock cycles, calling <see cref="CycleHook"/> before each rising edge.</summary>
    public abstract void Tick(uint cycles = 1);

    /// <summary>Holds the reset for <paramref name="cycles"/> clock cycles (the hook is not called), then releases it.</summary>
    public abstract void Reset(uint cycles = 2);

    /// <summary>Starts an FST waveform of every signal at <paramref name="path"/>, replacing one already open.</summary>
    public abstract void OpenTrace(string path);

    /// <summary>Flushes and closes the waveform, if one is open.</summary>
    public abstract void CloseTrace();

    /// <summary>
    /// Called once per cycle before the rising edge, with inputs settled: it may read outputs and
    /// drive inputs (an external register's acknowledge, say) for that edge. It must not advance
    /// time itself. An exception it throws stops the running call and is rethrown from it.
    /// </summary>
    public Action? CycleHook
    {
        get => _hook;
        set
        {
            _hook = value;
            if (value is null)
            {
                SetNativeHook(0, 0);
                if (_self.IsAllocated) _self.Free();
                return;
            }
            if (!_self.IsAllocated) _self = GCHandle.Alloc(this);
            unsafe
            {
                SetNativeHook((nint)(delegate* unmanaged[Cdecl]<nint, int>)&OnCycle, GCHandle.ToIntPtr(_self));
            }
        }
    }

    protected abstract void SetNativeHook(nint function, nint context);

    /// <summary>The native instance's last error message.</summary>
    protected abstract string NativeError();

    /// <summary>Throws for a failed native call: the hook's own exception, a timeout, or the simulation's error.</summary>
    protected void Check(int status, string what)
    {
        if (status != (int)CosimStatus.Ok) Fail((CosimStatus)status, what);
    }

    /// <summary>As <see cref="Check"/>, and fails on an AXI response other than OKAY.</summary>
    protected void CheckAxi(int status, byte response, string what)
    {
        Check(status, what);
        if (response != 0) throw new CosimException($"{Name}: {what}: response {AxiResponseName(response)} at cycle {Cycle}");
    }

    /// <summary>Copies a native error text (UTF-8, NUL-terminated) out of <paramref name="buffer"/>.</summary>
    protected static string Utf8(ReadOnlySpan<byte> buffer)
    {
        int end = buffer.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? buffer : buffer[..end]);
    }

    [DoesNotReturn]
    private void Fail(CosimStatus status, string what)
    {
        if (status == CosimStatus.HookStopped && _hookFailure is { } failure)
        {
            _hookFailure = null;
            failure.Throw();
        }
        string message = $"{Name}: {what}: {NativeError()} (cycle {Cycle})";
        throw status == CosimStatus.Timeout ? new CosimTimeoutException(message) : new CosimException(message);
    }

    private static string AxiResponseName(byte response) => response switch
    {
        1 => "EXOKAY",
        2 => "SLVERR",
        3 => "DECERR",
        _ => $"0x{response:x}",
    };

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnCycle(nint context)
    {
        var top = (CosimTop)GCHandle.FromIntPtr(context).Target!;
        try
        {
            top._hook?.Invoke();
            return 0;
        }
        catch (Exception e)
        {
            // Nothing may unwind into native code: keep it for Check to rethrow.
            top._hookFailure = ExceptionDispatchInfo.Capture(e);
            return 1;
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        _handle.Dispose();
        if (_self.IsAllocated) _self.Free();
    }
}

/// <summary>A top with one AXI4-Lite slave port; each call is one whole transaction, in cycles.</summary>
public interface IAxiLiteSlave
{
    /// <summary>Address bits of the slave port; addresses at or above 2^AddressBits are refused.</summary>
    int AddressBits { get; }

    /// <summary>Handshake delays of the following accesses.</summary>
    AxiTiming Timing { get; set; }

    /// <summary>One write: AW and W offered, then the B response taken; throws unless OKAY.</summary>
    void AxiWrite(uint address, uint data, byte strobe = 0xF);

    /// <summary>One read: AR offered, then the R response taken; throws unless OKAY.</summary>
    uint AxiRead(uint address);
}

/// <summary>
/// Handshake delays of an AXI4-Lite access, in cycles from its start: before the address (AW or AR)
/// is offered, before the write data (W) is offered, and how long a valid response (B or R) waits
/// for ready. The default offers everything at once and takes the response at once.
/// </summary>
public readonly record struct AxiTiming(byte AddressDelay, byte DataDelay, byte ResponseDelay);

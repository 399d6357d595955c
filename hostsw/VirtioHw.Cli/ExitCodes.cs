namespace VirtioHw.Cli;

/// <summary>
/// What <c>virtiohw</c>'s exit status means, the same for every command (listed in <c>--help</c>
/// and the README), so scripts can tell a bad command line from a failed device.
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>It could not: a file, device, peer or platform failed or was absent (one line on stderr says which).</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: an unknown option, a missing argument, a value that does not parse.</summary>
    public const int Usage = 2;

    /// <summary>A device stopped answering or its domain went away part-way (fault injection, a lost server).</summary>
    public const int DeviceStopped = 3;

    /// <summary><c>flash verify</c> (or the verify after a write) found bytes that differ from the image.</summary>
    public const int VerifyMismatch = 4;

    /// <summary>The list for <c>--help</c>.</summary>
    public const string Description =
        "Exit codes: 0 success; 1 failure (file, device, peer or platform); 2 usage error; 3 a device stopped answering or its domain was lost; 4 flash verify found differences.";
}

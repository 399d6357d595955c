namespace VirtioHw.Fuzz;

/// <summary>
/// Delta debugging on bytes: removes ever smaller blocks while the input still fails the same way,
/// then lowers the remaining bytes towards zero, so a kept failure is short and readable.
/// </summary>
public static class Minimizer
{
    /// <summary>Bound on executions spent minimising one failure.</summary>
    public const int MaxAttempts = 2000;

    public static byte[] Minimize(byte[] input, Func<byte[], bool> stillFails)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(stillFails);
        byte[] current = input;
        int attempts = 0;
        for (int block = Math.Max(1, current.Length / 2); block >= 1 && attempts < MaxAttempts; block /= 2)
        {
            bool removed = true;
            while (removed && attempts < MaxAttempts)
            {
                removed = false;
                for (int start = 0; start < current.Length && attempts < MaxAttempts; start += block)
                {
                    byte[] candidate = [.. current.AsSpan(0, start), .. current.AsSpan(Math.Min(current.Length, start + block))];
                    attempts++;
                    if (stillFails(candidate))
                    {
                        current = candidate;
                        removed = true;
                        start -= block;
                    }
                }
            }
        }

        for (int i = 0; i < current.Length && attempts < MaxAttempts; i++)
        {
            if (current[i] == 0)
            {
                continue;
            }

            byte[] candidate = [.. current];
            candidate[i] = 0;
            attempts++;
            if (stillFails(candidate))
            {
                current = candidate;
            }
        }

        return current;
    }
}

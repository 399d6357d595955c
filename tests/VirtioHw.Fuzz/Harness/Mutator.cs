namespace VirtioHw.Fuzz;

/// <summary>Byte-level mutations of a seed: flips, interesting values, dictionary tokens, cuts, copies and splices.</summary>
public static class Mutator
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x20, 0x40];

    /// <summary>
    /// Applies one to eight mutations to a copy of <paramref name="seed"/>; <paramref name="tokens"/>
    /// are words of the format to insert (keywords, punctuation), <paramref name="others"/> seeds to
    /// splice from; either may be empty.
    /// </summary>
    public static byte[] Mutate(Random random, byte[] seed, IReadOnlyList<byte[]> tokens, IReadOnlyList<byte[]> others)
    {
        ArgumentNullException.ThrowIfNull(random);
        var data = new List<byte>(seed);
        int rounds = 1 + random.Next(8);
        for (int i = 0; i < rounds; i++)
        {
            int at = random.Next(data.Count + 1);
            switch (random.Next(tokens.Count > 0 ? 9 : 8))
            {
                case 0 when data.Count > 0:
                    at = Math.Min(at, data.Count - 1);
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when data.Count > 0:
                    data[Math.Min(at, data.Count - 1)] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 2 when data.Count > 0:
                    data.RemoveRange(Math.Min(at, data.Count - 1), Math.Min(1 + random.Next(16), data.Count - Math.Min(at, data.Count - 1)));
                    break;
                case 3:
                    data.Insert(at, (byte)random.Next(256));
                    break;
                case 4 when data.Count > 0:
                    {
                        int from = random.Next(data.Count);
                        int length = Math.Min(1 + random.Next(64), data.Count - from);
                        data.InsertRange(at, data.GetRange(from, length));
                        break;
                    }

                case 5:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 6 when others.Count > 0:
                    {
                        byte[] other = others[random.Next(others.Count)];
                        int from = random.Next(other.Length + 1);
                        data.RemoveRange(at, data.Count - at);
                        data.AddRange(other.AsSpan(from).ToArray());
                        break;
                    }

                case 7 when data.Count > 0:
                    at = Math.Min(at, data.Count - 1);
                    data[at] = (byte)(data[at] + random.Next(-4, 5));
                    break;
                case 8:
                    data.InsertRange(at, tokens[random.Next(tokens.Count)]);
                    break;
                default:
                    data.Insert(at, (byte)random.Next(256));
                    break;
            }
        }

        return [.. data];
    }

    /// <summary><paramref name="max"/> or fewer random bytes.</summary>
    public static byte[] RandomBytes(Random random, int max)
    {
        ArgumentNullException.ThrowIfNull(random);
        var bytes = new byte[random.Next(max + 1)];
        random.NextBytes(bytes);
        return bytes;
    }
}

namespace VirtioHw.Platforms.Cosim.Waveforms;

/// <summary>The LZ4 block format's decoder (the FST writer packs its hierarchy with LZ4).</summary>
internal static class Lz4Block
{
    /// <summary>Decodes <paramref name="source"/> into exactly <paramref name="length"/> bytes.</summary>
    /// <exception cref="InvalidDataException">The block is malformed or decodes to another length.</exception>
    public static byte[] Decode(ReadOnlySpan<byte> source, int length)
    {
        byte[] output = new byte[length];
        int input = 0, written = 0;
        while (input < source.Length)
        {
            byte token = source[input++];
            int literals = Length(token >> 4, source, ref input);
            if (literals > source.Length - input || literals > length - written)
            {
                throw Malformed();
            }

            source.Slice(input, literals).CopyTo(output.AsSpan(written));
            input += literals;
            written += literals;
            if (input == source.Length)
            {
                break;  // the last sequence has literals only
            }

            if (input + 2 > source.Length)
            {
                throw Malformed();
            }

            int offset = source[input] | (source[input + 1] << 8);
            input += 2;
            int match = Length(token & 0xf, source, ref input) + 4;
            if (offset == 0 || offset > written || match > length - written)
            {
                throw Malformed();
            }

            // Byte by byte: a match may overlap the bytes it is copying.
            for (int i = 0; i < match; i++, written++)
            {
                output[written] = output[written - offset];
            }
        }

        return written == length ? output : throw Malformed();
    }

    private static int Length(int nibble, ReadOnlySpan<byte> source, ref int input)
    {
        int length = nibble;
        if (nibble == 15)
        {
            byte more;
            do
            {
                if (input >= source.Length)
                {
                    throw Malformed();
                }

                more = source[input++];
                length += more;
            }
            while (more == 255);
        }

        return length;
    }

    private static InvalidDataException Malformed() => new("an LZ4 block in the waveform is malformed");
}

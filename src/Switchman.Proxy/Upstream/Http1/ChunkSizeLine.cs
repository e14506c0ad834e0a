namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// The syntax of a chunk's first line, <c>chunk-size [ chunk-ext ]</c> (RFC 9112 §7.1): 1 to 16 hexadecimal digits
/// (no sign, no <c>0x</c>, no whitespace before them) whose value fits a long, then extensions
/// <c>*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )</c>. Extensions are checked and dropped; their
/// number is bounded by the line's length limit. Whitespace anywhere else (after the size with no extension, at the
/// end of the line) is refused: chunk-size lines are where parsers that disagree get smuggled past each other.
/// </summary>
internal static class ChunkSizeLine
{
    /// <summary>More digits than this are refused even with leading zeros: 16 hex digits hold any long.</summary>
    public const int MaxDigits = 16;

    public static bool TryParse(ReadOnlySpan<byte> line, out long size, out string? error)
    {
        size = 0;
        var digits = 0;
        for (; digits < line.Length && Http1Syntax.HexValue(line[digits]) is var value and >= 0; digits++)
        {
            if (digits == MaxDigits)
            {
                error = $"chunk size has more than {MaxDigits} hex digits";
                return false;
            }
            if (size > long.MaxValue >> 4)
            {
                error = "chunk size overflows a 63-bit length";
                return false;
            }
            size = (size << 4) | (long)value;
        }
        if (digits == 0)
        {
            error = "chunk size is not a hexadecimal number";
            return false;
        }
        return ExtensionsAreValid(line[digits..], out error);
    }

    private static bool ExtensionsAreValid(ReadOnlySpan<byte> rest, out string? error)
    {
        for (var first = true; !rest.IsEmpty; first = false)
        {
            var ws = Http1Syntax.WhitespaceLength(rest);
            if (ws == rest.Length)
            {
                error = "whitespace at the end of a chunk size line";
                return false;
            }
            if (rest[ws] != (byte)';')
            {
                error = first ? "invalid character after chunk size" : "bad chunk extension: unexpected character";
                return false;
            }
            rest = rest[(ws + 1)..];
            rest = rest[Http1Syntax.WhitespaceLength(rest)..];
            var name = Http1Syntax.TokenLength(rest);
            if (name == 0)
            {
                error = "bad chunk extension: no name";
                return false;
            }
            rest = rest[name..];
            var beforeEquals = Http1Syntax.WhitespaceLength(rest);
            if (beforeEquals < rest.Length && rest[beforeEquals] == (byte)'=')
            {
                rest = rest[(beforeEquals + 1)..];
                rest = rest[Http1Syntax.WhitespaceLength(rest)..];
                var valueLength = rest.IsEmpty ? 0 : rest[0] == (byte)'"' ? QuotedStringLength(rest) : Http1Syntax.TokenLength(rest);
                if (valueLength <= 0)
                {
                    error = "bad chunk extension: no value after '=', or an unterminated or invalid quoted string";
                    return false;
                }
                rest = rest[valueLength..];
            }
        }
        error = null;
        return true;
    }

    /// <summary>
    /// The length of the quoted-string at the start of <paramref name="s"/> (RFC 9110 §5.6.4), or -1 when it is not
    /// terminated or holds a byte a quoted-string may not.
    /// </summary>
    private static int QuotedStringLength(ReadOnlySpan<byte> s)
    {
        for (var i = 1; i < s.Length; i++)
        {
            switch (s[i])
            {
                case (byte)'"':
                    return i + 1;
                case (byte)'\\':
                    if (++i == s.Length || !Http1Syntax.IsTextChar(s[i]))
                    {
                        return -1;
                    }
                    break;
                default:
                    if (!Http1Syntax.IsTextChar(s[i]))
                    {
                        return -1;
                    }
                    break;
            }
        }
        return -1;
    }
}

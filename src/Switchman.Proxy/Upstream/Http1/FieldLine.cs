namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// The syntax of one field line, <c>field-name ":" OWS field-value OWS</c> (RFC 9112 §5), for a head and for a chunked
/// body's trailers alike. Everything RFC 9112 lets a recipient tolerate but that another hop may read differently is
/// refused: whitespace before the colon (§5.1, MUST reject), obs-fold (§5.2), control characters other than HTAB
/// in the value (NUL among them; RFC 9110 §5.5).
/// </summary>
internal static class FieldLine
{
    /// <param name="line">The line without its CRLF (bare CR and LF were refused when the line was found).</param>
    /// <param name="what">"header" or "trailer", for the reason.</param>
    /// <param name="name">Where the name is in <paramref name="line"/>.</param>
    /// <param name="value">Where the value is, its leading and trailing whitespace excluded.</param>
    public static bool TryParse(ReadOnlySpan<byte> line, string what, out Range name, out Range value, out string? error)
    {
        name = default;
        value = default;
        if (Http1Syntax.IsWhitespace(line[0]))
        {
            error = $"obs-fold ({what} line starting with whitespace)";
            return false;
        }
        var colon = line.IndexOf((byte)':');
        if (colon < 0)
        {
            error = $"{what} line without a colon";
            return false;
        }
        if (colon == 0)
        {
            error = $"empty {what} name";
            return false;
        }
        if (Http1Syntax.IsWhitespace(line[colon - 1]))
        {
            error = $"whitespace between {what} name and colon";
            return false;
        }
        if (!Http1Syntax.IsToken(line[..colon]))
        {
            error = $"invalid character in {what} name";
            return false;
        }

        var start = colon + 1 + Http1Syntax.WhitespaceLength(line[(colon + 1)..]);
        var end = line.Length;
        while (end > start && Http1Syntax.IsWhitespace(line[end - 1]))
        {
            end--;
        }
        foreach (var b in line[start..end])
        {
            if (!Http1Syntax.IsTextChar(b))
            {
                error = b == 0 ? $"NUL in {what} value" : $"control character 0x{b:X2} in {what} value";
                return false;
            }
        }
        name = ..colon;
        value = start..end;
        error = null;
        return true;
    }
}

using System.Text;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// The syntax of a status line, <c>HTTP-version SP 3DIGIT SP [reason-phrase]</c> (RFC 9112 §4), for HTTP/1.1 and
/// HTTP/1.0 only. One tolerance: the SP after the status code may be missing when the reason phrase is empty
/// (<c>HTTP/1.1 204</c>), as some servers send it and as curl, Go and .NET's own client accept — the line still ends in
/// CRLF, so nothing about where the message ends becomes ambiguous. A status code followed by anything else
/// (<c>200OK</c>, <c>2000</c>) is refused.
/// </summary>
internal static class StatusLine
{
    private const string Ok = "OK";

    public static bool TryParse(ReadOnlySpan<byte> line, out Http1Version version, out int statusCode, out string reasonPhrase, out string? error)
    {
        version = default;
        statusCode = 0;
        reasonPhrase = "";
        if (!line.StartsWith("HTTP/"u8))
        {
            error = "status line does not start with HTTP/";
            return false;
        }
        if (line.StartsWith("HTTP/1.1"u8))
        {
            version = Http1Version.Http11;
        }
        else if (line.StartsWith("HTTP/1.0"u8))
        {
            version = Http1Version.Http10;
        }
        else
        {
            error = $"unsupported HTTP version in status line ('{Http1Syntax.Excerpt(Encoding.Latin1.GetString(line[..Math.Min(line.Length, 12)]))}')";
            return false;
        }
        if (line.Length < 9 || line[8] != Http1Syntax.SP)
        {
            error = line.Length > 8 && char.IsAsciiDigit((char)line[8])
                ? "unsupported HTTP version in status line"
                : "no space after the HTTP version in status line";
            return false;
        }
        if (line.Length < 12 || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11]))
        {
            error = "status code is not three digits";
            return false;
        }
        statusCode = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        if (statusCode < 100)
        {
            error = $"status code {statusCode:D3} below 100";
            return false;
        }
        if (line.Length > 12 && line[12] != Http1Syntax.SP)
        {
            error = char.IsAsciiDigit((char)line[12])
                ? "status code is more than three digits"
                : "no space between status code and reason phrase";
            return false;
        }

        var reason = line.Length > 13 ? line[13..] : [];
        foreach (var b in reason)
        {
            if (!Http1Syntax.IsTextChar(b))
            {
                error = b == 0 ? "NUL in reason phrase" : $"control character 0x{b:X2} in reason phrase";
                return false;
            }
        }
        reasonPhrase = reason.SequenceEqual("OK"u8) ? Ok : Encoding.Latin1.GetString(reason);
        error = null;
        return true;
    }
}

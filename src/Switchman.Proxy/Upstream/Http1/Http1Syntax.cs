using System.Buffers;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>The byte classes of RFC 9110 §5.6 and RFC 9112 that the parsers are built from.</summary>
internal static class Http1Syntax
{
    public const byte CR = (byte)'\r';
    public const byte LF = (byte)'\n';
    public const byte SP = (byte)' ';
    public const byte HTAB = (byte)'\t';

    private static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>tchar: what a field name, a transfer coding or a chunk extension's name is made of.</summary>
    public static bool IsTokenChar(byte b) => TokenChars.Contains(b);

    /// <summary>1*tchar.</summary>
    public static bool IsToken(ReadOnlySpan<byte> s) => !s.IsEmpty && !s.ContainsAnyExcept(TokenChars);

    /// <summary>The index of the first byte that is not a tchar, or the length when all are.</summary>
    public static int TokenLength(ReadOnlySpan<byte> s)
    {
        var end = s.IndexOfAnyExcept(TokenChars);
        return end < 0 ? s.Length : end;
    }

    /// <summary>OWS / BWS: SP or HTAB.</summary>
    public static bool IsWhitespace(byte b) => b is SP or HTAB;

    /// <summary>The number of SP / HTAB bytes at the start of <paramref name="s"/>.</summary>
    public static int WhitespaceLength(ReadOnlySpan<byte> s)
    {
        var end = s.IndexOfAnyExcept(SP, HTAB);
        return end < 0 ? s.Length : end;
    }

    /// <summary>
    /// What a field value or a reason phrase may hold: VCHAR, obs-text (0x80-0xFF), SP and HTAB — no other control
    /// character, DEL included.
    /// </summary>
    public static bool IsTextChar(byte b) => b == HTAB || (b >= 0x20 && b != 0x7F);

    /// <summary>The value of a hexadecimal digit (either case), or -1.</summary>
    public static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    /// <summary>
    /// A short, printable excerpt of a value the backend sent, for a reason string that a log line shows: at most
    /// 40 characters, control characters replaced (they are what made some values invalid in the first place).
    /// </summary>
    public static string Excerpt(ReadOnlySpan<char> value)
    {
        const int Max = 40;
        var cut = value.Length > Max ? value[..Max] : value;
        Span<char> chars = stackalloc char[cut.Length];
        for (var i = 0; i < cut.Length; i++)
        {
            chars[i] = char.IsControl(cut[i]) ? '?' : cut[i];
        }
        return value.Length > Max ? $"{chars}…" : chars.ToString();
    }
}

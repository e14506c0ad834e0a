namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// Field names that nearly every response carries, as constant strings: a parsed head refers to these instead of
/// allocating the same name again for every response. Field names are case-insensitive (RFC 9110 §5.1), so a
/// backend's <c>content-length</c> comes back as <see cref="ContentLength"/>.
/// </summary>
internal static class KnownHeaderNames
{
    public const string AcceptRanges = "Accept-Ranges";
    public const string CacheControl = "Cache-Control";
    public const string Connection = "Connection";
    public const string ContentEncoding = "Content-Encoding";
    public const string ContentLength = "Content-Length";
    public const string ContentType = "Content-Type";
    public const string Date = "Date";
    public const string ETag = "ETag";
    public const string Expires = "Expires";
    public const string KeepAlive = "Keep-Alive";
    public const string LastModified = "Last-Modified";
    public const string Location = "Location";
    public const string Server = "Server";
    public const string SetCookie = "Set-Cookie";
    public const string TransferEncoding = "Transfer-Encoding";
    public const string Vary = "Vary";

    private static readonly string[] All =
    [
        AcceptRanges, CacheControl, Connection, ContentEncoding, ContentLength, ContentType, Date, ETag, Expires,
        KeepAlive, LastModified, Location, Server, SetCookie, TransferEncoding, Vary,
    ];

    /// <summary>The constant for a field name (a token, so ASCII), or null when it is not one of these.</summary>
    public static string? Find(ReadOnlySpan<byte> name)
    {
        foreach (var known in All)
        {
            if (known.Length == name.Length && System.Text.Ascii.EqualsIgnoreCase(name, known))
            {
                return known;
            }
        }
        return null;
    }
}

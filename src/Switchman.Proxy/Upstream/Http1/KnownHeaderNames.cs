using Microsoft.Net.Http.Headers;

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// Field names that nearly every response carries, as ASP.NET Core's own <see cref="HeaderNames"/> strings: a parsed
/// head refers to these instead of allocating the same name again for every response (and Kestrel's header collections
/// recognise them by reference). Field names are case-insensitive (RFC 9110 §5.1), so a backend's <c>content-length</c>
/// comes back as <see cref="HeaderNames.ContentLength"/>.
/// </summary>
internal static class KnownHeaderNames
{
    private static readonly string[] All =
    [
        HeaderNames.AcceptRanges, HeaderNames.CacheControl, HeaderNames.Connection, HeaderNames.ContentEncoding,
        HeaderNames.ContentLength, HeaderNames.ContentType, HeaderNames.Date, HeaderNames.ETag, HeaderNames.Expires,
        HeaderNames.KeepAlive, HeaderNames.LastModified, HeaderNames.Location, HeaderNames.Server, HeaderNames.SetCookie,
        HeaderNames.TransferEncoding, HeaderNames.Vary,
    ];

    /// <summary>The shared string for a field name (a token, so ASCII), or null when it is not one of these.</summary>
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

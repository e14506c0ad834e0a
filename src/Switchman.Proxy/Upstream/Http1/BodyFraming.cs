using Microsoft.Net.Http.Headers;
namespace Switchman.Proxy.Upstream.Http1;

/// <summary>What a parsed head means for the exchange.</summary>
internal enum FramingOutcome
{
    /// <summary>The final response: read its body as <see cref="BodyFraming.Body"/> says.</summary>
    Final,

    /// <summary>A 1xx interim response (100, 102, 103, …): it has no body; parse the next head on the same connection.</summary>
    Interim,

    /// <summary>101 Switching Protocols: not supported by this path; the connection cannot be used further.</summary>
    Upgrade,

    /// <summary>The framing is ambiguous or refused (a request smuggling or desync risk): close the connection.</summary>
    Invalid,
}

/// <summary>How the body of a final response is delimited (RFC 9112 §6.3).</summary>
internal enum BodyKind
{
    /// <summary>No body: a response to HEAD, a 1xx, 204 or 304.</summary>
    None,

    /// <summary>Transfer-Encoding: chunked; read with <see cref="ChunkedBodyDecoder"/>.</summary>
    Chunked,

    /// <summary>Content-Length bytes; count them with <see cref="FixedLengthBody"/>.</summary>
    FixedLength,

    /// <summary>Neither: the body ends when the backend closes the connection.</summary>
    UntilClose,
}

/// <summary>
/// Where a response's body ends and whether the connection may carry another request after it: the decision that,
/// taken differently by two hops, is a request smuggling or response desync. Every doubt is refused rather than
/// guessed (RFC 9112 §6.3 and §11.2):
/// <list type="bullet">
/// <item>Transfer-Encoding together with Content-Length is refused (RFC 9112 §6.3 ¶3 allows acting on TE alone).</item>
/// <item>Transfer-Encoding must be exactly <c>chunked</c>, once: a final coding other than chunked is refused rather than
/// read until close, and so is any coding before chunked (this path decodes none).</item>
/// <item>Transfer-Encoding in an HTTP/1.0 response is refused (§6.1: the framing is faulty).</item>
/// <item>Content-Length must be plain decimal digits that fit a long. Repeated values (several lines, or a comma list)
/// are accepted when they are all the same number, as RFC 9110 §8.6 allows and as HAProxy, Go and curl do: the length
/// is not in doubt. Different values are refused.</item>
/// <item>A 1xx with a body (Transfer-Encoding, or Content-Length above 0) is refused: the next head would be read from
/// inside it. A 204 carrying one is answered as having no body, as the status says, but its connection is not
/// reused, so that bytes the backend may still send are never read as the next response.</item>
/// </list>
/// The framing headers are checked in every response, also where the status or a HEAD request means there is no body:
/// such a response is forwarded, and what it says must not be ambiguous either.
/// </summary>
/// <param name="Length">The body's length for <see cref="BodyKind.FixedLength"/>; 0 otherwise.</param>
/// <param name="Reusable">
/// Whether the connection may carry the next request once this body is read: HTTP/1.1 without a <c>close</c> token in
/// Connection, or HTTP/1.0 with a <c>keep-alive</c> token (and no <c>close</c>); never after a body read until close.
/// Meaningful for <see cref="FramingOutcome.Final"/> only.
/// </param>
/// <param name="Error">Why, for <see cref="FramingOutcome.Invalid"/> and <see cref="FramingOutcome.Upgrade"/>.</param>
internal readonly record struct BodyFraming(FramingOutcome Outcome, BodyKind Body, long Length, bool Reusable, string? Error)
{
    private const string Chunked = "chunked";

    /// <param name="requestWasHead">The request was HEAD: the response has no body whatever its headers say.</param>
    public static BodyFraming Decide(ResponseHead head, bool requestWasHead)
    {
        long? contentLength = null;
        var transferEncoding = false;
        var codings = 0;
        var chunkedCount = 0;
        var finalIsChunked = false;
        string? firstOther = null;
        string? finalOther = null;
        var close = false;
        var keepAlive = false;
        foreach (var (name, value) in head.Headers)
        {
            if (name.Equals(HeaderNames.ContentLength, StringComparison.OrdinalIgnoreCase))
            {
                if (ContentLengthError(value, ref contentLength) is { } error)
                {
                    return Refuse(error);
                }
            }
            else if (name.Equals(HeaderNames.TransferEncoding, StringComparison.OrdinalIgnoreCase))
            {
                transferEncoding = true;
                foreach (var range in value.AsSpan().Split(','))
                {
                    var coding = value.AsSpan()[range].Trim(" \t");
                    if (coding.IsEmpty)
                    {
                        continue; // RFC 9110 §5.6.1: empty list elements are ignored.
                    }
                    codings++;
                    finalIsChunked = coding.Equals(Chunked, StringComparison.OrdinalIgnoreCase);
                    if (finalIsChunked)
                    {
                        chunkedCount++;
                    }
                    else
                    {
                        // Only a response about to be refused gets here: the strings are for its reason.
                        finalOther = coding.ToString();
                        firstOther ??= finalOther;
                    }
                }
            }
            else if (name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase))
            {
                close |= HasToken(value, "close");
                keepAlive |= HasToken(value, "keep-alive");
            }
        }

        if (transferEncoding)
        {
            if (contentLength is not null)
            {
                return Refuse("both Transfer-Encoding and Content-Length");
            }
            if (head.Version == Http1Version.Http10)
            {
                return Refuse("Transfer-Encoding in an HTTP/1.0 response");
            }
            if (codings == 0)
            {
                return Refuse("empty Transfer-Encoding");
            }
            if (chunkedCount > 1)
            {
                return Refuse("chunked applied more than once in Transfer-Encoding");
            }
            if (!finalIsChunked)
            {
                return Refuse($"Transfer-Encoding whose final coding is not chunked ('{Http1Syntax.Excerpt(finalOther)}')");
            }
            if (firstOther is not null)
            {
                return Refuse($"Transfer-Encoding '{Http1Syntax.Excerpt(firstOther)}' before chunked: only chunked is supported");
            }
        }

        var persistent = head.Version == Http1Version.Http11 ? !close : keepAlive && !close;
        var hasBodyFraming = transferEncoding || contentLength > 0;
        switch (head.StatusCode)
        {
            case 101:
                return new BodyFraming(FramingOutcome.Upgrade, BodyKind.None, 0, false,
                    "101 Switching Protocols: upgrades are not supported by this path");
            case < 200:
                return hasBodyFraming
                    ? Refuse($"a {head.StatusCode} (1xx) response with a body")
                    : new BodyFraming(FramingOutcome.Interim, BodyKind.None, 0, false, null);
            case 204:
                return Final(BodyKind.None, 0, persistent && !hasBodyFraming);
            case 304:
                return Final(BodyKind.None, 0, persistent);
        }
        if (requestWasHead)
        {
            return Final(BodyKind.None, 0, persistent);
        }
        if (transferEncoding)
        {
            return Final(BodyKind.Chunked, 0, persistent);
        }
        return contentLength is { } length
            ? Final(BodyKind.FixedLength, length, persistent)
            : Final(BodyKind.UntilClose, 0, false);
    }

    private static BodyFraming Final(BodyKind body, long length, bool reusable) => new(FramingOutcome.Final, body, length, reusable, null);

    private static BodyFraming Refuse(string error) => new(FramingOutcome.Invalid, BodyKind.None, 0, false, error);

    /// <summary>Folds one Content-Length field value (maybe a comma list) into <paramref name="length"/>; the reason it is refused, or null.</summary>
    private static string? ContentLengthError(string value, ref long? length)
    {
        foreach (var range in value.AsSpan().Split(','))
        {
            var element = value.AsSpan()[range].Trim(" \t");
            if (element.IsEmpty || element.ContainsAnyExceptInRange('0', '9'))
            {
                return $"Content-Length not a plain decimal ('{Http1Syntax.Excerpt(value)}')";
            }
            if (!long.TryParse(element, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            {
                return $"Content-Length larger than {long.MaxValue} ('{Http1Syntax.Excerpt(value)}')";
            }
            if (length is { } earlier && earlier != parsed)
            {
                return $"different Content-Length values ({earlier} and {parsed})";
            }
            length = parsed;
        }
        return null;
    }

    /// <summary>Whether a comma-separated token list holds <paramref name="token"/>, in any case (RFC 9110 §7.6.1).</summary>
    private static bool HasToken(string value, string token)
    {
        foreach (var range in value.AsSpan().Split(','))
        {
            if (value.AsSpan()[range].Trim(" \t").Equals(token, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }
}

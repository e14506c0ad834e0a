namespace Switchman.Proxy.Upstream.Http1;

/// <summary>The two protocol versions this path speaks with a backend.</summary>
internal enum Http1Version
{
    Http10,
    Http11,
}

/// <summary>A parsed status line and header section. It says nothing yet about the body: see <see cref="BodyFraming"/>.</summary>
internal sealed class ResponseHead(Http1Version version, int statusCode, string reasonPhrase, IReadOnlyList<HeaderField> headers, long length)
{
    public Http1Version Version { get; } = version;

    /// <summary>100 to 999.</summary>
    public int StatusCode { get; } = statusCode;

    /// <summary>Possibly empty; bytes 0x80-0xFF read as Latin-1.</summary>
    public string ReasonPhrase { get; } = reasonPhrase;

    /// <summary>Every field line, in order, repeated names included.</summary>
    public IReadOnlyList<HeaderField> Headers { get; } = headers;

    /// <summary>The head's size on the wire, its final empty line included.</summary>
    public long Length { get; } = length;
}

namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// How much of a backend's response head (and of a chunked body's metadata) the parsers accept before they give up.
/// Every limit is checked as the bytes arrive, so a backend that sends an endless line or head makes the parser answer
/// "invalid" once the limit is crossed, never "need more data" forever: what a connection buffers stays bounded.
/// </summary>
/// <param name="MaxLineLength">Bytes in one line, its CRLF not counted: the status line, a field line, a chunk-size line.</param>
/// <param name="MaxHeadSize">Bytes of a whole head (status line, field lines and CRLFs), and of a chunked body's trailer section.</param>
/// <param name="MaxFieldCount">Field lines in a head, and in a trailer section.</param>
internal sealed record Http1Limits(int MaxLineLength = 8192, int MaxHeadSize = 64 * 1024, int MaxFieldCount = 100)
{
    /// <summary>8 KiB lines, 64 KiB heads, 100 fields: above what real backends send, like Kestrel's and HAProxy's defaults.</summary>
    public static Http1Limits Default { get; } = new();

    public int MaxLineLength { get; } = MaxLineLength > 0 ? MaxLineLength : throw new ArgumentOutOfRangeException(nameof(MaxLineLength));

    public int MaxHeadSize { get; } = MaxHeadSize > 0 ? MaxHeadSize : throw new ArgumentOutOfRangeException(nameof(MaxHeadSize));

    public int MaxFieldCount { get; } = MaxFieldCount > 0 ? MaxFieldCount : throw new ArgumentOutOfRangeException(nameof(MaxFieldCount));
}

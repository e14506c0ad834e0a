using Microsoft.Net.Http.Headers;
using Switchman.Proxy.Upstream.Http1;

namespace Switchman.Proxy.Tests.Upstream.Http1;

/// <summary>
/// Whole responses read the way the upstream path will read them (head, framing, body): a table of valid ones with
/// what they must parse to, and a corpus of malformed ones, each named by its problem, that must be refused with a
/// reason naming it. Each case is also read byte by byte, which must not change the outcome.
/// </summary>
public sealed class ResponseCorpusTests
{
    private sealed record Valid(
        string Raw, int Status, BodyKind Body, long Length, bool Reusable, string Content = "", bool Head = false,
        string? Headers = null, int Responses = 1);

    private static readonly string LongValue = new('a', 8192 - "X-Long: ".Length);

    private static readonly Dictionary<string, Valid> ValidCases = new()
    {
        ["Content-Length body"] = new(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
            200, BodyKind.FixedLength, 5, true, "hello", Headers: "content-length: 5 | content-type: text/plain"),
        ["Content-Length 0"] = new("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, BodyKind.FixedLength, 0, true),
        ["chunked body"] = new(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
            200, BodyKind.Chunked, 0, true, "hello world"),
        ["chunked with extensions and trailers"] = new(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value;flag ; q = \"a \\\"b\\\"\"\r\nhello\r\n0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
            200, BodyKind.Chunked, 0, true, "hello"),
        ["chunk sizes in upper-case hex with leading zeros"] = new(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00A\r\n0123456789\r\n0000\r\n\r\n",
            200, BodyKind.Chunked, 0, true, "0123456789"),
        ["Transfer-Encoding in any case, with an empty list element"] = new(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: , Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", 200, BodyKind.Chunked, 0, true, "x"),
        ["no framing: the body runs until close"] = new(
            "HTTP/1.1 200 OK\r\nServer: x\r\n\r\nuntil the end", 200, BodyKind.UntilClose, 0, false, "until the end"),
        ["HTTP/1.0 with Content-Length is not reusable"] = new(
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", 200, BodyKind.FixedLength, 2, false, "hi"),
        ["HTTP/1.0 with keep-alive is reusable"] = new(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", 200, BodyKind.FixedLength, 2, true, "hi"),
        ["HTTP/1.0 with keep-alive and close is not reusable"] = new(
            "HTTP/1.0 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 2\r\n\r\nhi", 200, BodyKind.FixedLength, 2, false, "hi"),
        ["HTTP/1.0 with keep-alive but no framing runs until close"] = new(
            "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nhi", 200, BodyKind.UntilClose, 0, false, "hi"),
        ["Connection: close"] = new(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", 200, BodyKind.FixedLength, 2, false, "hi"),
        ["close in a Connection list, in upper case, on a second line"] = new(
            "HTTP/1.1 200 OK\r\nConnection: upgrade\r\nConnection: te ,CLOSE\r\nContent-Length: 0\r\n\r\n", 200, BodyKind.FixedLength, 0, false),
        ["Connection: closed is not close"] = new(
            "HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n", 200, BodyKind.FixedLength, 0, true),
        ["HEAD response with Content-Length has no body"] = new(
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 200, BodyKind.None, 0, true, Head: true),
        ["HEAD response with chunked has no body"] = new(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 200, BodyKind.None, 0, true, Head: true),
        ["204 without reason phrase or its space"] = new(
            "HTTP/1.1 204\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", 204, BodyKind.None, 0, true,
            Headers: "date: Sun, 06 Nov 1994 08:49:37 GMT"),
        ["204 with an empty reason phrase"] = new("HTTP/1.1 204 \r\n\r\n", 204, BodyKind.None, 0, true),
        ["204 with Content-Length 0"] = new("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", 204, BodyKind.None, 0, true),
        ["204 with chunked has no body and is not reused"] = new(
            "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\n\r\n", 204, BodyKind.None, 0, false),
        ["204 with a Content-Length above 0 has no body and is not reused"] = new(
            "HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n", 204, BodyKind.None, 0, false),
        ["304 with Content-Length has no body"] = new(
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: \"x\"\r\n\r\n", 304, BodyKind.None, 0, true),
        ["100 Continue, then the response"] = new(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
            201, BodyKind.FixedLength, 1, true, "x", Responses: 2),
        ["102 and 103 Early Hints, then the response"] = new(
            "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n\r\n" +
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            200, BodyKind.FixedLength, 0, true, Responses: 3),
        ["identical Content-Length lines"] = new(
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 200, BodyKind.FixedLength, 5, true, "hello"),
        ["identical Content-Length list"] = new(
            "HTTP/1.1 200 OK\r\nContent-Length: 5 ,5\r\n\r\nhello", 200, BodyKind.FixedLength, 5, true, "hello"),
        ["Content-Length with leading zeros"] = new(
            "HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n1234567", 200, BodyKind.FixedLength, 7, true, "1234567"),
        ["whitespace around a value is not part of it"] = new(
            "HTTP/1.1 200 OK\r\nX-A:  \t pad\t ded \t \r\nContent-Length: 0\r\n\r\n", 200, BodyKind.FixedLength, 0, true,
            Headers: "x-a: pad\t ded | content-length: 0"),
        ["an empty value"] = new(
            "HTTP/1.1 200 OK\r\nX-Empty:\r\nX-Blank: \t\r\nContent-Length: 0\r\n\r\n", 200, BodyKind.FixedLength, 0, true,
            Headers: "x-empty:  | x-blank:  | content-length: 0"),
        ["obs-text in the reason phrase and a value"] = new(
            "HTTP/1.1 200 Tr\u00e8s bien\r\nX-Name: caf\u00e9 \u00ff\r\nContent-Length: 0\r\n\r\n", 200, BodyKind.FixedLength, 0, true,
            Headers: "x-name: caf\u00e9 \u00ff | content-length: 0"),
        ["status 999 and a reason phrase with a tab"] = new(
            "HTTP/1.1 999 Some\tthing\r\nContent-Length: 0\r\n\r\n", 999, BodyKind.FixedLength, 0, true),
        ["a header line of exactly 8192 bytes"] = new(
            $"HTTP/1.1 200 OK\r\nX-Long: {LongValue}\r\nContent-Length: 0\r\n\r\n", 200, BodyKind.FixedLength, 0, true),
    };

    private static readonly string Chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

    /// <summary>Name → (response, words the reason must hold).</summary>
    private static readonly Dictionary<string, (string Raw, string Reason)> MalformedCases = new()
    {
        // status line
        ["HTTP/1.1 20 OK"] = ("HTTP/1.1 20 OK\r\n\r\n", "status code is not three digits"),
        ["HTTP/1.1 200OK"] = ("HTTP/1.1 200OK\r\n\r\n", "no space between status code and reason phrase"),
        ["HTTP/1.1 2000 OK"] = ("HTTP/1.1 2000 OK\r\n\r\n", "status code is more than three digits"),
        ["HTTP/1.1 099 status below 100"] = ("HTTP/1.1 099 Low\r\n\r\n", "status code 099 below 100"),
        ["HTTP/1.1 abc OK"] = ("HTTP/1.1 abc OK\r\n\r\n", "status code is not three digits"),
        ["two spaces before the status"] = ("HTTP/1.1  200 OK\r\n\r\n", "status code is not three digits"),
        ["HTTP/2"] = ("HTTP/2 200 OK\r\n\r\n", "unsupported HTTP version"),
        ["HTTP/1.2"] = ("HTTP/1.2 200 OK\r\n\r\n", "unsupported HTTP version"),
        ["HTTP/1.10"] = ("HTTP/1.10 200 OK\r\n\r\n", "unsupported HTTP version"),
        ["lower-case http"] = ("http/1.1 200 OK\r\n\r\n", "does not start with HTTP/"),
        ["a request line"] = ("GET / HTTP/1.1\r\n\r\n", "does not start with HTTP/"),
        ["an empty line before the status line"] = ("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "does not start with HTTP/"),
        ["control character in the reason phrase"] = ("HTTP/1.1 200 O\u0001K\r\n\r\n", "control character 0x01 in reason phrase"),
        ["NUL in the reason phrase"] = ("HTTP/1.1 200 O\0K\r\n\r\n", "NUL in reason phrase"),
        ["bare LF ending the status line"] = ("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare LF in status line"),
        ["bare CR in the status line"] = ("HTTP/1.1 200 O\rK\r\n\r\n", "bare CR in status line"),
        ["status line longer than 8192 bytes"] = ($"HTTP/1.1 200 {new string('a', 8192)}\r\n\r\n", "status line longer than 8192 bytes"),

        // header fields
        ["bare LF ending a header line"] = ("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", "bare LF in header line"),
        ["bare LF ending the head"] = ("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", "bare LF in header line"),
        ["bare CR in a value"] = ("HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n", "bare CR in header line"),
        ["obs-fold"] = ("HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", "obs-fold (header line starting with whitespace)"),
        ["obs-fold with a tab"] = ("HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n\r\n", "obs-fold"),
        ["whitespace before the first header line"] = ("HTTP/1.1 200 OK\r\n X: a\r\n\r\n", "obs-fold"),
        ["space before the colon"] = ("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", "whitespace between header name and colon"),
        ["tab before the colon"] = ("HTTP/1.1 200 OK\r\nTransfer-Encoding\t: chunked\r\n\r\n", "whitespace between header name and colon"),
        ["empty header name"] = ("HTTP/1.1 200 OK\r\n: x\r\n\r\n", "empty header name"),
        ["header line without a colon"] = ("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "header line without a colon"),
        ["a parenthesis in a name"] = ("HTTP/1.1 200 OK\r\nX(y): z\r\n\r\n", "invalid character in header name"),
        ["a space inside a name"] = ("HTTP/1.1 200 OK\r\nContent Length: 5\r\n\r\n", "invalid character in header name"),
        ["NUL in a value"] = ("HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n", "NUL in header value"),
        ["DEL in a value"] = ("HTTP/1.1 200 OK\r\nX: a\u007fb\r\n\r\n", "control character 0x7F in header value"),
        ["ESC in a value"] = ("HTTP/1.1 200 OK\r\nX: a\u001bb\r\n\r\n", "control character 0x1B in header value"),
        ["header line longer than 8192 bytes"] = ($"HTTP/1.1 200 OK\r\nX-Long: {LongValue}a\r\n\r\n", "header line longer than 8192 bytes"),
        ["head larger than 64 KiB"] = (
            "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, 9).Select(i => $"X-{i}: {new string('a', 8000)}\r\n")) + "\r\n",
            "response head larger than 65536 bytes"),
        ["more than 100 header fields"] = (
            "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: a\r\n")) + "\r\n",
            "more than 100 header fields"),

        // framing
        ["Content-Length and Transfer-Encoding"] = (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "both Transfer-Encoding and Content-Length"),
        ["Transfer-Encoding and Content-Length"] = (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", "both Transfer-Encoding and Content-Length"),
        ["Content-Length and Transfer-Encoding in a 304"] = (
            "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", "both Transfer-Encoding and Content-Length"),
        ["two different Content-Length lines"] = (
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "different Content-Length values (5 and 6)"),
        ["two different Content-Length values in a list"] = (
            "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!", "different Content-Length values"),
        ["Content-Length: +5"] = ("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello", "Content-Length not a plain decimal ('+5')"),
        ["Content-Length: -1"] = ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length not a plain decimal"),
        ["Content-Length: 0x10"] = ("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", "Content-Length not a plain decimal ('0x10')"),
        ["Content-Length: 1 2"] = ("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n", "Content-Length not a plain decimal"),
        ["Content-Length: 5.0"] = ("HTTP/1.1 200 OK\r\nContent-Length: 5.0\r\n\r\nhello", "Content-Length not a plain decimal"),
        ["Content-Length: 5, (an empty list element)"] = ("HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\nhello", "Content-Length not a plain decimal"),
        ["empty Content-Length"] = ("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "Content-Length not a plain decimal"),
        ["Content-Length overflowing a long"] = (
            "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775808\r\n\r\n", "Content-Length larger than 9223372036854775807"),
        ["Transfer-Encoding: gzip"] = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", "final coding is not chunked ('gzip')"),
        ["Transfer-Encoding: identity"] = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nxx", "final coding is not chunked"),
        ["Transfer-Encoding: chunked, gzip"] = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxx", "final coding is not chunked ('gzip')"),
        ["Transfer-Encoding: chunked, chunked"] = (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", "chunked applied more than once"),
        ["Transfer-Encoding: chunked on two lines"] = (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "chunked applied more than once"),
        ["Transfer-Encoding: gzip, chunked"] = (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "'gzip' before chunked: only chunked is supported"),
        ["empty Transfer-Encoding"] = ("HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n", "empty Transfer-Encoding"),
        ["Transfer-Encoding in HTTP/1.0"] = (
            "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "Transfer-Encoding in an HTTP/1.0 response"),
        ["100 Continue with a body"] = ("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhello", "a 100 (1xx) response with a body"),
        ["103 with chunked"] = ("HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "a 103 (1xx) response with a body"),

        // chunked body
        ["chunk size ffffffffffffffffff"] = (Chunked + "ffffffffffffffffff\r\n", "chunk size overflows"),
        ["chunk size 8000000000000000 (2^63)"] = (Chunked + "8000000000000000\r\n", "chunk size overflows"),
        ["chunk size of 17 digits"] = (Chunked + "00000000000000001\r\nx\r\n0\r\n\r\n", "chunk size has more than 16 hex digits"),
        ["chunk size +5"] = (Chunked + "+5\r\nhello\r\n0\r\n\r\n", "chunk size is not a hexadecimal number"),
        ["chunk size -1"] = (Chunked + "-1\r\n", "chunk size is not a hexadecimal number"),
        ["chunk size 0x5"] = (Chunked + "0x5\r\nhello\r\n0\r\n\r\n", "invalid character after chunk size"),
        ["chunk size with a leading space"] = (Chunked + " 5\r\nhello\r\n0\r\n\r\n", "chunk size is not a hexadecimal number"),
        ["chunk size with a trailing space"] = (Chunked + "5 \r\nhello\r\n0\r\n\r\n", "whitespace at the end of a chunk size line"),
        ["empty chunk size line"] = (Chunked + "\r\nhello\r\n0\r\n\r\n", "chunk size is not a hexadecimal number"),
        ["bare LF after a chunk size"] = (Chunked + "5\nhello\r\n0\r\n\r\n", "bare LF in chunk size line"),
        ["no CRLF after a chunk's data"] = (Chunked + "5\r\nhelloXX\r\n0\r\n\r\n", "chunk data not followed by CRLF"),
        ["chunk data longer than its size"] = (Chunked + "3\r\nhello\r\n0\r\n\r\n", "chunk data not followed by CRLF"),
        ["LF alone after a chunk's data"] = (Chunked + "5\r\nhello\n0\r\n\r\n", "chunk data not followed by CRLF"),
        ["CR then not LF after a chunk's data"] = (Chunked + "5\r\nhello\rX0\r\n\r\n", "chunk data not followed by CRLF"),
        ["chunk extension without a name"] = (Chunked + "5;\r\nhello\r\n0\r\n\r\n", "bad chunk extension: no name"),
        ["chunk extension with = and no value"] = (Chunked + "5;a=\r\nhello\r\n0\r\n\r\n", "bad chunk extension: no value"),
        ["chunk extension with an unterminated quoted string"] = (Chunked + "5;a=\"x\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
        ["chunk extension with a control character in a quoted string"] = (Chunked + "5;a=\"x\u0001\"\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
        ["chunk extension with a space inside its name"] = (Chunked + "5;a b\r\nhello\r\n0\r\n\r\n", "bad chunk extension"),
        ["chunk extension with a trailing space"] = (Chunked + "5;a=b \r\nhello\r\n0\r\n\r\n", "whitespace at the end of a chunk size line"),
        ["chunk size line longer than 8192 bytes"] = (Chunked + $"5;a={new string('b', 8192)}\r\nhello\r\n0\r\n\r\n", "chunk size line longer than 8192 bytes"),
        ["obs-fold in the trailers"] = (Chunked + "0\r\nX: a\r\n b\r\n\r\n", "obs-fold (trailer line starting with whitespace)"),
        ["NUL in a trailer value"] = (Chunked + "0\r\nX: a\0\r\n\r\n", "NUL in trailer value"),
        ["space before a trailer's colon"] = (Chunked + "0\r\nX : a\r\n\r\n", "whitespace between trailer name and colon"),
        ["garbage instead of the final CRLF"] = (Chunked + "0\r\nHTTP/1.1 200 OK\r\n\r\n", "trailer line without a colon"),
        ["bare LF instead of the final CRLF"] = (Chunked + "0\r\n\n", "bare LF in trailer line"),
        ["trailer line longer than 8192 bytes"] = (Chunked + $"0\r\nX-Long: {LongValue}a\r\n\r\n", "trailer line longer than 8192 bytes"),
        ["more than 100 trailer fields"] = (
            Chunked + "0\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: a\r\n")) + "\r\n", "more than 100 trailer fields"),
        ["trailer section larger than 64 KiB"] = (
            Chunked + "0\r\n" + string.Concat(Enumerable.Range(0, 9).Select(i => $"X-{i}: {new string('a', 8000)}\r\n")) + "\r\n",
            "trailer section larger than 65536 bytes"),
    };

    public static TheoryData<string> ValidNames => [.. ValidCases.Keys];

    public static TheoryData<string> MalformedNames => [.. MalformedCases.Keys];

    [Theory]
    [MemberData(nameof(ValidNames))]
    public void Read_ValidResponse_ParsesToItsStatusHeadersFramingAndBody(string name)
    {
        var valid = ValidCases[name];

        var transcript = ReadWholeAndByteByByte(valid.Raw, valid.Head);

        Assert.Equal(valid.Responses, transcript.Responses.Count);
        Assert.All(transcript.Responses.SkipLast(1), r => Assert.Equal(FramingOutcome.Interim, r.Framing.Outcome));
        var response = transcript.Responses[^1];
        Assert.Equal(valid.Status, response.Head.StatusCode);
        Assert.Equal(new BodyFraming(FramingOutcome.Final, valid.Body, valid.Length, valid.Reusable, null), response.Framing);
        Assert.Equal(valid.Content, System.Text.Encoding.Latin1.GetString(response.Body));
        if (valid.Headers is not null)
        {
            Assert.Equal(valid.Headers, string.Join(" | ", response.Head.Headers.Select(h => $"{h.Name.ToLowerInvariant()}: {h.Value}")));
        }
        Assert.Equal(valid.Reusable ? "clean" : "closed, 0 bytes left", transcript.End);
    }

    [Theory]
    [MemberData(nameof(MalformedNames))]
    public void Read_MalformedResponse_IsInvalidWithAReasonNamingTheProblem(string name)
    {
        var (raw, reason) = MalformedCases[name];

        var transcript = ReadWholeAndByteByByte(raw, head: false);

        Assert.StartsWith("invalid: ", transcript.End, StringComparison.Ordinal);
        Assert.Contains(reason, transcript.End, StringComparison.Ordinal);
        Assert.Empty(transcript.Responses);
    }

    [Fact]
    public void Read_101SwitchingProtocols_IsAnUpgradeThisPathDoesNotSupport()
    {
        var transcript = ExchangeReader.Read("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u0081\u0005hello");

        Assert.Equal("upgrade: 101 Switching Protocols: upgrades are not supported by this path", transcript.End);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Len")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r")]
    public void Read_InputEndingInsideAMessage_IsTruncated(string raw) =>
        Assert.Equal("truncated", ReadWholeAndByteByByte(raw, head: false).End);

    [Fact]
    public void Read_WellKnownFieldNames_AreTheConstantStringsInTheirUsualCase()
    {
        var head = ExchangeReader.Read("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nCONTENT-TYPE: a/b\r\nX-Custom: 1\r\n\r\n").Single().Head;

        Assert.Same(HeaderNames.ContentLength, head.Headers[0].Name);
        Assert.Same(HeaderNames.ContentType, head.Headers[1].Name);
        Assert.Equal("X-Custom", head.Headers[2].Name);
        Assert.Same("OK", head.ReasonPhrase);
    }

    /// <summary>
    /// Reads the input whole, then one byte per read (in reads of 61 bytes past 4 KiB: a trickled 64 KiB head is
    /// slow to simulate, one segment per read, and no faster to get wrong): both must come to the same.
    /// </summary>
    private static Transcript ReadWholeAndByteByByte(string raw, bool head)
    {
        var bytes = System.Text.Encoding.Latin1.GetBytes(raw);
        var whole = ExchangeReader.Read(bytes, [], [head]);
        var step = bytes.Length <= 4096 ? 1 : 61;
        var trickled = ExchangeReader.Read(bytes, Enumerable.Range(1, bytes.Length / step).Select(i => i * step), [head]);
        Assert.Equal(whole.Describe(), trickled.Describe());
        return whole;
    }
}

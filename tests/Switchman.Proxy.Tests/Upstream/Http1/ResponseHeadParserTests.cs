using System.Buffers;
using System.Text;
using Microsoft.Net.Http.Headers;
using Switchman.Proxy.Upstream.Http1;

namespace Switchman.Proxy.Tests.Upstream.Http1;

/// <summary>The head parser's contract with its caller: what it consumes, what it examines, when it gives up.</summary>
public sealed class ResponseHeadParserTests
{
    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.Latin1.GetBytes(text));

    [Fact]
    public void Parse_HeadFollowedByBody_ConsumesExactlyTheHead()
    {
        const string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
        var buffer = Bytes(head + "hello");

        var result = new ResponseHeadParser(Http1Limits.Default).Parse(buffer);

        Assert.Equal(HeadParseStatus.Done, result.Status);
        Assert.Equal(head.Length, buffer.Slice(buffer.Start, result.Consumed).Length);
        Assert.Equal(head.Length, result.Head!.Length);
        Assert.Equal(Http1Version.Http11, result.Head.Version);
        Assert.Equal(new HeaderField("Content-Length", "5"), Assert.Single(result.Head.Headers));
    }

    [Fact]
    public void Parse_PartialHead_ConsumesTheWholeLinesAndExaminesEverything()
    {
        var buffer = Bytes("HTTP/1.1 200 OK\r\nA: b\r\nC: d");
        var parser = new ResponseHeadParser(Http1Limits.Default);

        var result = parser.Parse(buffer);

        Assert.Equal(HeadParseStatus.NeedMoreData, result.Status);
        Assert.Equal("HTTP/1.1 200 OK\r\nA: b\r\n".Length, buffer.Slice(buffer.Start, result.Consumed).Length);
        Assert.Equal(buffer.End, result.Examined);

        var rest = parser.Parse(Bytes("C: d\r\n\r\n"));
        Assert.Equal(HeadParseStatus.Done, rest.Status);
        Assert.Equal(["A", "C"], rest.Head!.Headers.Select(h => h.Name));
        Assert.Equal("HTTP/1.1 200 OK\r\nA: b\r\nC: d\r\n\r\n".Length, rest.Head.Length);
    }

    [Fact]
    public void Parse_EmptyBuffer_NeedsMoreDataAndConsumesNothing()
    {
        var result = new ResponseHeadParser(Http1Limits.Default).Parse(ReadOnlySequence<byte>.Empty);

        Assert.Equal(HeadParseStatus.NeedMoreData, result.Status);
        Assert.Equal(ReadOnlySequence<byte>.Empty.Start, result.Consumed);
    }

    [Fact]
    public void Parse_EndlessHeaderLine_IsInvalidOnceTheLineLimitIsPassed_NeverBufferingMore()
    {
        var parser = new ResponseHeadParser(Http1Limits.Default);
        Assert.Equal(HeadParseStatus.NeedMoreData, parser.Parse(Bytes("HTTP/1.1 200 OK\r\n")).Status);
        var pending = "X: ";

        HeadParseResult result;
        while (true)
        {
            pending += new string('a', 1000);
            var buffer = Bytes(pending);
            result = parser.Parse(buffer);
            if (result.Status != HeadParseStatus.NeedMoreData)
            {
                break;
            }
            pending = Encoding.Latin1.GetString(buffer.Slice(result.Consumed).ToArray());
            Assert.True(pending.Length <= 8192 + 1, $"{pending.Length} bytes buffered");
        }

        Assert.Equal(HeadParseStatus.Invalid, result.Status);
        Assert.Equal("header line longer than 8192 bytes", result.Error);
        Assert.True(pending.Length <= 8192 + 2 + 1000, $"gave up only after {pending.Length} bytes");
    }

    [Fact]
    public void Parse_EndlessHead_IsInvalidOnceTheHeadLimitIsPassed()
    {
        var limits = new Http1Limits(MaxLineLength: 100, MaxHeadSize: 1000, MaxFieldCount: 1000);
        var parser = new ResponseHeadParser(limits);
        var sent = "HTTP/1.1 200 OK\r\n".Length;
        Assert.Equal(HeadParseStatus.NeedMoreData, parser.Parse(Bytes("HTTP/1.1 200 OK\r\n")).Status);

        HeadParseResult result;
        do
        {
            result = parser.Parse(Bytes("X-Field: 0123456789\r\n"));
            sent += "X-Field: 0123456789\r\n".Length;
        }
        while (result.Status == HeadParseStatus.NeedMoreData);

        Assert.Equal("response head larger than 1000 bytes", result.Error);
        Assert.InRange(sent, 1001, 1000 + "X-Field: 0123456789\r\n".Length);
    }

    [Theory]
    [InlineData(100, true)]
    [InlineData(101, false)]
    public void Parse_FieldCount_IsLimited(int fields, bool accepted)
    {
        var expected = accepted ? HeadParseStatus.Done : HeadParseStatus.Invalid;
        var head = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, fields).Select(i => $"X-{i}: a\r\n")) + "\r\n";

        var result = new ResponseHeadParser(Http1Limits.Default).Parse(Bytes(head));

        Assert.Equal(expected, result.Status);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    public void Parse_HeadOfExactlyTheLimit_IsAccepted_OneByteMoreIsNot(int extra, bool accepted)
    {
        var expected = accepted ? HeadParseStatus.Done : HeadParseStatus.Invalid;
        var limits = new Http1Limits(MaxLineLength: 1000, MaxHeadSize: 200);
        var prefix = "HTTP/1.1 200 OK\r\nX: ";
        var head = prefix + new string('a', 200 - prefix.Length - 4 + extra) + "\r\n\r\n";

        var result = new ResponseHeadParser(limits).Parse(Bytes(head));

        Assert.Equal(expected, result.Status);
        if (expected == HeadParseStatus.Done)
        {
            Assert.Equal(200, result.Head!.Length);
        }
    }

    [Fact]
    public void Parse_AfterDone_ParsesTheNextHead_AndAfterInvalid_StaysInvalidUntilReset()
    {
        var parser = new ResponseHeadParser(Http1Limits.Default);
        Assert.Equal(100, parser.Parse(Bytes("HTTP/1.1 100 Continue\r\n\r\n")).Head!.StatusCode);
        Assert.Equal(200, parser.Parse(Bytes("HTTP/1.1 200 OK\r\n\r\n")).Head!.StatusCode);

        Assert.Equal(HeadParseStatus.Invalid, parser.Parse(Bytes("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n")).Status);
        var again = parser.Parse(Bytes("HTTP/1.1 200 OK\r\n\r\n"));
        Assert.Equal(HeadParseStatus.Invalid, again.Status);
        Assert.Equal("invalid character in header name", again.Error);

        parser.Reset();
        Assert.Equal(HeadParseStatus.Done, parser.Parse(Bytes("HTTP/1.1 200 OK\r\n\r\n")).Status);
    }

    [Fact]
    public void Parse_LineSplitAcrossSegments_ParsesAsOne()
    {
        var input = Encoding.Latin1.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n");
        var pipe = new ScriptedPipe(input, [3, 20, 21, 30, 44]);
        while (pipe.Receive())
        {
        }

        var result = new ResponseHeadParser(Http1Limits.Default).Parse(pipe.Buffer);

        Assert.False(pipe.Buffer.IsSingleSegment);
        Assert.Equal(HeadParseStatus.Done, result.Status);
        Assert.Equal(new HeaderField(HeaderNames.ContentType, "text/plain"), Assert.Single(result.Head!.Headers));
    }

    [Fact]
    public void Limits_NotPositive_AreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http1Limits(MaxLineLength: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http1Limits(MaxHeadSize: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http1Limits(MaxFieldCount: 0));
    }
}

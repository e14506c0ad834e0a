using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using Switchman.Proxy.Upstream.Http1;

namespace Switchman.Proxy.Tests.Upstream.Http1;

/// <summary>The chunked decoder's contract: data as slices of the input, and an exact stop at the end of the message.</summary>
public sealed class ChunkedBodyDecoderTests
{
    [Fact]
    public void Decode_Data_IsASliceOfTheInput_NotACopy()
    {
        var input = Encoding.ASCII.GetBytes("5\r\nhello\r\n0\r\n\r\n");
        var buffer = new ReadOnlySequence<byte>(input);

        var result = new ChunkedBodyDecoder(Http1Limits.Default).Decode(buffer);

        Assert.Equal(ChunkedStatus.Data, result.Status);
        Assert.True(MemoryMarshal.TryGetArray(result.Data.First, out var segment));
        Assert.Same(input, segment.Array);
        Assert.Equal(3, segment.Offset);
        Assert.Equal("hello", Encoding.ASCII.GetString(result.Data));
        Assert.Equal(result.Data.End, result.Consumed);
    }

    [Fact]
    public void Decode_StopsExactlyAtTheEndOfTheMessage_AndThenConsumesNothingUntilReset()
    {
        const string body = "3;x=y\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n";
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(body + "HTTP/1.1 200 OK\r\n"));
        var decoder = new ChunkedBodyDecoder(Http1Limits.Default);

        var data = decoder.Decode(buffer);
        Assert.Equal(ChunkedStatus.Data, data.Status);
        var rest = buffer.Slice(data.Consumed);
        var done = decoder.Decode(rest);

        Assert.Equal(ChunkedStatus.Done, done.Status);
        Assert.Equal("HTTP/1.1 200 OK\r\n", Encoding.ASCII.GetString(rest.Slice(done.Consumed)));
        Assert.Equal(body.Length, decoder.BytesConsumed);

        var after = decoder.Decode(rest.Slice(done.Consumed));
        Assert.Equal(ChunkedStatus.Done, after.Status);
        Assert.Equal(rest.Slice(done.Consumed).Start, after.Consumed);
        Assert.Equal(body.Length, decoder.BytesConsumed);

        decoder.Reset();
        Assert.Equal(0, decoder.BytesConsumed);
        Assert.Equal(ChunkedStatus.Invalid, decoder.Decode(rest.Slice(done.Consumed)).Status);
    }

    [Fact]
    public void Decode_ChunkLargerThanWhatIsBuffered_HandsOutWhatIsThere_ThenWaits()
    {
        var decoder = new ChunkedBodyDecoder(Http1Limits.Default);
        var first = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("a\r\n0123"));

        var data = decoder.Decode(first);
        Assert.Equal("0123", Encoding.ASCII.GetString(data.Data));
        var waiting = decoder.Decode(first.Slice(data.Consumed));

        Assert.Equal(ChunkedStatus.NeedMoreData, waiting.Status);
        Assert.Equal(first.End, waiting.Examined);
        var more = decoder.Decode(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("456789\r\n0\r\n\r\n")));
        Assert.Equal("456789", Encoding.ASCII.GetString(more.Data));
    }

    [Theory]
    [InlineData("7fffffffffffffff", true)]
    [InlineData("000000000000000F", true)]
    [InlineData("8000000000000000", false)]
    [InlineData("00000000000000001", false)]
    public void Decode_ChunkSize_FitsSixteenHexDigitsAndALong(string size, bool accepted)
    {
        var expected = accepted ? ChunkedStatus.Data : ChunkedStatus.Invalid;
        var result = new ChunkedBodyDecoder(Http1Limits.Default).Decode(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(size + "\r\nx")));

        Assert.Equal(expected, result.Status);
    }

    [Fact]
    public void Decode_AfterInvalid_StaysInvalid()
    {
        var decoder = new ChunkedBodyDecoder(Http1Limits.Default);
        Assert.Equal(ChunkedStatus.Invalid, decoder.Decode(new ReadOnlySequence<byte>("zz\r\n"u8.ToArray())).Status);

        var again = decoder.Decode(new ReadOnlySequence<byte>("0\r\n\r\n"u8.ToArray()));

        Assert.Equal(ChunkedStatus.Invalid, again.Status);
        Assert.Equal("chunk size is not a hexadecimal number", again.Error);
    }

    [Fact]
    public void FixedLengthBody_TakesItsBytesAndNoneOfTheNextResponse()
    {
        var body = new FixedLengthBody(7);
        var first = body.Take(new ReadOnlySequence<byte>("abcd"u8.ToArray()));
        var second = body.Take(new ReadOnlySequence<byte>("efgHTTP/1.1"u8.ToArray()));

        Assert.Equal("abcd", Encoding.ASCII.GetString(first));
        Assert.Equal("efg", Encoding.ASCII.GetString(second));
        Assert.True(body.IsComplete);
        Assert.True(body.Take(new ReadOnlySequence<byte>("more"u8.ToArray())).IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FixedLengthBody(-1));
    }
}

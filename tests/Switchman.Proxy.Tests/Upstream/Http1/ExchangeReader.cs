using System.Buffers;
using System.Text;
using Switchman.Proxy.Upstream.Http1;

namespace Switchman.Proxy.Tests.Upstream.Http1;

/// <summary>One response as the parsers read it, with the wire offset where its message ended.</summary>
internal sealed record ReadResponse(ResponseHead Head, BodyFraming Framing, byte[] Body, long EndOffset)
{
    /// <summary>Everything parsed, as one comparable line; field names lower-cased (they are case-insensitive).</summary>
    public string Describe(bool withOffset = true)
    {
        var headers = string.Join(" | ", Head.Headers.Select(h => $"{h.Name.ToLowerInvariant()}: {h.Value}"));
        var framing = $"{Framing.Outcome}/{Framing.Body}/{Framing.Length}/{(Framing.Reusable ? "reusable" : "not reusable")}";
        var end = withOffset ? $" end={EndOffset}" : "";
        return $"{Head.Version} {Head.StatusCode} \"{Head.ReasonPhrase}\" [{headers}] {framing} body={Convert.ToHexString(Body)}{end}";
    }
}

/// <summary>All that reading a connection's input came to: the responses, then how it ended.</summary>
/// <param name="End">
/// "clean" (the input ended where a reusable response ended), "closed, N bytes left" (a response that does not
/// allow reuse ended), "truncated" (the input ended inside a message), "invalid: REASON", "upgrade: REASON".
/// </param>
internal sealed record Transcript(IReadOnlyList<ReadResponse> Responses, string End)
{
    public string Describe(bool withOffsets = true) =>
        string.Join("\n", Responses.Select((r, i) => $"#{i} {r.Describe(withOffsets)}").Append($"end: {End}"));

    public ReadResponse Single() => Assert.Single(Responses);
}

/// <summary>
/// Reads responses off one connection the way the upstream path will: head, framing decision, body (chunked,
/// fixed-length, until close or none), then the next head while the connection stays reusable. It checks the
/// parsers' contract on every call: no exception, progress on every step, and never more buffered than one line.
/// </summary>
internal static class ExchangeReader
{
    public static Transcript Read(string input, bool requestWasHead = false, Http1Limits? limits = null) =>
        Read(Encoding.Latin1.GetBytes(input), [], requestWasHead ? [true] : [], limits);

    /// <param name="cuts">Where reads of the input end (see <see cref="ScriptedPipe"/>).</param>
    /// <param name="headRequests">Per final response, whether its request was HEAD; false past the end.</param>
    public static Transcript Read(byte[] input, IEnumerable<int> cuts, IReadOnlyList<bool> headRequests, Http1Limits? limits = null)
    {
        limits ??= Http1Limits.Default;
        var pipe = new ScriptedPipe(input, cuts);
        var heads = new ResponseHeadParser(limits);
        var chunked = new ChunkedBodyDecoder(limits);
        var responses = new List<ReadResponse>();
        var finals = 0;
        // Every step consumes a byte, receives a read, or ends: more steps than that is a loop that makes no progress.
        var steps = 0;
        var maxSteps = 4L * input.Length + 100;

        while (true)
        {
            if (pipe.AtEnd)
            {
                return new Transcript(responses, "clean");
            }

            ResponseHead head;
            while (true)
            {
                Assert.True(++steps < maxSteps, "the head parser makes no progress");
                var buffer = pipe.Buffer;
                var result = heads.Parse(buffer);
                if (result.Status == HeadParseStatus.Invalid)
                {
                    Assert.False(string.IsNullOrEmpty(result.Error));
                    return new Transcript(responses, $"invalid: {result.Error}");
                }
                pipe.AdvanceTo(buffer, result.Consumed);
                if (result.Status == HeadParseStatus.Done)
                {
                    head = result.Head!;
                    break;
                }
                AssertBounded(pipe, limits);
                if (!pipe.Receive())
                {
                    return new Transcript(responses, "truncated");
                }
            }

            var requestWasHead = finals < headRequests.Count && headRequests[finals];
            var framing = BodyFraming.Decide(head, requestWasHead);
            switch (framing.Outcome)
            {
                case FramingOutcome.Invalid:
                    return new Transcript(responses, $"invalid: {framing.Error}");
                case FramingOutcome.Upgrade:
                    return new Transcript(responses, $"upgrade: {framing.Error}");
                case FramingOutcome.Interim:
                    responses.Add(new ReadResponse(head, framing, [], pipe.Consumed));
                    continue;
            }
            finals++;

            var body = new ArrayBufferWriter<byte>();
            string? bodyError = null;
            var complete = framing.Body switch
            {
                BodyKind.None => true,
                BodyKind.FixedLength => ReadFixed(pipe, framing.Length, body, ref steps, maxSteps),
                BodyKind.UntilClose => ReadUntilClose(pipe, body, ref steps, maxSteps),
                _ => ReadChunked(pipe, chunked, body, limits, ref steps, maxSteps, out bodyError),
            };
            if (complete is null)
            {
                return new Transcript(responses, $"invalid: {bodyError}");
            }
            if (complete == false)
            {
                return new Transcript(responses, "truncated");
            }
            responses.Add(new ReadResponse(head, framing, body.WrittenSpan.ToArray(), pipe.Consumed));
            if (!framing.Reusable)
            {
                return new Transcript(responses, $"closed, {input.Length - pipe.Consumed} bytes left");
            }
        }
    }

    private static bool ReadFixed(ScriptedPipe pipe, long length, ArrayBufferWriter<byte> body, ref int steps, long maxSteps)
    {
        var counter = new FixedLengthBody(length);
        while (!counter.IsComplete)
        {
            Assert.True(++steps < maxSteps, "the fixed-length body makes no progress");
            var buffer = pipe.Buffer;
            var taken = counter.Take(buffer);
            Append(body, taken);
            pipe.AdvanceTo(buffer, taken.End);
            if (!counter.IsComplete && !pipe.Receive())
            {
                return false;
            }
        }
        return true;
    }

    private static bool ReadUntilClose(ScriptedPipe pipe, ArrayBufferWriter<byte> body, ref int steps, long maxSteps)
    {
        do
        {
            Assert.True(++steps < maxSteps, "the until-close body makes no progress");
            var buffer = pipe.Buffer;
            Append(body, buffer);
            pipe.AdvanceTo(buffer, buffer.End);
        }
        while (pipe.Receive());
        return true;
    }

    /// <summary>True when the body was read whole, false when the input ended inside it, null when it is invalid.</summary>
    private static bool? ReadChunked(
        ScriptedPipe pipe, ChunkedBodyDecoder decoder, ArrayBufferWriter<byte> body, Http1Limits limits, ref int steps, long maxSteps, out string? error)
    {
        decoder.Reset();
        var start = pipe.Consumed;
        while (true)
        {
            Assert.True(++steps < maxSteps, "the chunked decoder makes no progress");
            var buffer = pipe.Buffer;
            var result = decoder.Decode(buffer);
            error = result.Error;
            switch (result.Status)
            {
                case ChunkedStatus.Invalid:
                    Assert.False(string.IsNullOrEmpty(result.Error));
                    return null;
                case ChunkedStatus.Data:
                    Assert.False(result.Data.IsEmpty, "an empty data segment");
                    Append(body, result.Data);
                    pipe.AdvanceTo(buffer, result.Consumed);
                    continue;
                case ChunkedStatus.Done:
                    pipe.AdvanceTo(buffer, result.Consumed);
                    Assert.Equal(pipe.Consumed - start, decoder.BytesConsumed);
                    return true;
                default:
                    pipe.AdvanceTo(buffer, result.Consumed);
                    AssertBounded(pipe, limits);
                    if (!pipe.Receive())
                    {
                        return false;
                    }
                    continue;
            }
        }
    }

    /// <summary>A parser that needs more data holds back at most one incomplete line: what a connection buffers is bounded.</summary>
    private static void AssertBounded(ScriptedPipe pipe, Http1Limits limits) =>
        Assert.True(pipe.Unconsumed <= limits.MaxLineLength + 1L, $"{pipe.Unconsumed} bytes left unconsumed while needing more data");

    private static void Append(ArrayBufferWriter<byte> body, in ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes)
        {
            body.Write(segment.Span);
        }
    }
}

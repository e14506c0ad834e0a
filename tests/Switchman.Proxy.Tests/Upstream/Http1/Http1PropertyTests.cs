using System.Text;
using CsCheck;
using Switchman.Proxy.Upstream.Http1;

namespace Switchman.Proxy.Tests.Upstream.Http1;

/// <summary>
/// Properties of the HTTP/1.1 response parsers over generated responses: they parse to exactly what was generated
/// however the input is split into reads; mutated responses only ever come to a result (never an exception, a loop
/// or unbounded buffering), and what is accepted survives being written again; and a response read off a reused
/// connection ends exactly where the next one begins (the desync property). CsCheck prints a seed on failure.
/// </summary>
public sealed class Http1PropertyTests
{
    /// <summary>One message as generated: its bytes, what reading it must give, and whether its request was HEAD (null for a 1xx).</summary>
    private sealed record Part(byte[] Wire, ReadResponse Expected, bool? HeadRequest);

    private sealed record Conversation(Part[] Parts)
    {
        public byte[] Wire { get; } = [.. Parts.SelectMany(p => p.Wire)];

        public bool[] HeadRequests { get; } = [.. Parts.Where(p => p.HeadRequest is not null).Select(p => p.HeadRequest!.Value)];

        public string ExpectedTranscript()
        {
            var offset = 0L;
            var responses = Parts.Select(p => p.Expected with { EndOffset = offset += p.Wire.Length }).ToList();
            return new Transcript(responses, Parts[^1].Expected.Framing.Reusable ? "clean" : "closed, 0 bytes left").Describe();
        }

        public override string ToString() => Printable(Wire);
    }

    private enum Shape
    {
        FixedLength,
        Chunked,
        UntilClose,
        NoContent,
        NotModified,
        HeadRequest,
    }

    private const string TokenChars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private static readonly string[] FramingNames = ["Content-Length", "Transfer-Encoding", "Connection"];

    private static readonly Gen<string> Ows = Gen.OneOfConst("", " ", "\t", " \t  ");

    private static readonly Gen<char> TextChar = Gen.Frequency((12, Gen.Char['!', '~']), (3, Gen.Char[" \t"]), (1, Gen.Char['\u0080', '\u00ff']));

    private static readonly Gen<string> FieldName = Gen.Frequency(
            (3, Gen.Char[TokenChars].Array[1, 12].Select(c => new string(c))),
            (1, Gen.OneOfConst("Date", "server", "CACHE-CONTROL", "Set-Cookie", "ETag", "vary", "Keep-Alive", "Location", "content-type")))
        .Where(n => !FramingNames.Contains(n, StringComparer.OrdinalIgnoreCase));

    private static readonly Gen<string> FieldValue = TextChar.Array[0, 40].Select(c => new string(c).Trim(' ', '\t'));

    private static readonly Gen<(HeaderField Field, string Wire)> Field =
        from name in FieldName
        from value in FieldValue
        from before in Ows
        from after in Ows
        select (new HeaderField(name, value), $"{name}:{before}{value}{after}\r\n");

    private static readonly Gen<string> Reason = Gen.Frequency(
        (3, Gen.OneOfConst("OK", "", "Not Found", "Tr\u00e8s bien", " leading and trailing ")),
        (2, TextChar.Array[0, 20].Select(c => new string(c))));

    private static readonly Gen<int> FinalStatus = Gen.Frequency(
            (4, Gen.OneOfConst(200, 201, 206, 301, 404, 500, 503)),
            (1, Gen.Int[200, 999]))
        .Where(s => s is not (204 or 304));

    private static readonly byte[] Lookalike = Encoding.ASCII.GetBytes("0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

    /// <summary>Body bytes, often ones that look like chunk metadata or a response: a parser that reads into them desyncs.</summary>
    private static readonly Gen<byte[]> Body = Gen.Frequency(
        (1, Gen.Const(Array.Empty<byte>())),
        (6, Gen.Frequency((5, (Gen<byte>)Gen.Byte), (2, Gen.OneOfConst("\r\n0;:HTTP/1.1 ".Select(c => (byte)c).ToArray()))).Array[1, 300]),
        (1, Gen.Const(Lookalike)));

    private static readonly Gen<string> ChunkExtension = Gen.OneOfConst("", "", ";a", ";a=b", " ; name = \"q \\\" s\"", ";x=1;y", "\t;n=\"\"");

    /// <summary>Connection values: (value or null, has close, has keep-alive).</summary>
    private static readonly Gen<(string? Value, bool Close, bool KeepAlive)> ConnectionField = Gen.OneOfConst<(string?, bool, bool)>(
        (null, false, false), ("close", true, false), ("keep-alive", false, true), ("Keep-Alive, Upgrade", false, true),
        ("upgrade, CLOSE", true, false), ("keep-alive , close", true, true));

    /// <summary>Read positions, as fractions of the input's length (scaled by <see cref="Scale"/>).</summary>
    private static readonly Gen<int[]> Cuts = Gen.Int[0, 1 << 20].Array[0, 40];

    private static readonly Gen<Part> Interim =
        from status in Gen.OneOfConst(100, 102, 103)
        from reason in Reason
        from fields in Field.Array[0, 3]
        select Message(Http1Version.Http11, status, reason, false, [.. fields], [], new BodyFraming(FramingOutcome.Interim, BodyKind.None, 0, false, null), null);

    private static Gen<Part> Final(bool last) =>
        (from shape in last ? Gen.Enum<Shape>() : Gen.Enum<Shape>().Where(s => s != Shape.UntilClose)
         from http10 in Gen.Frequency((4, Gen.Const(false)), (1, Gen.Const(true)))
         let version = http10 && shape != Shape.Chunked ? Http1Version.Http10 : Http1Version.Http11
         from connection in ConnectionField
         from status in FinalStatus
         from reason in Reason
         from omitSpace in Gen.Bool
         from fields in Field.Array[0, 8]
         from framingLine in Gen.Int[0, 3]
         from insertAt in Gen.Int[0, 100].Array[3]
         from body in Body
         from chunked in ChunkedWire(body)
         from headLength in Gen.Long[0, long.MaxValue]
         let reusable = shape != Shape.UntilClose
             && (version == Http1Version.Http11 ? !connection.Close : connection.KeepAlive && !connection.Close)
         where last || reusable
         select FinalMessage(shape, version, connection.Value, status, reason, omitSpace, fields, framingLine, insertAt, body, chunked, headLength, reusable));

    private static Part FinalMessage(
        Shape shape, Http1Version version, string? connection, int status, string reason, bool omitSpace,
        (HeaderField Field, string Wire)[] randomFields, int framingLine, int[] insertAt, byte[] body, byte[] chunked, long headLength, bool reusable)
    {
        var fields = randomFields.ToList();
        void Insert(int i, string name, string value) => fields.Insert(insertAt[i] % (fields.Count + 1), (new HeaderField(name, value), $"{name}: {value}\r\n"));

        var length = body.LongLength;
        byte[] wireBody = [];
        var framing = new BodyFraming(FramingOutcome.Final, BodyKind.None, 0, reusable, null);
        switch (shape)
        {
            case Shape.FixedLength:
                framing = framing with { Body = BodyKind.FixedLength, Length = length };
                wireBody = body;
                InsertContentLength(length);
                break;
            case Shape.Chunked:
                framing = framing with { Body = BodyKind.Chunked };
                wireBody = chunked;
                Insert(0, "Transfer-Encoding", new[] { "chunked", "Chunked", "CHUNKED", ", chunked" }[framingLine]);
                break;
            case Shape.UntilClose:
                framing = framing with { Body = BodyKind.UntilClose };
                wireBody = body;
                break;
            case Shape.NoContent:
                status = 204;
                if (framingLine == 0)
                {
                    Insert(0, "Content-Length", "0");
                }
                break;
            case Shape.NotModified:
                status = 304;
                if (framingLine > 0)
                {
                    InsertContentLength(headLength);
                }
                break;
            case Shape.HeadRequest:
                if (framingLine == 0 && version == Http1Version.Http11)
                {
                    Insert(0, "Transfer-Encoding", "chunked");
                }
                else
                {
                    InsertContentLength(headLength);
                }
                break;
        }
        if (connection is not null)
        {
            Insert(2, "Connection", connection);
        }
        return Message(version, status, reason, omitSpace, fields, wireBody, framing, shape == Shape.HeadRequest, shape is Shape.FixedLength or Shape.Chunked or Shape.UntilClose ? body : []);

        void InsertContentLength(long n)
        {
            switch (framingLine)
            {
                case 1:
                    Insert(0, "Content-Length", $"00{n}");
                    break;
                case 2:
                    Insert(0, "Content-Length", $"{n}");
                    Insert(1, "Content-Length", $"{n}");
                    break;
                case 3:
                    Insert(0, "Content-Length", $"{n}, {n}");
                    break;
                default:
                    Insert(0, "Content-Length", $"{n}");
                    break;
            }
        }
    }

    private static Part Message(
        Http1Version version, int status, string reason, bool omitSpace, List<(HeaderField Field, string Wire)> fields,
        byte[] wireBody, BodyFraming framing, bool? headRequest, byte[]? body = null)
    {
        var head = new StringBuilder($"{ResponseWriter.VersionText(version)} {status}");
        head.Append(reason.Length == 0 && omitSpace ? "" : $" {reason}").Append("\r\n");
        fields.ForEach(f => head.Append(f.Wire));
        head.Append("\r\n");
        var expected = new ReadResponse(
            new ResponseHead(version, status, reason, [.. fields.Select(f => f.Field)], 0), framing, body ?? [], 0);
        return new Part([.. Encoding.Latin1.GetBytes(head.ToString()), .. wireBody], expected, headRequest);
    }

    /// <summary>A body as chunks of random sizes, sizes in either case with leading zeros, extensions, and trailers.</summary>
    private static Gen<byte[]> ChunkedWire(byte[] body) =>
        from cuts in Gen.Int[1, Math.Max(1, body.Length)].Array[0, 6]
        from extensions in ChunkExtension.Array[8]
        from zeros in Gen.Int[0, 3].Array[8]
        from upper in Gen.Bool
        from trailers in Field.Array[0, 3]
        select EncodeChunked(body, cuts, extensions, zeros, upper, trailers);

    private static byte[] EncodeChunked(byte[] body, int[] cuts, string[] extensions, int[] zeros, bool upper, (HeaderField Field, string Wire)[] trailers)
    {
        var bounds = cuts.Where(c => c < body.Length).Append(body.Length).Prepend(0).Distinct().Order().ToArray();
        var wire = new List<byte>();
        void Text(string s) => wire.AddRange(Encoding.Latin1.GetBytes(s));
        for (var i = 0; i + 1 < bounds.Length; i++)
        {
            var size = bounds[i + 1] - bounds[i];
            Text($"{new string('0', zeros[i])}{size.ToString(upper ? "X" : "x", System.Globalization.CultureInfo.InvariantCulture)}{extensions[i]}\r\n");
            wire.AddRange(body.AsSpan(bounds[i], size));
            Text("\r\n");
        }
        Text($"{new string('0', zeros[^1] + 1)}{extensions[^1]}\r\n");
        foreach (var trailer in trailers)
        {
            Text(trailer.Wire);
        }
        Text("\r\n");
        return [.. wire];
    }

    private static Gen<Part[]> Exchange(bool last) =>
        from interims in Gen.Frequency((4, Gen.Const(Array.Empty<Part>())), (1, Interim.Array[1, 2]))
        from final in Final(last)
        select (Part[])[.. interims, final];

    private static readonly Gen<Conversation> Conversations =
        from count in Gen.Int[1, 3]
        from earlier in Exchange(last: false).Array[count - 1]
        from lastOne in Exchange(last: true)
        select new Conversation([.. earlier.SelectMany(e => e), .. lastOne]);

    [Fact]
    public void GeneratedResponses_ParseToExactlyWhatWasGenerated_HoweverTheReadsAreSplit()
    {
        Gen.Select(Conversations, Cuts).Sample((conversation, cuts) =>
        {
            var wire = conversation.Wire;
            var expected = conversation.ExpectedTranscript();

            Assert.Equal(expected, ExchangeReader.Read(wire, [], conversation.HeadRequests).Describe());
            Assert.Equal(expected, ExchangeReader.Read(wire, Scale(cuts, wire.Length), conversation.HeadRequests).Describe());
            Assert.Equal(expected, ExchangeReader.Read(wire, Enumerable.Range(1, wire.Length), conversation.HeadRequests).Describe());
        }, iter: 1000, print: t => $"{t.Item1} cuts [{string.Join(",", Scale(t.Item2, t.Item1.Wire.Length))}]");
    }

    [Fact]
    public void MutatedResponses_ComeToAResult_TheSameForAnySplit_AndWhatIsAcceptedSurvivesBeingWrittenAgain()
    {
        var limits = Gen.OneOfConst(Http1Limits.Default, new Http1Limits(MaxLineLength: 64, MaxHeadSize: 512, MaxFieldCount: 8));
        var mutation = Gen.Select(
            Gen.Int[0, 4],
            Gen.Int[0, 1 << 20],
            Gen.Frequency((3, Gen.OneOfConst("\r\n\0 \t:,;0".Select(c => (byte)c).ToArray())), (1, (Gen<byte>)Gen.Byte)));

        var accepted = 0;
        var refused = 0;

        Gen.Select(Conversations, mutation.Array[1, 4], Cuts, limits).Sample((conversation, mutations, cuts, limits) =>
        {
            var mutated = Mutate(conversation.Wire, mutations);

            var whole = ExchangeReader.Read(mutated, [], conversation.HeadRequests, limits);
            var split = ExchangeReader.Read(mutated, Scale(cuts, mutated.Length), conversation.HeadRequests, limits);

            Assert.Equal(whole.Describe(), split.Describe());
            if (whole.Responses.Count > 0)
            {
                var again = ExchangeReader.Read(ResponseWriter.Reserialize(whole.Responses), [], conversation.HeadRequests);
                Assert.Equal(DescribeResponses(whole), DescribeResponses(again));
            }
            Interlocked.Increment(ref whole.End.StartsWith("invalid", StringComparison.Ordinal) ? ref refused : ref accepted);
        }, iter: 10_000, print: t => $"{Printable(Mutate(t.Item1.Wire, t.Item2))} limits {t.Item4}");

        // Not vacuous: the mutations make both inputs the parsers refuse and inputs they still read.
        Assert.True(accepted > 1000 && refused > 1000, $"{accepted} read, {refused} refused");
    }

    [Fact]
    public void TwoResponsesBackToBack_TheFirstEndsExactlyWhereTheSecondBegins()
    {
        Gen.Select(Exchange(last: false), Exchange(last: true), Cuts).Sample((first, second, cuts) =>
        {
            var conversation = new Conversation([.. first, .. second]);
            var wire = conversation.Wire;

            var transcript = ExchangeReader.Read(wire, Scale(cuts, wire.Length), conversation.HeadRequests);

            Assert.Equal(first.Length + second.Length, transcript.Responses.Count);
            Assert.Equal(first.Sum(p => p.Wire.LongLength), transcript.Responses[first.Length - 1].EndOffset);
            Assert.Equal(
                second.Select(p => p.Expected.Describe(withOffset: false)),
                transcript.Responses.Skip(first.Length).Select(r => r.Describe(withOffset: false)));
        }, iter: 2000, print: t => new Conversation([.. t.Item1, .. t.Item2]).ToString());
    }

    private static string DescribeResponses(Transcript transcript) =>
        string.Join("\n", transcript.Responses.Select(r => r.Describe(withOffset: false)));

    private static int[] Scale(int[] fractions, int length) => [.. fractions.Select(f => (int)((long)f * length >> 20))];

    private static byte[] Mutate(byte[] wire, (int Kind, int Where, byte Byte)[] mutations)
    {
        var bytes = wire.ToList();
        foreach (var (kind, where, b) in mutations)
        {
            var at = (int)((long)where * bytes.Count >> 20);
            switch (kind)
            {
                case 0 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << (b % 8));
                    break;
                case 1:
                    bytes.Insert(at, b);
                    break;
                case 2 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 4:
                    bytes.InsertRange(at, bytes.Skip(at).Take(1 + b % 16).ToList());
                    break;
            }
        }
        return [.. bytes];
    }

    private static string Printable(byte[] bytes) =>
        string.Concat(bytes.Select(b => b switch
        {
            (byte)'\r' => "\\r",
            (byte)'\n' => "\\n",
            >= 0x20 and < 0x7F => ((char)b).ToString(),
            _ => $"\\x{b:X2}",
        }));
}

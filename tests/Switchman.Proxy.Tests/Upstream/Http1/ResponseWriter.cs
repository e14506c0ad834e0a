using System.Buffers;
using System.Globalization;
using System.Text;
using Switchman.Proxy.Upstream.Http1;

namespace Switchman.Proxy.Tests.Upstream.Http1;

/// <summary>Writes responses as a backend would send them: what the tests feed the parsers.</summary>
internal static class ResponseWriter
{
    public static string VersionText(Http1Version version) => version == Http1Version.Http11 ? "HTTP/1.1" : "HTTP/1.0";

    /// <summary>A status line and header section, each field written as <c>name: value</c>.</summary>
    public static void Head(ArrayBufferWriter<byte> to, Http1Version version, int status, string reason, IEnumerable<HeaderField> headers)
    {
        Text(to, $"{VersionText(version)} {status.ToString(CultureInfo.InvariantCulture)} {reason}\r\n");
        foreach (var (name, value) in headers)
        {
            Text(to, $"{name}: {value}\r\n");
        }
        Text(to, "\r\n");
    }

    /// <summary>
    /// Writes what was parsed back onto the wire: each head as it was read, each body as its framing says (a chunked
    /// one as a single chunk, its extensions and trailers having been dropped).
    /// </summary>
    public static byte[] Reserialize(IEnumerable<ReadResponse> responses)
    {
        var to = new ArrayBufferWriter<byte>();
        foreach (var response in responses)
        {
            Head(to, response.Head.Version, response.Head.StatusCode, response.Head.ReasonPhrase, response.Head.Headers);
            if (response.Framing.Body == BodyKind.Chunked)
            {
                if (response.Body.Length > 0)
                {
                    Text(to, $"{response.Body.Length:x}\r\n");
                    to.Write(response.Body);
                    Text(to, "\r\n");
                }
                Text(to, "0\r\n\r\n");
            }
            else
            {
                to.Write(response.Body);
            }
        }
        return to.WrittenSpan.ToArray();
    }

    /// <summary>Bytes 0-255 as the characters 0-255: what the parsers read back with Latin-1.</summary>
    public static void Text(ArrayBufferWriter<byte> to, string text) => to.Write(Encoding.Latin1.GetBytes(text));
}

using System.Text.Json.Serialization;

namespace Switchman.Proxy.Forwarding;

/// <summary>The body of an error the proxy itself answers (no route, no server, every attempt failed).</summary>
internal sealed record ProxyError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("request_id")] string RequestId);

[JsonSerializable(typeof(ProxyError))]
internal sealed partial class ProxyJsonContext : JsonSerializerContext;

using System.Text.Json.Serialization;

namespace Switchman.DemoBackend;

/// <summary>Body of every application response: what the server saw, so a test can check what the proxy forwarded.</summary>
/// <param name="Server">Name of the server that answered.</param>
/// <param name="Method">Request method.</param>
/// <param name="Path">Request path.</param>
/// <param name="Query">Query string including its leading '?', or "" — so Path + Query is the request target.</param>
/// <param name="Headers">The forwarding-related request headers (x-forwarded-for/proto/host, x-request-id, host); null when absent.</param>
/// <param name="BodyBytes">Length of the request body.</param>
public sealed record DemoEchoResponse(
    string Server,
    string Method,
    string Path,
    string Query,
    IReadOnlyDictionary<string, string?> Headers,
    long BodyBytes);

/// <summary>Body of GET /healthz.</summary>
/// <param name="Status">"ok" or "failing".</param>
/// <param name="Server">Name of the server that answered.</param>
public sealed record DemoHealthResponse(string Status, string Server);

/// <summary>Body of GET and POST /_control: the current settings and counters.</summary>
/// <param name="Server">Name of the server.</param>
/// <param name="DelayMs">Delay added to every application request, in milliseconds.</param>
/// <param name="FailStatus">Status every application request is answered with, or null when requests succeed.</param>
/// <param name="Health">"ok" or "fail".</param>
/// <param name="RequestsServed">Application requests answered so far.</param>
/// <param name="InFlight">Application requests being handled now.</param>
public sealed record DemoControlResponse(
    string Server,
    long DelayMs,
    int? FailStatus,
    string Health,
    long RequestsServed,
    int InFlight);

/// <summary>Body of a 400 or 405 answer from the demo backend itself (a bad query or control request).</summary>
/// <param name="Error">What was wrong.</param>
/// <param name="Server">Name of the server that answered.</param>
public sealed record DemoErrorResponse(string Error, string Server);

/// <summary>Serialization of the demo backend's JSON, in snake_case; tests may use it to read responses.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DemoEchoResponse))]
[JsonSerializable(typeof(DemoHealthResponse))]
[JsonSerializable(typeof(DemoControlResponse))]
[JsonSerializable(typeof(DemoErrorResponse))]
public sealed partial class DemoBackendJsonContext : JsonSerializerContext;

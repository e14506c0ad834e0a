namespace Switchman.DemoBackend;

/// <summary>One application request as the demo backend received it, for tests to inspect.</summary>
/// <param name="Method">HTTP method.</param>
/// <param name="Path">Request path, e.g. "/x".</param>
/// <param name="Query">Query string including its leading '?', or "" when there is none.</param>
/// <param name="Protocol">"HTTP/1.1", "HTTP/2", …</param>
/// <param name="Headers">Every request header; repeated headers are joined with ", ". Keys are case-insensitive.</param>
/// <param name="BodyBytes">Length of the request body as read.</param>
public sealed record DemoRequestRecord(
    string Method,
    string Path,
    string Query,
    string Protocol,
    IReadOnlyDictionary<string, string> Headers,
    long BodyBytes)
{
    /// <summary>The value of a header, or null when the request did not carry it.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

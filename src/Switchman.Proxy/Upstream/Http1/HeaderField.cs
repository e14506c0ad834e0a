namespace Switchman.Proxy.Upstream.Http1;

/// <summary>
/// One field line of a response head, as received: repeated names stay separate entries, in order, so that a
/// caller can see (and refuse) what a combined dictionary would hide, e.g. two Content-Length lines.
/// </summary>
/// <param name="Name">The field name; a well-known one is ASP.NET Core's <see cref="Microsoft.Net.Http.Headers.HeaderNames"/> string, in its usual casing (<see cref="KnownHeaderNames"/>).</param>
/// <param name="Value">The value without its leading and trailing whitespace; bytes 0x80-0xFF are read as Latin-1.</param>
internal readonly record struct HeaderField(string Name, string Value);

namespace Switchman.Core.Configuration;

/// <summary>A listener that accepts client requests and routes them to backends.</summary>
public sealed record FrontendConfig
{
    public required string Name { get; init; }

    /// <summary>address:port, e.g. 127.0.0.1:8080, 0.0.0.0:443 or [::]:80.</summary>
    public required string Listen { get; init; }

    public ValueList<HttpProtocol> Protocols { get; init; } = ValueList.Create(HttpProtocol.Http1, HttpProtocol.Http2);

    public TlsConfig? Tls { get; init; }

    public FrontendTimeouts Timeouts { get; init; } = new();

    /// <summary>Tried in order; the first whose host and path prefix match wins.</summary>
    public ValueList<RouteConfig> Routes { get; init; } = ValueList<RouteConfig>.Empty;

    /// <summary>Backend for requests no route matched; without it they get 404.</summary>
    public string? DefaultBackend { get; init; }

    /// <summary>
    /// The body of an error this frontend answers itself (no route, no server, every attempt failed), per status, from a
    /// file (HAProxy's <c>errorfile</c>); a status without one gets a short neutral text.
    /// </summary>
    public ValueList<ErrorPageConfig> ErrorPages { get; init; } = ValueList<ErrorPageConfig>.Empty;
}

/// <summary>
/// <c>error_pages: { 503: /etc/switchman/errors/503.json }</c>: the file's content is the body (at most 64 KiB, read when
/// the configuration is applied); <c>{status}</c> and <c>{request_id}</c> in it are filled; its content type comes from
/// its extension (.json, .html, .xml, else text/plain).
/// </summary>
public sealed record ErrorPageConfig
{
    public required int Status { get; init; }

    /// <summary>Absolute once loaded.</summary>
    public required string File { get; init; }

    public const int MaxBytes = 64 * 1024;
}

public enum HttpProtocol
{
    Http1,
    Http2,
}

public sealed record TlsConfig
{
    /// <summary>The first certificate is the default; others are picked by SNI host name.</summary>
    public ValueList<CertificateConfig> Certificates { get; init; } = ValueList<CertificateConfig>.Empty;
}

public sealed record CertificateConfig
{
    /// <summary>PEM certificate (chain) file.</summary>
    public required string Cert { get; init; }

    /// <summary>PEM private key file.</summary>
    public required string Key { get; init; }

    /// <summary>SNI host names this certificate answers (wildcards like *.example.com allowed).
    /// Empty: the DNS names in the certificate's subject alternative names.</summary>
    public ValueList<string> Hosts { get; init; } = ValueList<string>.Empty;
}

public sealed record FrontendTimeouts
{
    /// <summary>How long an idle keep-alive client connection stays open.</summary>
    public TimeSpan ClientIdle { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a client may take to send the request headers.</summary>
    public TimeSpan RequestHeaders { get; init; } = TimeSpan.FromSeconds(10);
}

public sealed record RouteConfig
{
    /// <summary>Host header to match (exact, or *.example.com); absent matches any host.</summary>
    public string? Host { get; init; }

    /// <summary>Path prefix to match, on segment boundaries: /v2 matches /v2 and /v2/x, not /v20.</summary>
    public string Path { get; init; } = "/";

    public required string Backend { get; init; }
}

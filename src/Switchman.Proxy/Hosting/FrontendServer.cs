using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Core.Configuration;
using Switchman.Proxy.Forwarding;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Hosting;

/// <summary>
/// One frontend: its own Kestrel server (own listener, limits and TLS), whose only middleware hands every request to
/// the proxy. A server per frontend lets frontends start, stop and change independently.
/// </summary>
internal sealed class FrontendServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private int _stopped;

    private FrontendServer(FrontendConfig config, WebApplication app, ILogger logger)
    {
        Config = config;
        _app = app;
        _logger = logger;
    }

    /// <summary>The frontend's configuration; routing changes are taken in place (see <see cref="HasSameListener"/>).</summary>
    public FrontendConfig Config { get; private set; }

    /// <summary>True when <paramref name="other"/> differs from this frontend at most in its routes, so this listener can stay.</summary>
    public bool HasSameListener(FrontendConfig other) =>
        Config with { Routes = other.Routes, DefaultBackend = other.DefaultBackend } == other;

    /// <summary>Takes a configuration that only changes routing (routes are read from the runtime on every request).</summary>
    public void UpdateRouting(FrontendConfig config)
    {
        if (!HasSameListener(config))
        {
            throw new ArgumentException("only routing may change in place", nameof(config));
        }
        Config = config;
    }

    public string Name => Config.Name;

    /// <summary>The addresses actually bound (port 0 in the configuration becomes the port the OS chose).</summary>
    public IReadOnlyList<string> Urls { get; private set; } = [];

    /// <param name="onVip">True when the frontend listens on a floating VIP's address: it binds whether or not this node
    /// holds the address now (IP_FREEBIND).</param>
    public static FrontendServer Create(FrontendConfig config, Func<ProxyRuntime> runtime, ProxyRequestHandler handler, ILoggerFactory loggerFactory, bool onVip = false)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = $"switchman-frontend-{config.Name}",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton<IHostLifetime, EmbeddedHostLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel => ConfigureKestrel(kestrel, config));

        // SO_REUSEPORT lets a replacement listener bind the same address before this one lets go (seamless reload,
        // as HAProxy does it).
        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = endpoint => ReusePortListenSocket.Create(endpoint, onVip));

        var app = builder.Build();
        var name = config.Name;
        app.Run(context => runtime().Routes.TryGetValue(name, out var routes)
            ? handler.HandleAsync(context, name, routes)
            : ProxyRequestHandler.FrontendRetiringAsync(context));
        return new FrontendServer(config, app, loggerFactory.CreateLogger("Switchman.Proxy.Frontend"));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        Urls = [.. _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses];
        foreach (var url in Urls)
        {
            Diagnostics.ProxyLog.FrontendListening(_logger, Name, url);
        }
    }

    /// <summary>Stops accepting, lets in-flight requests finish until the token fires, then closes. Safe to call twice.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        Diagnostics.ProxyLog.FrontendStopped(_logger, Name);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static void ConfigureKestrel(KestrelServerOptions kestrel, FrontendConfig config)
    {
        kestrel.AddServerHeader = false;
        kestrel.Limits.KeepAliveTimeout = config.Timeouts.ClientIdle;
        kestrel.Limits.RequestHeadersTimeout = config.Timeouts.RequestHeaders;
        // A proxy streams bodies through; the servers behind it decide how large a body may be.
        kestrel.Limits.MaxRequestBodySize = null;

        var address = HostPort.Parse(config.Listen);
        var endpoint = new IPEndPoint(address.Address ?? IPAddress.Loopback, address.Port);
        var protocols = ProtocolsOf(config.Protocols, tls: config.Tls is not null);
        var certificates = config.Tls is { } tls ? new CertificateSelector(tls) : null;
        kestrel.Listen(endpoint, listen =>
        {
            listen.Protocols = protocols;
            if (certificates is not null)
            {
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, hostName) => certificates.Select(hostName),
                });
            }
        });
    }

    private static HttpProtocols ProtocolsOf(ValueList<HttpProtocol> protocols, bool tls)
    {
        var http1 = protocols.Contains(HttpProtocol.Http1);
        var http2 = protocols.Contains(HttpProtocol.Http2);
        return (http1, http2) switch
        {
            // Without TLS there is no ALPN to choose between them: HTTP/1.1 it is (h2c needs [http2] alone).
            (true, true) => tls ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http1,
            (false, true) => HttpProtocols.Http2,
            _ => HttpProtocols.Http1,
        };
    }
}

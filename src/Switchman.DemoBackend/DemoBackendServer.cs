using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Switchman.DemoBackend;

/// <summary>
/// A small real HTTP server (Kestrel) that plays a REST backend in quickstarts and tests: it echoes what it received
/// as JSON, answers /healthz, and can be made slow, failing or unhealthy at runtime. See <see cref="DemoBackendRequestHandler"/>
/// for the endpoints.
/// </summary>
public sealed class DemoBackendServer : IAsyncDisposable
{
    /// <summary>How long <see cref="DisposeAsync"/> lets in-flight requests finish before it aborts them.</summary>
    private static readonly TimeSpan DisposeGracePeriod = TimeSpan.FromSeconds(5);

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<DemoRequestRecord> _receivedRequests = new();
    private readonly int _maxRecordedRequests;
    private readonly long _loadedAt;

    // Cancelled to turn a graceful stop into an abort: Kestrel then stops waiting for connections and resets them. On
    // the server's clock, so the grace period of DisposeAsync (CancelAfter) runs on it.
    private readonly CancellationTokenSource _abortStop;
    private readonly Lock _stopGate = new();
    private Task? _stopping;
    private int _disposeStarted;
    private bool _disposed;

    private DemoBackendBehavior _behavior;
    private long _requestsServed;
    private int _inFlight;

    private DemoBackendServer(WebApplication app, DemoBackendOptions options)
    {
        _app = app;
        Name = options.Name;
        TimeProvider = options.TimeProvider;
        _abortStop = new CancellationTokenSource(Timeout.InfiniteTimeSpan, TimeProvider);
        _maxRecordedRequests = options.MaxRecordedRequests;
        _behavior = DemoBackendBehavior.From(options);
        _loadedAt = TimeProvider.GetTimestamp() + (long)(options.LoadTime.TotalSeconds * TimeProvider.TimestampFrequency);
    }

    /// <summary>
    /// Until the start-up's load time has passed (<see cref="DemoBackendOptions.LoadTime"/>); at once after. True when
    /// the request had to wait: it arrived before the server could answer.
    /// </summary>
    internal async ValueTask<bool> WaitUntilLoadedAsync(CancellationToken cancellationToken)
    {
        var remaining = _loadedAt - TimeProvider.GetTimestamp();
        if (remaining <= 0)
        {
            return false;
        }
        await Task.Delay(TimeSpan.FromSeconds((double)remaining / TimeProvider.TimestampFrequency), TimeProvider, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>The name reported in every response.</summary>
    public string Name { get; }

    /// <summary>The port the server listens on (the one the operating system chose when the options asked for port 0).</summary>
    public int Port { get; private set; }

    /// <summary>Where to send requests, e.g. http://127.0.0.1:40123/ (a wildcard listen address is reached through loopback).</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Application requests answered so far (not counting /healthz and /_control, so health probes do not blur load counts).</summary>
    public long RequestsServed => Interlocked.Read(ref _requestsServed);

    /// <summary>Application requests being handled right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Current runtime behaviour; setting it takes effect for requests that arrive afterwards.</summary>
    public DemoBackendBehavior Behavior
    {
        get => Volatile.Read(ref _behavior);
        set => Volatile.Write(ref _behavior, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>A snapshot of the most recent application requests, oldest first (bounded by <see cref="DemoBackendOptions.MaxRecordedRequests"/>).</summary>
    public IReadOnlyList<DemoRequestRecord> ReceivedRequests => _receivedRequests.ToArray();

    internal TimeProvider TimeProvider { get; }

    /// <summary>Fires when the server begins to stop, so long-lived requests (WebSockets) can end.</summary>
    internal CancellationToken Stopping => _app.Lifetime.ApplicationStopping;

    /// <summary>Starts a server and returns once it is listening.</summary>
    /// <exception cref="FormatException">The listen address is not ip:port.</exception>
    /// <exception cref="IOException">The address could not be bound (for example, the port is in use).</exception>
    public static async Task<DemoBackendServer> StartAsync(DemoBackendOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Name, nameof(options));
        var endpoint = ParseListenAddress(options.Listen);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });

        // The demo backend is configured only through DemoBackendOptions: no appsettings.json or ASPNETCORE_* variables
        // from whatever directory it happens to run in, and no file watchers per server.
        builder.Configuration.Sources.Clear();

        // Warnings only, and on stderr: stdout carries the "listening on" line that test harnesses parse.
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);

        // Whoever started the server owns its shutdown; many servers in one test process must not each hook Ctrl+C/SIGTERM.
        builder.Services.AddSingleton<IHostLifetime, CallerOwnedLifetime>();

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // The body is only counted, never stored, so large uploads cost nothing and tests of body buffering can send them.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(endpoint);
        });

        var app = builder.Build();
        var server = new DemoBackendServer(app, options);
        var handler = new DemoBackendRequestHandler(server);
        app.UseWebSockets();
        app.Run(handler.HandleAsync);

        var started = false;
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            server.LearnBoundAddress(endpoint);
            started = true;
            return server;
        }
        finally
        {
            if (!started)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Stops gracefully: no new connections, in-flight requests finish, WebSockets are closed. When
    /// <paramref name="cancellationToken"/> fires first, the remaining connections are aborted instead. Safe to call twice.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A caller that stops waiting for a graceful stop wants the server gone: abort what is left.
        using var escalate = cancellationToken.Register(static state => ((DemoBackendServer)state!).RequestAbort(), this);
        await EnsureStoppingAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Stops abruptly, like a crashed server: the listener closes and every open connection is reset without an answer.
    /// Safe to call during or after <see cref="StopAsync"/>.
    /// </summary>
    public Task AbortAsync()
    {
        RequestAbort();
        return EnsureStoppingAsync();
    }

    /// <summary>Stops (gracefully for up to a few seconds, then abruptly) and releases the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposeStarted, 1) == 1)
        {
            return;
        }
        _abortStop.CancelAfter(DisposeGracePeriod);
        await EnsureStoppingAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        lock (_stopGate)
        {
            _disposed = true;
            _abortStop.Dispose();
        }
    }

    internal void RecordRequest(DemoRequestRecord request)
    {
        _receivedRequests.Enqueue(request);
        while (_receivedRequests.Count > _maxRecordedRequests && _receivedRequests.TryDequeue(out _))
        {
        }
    }

    internal void RequestStarted() => Interlocked.Increment(ref _inFlight);

    internal void RequestEnded() => Interlocked.Decrement(ref _inFlight);

    internal void RequestServed() => Interlocked.Increment(ref _requestsServed);

    /// <summary>Applies a change atomically, even when two control requests race, and returns the new behaviour.</summary>
    internal DemoBackendBehavior UpdateBehavior(Func<DemoBackendBehavior, DemoBackendBehavior> change)
    {
        while (true)
        {
            var current = Behavior;
            var changed = change(current);
            if (ReferenceEquals(Interlocked.CompareExchange(ref _behavior, changed, current), current))
            {
                return changed;
            }
        }
    }

    private void RequestAbort()
    {
        lock (_stopGate)
        {
            if (!_disposed)
            {
                _abortStop.Cancel();
            }
        }
    }

    private Task EnsureStoppingAsync()
    {
        lock (_stopGate)
        {
            // One stop for the server's lifetime; later callers wait for it (and may escalate it through _abortStop).
            return _stopping ??= _app.StopAsync(_abortStop.Token);
        }
    }

    private void LearnBoundAddress(IPEndPoint requested)
    {
        var addresses = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
        var bound = new Uri(addresses.Addresses.Single());
        Port = bound.Port;

        // A wildcard listener accepts on every interface; clients reach it through loopback.
        var reachable = requested.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : requested.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : requested.Address;
        BaseAddress = new Uri($"http://{new IPEndPoint(reachable, Port)}/");
    }

    /// <summary>Reads "ip:port", "[ipv6]:port", "*:port" (any IPv4 address) or "localhost:port" (IPv4 loopback).</summary>
    private static IPEndPoint ParseListenAddress(string listen)
    {
        var colon = listen.LastIndexOf(':');
        if (colon <= 0
            || !int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port > IPEndPoint.MaxPort)
        {
            throw new FormatException($"listen address '{listen}' is not ip:port (port 0 picks a free port)");
        }
        var host = listen[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        var address = host switch
        {
            "*" => IPAddress.Any,
            // Kestrel cannot give "localhost" a dynamic port (it would bind IPv4 and IPv6 separately), so use IPv4 loopback.
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(host, out var parsed) => parsed,
            _ => throw new FormatException($"listen address '{listen}': '{host}' is not an IP address, '*' or 'localhost'"),
        };
        return new IPEndPoint(address, port);
    }

    /// <summary>A host lifetime that leaves start and stop entirely to the code that owns the server.</summary>
    private sealed class CallerOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

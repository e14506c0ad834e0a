namespace Switchman.Testing;

/// <summary>How much load to generate. Every run is bounded twice: by time and by request count.</summary>
public sealed record LoadOptions
{
    /// <summary>Number of clients, each sending its next request as soon as the previous one completes.</summary>
    public required int Concurrency { get; init; }

    /// <summary>No request is started after this much time; requests already in flight still complete.</summary>
    public required TimeSpan MaxDuration { get; init; }

    /// <summary>No more than this many requests are sent in total.</summary>
    public required int MaxRequests { get; init; }

    /// <summary>
    /// When set, request number i is not sent before i / RequestsPerSecond seconds into the run: a steady offered load
    /// (up to <see cref="Concurrency"/> requests in flight) instead of each client sending as fast as it can.
    /// </summary>
    public double? RequestsPerSecond { get; init; }

    /// <summary>Per-request timeout (HttpClient.Timeout); a request that takes longer counts as failed.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Changes the shared handler before use, e.g. to accept a test certificate or keep cookies. By default: pooled
    /// connections, no proxy, no redirects, no cookies.
    /// </summary>
    public Action<SocketsHttpHandler>? ConfigureHandler { get; init; }

    /// <summary>Clock for <see cref="MaxDuration"/> and latencies.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Concurrency, 1, nameof(Concurrency));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRequests, 1, nameof(MaxRequests));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MaxDuration, TimeSpan.Zero, nameof(MaxDuration));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero, nameof(RequestTimeout));
        if (RequestsPerSecond is { } rate)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rate, 0, nameof(RequestsPerSecond));
        }
    }
}

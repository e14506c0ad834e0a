using Microsoft.Extensions.Hosting;
using Switchman.Proxy;

namespace Switchman.Admin.Api;

/// <summary>
/// Requests per second of each server over the last <see cref="Window"/>, from samples of its requests_total counter
/// (the data plane counts, this only differentiates). A server whose counter went backwards was replaced by a
/// configuration change and starts a fresh window; servers that are gone are forgotten.
/// </summary>
public sealed class RequestRates
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private Dictionary<(string Backend, string Server), RateWindow> _windows = [];

    /// <summary>Records one sample of every server in <paramref name="status"/>, taken at <paramref name="timestamp"/>
    /// (a <see cref="TimeProvider.GetTimestamp"/> value of <paramref name="frequency"/> ticks per second).</summary>
    public void Sample(StatusReport status, long timestamp, long frequency)
    {
        ArgumentNullException.ThrowIfNull(status);
        lock (_lock)
        {
            var next = new Dictionary<(string, string), RateWindow>();
            foreach (var backend in status.Backends)
            {
                foreach (var server in backend.Servers)
                {
                    var key = (backend.Name, server.Name);
                    var window = _windows.GetValueOrDefault(key) ?? new RateWindow(frequency);
                    window.Add(timestamp, server.RequestsTotal);
                    next[key] = window;
                }
            }
            _windows = next;
        }
    }

    /// <summary>Requests per second, rounded to 0.01; 0 until two samples exist.</summary>
    public double RateOf(string backend, string server)
    {
        lock (_lock)
        {
            return _windows.TryGetValue((backend, server), out var window) ? window.Rate : 0;
        }
    }

    /// <summary>A ring of (timestamp, total) samples spanning at most <see cref="Window"/>.</summary>
    private sealed class RateWindow(long frequency)
    {
        private readonly Queue<(long Timestamp, long Total)> _samples = new();

        public double Rate
        {
            get
            {
                if (_samples.Count < 2)
                {
                    return 0;
                }
                var (firstTime, firstTotal) = _samples.Peek();
                var (lastTime, lastTotal) = _samples.Last();
                var seconds = (double)(lastTime - firstTime) / frequency;
                return seconds <= 0 ? 0 : Math.Round((lastTotal - firstTotal) / seconds, 2);
            }
        }

        public void Add(long timestamp, long total)
        {
            if (_samples.Count > 0 && total < _samples.Last().Total)
            {
                _samples.Clear();
            }
            _samples.Enqueue((timestamp, total));
            var oldest = timestamp - (long)(Window.TotalSeconds * frequency);
            while (_samples.Peek().Timestamp < oldest)
            {
                _samples.Dequeue();
            }
        }
    }
}

/// <summary>Takes a <see cref="RequestRates"/> sample every second while the node runs; stops with the host.</summary>
public sealed class RequestRateSampler(DataPlane dataPlane, RequestRates rates, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            do
            {
                rates.Sample(dataPlane.GetStatus(), time.GetTimestamp(), time.TimestampFrequency);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

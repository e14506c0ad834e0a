using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Switchman.Admin;

/// <summary>
/// Says that the admin listener refuses connections past its limit (<see cref="AdminListenerLimits.MaxConcurrentConnections"/>):
/// the first refusal at once, then how many more each minute while they go on. Kestrel's own warning, one per refused
/// connection, is filtered out (<see cref="NodeLogging"/>): a flood of connections must not become a flood of log lines.
/// The refusals are read from Kestrel's <c>kestrel.rejected_connections</c> counter of this node's meters only (several
/// nodes may share a process, in tests).
/// </summary>
public sealed class RefusedConnectionsReport : BackgroundService
{
    private const string KestrelMeter = "Microsoft.AspNetCore.Server.Kestrel";
    private const string RejectedConnections = "kestrel.rejected_connections";

    /// <summary>While refusals go on, one line per this long says how many there were.</summary>
    public static readonly TimeSpan SumEvery = TimeSpan.FromMinutes(1);

    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MeterListener _listener = new();
    private readonly Channel<bool> _firstRefusal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _refused;

    public RefusedConnectionsReport(IMeterFactory meters, TimeProvider time, ILogger<RefusedConnectionsReport> logger)
    {
        _time = time;
        _logger = logger;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == KestrelMeter && instrument.Name == RejectedConnections && ReferenceEquals(instrument.Meter.Scope, meters))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, count, _, _) => Refused(count));
        // Started here, before the host starts Kestrel: its counter counts only while something listens.
        _listener.Start();
    }

    private void Refused(long count)
    {
        Interlocked.Add(ref _refused, count);
        _firstRefusal.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                // Quiet until a refusal: no timer runs on a node nobody floods.
                await _firstRefusal.Reader.ReadAsync(stoppingToken).ConfigureAwait(false);
                RefusedConnectionsLog.Refusing(_logger, Interlocked.Exchange(ref _refused, 0), AdminListenerLimits.MaxConcurrentConnections, (long)SumEvery.TotalSeconds);
                long more;
                do
                {
                    await Task.Delay(SumEvery, _time, stoppingToken).ConfigureAwait(false);
                    _firstRefusal.Reader.TryRead(out _);
                    more = Interlocked.Exchange(ref _refused, 0);
                    if (more > 0)
                    {
                        RefusedConnectionsLog.StillRefusing(_logger, more, (long)SumEvery.TotalSeconds);
                    }
                }
                while (more > 0);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _listener.Dispose();
        base.Dispose();
    }
}

internal static partial class RefusedConnectionsLog
{
    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message =
        "Admin API: refused {Count} connection(s): {Limit} are open, the listener's limit; while refusals go on, their number is logged every {Seconds} s")]
    public static partial void Refusing(ILogger logger, long count, long limit, long seconds);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Admin API: refused {Count} more connection(s) in the last {Seconds} s")]
    public static partial void StillRefusing(ILogger logger, long count, long seconds);
}

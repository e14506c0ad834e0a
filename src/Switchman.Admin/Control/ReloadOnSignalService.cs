using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Switchman.Cluster;

namespace Switchman.Admin.Control;

/// <summary>
/// SIGHUP reloads the configuration file, as it does for HAProxy and nginx. The signal handler only queues a request;
/// one loop owned by this service performs reloads one after another, and stops with the host.
/// </summary>
internal sealed class ReloadOnSignalService(ConfigStore store, ILogger<ReloadOnSignalService> logger) : BackgroundService
{
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private PosixSignalRegistration? _registration;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsWindows())
        {
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true; // SIGHUP must not end the process
                _requests.Writer.TryWrite(true);
            });
        }
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var _ in _requests.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    // The outcome is logged and published as an event by the store.
                    await store.ReloadAsync("SIGHUP", stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is ClusterNotLeaderException or ClusterOutcomeUnknownException or HttpRequestException)
                {
                    // What the API answers with 503: the cluster cannot take a change now (no leader, no majority).
                    // An exception out of this loop would stop the host: the node would stop serving because of a reload.
                    ReloadSignalLog.NotApplied(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _registration?.Dispose();
        base.Dispose();
    }
}

internal static partial class ReloadSignalLog
{
    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning,
        Message = "Reload on SIGHUP could not go through the cluster: {Reason}. This node keeps running its configuration; send SIGHUP again once the cluster has a leader")]
    public static partial void NotApplied(ILogger logger, string reason);
}

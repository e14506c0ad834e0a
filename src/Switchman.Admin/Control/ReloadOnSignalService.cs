using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;

namespace Switchman.Admin.Control;

/// <summary>
/// SIGHUP reloads the configuration file, as it does for HAProxy and nginx. The signal handler only queues a request;
/// one loop owned by this service performs reloads one after another, and stops with the host.
/// </summary>
internal sealed class ReloadOnSignalService(ConfigStore store) : BackgroundService
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
                // The outcome is logged and published as an event by the store.
                await store.ReloadAsync("SIGHUP", stoppingToken).ConfigureAwait(false);
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

using Microsoft.Extensions.Hosting;

namespace Switchman.Proxy.Hosting;

/// <summary>
/// Lifetime for the per-frontend web hosts: they start and stop when the data plane says so, and must not each hook
/// SIGTERM/Ctrl+C the way a console host does (the process's own host owns those signals).
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

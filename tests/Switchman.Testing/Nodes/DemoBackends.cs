using Switchman.DemoBackend;

namespace Switchman.Testing;

/// <summary>Demo backends (in this process, loopback port 0) that a test starts and that are stopped when it ends.</summary>
public sealed class DemoBackends : IAsyncDisposable
{
    private readonly List<DemoBackendServer> _servers = [];

    public async Task<DemoBackendServer> StartAsync(string name)
    {
        var server = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = name }, CancellationToken.None);
        _servers.Add(server);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }
}

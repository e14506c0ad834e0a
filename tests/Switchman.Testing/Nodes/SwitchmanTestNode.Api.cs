using System.Net.Http.Json;
using System.Text.Json;
using Switchman.Proxy;

namespace Switchman.Testing;

/// <summary>What a test asks a running node through its admin API.</summary>
public sealed partial class SwitchmanTestNode
{
    /// <summary><c>GET /api/v1/status</c> with the admin token, read into the data plane's own types.</summary>
    public async Task<StatusReport> StatusAsync() =>
        (await Admin.GetFromJsonAsync("/api/v1/status", StatusJsonContext.Default.StatusReport))!;

    public async Task<ServerStatus> ServerStatusAsync(string backend, string server) =>
        (await StatusAsync()).Backends.Single(b => b.Name == backend).Servers.Single(s => s.Name == server);

    /// <summary><c>GET /api/v1/status</c> with the read token, as JSON: for tests of the wire format.</summary>
    public async Task<JsonElement> StatusJsonAsync() => JsonDocument.Parse(await Reader.GetStringAsync("/api/v1/status")).RootElement;

    public async Task<JsonElement> ServerStatusJsonAsync(string backend, string server)
    {
        var status = await StatusJsonAsync();
        return status.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("name").GetString() == backend)
            .GetProperty("servers").EnumerateArray().Single(s => s.GetProperty("name").GetString() == server);
    }

    /// <summary><c>GET /metrics</c>: Prometheus text, to read with <see cref="PrometheusText"/>.</summary>
    public Task<string> MetricsAsync() => Admin.GetStringAsync("/metrics");
}

using Switchman.Core.Configuration;
using Switchman.Proxy.Diagnostics;
using Switchman.Proxy.Runtime;

namespace Switchman.Proxy.Health;

/// <summary>An HTTP check: method and path on the server, healthy when the status is in the expected ranges.</summary>
internal sealed class HttpHealthProbe : IHealthProbe
{
    private readonly HealthCheckConfig _config;
    private readonly HttpMessageInvoker _client;
    private readonly HttpMethod _method;

    public HttpHealthProbe(HealthCheckConfig config, HttpMessageInvoker client)
    {
        _config = config;
        _client = client;
        _method = new HttpMethod(config.Method);
    }

    public async Task<ProbeResult> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(_method, new Uri($"{server.DestinationPrefix.TrimEnd('/')}{_config.Path}"));
        request.Headers.ConnectionClose = false;
        request.Headers.UserAgent.ParseAdd("Switchman-HealthCheck/1");
        if (_config.Host is not null)
        {
            request.Headers.Host = _config.Host;
        }
        // Connect failures (refused, the backend's connect timeout), resets and bad answers throw; the checker counts them.
        using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        foreach (var range in _config.ExpectStatus)
        {
            if (range.Contains(status))
            {
                return ProbeResult.Healthy($"HTTP {status}");
            }
        }
        return ProbeResult.Failed(FailureReason.Status, $"HTTP {status}, expected {string.Join(",", _config.ExpectStatus)}");
    }
}

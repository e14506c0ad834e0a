using System.Net.Sockets;
using Switchman.Core.Configuration;
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

    public async Task<(bool Success, string Detail)> ProbeAsync(ServerRuntime server, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(_method, new Uri($"{server.DestinationPrefix.TrimEnd('/')}{_config.Path}"));
        request.Headers.ConnectionClose = false;
        request.Headers.UserAgent.ParseAdd("Switchman-HealthCheck/1");
        if (_config.Host is not null)
        {
            request.Headers.Host = _config.Host;
        }
        try
        {
            using var response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            foreach (var range in _config.ExpectStatus)
            {
                if (range.Contains(status))
                {
                    return (true, $"HTTP {status}");
                }
            }
            return (false, $"HTTP {status}, expected {string.Join(",", _config.ExpectStatus)}");
        }
        catch (HttpRequestException ex)
        {
            return (false, Describe(ex));
        }
    }

    internal static string Describe(Exception ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket.SocketErrorCode switch
                {
                    SocketError.ConnectionRefused => "connection refused",
                    SocketError.ConnectionReset => "connection reset",
                    SocketError.TimedOut => "connect timed out",
                    SocketError.HostUnreachable or SocketError.NetworkUnreachable => "unreachable",
                    _ => socket.SocketErrorCode.ToString(),
                };
            }
        }
        return ex.Message;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Switchman.Supervisor.Monitoring;

/// <summary>
/// Healthy when a GET of the URL is answered within the timeout with a 2xx or 3xx status (redirects are not followed:
/// a redirect is the service answering). Every check opens a new connection and closes it (no pooling): a restarted
/// service is seen as it is now, not through a connection to the one before. No proxy is used.
/// </summary>
public sealed class HttpMonitor : IServiceMonitor, IDisposable
{
    private readonly Uri _url;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly HttpMessageInvoker _client;

    public HttpMonitor(Uri url, TimeSpan timeout, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(time);
        _url = url;
        _timeout = timeout;
        _time = time;
        // The check's own deadline (on the injected clock) bounds connect and answer; the handler's limits stay off.
        _client = new HttpMessageInvoker(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.Zero,
            ConnectTimeout = Timeout.InfiniteTimeSpan,
        });
    }

    public async Task<MonitorResult> CheckAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        using var deadline = new CheckDeadline(_timeout, _time, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Get, _url);
        request.Headers.ConnectionClose = true;
        try
        {
            using var response = await _client.SendAsync(request, deadline.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            return status is >= 200 and < 400
                ? MonitorResult.Healthy(_time.GetElapsedTime(started))
                : MonitorResult.Failed("HTTP " + status.ToString(CultureInfo.InvariantCulture), _time.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (deadline.TimedOut && !cancellationToken.IsCancellationRequested)
        {
            return MonitorResult.Failed(MonitorProblems.NoAnswer(_timeout), _time.GetElapsedTime(started));
        }
        catch (HttpRequestException e)
        {
            return MonitorResult.Failed(Describe(e), _time.GetElapsedTime(started));
        }
    }

    public void Dispose() => _client.Dispose();

    private static string Describe(HttpRequestException e) => e.InnerException switch
    {
        SocketException socket => MonitorProblems.Of(socket),
        _ when e.HttpRequestError == HttpRequestError.ResponseEnded => "connection closed without an answer",
        _ when e.HttpRequestError == HttpRequestError.InvalidResponse => "not an HTTP answer",
        _ => e.Message,
    };
}

using System.Net;
using System.Net.Sockets;

namespace Switchman.Supervisor.Monitoring;

/// <summary>
/// Healthy when a TCP connection to the service opens within the timeout; the connection is closed at once. For
/// services that speak no HTTP. A host name is resolved on every check (each address tried in turn).
/// </summary>
public sealed class TcpMonitor(string host, int port, TimeSpan timeout, TimeProvider time) : IServiceMonitor
{
    public async Task<MonitorResult> CheckAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var deadline = new CheckDeadline(timeout, time, cancellationToken);
        try
        {
            var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, deadline.Token).ConfigureAwait(false);
            SocketException? last = null;
            foreach (var address in addresses)
            {
                using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token).ConfigureAwait(false);
                    return MonitorResult.Healthy(time.GetElapsedTime(started));
                }
                catch (SocketException e)
                {
                    last = e;
                }
            }
            return MonitorResult.Failed(last is null ? "host name not found" : MonitorProblems.Of(last), time.GetElapsedTime(started));
        }
        catch (OperationCanceledException) when (deadline.TimedOut && !cancellationToken.IsCancellationRequested)
        {
            return MonitorResult.Failed(MonitorProblems.NoAnswer(timeout), time.GetElapsedTime(started));
        }
        catch (SocketException e)
        {
            // Name resolution.
            return MonitorResult.Failed(MonitorProblems.Of(e), time.GetElapsedTime(started));
        }
    }
}

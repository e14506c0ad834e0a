using Switchman.Client;

namespace Switchman.Commands;

/// <summary>How a wait for a server's in-flight requests ended.</summary>
/// <param name="Idle">True when the server had no request in flight; false when the timeout came first.</param>
/// <param name="Last">The server's status as last seen.</param>
internal sealed record InFlightWait(bool Idle, AdminResponse<ServerStatus> Last);

/// <summary>
/// <c>server drain --wait</c>: polls the node until a server has no request in flight, telling the operator how many
/// are left whenever that number changes.
/// </summary>
internal static class InFlightWaiter
{
    /// <summary>Often enough that the command returns soon after the last request ends; rarely enough to cost the node nothing.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    /// <param name="client">The node.</param>
    /// <param name="backend">The server's backend.</param>
    /// <param name="changed">The server's status as the state change returned it: where the wait starts from.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="progress">Where to say how many requests are left.</param>
    /// <param name="time">The clock for the timeout and the polling.</param>
    /// <param name="cancellationToken">Ctrl+C.</param>
    /// <exception cref="AdminApiException">The server no longer exists (404: a configuration change removed it meanwhile).</exception>
    public static async Task<InFlightWait> WaitAsync(
        AdminClient client, string backend, AdminResponse<ServerStatus> changed, TimeSpan timeout, TextWriter progress, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var server = changed.Value.Name;
        using var deadline = new CancellationTokenSource(timeout, time);
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var last = changed;
        int? reported = null;
        try
        {
            while (true)
            {
                last = await client.GetServerAsync(backend, server, waiting.Token);
                if (last.Value.InFlight == 0)
                {
                    return new InFlightWait(Idle: true, last);
                }
                if (last.Value.InFlight != reported)
                {
                    reported = last.Value.InFlight;
                    await progress.WriteLineAsync($"waiting for {backend}/{server}: {Requests(last.Value.InFlight)} in flight");
                }
                await Task.Delay(PollInterval, time, waiting.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new InFlightWait(Idle: false, last);
        }
    }

    public static string Requests(int count) => count == 1 ? "1 request" : $"{count} requests";
}
